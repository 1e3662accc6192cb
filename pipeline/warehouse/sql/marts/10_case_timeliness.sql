-- mart.case_timeliness (DESIGN §9): one row per case and reporting period (both schemes, every
-- grain) with the case's class at that period's judging moment and every fact that explains it.
-- A view over the intermediate models: the ~9 rows per case are computed when read (filter on
-- period_scheme and period to read one period quickly), so they cost nothing to build or store.
create or replace view mart.case_timeliness as
select
    cp.period_scheme,
    cp.grain,
    cp.period,
    f.case_id,
    f.unit,
    f.sector,
    f.procedure_code,
    f.procedure_name,
    f.channel,
    f.received_at,
    f.due_at,
    f.end_at,
    f.end_at_source,
    j.paused_minutes,
    j.supplement_count,
    case when cp.is_resolved_in_period then j.compared_at end as adjusted_end_at,
    cp.is_received_in_period,
    cp.is_carried_over,
    cp.is_resolved_in_period,
    cp.timeliness_class,
    cp.is_resolved_in_period and f.status = 7 as is_withdrawn,
    cp.is_resolved_in_period and f.status = 8 as is_stopped,
    j.late_minutes,
    j.late_working_hours,
    case when cp.is_resolved_in_period then j.working_days_from_receipt end as resolution_working_days,
    j.has_apology,
    case when j.has_apology then f.apology_issued_timely end as apology_timely,
    f.reschedule_count,
    f.due_beyond_legal_limit,
    -- explanatory extras
    cp.judged_at,
    j.judged_moment,
    j.compared_at,
    j.is_waiting_for_applicant,
    f.status,
    f.sector_code,
    f.apology_at,
    f.new_due_at,
    cp.is_resolved_in_period and f.first_rated_at is not null as is_rated,
    -- DESIGN §8.1: the end time was a date only; resolved on the due day it counts as on time, with a finding
    f.end_time_unknown,
    case
        when cp.is_resolved_in_period and j.is_judged_by_day and cp.timeliness_class = 'on_time'
            then 'không rõ giờ kết thúc: kết thúc trong ngày hẹn trả, tính là đúng hạn (time unknown)'
    end as time_unknown_finding
from intermediate.case_periods as cp
inner join intermediate.case_facts as f on f.case_key = cp.case_key
inner join intermediate.case_judgements as j
    on j.case_key = cp.case_key and j.judged_moment = cp.judged_moment;
