-- The reporting periods the measures cover (DESIGN §5, §9): every period of core.period_catalogue from
-- the one holding the earliest received case up to the as-of date (the catalogue ends there); with no
-- case at all, the periods holding the as-of date.
insert into core.period
select p.*
from core.period_catalogue as p
where p.last_day >= (
    select coalesce(min(cast(received_at as date)), cast($as_of_end as date) - 1)
    from core.case
    where in_scope and received_at is not null
);
