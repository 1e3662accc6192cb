-- One current row per case: the state ranked first in raw.valid_case_row, with the end time
-- chosen by the end-time rule ($end_time_rule) and the counts the measures need.
--
-- A date without a time (DESIGN §8.1; raw time_unknown lists the fields the export gave as a date
-- only): received at the start of that day's first working session, due (first and new appointment)
-- at the end of its last session (core.work_minute: the sessions of the settings). An end time without
-- a time of day stays at 00:00 with end_time_unknown set: intermediate.case_judgements judges it by day.
insert into core.case
with sessions as (
    select
        (select max(minute_of_day) from core.work_minute where worked_before = 0) as first_start_minute,
        (select min(minute_of_day) from core.work_minute
            where worked_before = (select max(worked_before) from core.work_minute)) as last_end_minute
),
anchored as (
    select
        r.* replace (
            case when list_contains(string_split(coalesce(r.time_unknown, ''), ','), 'received_at')
                then r.received_at + to_minutes(s.first_start_minute) else r.received_at end as received_at,
            case when list_contains(string_split(coalesce(r.time_unknown, ''), ','), 'due_at')
                then r.due_at + to_minutes(s.last_end_minute) else r.due_at end as due_at,
            case when list_contains(string_split(coalesce(r.time_unknown, ''), ','), 'new_due_at')
                then r.new_due_at + to_minutes(s.last_end_minute) else r.new_due_at end as new_due_at
        )
    from raw.valid_case_row as r, sessions as s
),
ranked as (
    select
        *,
        row_number() over (
            partition by case_id
            order by lifecycle_stage desc, exported_at desc, file_sha desc, source_row desc
        ) as recency
    from anchored
),
current_row as (
    select * from ranked where recency = 1
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
    c.channel,
    c.status,
    c.status not in (1, 3) as in_scope,
    c.status in (7, 8, 9, 10) as is_resolved,
    c.received_at,
    c.due_at,
    case when c.due_at is not null then 'export' end as due_at_source,
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
left join core.procedure as p using (procedure_code);
