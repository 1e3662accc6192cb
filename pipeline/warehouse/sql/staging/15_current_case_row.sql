-- The current row of each case: the state ranked first in raw.valid_case_row (later lifecycle stage,
-- then later export, then file hash and row), and the input of the legal-limit model: each current
-- case's receipt time and its procedure's legal time limit.
--
-- A date without a time (DESIGN §8.1; raw time_unknown lists the fields the export gave as a date
-- only): received at the start of that day's first working session, due (first and new appointment)
-- at the end of its last session (core.work_minute: the sessions of the settings).
create schema if not exists staging;

create or replace table staging.current_case_row as
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
)

select * exclude (recency)
from (
    select
        *,
        row_number() over (
            partition by case_id
            order by lifecycle_stage desc, exported_at desc, file_sha desc, source_row desc
        ) as recency
    from anchored
)
where recency = 1;

create or replace view staging.legal_due_input as
select c.case_id, c.received_at, p.limit_amount, p.limit_unit
from staging.current_case_row as c
inner join core.procedure as p using (procedure_code)
where c.received_at is not null;
