-- mart.warnings: open cases at the as-of moment ($as_of_end, the end of the as-of day) that need action,
-- per unit (DESIGN §1 objective "cases at risk are warned about in time", §6 apology compliance).
-- One row per case and warning kind:
--   overdue          open and past its first appointment (same rule as open_overdue, pauses taken off;
--                    more than one supplement request also counts when multiple_supplements_late)
--   due_soon         open, not overdue, due within $warning_minutes working minutes
--   apology_missing  overdue and no apology letter yet
--   apology_due      not overdue, no apology yet, and the latest moment for a timely apology
--                    ($apology_lead_minutes working minutes before due) has come
-- working_hours_left: working hours from the as-of moment (minus pauses) to due; negative when overdue.
-- No personal data: case code, procedure and dates only.
create or replace table mart.warnings as
with open_cases as (
    select
        f.case_id,
        coalesce(f.unit, '(không xác định)') as unit,
        f.procedure_code,
        f.procedure_name,
        f.sector,
        f.channel,
        f.received_at,
        f.due_at,
        f.apology_at,
        f.new_due_at,
        f.due_idx,
        j.compared_idx,
        j.is_past_due,
        j.supplement_count,
        j.is_waiting_for_applicant,
        f.due_idx - j.compared_idx as minutes_left,
        j.has_apology
    from intermediate.case_facts as f
    inner join intermediate.case_judgements as j
        on j.case_key = f.case_key and j.judged_moment = $as_of_end
    where f.received_at < $as_of_end and coalesce(f.placed_end_at, 'infinity'::timestamp) >= $as_of_end
),

kinds as (
    select open_cases.*, 'overdue' as warning_kind, 1 as kind_order
    from open_cases where is_past_due
    union all
    select open_cases.*, 'apology_missing' as warning_kind, 2 as kind_order
    from open_cases where is_past_due and not has_apology
    union all
    select open_cases.*, 'apology_due' as warning_kind, 3 as kind_order
    from open_cases
    where not is_past_due and not has_apology and due_idx - $apology_lead_minutes <= compared_idx
    union all
    select open_cases.*, 'due_soon' as warning_kind, 4 as kind_order
    from open_cases where not is_past_due and minutes_left <= $warning_minutes
)

select
    unit,
    case_id,
    procedure_code,
    procedure_name,
    received_at,
    due_at,
    warning_kind,
    round(minutes_left / 60.0, 2) as working_hours_left,
    row_number() over (
        partition by unit order by minutes_left, kind_order, case_id
    ) as urgency_rank,
    case warning_kind
        when 'overdue' then 'Quá hạn'
        when 'apology_missing' then 'Quá hạn, chưa có văn bản xin lỗi'
        when 'apology_due' then 'Cần gửi văn bản xin lỗi, hẹn lại'
        when 'due_soon' then 'Sắp đến hạn'
    end as warning_label,
    sector,
    channel,
    supplement_count,
    is_waiting_for_applicant,
    apology_at,
    new_due_at,
    cast($as_of_end as timestamp) as as_of_moment
from kinds
order by unit collate vi, urgency_rank;
