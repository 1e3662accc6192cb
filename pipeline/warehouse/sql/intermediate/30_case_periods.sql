-- Intermediate layer, step 3: which cases belong to which reporting period, and their class there
-- (a view: ~9 rows per case are computed when read, never stored).
--
-- Membership follows the actual times (DESIGN §4.10): a case is in period P when it was received
-- before P is judged and had not ended before P started. Received in P = received at or after its
-- start; carried over = received before it; resolved in P = ended before P's judging moment
-- (core.period.judged_at: its end, or the end of the as-of day for the current period); open otherwise.
-- A period that starts after the as-of day holds no case. A case is judged at its end if it was
-- resolved in P, else at P's judging moment (intermediate.case_judgements).
create or replace view intermediate.case_periods as
with members as (
    select
        p.period_scheme,
        p.grain,
        p.period,
        p.judged_at,
        c.case_key,
        c.received_at >= p.period_start as is_received_in_period,
        c.received_at < p.period_start as is_carried_over,
        coalesce(c.placed_end_at < p.judged_at, false) as is_resolved_in_period,
        case when c.placed_end_at < p.judged_at then c.end_at else p.judged_at end as judged_moment
    from core.period as p
    inner join intermediate.case_facts as c
        on c.received_at < p.judged_at
        and coalesce(c.placed_end_at, 'infinity'::timestamp) >= p.period_start
    where p.period_start < p.judged_at
)

select
    m.period_scheme,
    m.grain,
    m.period,
    m.judged_at,
    m.case_key,
    m.judged_moment,
    m.is_received_in_period,
    m.is_carried_over,
    m.is_resolved_in_period,
    case
        when m.is_resolved_in_period and j.is_past_due then 'late'
        when m.is_resolved_in_period and j.is_early then 'early'
        when m.is_resolved_in_period then 'on_time'
        when j.is_past_due then 'open_overdue'
        else 'open_in_time'
    end as timeliness_class
from members as m
inner join intermediate.case_judgements as j
    on j.case_key = m.case_key and j.judged_moment = m.judged_moment;
