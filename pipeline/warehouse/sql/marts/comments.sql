-- COMMENT ON every analyst-facing table and view of the mart (and intermediate) schemas and their
-- key columns, in Vietnamese and English (DESIGN §9). Runs last (after the numbered models).

comment on view mart.case_timeliness is 'Hồ sơ theo kỳ báo cáo: mỗi hồ sơ, mỗi kỳ (hai cách tính kỳ, mọi loại kỳ) với kết quả đánh giá tiến độ tại thời điểm chốt kỳ và các dữ kiện giải thích / One row per case and reporting period, with its timeliness class at the period''s judging moment and the facts that explain it (DESIGN §4). A view: filter on period_scheme and period.';
comment on column mart.case_timeliness.period_scheme is 'Cách tính kỳ: calendar (dương lịch) | official (chốt số liệu 15→14) / period scheme';
comment on column mart.case_timeliness.grain is 'Loại kỳ: month | quarter | half | year / period grain';
comment on column mart.case_timeliness.period is 'Kỳ báo cáo, ví dụ 2025-Q1 / period label';
comment on column mart.case_timeliness.case_id is 'Mã hồ sơ / case code';
comment on column mart.case_timeliness.unit is 'Đơn vị giải quyết / resolving unit';
comment on column mart.case_timeliness.sector is 'Lĩnh vực / sector';
comment on column mart.case_timeliness.procedure_code is 'Mã thủ tục hành chính / procedure code';
comment on column mart.case_timeliness.procedure_name is 'Tên thủ tục / procedure name';
comment on column mart.case_timeliness.channel is 'Kênh: 1 trực tiếp, 2 trực tuyến, 3 bưu chính công ích / channel';
comment on column mart.case_timeliness.received_at is 'Ngày tiếp nhận / received at';
comment on column mart.case_timeliness.due_at is 'Ngày hẹn trả (lần đầu) / first appointment';
comment on column mart.case_timeliness.end_at is 'Thời điểm kết thúc thực tế (trước khi trừ thời gian tạm dừng) / actual end time before pauses';
comment on column mart.case_timeliness.end_at_source is 'Nguồn thời điểm kết thúc: finished_at hoặc returned_at (phát hiện chất lượng dữ liệu) / end time source';
comment on column mart.case_timeliness.paused_minutes is 'Số phút tạm dừng chờ bổ sung đã trừ / paused minutes subtracted';
comment on column mart.case_timeliness.supplement_count is 'Số lần yêu cầu bổ sung đến thời điểm đánh giá / supplement requests by the moment judged';
comment on column mart.case_timeliness.adjusted_end_at is 'Thời điểm kết thúc sau khi trừ tạm dừng (hồ sơ đã giải quyết trong kỳ) / adjusted end (resolved cases)';
comment on column mart.case_timeliness.is_received_in_period is 'Tiếp nhận mới trong kỳ / received in the period';
comment on column mart.case_timeliness.is_carried_over is 'Kỳ trước chuyển qua / carried over from before the period';
comment on column mart.case_timeliness.is_resolved_in_period is 'Đã giải quyết trong kỳ / resolved in the period';
comment on column mart.case_timeliness.timeliness_class is 'Kết quả: early (trước hạn) | on_time (đúng hạn) | late (quá hạn) | open_in_time (đang giải quyết trong hạn) | open_overdue (đang giải quyết quá hạn)';
comment on column mart.case_timeliness.is_withdrawn is 'Công dân rút hồ sơ (trạng thái 7), đã giải quyết trong kỳ / withdrawn';
comment on column mart.case_timeliness.is_stopped is 'Dừng xử lý (trạng thái 8), đã giải quyết trong kỳ / stopped';
comment on column mart.case_timeliness.late_minutes is 'Số phút quá hạn (lịch) / minutes late (calendar time)';
comment on column mart.case_timeliness.late_working_hours is 'Số giờ làm việc quá hạn / working hours late';
comment on column mart.case_timeliness.resolution_working_days is 'Thời gian giải quyết (ngày làm việc, từ tiếp nhận đến kết thúc đã trừ tạm dừng) / resolution time in working days';
comment on column mart.case_timeliness.has_apology is 'Có văn bản xin lỗi đến thời điểm đánh giá / apology issued by the moment judged';
comment on column mart.case_timeliness.apology_timely is 'Văn bản xin lỗi ban hành trước hạn ít nhất 1 ngày làm việc / apology issued at least the lead time before due';
comment on column mart.case_timeliness.reschedule_count is 'Số lần hẹn lại / new appointments';
comment on column mart.case_timeliness.due_beyond_legal_limit is 'Ngày hẹn trả muộn hơn thời hạn quy định / appointment later than the legal limit allows';
comment on column mart.case_timeliness.judged_at is 'Thời điểm chốt của kỳ (24:00 ngày cuối kỳ, hoặc hết ngày báo cáo với kỳ hiện tại) / period judging moment';
comment on column mart.case_timeliness.judged_moment is 'Thời điểm hồ sơ được đánh giá (kết thúc, hoặc thời điểm chốt kỳ nếu đang giải quyết) / moment the case is judged at';
comment on column mart.case_timeliness.compared_at is 'Thời điểm đem so với ngày hẹn trả (đã trừ tạm dừng) / moment compared with due_at';
comment on column mart.case_timeliness.is_waiting_for_applicant is 'Đang chờ công dân bổ sung tại thời điểm đánh giá (đồng hồ dừng) / waiting for the applicant';
comment on column mart.case_timeliness.end_time_unknown is 'Thời điểm kết thúc tệp xuất chỉ ghi ngày, không ghi giờ / The end time was a date without a time of day';
comment on column mart.case_timeliness.time_unknown_finding is 'Phát hiện "không rõ giờ": kết thúc trong ngày hẹn trả khi không rõ giờ được tính là đúng hạn / Finding: ended on the due day with no time of day, counted on time';

