-- mart.timeliness_rules: the rules (settings) the marts were built with, for scorecards to print
-- and for analysts to check (DESIGN §4: "the scorecard prints the rules used").
create or replace table mart.timeliness_rules as
select *
from (
    values
        ('end_time_rule', cast($end_time_rule as varchar),
            'Thời điểm kết thúc: ngày kết thúc xử lý, nếu không có thì ngày trả kết quả',
            'End time: finished_at, else returned_at'),
        ('subtract_supplement_pauses', cast($subtract_supplement_pauses as varchar),
            'Trừ thời gian chờ bổ sung hồ sơ khỏi thời điểm kết thúc',
            'Supplement pauses are subtracted from the end time'),
        ('multiple_supplements_late', cast($multiple_supplements_late as varchar),
            'Yêu cầu bổ sung quá 01 lần được tính là quá hạn',
            'More than one supplement request makes a case late'),
        ('early_rule', cast($early_rule as varchar),
            'Cách xác định trước hạn (calendar_day: trước ngày hẹn; working_hours: trước ít nhất N giờ làm việc; half_day: trước buổi hẹn)',
            'How early is decided'),
        ('early_minutes', cast($early_minutes as varchar),
            'Số phút làm việc trước hạn tối thiểu (khi early_rule = working_hours)',
            'Working minutes before due that count as early (working_hours rule)'),
        ('apology_lead_minutes', cast($apology_lead_minutes as varchar),
            'Văn bản xin lỗi kịp thời: ban hành trước hạn ít nhất số phút làm việc này',
            'A timely apology is issued at least this many working minutes before due'),
        ('warning_minutes', cast($warning_minutes as varchar),
            'Cảnh báo hồ sơ còn hạn trong số phút làm việc này',
            'Warn about open cases due within this many working minutes'),
        ('day_minutes', cast($day_minutes as varchar),
            'Số phút làm việc của một ngày làm việc',
            'Working minutes of one working day'),
        ('date_only_times', 'by_day',
            'Mốc chỉ có ngày, không có giờ: tiếp nhận tính từ đầu buổi làm việc đầu tiên, hẹn trả đến hết buổi làm việc cuối cùng; kết thúc trong ngày hẹn trả là đúng hạn (ghi nhận không rõ giờ), trước ngày hẹn là trước hạn, sau ngày hẹn là quá hạn',
            'A date without a time: received at the start of the first session, due at the end of the last; an end on the due day is on time (finding: time unknown), earlier day early, later day late'),
        ('as_of_end', strftime(cast($as_of_end as timestamp), '%Y-%m-%d %H:%M'),
            'Thời điểm chốt số liệu của kỳ hiện tại (hết ngày báo cáo)',
            'The moment the current period is judged at (end of the as-of day)')
) as rules(rule, value, description_vi, description_en);
