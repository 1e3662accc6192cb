-- One current row per case (staging.current_case_row: date-only times already anchored), with the end
-- time chosen by the end-time rule ($end_time_rule), the legal due time (staging.legal_due; a case exported
-- without an appointment takes it as its due_at, due_at_source 'computed') and the counts the measures
-- need. An end time without a time of day stays at 00:00 with end_time_unknown set:
-- intermediate.case_judgements judges it by day.
insert into core.case
with current_row as (
    select * from staging.current_case_row
),

history as (
    select
        case_id,
        count(*) as state_count,
        count(distinct new_due_at) as reschedule_count
    from core.case_state_history
    group by case_id
)
select
    c.case_id,
    c.procedure_code,
    coalesce(c.procedure_name, p.procedure_name) as procedure_name,
    coalesce(c.sector_code, p.sector_code) as sector_code,
    coalesce(c.sector, p.sector, 'Chưa xác định') as sector,
    coalesce(c.unit, p.unit, 'Chưa xác định') as unit,
    c.agency,
    c.channel,
    c.status,
    c.status not in (1, 3) as in_scope,
    c.status in (7, 8, 9, 10) as is_resolved,
    c.received_at,
    coalesce(c.due_at, ld.legal_due_at) as due_at,
    case when c.due_at is not null then 'export' when ld.legal_due_at is not null then 'computed' end
        as due_at_source,
    ld.legal_due_at,
    c.finished_at,
    c.returned_at,
    case
        when c.status not in (7, 8, 9, 10) then null
        when $end_time_rule = 'finished_only' then c.finished_at
        when $end_time_rule = 'returned_only' then c.returned_at
        else coalesce(c.finished_at, c.returned_at)
    end as end_at,
    case
        when c.status not in (7, 8, 9, 10) then null
        when $end_time_rule = 'finished_only' then if(c.finished_at is null, null, 'finished_at')
        when $end_time_rule = 'returned_only' then if(c.returned_at is null, null, 'returned_at')
        when c.finished_at is not null then 'finished_at'
        when c.returned_at is not null then 'returned_at'
    end as end_at_source,
    c.apology_at,
    c.new_due_at,
    h.reschedule_count,
    c.applicant_hash,
    c.time_unknown,
    case
        when c.status not in (7, 8, 9, 10) then null
        when $end_time_rule = 'finished_only' or ($end_time_rule = 'finished_else_returned' and c.finished_at is not null)
            then list_contains(string_split(coalesce(c.time_unknown, ''), ','), 'finished_at')
        else list_contains(string_split(coalesce(c.time_unknown, ''), ','), 'returned_at')
    end as end_time_unknown,
    c.exported_at,
    c.source_file,
    c.source_row,
    h.state_count,
    c.file_sha
from current_row as c
left join history as h using (case_id)
left join core.procedure as p using (procedure_code)
left join staging.legal_due as ld using (case_id);