comment on table mart.kpi_period is 'Chỉ tiêu theo kỳ báo cáo, toàn Sở (all) và theo đơn vị, lĩnh vực, thủ tục, kênh / Measures per reporting period for the department and per unit, sector, procedure and channel (DESIGN §6, §9). Rates are fractions 0..1, NULL when the denominator is 0.';
comment on column mart.kpi_period.period_scheme is 'Cách tính kỳ: calendar | official / period scheme';
comment on column mart.kpi_period.period is 'Kỳ báo cáo: 2025-01, 2025-Q1, 2025-H1, 2025 / period label';
comment on column mart.kpi_period.dimension is 'Chiều phân tích: all | unit | sector | procedure | channel / dimension';
comment on column mart.kpi_period.dimension_value is 'Giá trị của chiều (all cho toàn Sở; mã thủ tục; kênh 1/2/3) / dimension value';
comment on column mart.kpi_period.received_total is 'Tổng số hồ sơ tiếp nhận = kỳ trước chuyển qua + trực tuyến + trực tiếp/bưu chính = đã giải quyết + đang giải quyết / total received';
comment on column mart.kpi_period.received_online is 'Tiếp nhận mới trực tuyến / newly received online';
comment on column mart.kpi_period.received_offline is 'Tiếp nhận mới trực tiếp hoặc qua bưu chính / newly received in person or by post';
comment on column mart.kpi_period.carried_over is 'Kỳ trước chuyển qua / carried over';
comment on column mart.kpi_period.resolved_total is 'Đã giải quyết = trước hạn + đúng hạn + quá hạn / resolved';
comment on column mart.kpi_period.early is 'Giải quyết trước hạn / early';
comment on column mart.kpi_period.on_time is 'Giải quyết đúng hạn / on time';
comment on column mart.kpi_period.late is 'Giải quyết quá hạn / late';
comment on column mart.kpi_period.withdrawn is 'Công dân rút hồ sơ (đã tính trong đã giải quyết) / withdrawn';
comment on column mart.kpi_period.stopped is 'Dừng xử lý (đã tính trong đã giải quyết) / stopped';
comment on column mart.kpi_period.open_total is 'Đang giải quyết tại thời điểm chốt kỳ = trong hạn + quá hạn / open at the period end';
comment on column mart.kpi_period.open_in_time is 'Đang giải quyết trong hạn / open in time';
comment on column mart.kpi_period.open_overdue is 'Đang giải quyết quá hạn / open overdue';
comment on column mart.kpi_period.on_time_rate is 'Tỷ lệ đúng hạn (trước hạn + đúng hạn) / on-time rate = (early + on time) / resolved';
comment on column mart.kpi_period.early_rate is 'Tỷ lệ trước hạn / early rate = early / resolved';
comment on column mart.kpi_period.late_rate is 'Tỷ lệ quá hạn / late rate = late / resolved';
comment on column mart.kpi_period.ratings is 'Lượt đánh giá trong kỳ (theo thời gian đánh giá) / ratings in the period';
comment on column mart.kpi_period.satisfied is 'Lượt đánh giá rất hài lòng, hài lòng / satisfied ratings';
comment on column mart.kpi_period.satisfaction_rate is 'Tỷ lệ hài lòng / satisfaction rate = satisfied / ratings';
comment on column mart.kpi_period.score_766_progress is 'Điểm tiến độ giải quyết theo QĐ 766/QĐ-TTg (tối đa 20) = 20 × (trước hạn + đúng hạn + đang trong hạn) / (đã giải quyết + đang giải quyết)';
comment on column mart.kpi_period.grain is 'Loại kỳ / period grain';
comment on column mart.kpi_period.period_name is 'Tên kỳ: Quý I/2025 … / period name';
comment on column mart.kpi_period.first_day is 'Ngày đầu kỳ / first day';
comment on column mart.kpi_period.last_day is 'Ngày cuối kỳ / last day';
comment on column mart.kpi_period.judged_at is 'Thời điểm chốt số liệu của kỳ / judging moment';
comment on column mart.kpi_period.unsatisfied is 'Lượt đánh giá không hài lòng / unsatisfied ratings';
comment on column mart.kpi_period.rating_coverage is 'Tỷ lệ hồ sơ đã giải quyết được đánh giá / share of resolved cases with a rating';
comment on column mart.kpi_period.score_766_satisfaction is 'Điểm hài lòng QĐ 766 mục 5.4 (tối đa 6): tỷ lệ = 100% − tỷ lệ quá hạn − tỷ lệ không hài lòng; điểm = min(6, 6 × tỷ lệ / 90%)';
comment on column mart.kpi_period.mean_resolution_working_days is 'Thời gian giải quyết trung bình (ngày làm việc) / mean resolution time, working days';
comment on column mart.kpi_period.median_resolution_working_days is 'Thời gian giải quyết trung vị (ngày làm việc) / median resolution time, working days';
comment on column mart.kpi_period.late_with_apology is 'Hồ sơ quá hạn có văn bản xin lỗi / late cases with an apology';
comment on column mart.kpi_period.apology_rate is 'Tỷ lệ hồ sơ quá hạn có văn bản xin lỗi, hẹn lại / apology rate = late with apology / late';
comment on column mart.kpi_period.apology_timely is 'Hồ sơ quá hạn có văn bản xin lỗi gửi trước hạn ít nhất 1 ngày làm việc / late cases with a timely apology';
comment on column mart.kpi_period.rescheduled_more_than_once is 'Hồ sơ đã giải quyết bị hẹn lại quá 01 lần / resolved cases rescheduled more than once';
comment on column mart.kpi_period.due_beyond_legal_limit is 'Hồ sơ tiếp nhận trong kỳ có ngày hẹn trả vượt thời hạn quy định / received cases with an appointment beyond the legal limit';

