-- The reporting periods the measures cover (DESIGN §5, §9): every period of core.period_catalogue from
-- the one holding the earliest record (a case received, a directive assigned, a PAKN received or sent) up
-- to the as-of date (the catalogue ends there); with no record at all, the periods holding the as-of date.
insert into core.period
with first_record as (
    select min(day) as first_day
    from (
        select min(cast(received_at as date)) as day from core.case where in_scope and received_at is not null
        union all
        select min(cast(assigned_at as date)) from core.directive
        union all
        select min(cast(coalesce(received_at, sent_at) as date)) from core.feedback
    )
)

select p.*
from core.period_catalogue as p
where p.last_day >= (select coalesce(first_day, cast($as_of_end as date) - 1) from first_record);
