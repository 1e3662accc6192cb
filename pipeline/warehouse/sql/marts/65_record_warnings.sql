-- Warnings for directive tasks (DESIGN §10) and PAKN (DESIGN §11) at the as-of moment (the end of the as-of
-- day), per unit: the same rules as mart.directive_timeliness and mart.feedback_timeliness
-- judged at that moment, so the counts equal the current period's open_overdue and due_soon.
--
-- mart.directive_warnings: open tasks (not completed before the as-of moment, in scope, not suspended, with a
-- deadline), judged against the deadline in force (the extended one where an extension was granted):
--   overdue   the deadline (a date without a time: 24:00 of that day) has passed
--   due_soon  not overdue, and the deadline is within the directive_due_soon_working_days setting's
--             working days (intermediate.directive_facts.due_soon_from_idx)
-- mart.feedback_warnings: open PAKN (received before the as-of moment and not handled before it):
--   overdue   past the answer limit (the feedback_answer_working_days setting: 15 working days after receipt)
--   due_soon  not overdue, and the limit is within the feedback_due_soon_working_days setting's working days
-- working_hours_left: working hours from the as-of moment to the deadline or limit; negative when overdue.
-- Titles as the warehouse stores them (personal data masked); no sender data.
create or replace table mart.directive_warnings as
with judged as (
    select d.cum_minutes_before as as_of_idx
    from core.work_day as d
    where d.day = cast(cast($as_of_end as timestamp) as date)
),

open_tasks as (
    select
        f.*,
        o.deadline as deadline_original,
        f.deadline_idx - j.as_of_idx as minutes_left,
        j.as_of_idx
    from intermediate.directive_facts as f
    cross join judged as j
    left join intermediate.directive_facts as o on o.task_id = f.task_id and o.deadline_basis = 'original'
    where f.deadline_basis = 'extended'
        and f.assigned_at < cast($as_of_end as timestamp)
        and f.deadline is not null
        and not f.is_suspended
        and coalesce(f.placed_completed_at >= cast($as_of_end as timestamp), true)
),

kinds as (
    select open_tasks.*, 'overdue' as warning_kind, 1 as kind_order
    from open_tasks
    where cast($as_of_end as timestamp) > deadline_end
    union all
    select open_tasks.*, 'due_soon' as warning_kind, 2 as kind_order
    from open_tasks
    where cast($as_of_end as timestamp) <= deadline_end and as_of_idx >= due_soon_from_idx
)

select
    unit_value as unit,
    task_id,
    title,
    co_units,
    assigned_at,
    deadline,
    deadline_original,
    has_extension,
    deadline_text,
    warning_kind,
    round(minutes_left / 60.0, 2) as working_hours_left,
    row_number() over (partition by unit_value order by minutes_left, kind_order, task_id) as urgency_rank,
    case warning_kind when 'overdue' then 'Quá hạn' when 'due_soon' then 'Sắp đến hạn' end as warning_label,
    cast($as_of_end as timestamp) as as_of_moment
from kinds
order by unit collate vi, urgency_rank;

create or replace table mart.feedback_warnings as
with judged as (
    select d.cum_minutes_before as as_of_idx
    from core.work_day as d
    where d.day = cast(cast($as_of_end as timestamp) as date)
),

open_feedback as (
    select
        f.*,
        f.answer_due_idx - j.as_of_idx as minutes_left,
        j.as_of_idx
    from intermediate.feedback_facts as f
    cross join judged as j
    where f.clock_start_at < cast($as_of_end as timestamp)
        and coalesce(f.placed_handled_at >= cast($as_of_end as timestamp), true)
),

kinds as (
    select open_feedback.*, 'overdue' as warning_kind, 1 as kind_order
    from open_feedback
    where as_of_idx > answer_due_idx
    union all
    select open_feedback.*, 'due_soon' as warning_kind, 2 as kind_order
    from open_feedback
    where as_of_idx <= answer_due_idx and answer_due_idx - as_of_idx <= $feedback_due_soon_minutes
)