comment on table mart.bieu06 is 'Biểu số 06/VPCP/KSTT (Thông tư 01/2020/TT-VPCP): tình hình, kết quả giải quyết TTHC theo lĩnh vực, mọi kỳ; dòng Tổng cộng đầu tiên / The official statistics form 06 by sector for every period, total row first.';
comment on column mart.bieu06.row_no is '(1) STT; trống ở dòng Tổng cộng / row number';
comment on column mart.bieu06.sector is '(2) Lĩnh vực / sector';
comment on column mart.bieu06.c3_received_total is '(3) Tổng số hồ sơ tiếp nhận = (4) + (5) + (6)';
comment on column mart.bieu06.c4_received_online is '(4) Tiếp nhận trực tuyến trong kỳ / received online';
comment on column mart.bieu06.c5_received_offline is '(5) Tiếp nhận trực tiếp, qua dịch vụ bưu chính trong kỳ / received in person or by post';
comment on column mart.bieu06.c6_carried_over is '(6) Từ kỳ trước chuyển qua / carried over';
comment on column mart.bieu06.c7_resolved_total is '(7) Số hồ sơ đã giải quyết = (8) + (9) + (10)';
comment on column mart.bieu06.c8_early is '(8) Giải quyết trước hạn / early';
comment on column mart.bieu06.c9_on_time is '(9) Giải quyết đúng hạn / on time';
comment on column mart.bieu06.c10_late is '(10) Giải quyết quá hạn / late';
comment on column mart.bieu06.c11_open_total is '(11) Số hồ sơ đang giải quyết = (12) + (13)';
comment on column mart.bieu06.c12_open_in_time is '(12) Đang giải quyết trong hạn / open in time';
comment on column mart.bieu06.c13_open_overdue is '(13) Đang giải quyết quá hạn / open overdue';
comment on column mart.bieu06.is_total is 'Dòng Tổng cộng / total row';

comment on table mart.objective is 'Mục tiêu chất lượng: chỉ tiêu có chỉ tiêu kế hoạch của năm, theo kỳ, toàn Sở và từng đơn vị, kết luận Đạt / Không đạt / Quality objectives per period (department and units) with their target and verdict.';
comment on column mart.objective.measure is 'Chỉ tiêu (cột của mart.kpi_period) / measure';
comment on column mart.objective.value is 'Giá trị thực hiện / actual value';
comment on column mart.objective.target_op is 'Phép so sánh với chỉ tiêu / comparison';
comment on column mart.objective.target_value is 'Chỉ tiêu kế hoạch (tỷ lệ 0..1) / target';
comment on column mart.objective.target_text is 'Chỉ tiêu, cách đọc tiếng Việt (≥ 20%) / target as text';
comment on column mart.objective.met is 'Đạt chỉ tiêu (NULL khi chưa có số liệu) / target met';
comment on column mart.objective.verdict is 'Đạt | Không đạt | NULL khi chưa có số liệu / verdict';

comment on table mart.warnings is 'Cảnh báo hồ sơ đang giải quyết tại thời điểm báo cáo, theo đơn vị: quá hạn, sắp đến hạn, thiếu văn bản xin lỗi, cần gửi văn bản xin lỗi / Open cases needing action at the as-of moment, per unit. No personal data.';
comment on column mart.warnings.unit is 'Đơn vị giải quyết / unit';
comment on column mart.warnings.case_id is 'Mã hồ sơ / case code';
comment on column mart.warnings.warning_kind is 'Loại cảnh báo: overdue (quá hạn) | due_soon (sắp đến hạn) | apology_missing (quá hạn, chưa có văn bản xin lỗi) | apology_due (cần gửi văn bản xin lỗi)';
comment on column mart.warnings.working_hours_left is 'Số giờ làm việc còn lại đến hạn (âm khi đã quá hạn) / working hours left (negative when overdue)';
comment on column mart.warnings.urgency_rank is 'Thứ tự ưu tiên trong đơn vị (1 = khẩn nhất) / urgency rank within the unit';

comment on table mart.timeliness_rules is 'Các quy tắc (thiết lập) đã dùng để tính các bảng mart / The rules (settings) the marts were built with.';

comment on table intermediate.case_facts is 'Lớp trung gian: dữ kiện của từng hồ sơ trong phạm vi (chỉ số phút làm việc, kiểm tra ngày hẹn) / Intermediate: per-case facts of in-scope cases.';
comment on column intermediate.case_facts.case_key is 'Khoá nội bộ của lần dựng này (không ổn định giữa các đêm) / build-internal key';
comment on column intermediate.case_facts.placed_end_at is 'Thời điểm kết thúc dùng để xếp kỳ / end time used to place the case in periods';

comment on table intermediate.case_judgements is 'Lớp trung gian: hồ sơ được đánh giá tại mỗi thời điểm cần (kết thúc, chốt kỳ, ngày báo cáo) / Intermediate: each case judged at each moment a report needs.';
comment on column intermediate.case_judgements.is_past_due is 'Quá hạn tại thời điểm đánh giá (hoặc bổ sung quá 01 lần) / past due at the moment judged';
comment on column intermediate.case_judgements.is_early is 'Trước hạn theo quy tắc early_rule / early by the early_rule setting';

comment on view intermediate.case_periods is 'Lớp trung gian: hồ sơ thuộc kỳ nào và kết quả trong kỳ đó / Intermediate: period membership and class of each case.';