select
    unit_value as unit,
    feedback_id,
    title,
    category,
    case_id,
    clock_start_at as received_at,
    answer_due_at as due_at,
    warning_kind,
    round(minutes_left / 60.0, 2) as working_hours_left,
    row_number() over (partition by unit_value order by minutes_left, kind_order, feedback_id) as urgency_rank,
    case warning_kind when 'overdue' then 'Quá hạn trả lời' when 'due_soon' then 'Sắp đến hạn trả lời' end
        as warning_label,
    cast($as_of_end as timestamp) as as_of_moment
from kinds
order by unit collate vi, urgency_rank;

insert into mart.timeliness_rules
values
    ('feedback_due_soon_minutes', cast($feedback_due_soon_minutes as varchar),
        'Cảnh báo phản ánh, kiến nghị còn hạn trả lời trong số phút làm việc này',
        'Warn about open PAKN whose answer limit is within this many working minutes');

comment on table mart.directive_warnings is 'Cảnh báo nhiệm vụ do UBND tỉnh giao đang thực hiện tại thời điểm báo cáo, theo đơn vị chủ trì: quá hạn, sắp đến hạn (theo hạn đang có hiệu lực, kể cả gia hạn) / Open directive tasks overdue or due soon at the as-of moment, per lead unit, against the deadline in force.';
comment on column mart.directive_warnings.unit is 'Đơn vị chủ trì / lead unit';
comment on column mart.directive_warnings.task_id is 'Số hiệu nhiệm vụ / task id';
comment on column mart.directive_warnings.title is 'Trích yếu (đã ẩn thông tin cá nhân) / title, personal data masked';
comment on column mart.directive_warnings.deadline is 'Hạn đang có hiệu lực (hạn đã gia hạn nếu có) / deadline in force';
comment on column mart.directive_warnings.deadline_original is 'Hạn ban đầu / original deadline';
comment on column mart.directive_warnings.warning_kind is 'Loại cảnh báo: overdue (quá hạn) | due_soon (sắp đến hạn, trong số ngày làm việc của thiết lập directive_due_soon_working_days)';
comment on column mart.directive_warnings.working_hours_left is 'Số giờ làm việc còn lại đến hạn (âm khi đã quá hạn) / working hours left (negative when overdue)';
comment on column mart.directive_warnings.urgency_rank is 'Thứ tự ưu tiên trong đơn vị (1 = khẩn nhất) / urgency rank within the unit';

comment on table mart.feedback_warnings is 'Cảnh báo phản ánh, kiến nghị đang xử lý tại thời điểm báo cáo, theo đơn vị xử lý: quá hạn trả lời, sắp đến hạn trả lời; không có dữ liệu cá nhân / Open PAKN past or near their answer limit at the as-of moment, per handling unit; no personal data.';
comment on column mart.feedback_warnings.unit is 'Đơn vị xử lý / handling unit';
comment on column mart.feedback_warnings.feedback_id is 'Mã PAKN / PAKN id';
comment on column mart.feedback_warnings.title is 'Tiêu đề (đã ẩn thông tin cá nhân) / title, personal data masked';
comment on column mart.feedback_warnings.due_at is 'Hạn trả lời: 15 ngày làm việc kể từ khi tiếp nhận / answer due';
comment on column mart.feedback_warnings.warning_kind is 'Loại cảnh báo: overdue (quá hạn trả lời) | due_soon (còn hạn trong số ngày làm việc của thiết lập feedback_due_soon_working_days)';
comment on column mart.feedback_warnings.working_hours_left is 'Số giờ làm việc còn lại đến hạn trả lời (âm khi đã quá hạn) / working hours left (negative when overdue)';
comment on column mart.feedback_warnings.urgency_rank is 'Thứ tự ưu tiên trong đơn vị (1 = khẩn nhất) / urgency rank within the unit';