comment on table intermediate.case_dims is 'Lớp trung gian: các tổ hợp đơn vị, lĩnh vực, thủ tục, kênh / Intermediate: dimension combinations.';

comment on table intermediate.day_minutes is 'Lớp trung gian: phút làm việc trước mỗi phút trong ngày và buổi của phút liền trước / Intermediate: working minutes before each minute of a day and the session of the minute before it.';
comment on table intermediate.supplement_cycles is 'Lớp trung gian: các lần yêu cầu bổ sung và thời gian tạm dừng / Intermediate: supplement cycles and their pauses.';

comment on view mart.directive_timeliness is 'Nhiệm vụ UBND tỉnh giao theo kỳ báo cáo: mỗi nhiệm vụ, mỗi kỳ, mỗi cách tính hạn (original: hạn ban đầu; extended: hạn đã gia hạn) với kết quả tại thời điểm chốt kỳ / One row per directive task, period and deadline basis with its class at the period end (DESIGN §10).';
comment on column mart.directive_timeliness.deadline_basis is 'Cách tính hạn: original (hạn ban đầu) | extended (hạn đã gia hạn, nếu có)';
comment on column mart.directive_timeliness.timeliness_class is 'Kết quả: completed_on_time (hoàn thành đúng hạn) | completed_late (hoàn thành quá hạn) | open_in_time (đang thực hiện trong hạn) | open_overdue (đang thực hiện quá hạn) | suspended (tạm hoãn) | no_deadline (không có hạn)';
comment on column mart.directive_timeliness.is_due_soon is 'Sắp đến hạn (trong số ngày làm việc của thiết lập directive_due_soon_working_days) / due soon';
comment on column mart.directive_timeliness.deadline_end is 'Thời điểm hết hạn (hạn không có giờ: 24:00 ngày đó) / deadline end';

comment on table mart.directive_kpi_period is 'Ý kiến chỉ đạo của UBND tỉnh theo kỳ báo cáo, theo hạn ban đầu và hạn đã gia hạn, toàn Sở (all) và theo đơn vị chủ trì / Directive measures per period, deadline basis and lead unit (DESIGN §9, §10). Rates are fractions 0..1, NULL when nothing was due.';
comment on column mart.directive_kpi_period.deadline_basis is 'original: so với hạn ban đầu; extended: so với hạn đã gia hạn (nếu có) / deadline basis';
comment on column mart.directive_kpi_period.assigned_total is 'Nhiệm vụ được giao trong kỳ (không tính kỳ trước chuyển qua) / tasks assigned in the period';
comment on column mart.directive_kpi_period.due_total is 'Nhiệm vụ đến hạn = hoàn thành trong kỳ + đang thực hiện quá hạn cuối kỳ / tasks due';
comment on column mart.directive_kpi_period.completed_on_time is 'Hoàn thành đúng hạn trong kỳ / completed on time in the period';
comment on column mart.directive_kpi_period.completed_late is 'Hoàn thành quá hạn trong kỳ / completed late in the period';
comment on column mart.directive_kpi_period.open_in_time is 'Đang thực hiện trong hạn cuối kỳ / open in time at the period end';
comment on column mart.directive_kpi_period.open_overdue is 'Đang thực hiện quá hạn cuối kỳ / open overdue at the period end';
comment on column mart.directive_kpi_period.no_deadline is 'Nhiệm vụ không có hạn (để trống, ghi bằng chữ, 01/01/1970), tính riêng / tasks without a deadline, counted apart';
comment on column mart.directive_kpi_period.headline_rate is 'Tỷ lệ hoàn thành (cách tính của Văn phòng Chính phủ) = (đúng hạn + quá hạn) / đến hạn / headline rate';
comment on column mart.directive_kpi_period.strict_rate is 'Tỷ lệ hoàn thành đúng hạn = hoàn thành đúng hạn / đến hạn / strict rate';
comment on column mart.directive_kpi_period.due_soon is 'Đang thực hiện, sắp đến hạn / open and due soon';
comment on column mart.directive_kpi_period.suspended is 'Đang tạm hoãn cuối kỳ (không tính đến hạn) / suspended at the period end';
comment on column mart.directive_kpi_period.with_extension is 'Nhiệm vụ có gia hạn trong kỳ / tasks with an extension';

comment on view mart.feedback_timeliness is 'Phản ánh, kiến nghị theo kỳ báo cáo: mỗi PAKN, mỗi kỳ với kết quả xử lý tại thời điểm chốt kỳ, không có dữ liệu cá nhân / One row per PAKN and period with its class at the period end (DESIGN §11); no personal data.';
comment on column mart.feedback_timeliness.timeliness_class is 'Kết quả: handled_on_time (xử lý đúng hạn) | handled_late (xử lý quá hạn) | open_in_time (đang xử lý trong hạn) | open_overdue (đang xử lý quá hạn)';
comment on column mart.feedback_timeliness.answer_due_at is 'Hạn trả lời: 15 ngày làm việc kể từ khi tiếp nhận / answer due';
comment on column mart.feedback_timeliness.is_unsatisfied_5_3 is 'Tính là không hài lòng theo mục 5.3 (không hài lòng, phản ánh lặp lại, xử lý quá hạn hoặc còn quá hạn) / counts against item 5.3';

comment on table mart.feedback_kpi_period is 'Phản ánh, kiến nghị về TTHC theo kỳ báo cáo, toàn Sở (all) và theo đơn vị xử lý, kèm chỉ số 5.2, 5.3 của Quyết định 766/QĐ-TTg / PAKN measures per period and unit with Decision 766 items 5.2 and 5.3 (DESIGN §9, §11).';
comment on column mart.feedback_kpi_period.received_total is 'PAKN tiếp nhận lần đầu trong kỳ / PAKN first received in the period';
comment on column mart.feedback_kpi_period.handled_on_time is 'Xử lý đúng hạn trong kỳ (trả lời 15, từ chối 2, yêu cầu bổ sung 5 ngày làm việc; công khai trong 2 ngày làm việc) / handled on time';
comment on column mart.feedback_kpi_period.handled_late is 'Xử lý quá hạn trong kỳ / handled late';
comment on column mart.feedback_kpi_period.open_in_time is 'Đang xử lý trong hạn cuối kỳ / open in time';
comment on column mart.feedback_kpi_period.open_overdue is 'Đang xử lý quá hạn cuối kỳ / open overdue';
comment on column mart.feedback_kpi_period.rate_5_2 is 'Tỷ lệ mục 5.2 = (xử lý đúng hạn + đang trong hạn) / (đã xử lý + đang xử lý) / item 5.2 rate';
comment on column mart.feedback_kpi_period.score_5_2 is 'Điểm mục 5.2 (tối đa 6) = 6 × tỷ lệ; 6 khi không có PAKN / item 5.2 score';
comment on column mart.feedback_kpi_period.rate_5_3 is 'Tỷ lệ mục 5.3 = (tiếp nhận − không hài lòng, lặp lại, quá hạn) / tiếp nhận / item 5.3 rate';
comment on column mart.feedback_kpi_period.score_5_3 is 'Điểm mục 5.3 (tối đa 6) = 6 × tỷ lệ; 6 khi không có PAKN / item 5.3 score';
comment on column mart.feedback_kpi_period.handled_rate is 'Tỷ lệ PAKN được xử lý, không để quá hạn = (đã xử lý + đang trong hạn) / (đã xử lý + đang xử lý) / handled rate';
comment on column mart.feedback_kpi_period.on_time_rate is 'Tỷ lệ xử lý đúng hạn = xử lý đúng hạn / đã xử lý / on-time rate';
comment on column mart.feedback_kpi_period.published_late is 'Trả lời công khai chậm quá 2 ngày làm việc / answers published late';
comment on column mart.feedback_kpi_period.answered_unpublished is 'Đã trả lời nhưng chưa công khai / answered, not published';
comment on column mart.feedback_kpi_period.linked_to_case is 'PAKN gắn với hồ sơ có trong kho dữ liệu / PAKN linked to a known case';

comment on table intermediate.directive_facts is 'Lớp trung gian: dữ kiện từng nhiệm vụ theo hai cách tính hạn / Intermediate: per-task facts for both deadline bases.';
comment on table intermediate.feedback_facts is 'Lớp trung gian: dữ kiện từng PAKN (chỉ số phút làm việc, hạn trả lời, đúng hạn) / Intermediate: per-PAKN facts.';
