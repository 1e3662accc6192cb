-- Intermediate layer, step 1: per-case facts that do not depend on a reporting period
-- (schema "intermediate": dbt-like intermediate models, read by the mart views and tables).
--
-- The working-minute index of a moment ts (DESIGN §7) is
--   core.work_day.cum_minutes_before (day of ts)
--   + core.work_minute.worked_before (minute of day of ts), on working days only;
-- the difference of two indexes is the working time between the two moments, in minutes.
create schema if not exists intermediate;

-- Invariant the models rely on: every period starts and is judged at a midnight (periods.py makes
-- them so), which lets cases be counted into periods by day.
select error('core.period: period_start and judged_at must be at 00:00')
from core.period
where period_start <> date_trunc('day', period_start) or judged_at <> date_trunc('day', judged_at)
limit 1;

-- Each minute of a day with the working minutes before it and the session of the minute just before
-- it (the half-day slot of a moment is its day and that session: a moment at 11:30 closes the morning,
-- one at 17:00 the afternoon; 00:00 belongs to the previous day, after its last session).
create or replace table intermediate.day_minutes as
select
    m.minute_of_day,
    m.worked_before,
    p.session_no as previous_session_no
from core.work_minute as m
inner join core.work_minute as p on p.minute_of_day = (m.minute_of_day + 1439) % 1440;

-- Supplement cycles (DESIGN §4.2). A cycle without a request time cannot be placed and is ignored.
-- pause_us: the cycle's length in microseconds (NULL while the applicant has not answered).
-- pause_before_us: completed pauses of the case's earlier cycles (by request time).
create or replace table intermediate.supplement_cycles as
with cycles as (
    select
        s.case_id,
        s.seq,
        s.requested_at,
        s.received_at,
        case
            when s.received_at >= s.requested_at then epoch_us(s.received_at) - epoch_us(s.requested_at)
            when s.received_at is not null then 0
        end as pause_us
    from core.supplement as s
    where s.requested_at is not null
)

select
    cycles.*,
    cast(coalesce(
        sum(pause_us) over (
            partition by case_id order by requested_at, seq
            rows between unbounded preceding and 1 preceding
        ),
        0
    ) as bigint) as pause_before_us
from cycles;

-- The kpi dimensions (DESIGN §6): each distinct (unit, sector, procedure, channel) of the cases,
-- numbered; unknown values (and ratings of unknown cases) are grouped under '(không xác định)'.
create or replace table intermediate.case_dims as
with labels as (
    select distinct
        coalesce(c.unit, '(không xác định)') as unit_value,
        coalesce(c.sector, p.sector, c.sector_code, p.sector_code, '(không xác định)') as sector_value,
        coalesce(c.procedure_code, '(không xác định)') as procedure_value,
        coalesce(cast(c.channel as varchar), '(không xác định)') as channel_value
    from core.case as c
    left join core.procedure as p on p.procedure_code = c.procedure_code
    union
    select '(không xác định)', '(không xác định)', '(không xác định)', '(không xác định)'
)

select
    cast(row_number() over (order by unit_value, sector_value, procedure_value, channel_value) as integer)
        as dim_key,
    labels.*,
    -- compact numbers of each value, for grouping many rows cheaply
    cast(dense_rank() over (order by unit_value) as integer) as unit_no,
    cast(dense_rank() over (order by sector_value) as integer) as sector_no,
    cast(dense_rank() over (order by procedure_value) as integer) as procedure_no,
    cast(dense_rank() over (order by channel_value) as integer) as channel_no
from labels;

-- One row per in-scope case that can be judged (received_at and due_at known: the loader computes a
-- missing due_at from the legal limit and quarantines rows where it cannot). case_key is a compact
-- key of this build (core.case's row id, not stable from one night to the next); case_id is the
-- case's code.
create or replace table intermediate.case_facts as
with cases as (
    select
        c.rowid as case_key,
        c.case_id,
        c.unit,
        coalesce(c.sector, p.sector) as sector,
        coalesce(c.sector_code, p.sector_code) as sector_code,
        c.procedure_code,
        coalesce(c.procedure_name, p.procedure_name) as procedure_name,
        c.end_at_source,
        coalesce(c.end_time_unknown, false) as end_time_unknown,
        c.new_due_at,
        c.channel,
        c.status,
        c.received_at,
        c.due_at,
        c.end_at,
        c.apology_at,
        coalesce(c.reschedule_count, 0) as reschedule_count,
        c.legal_due_at,
        coalesce(c.unit, '(không xác định)') as unit_value,
        coalesce(c.sector, p.sector, c.sector_code, p.sector_code, '(không xác định)') as sector_value,
        coalesce(c.procedure_code, '(không xác định)') as procedure_value,
        coalesce(cast(c.channel as varchar), '(không xác định)') as channel_value
    from core.case as c
    left join core.procedure as p on p.procedure_code = c.procedure_code
    where c.in_scope and c.received_at is not null and c.due_at is not null
),

ratings as (
    select case_id, min(rated_at) as first_rated_at
    from core.rating
    where rating_class is not null and rated_at is not null
    group by case_id
),

indexed as (
    select
        cases.case_key,
        cases.case_id,
        cases.unit,
        cases.sector,
        cases.sector_code,
        cases.procedure_code,
        cases.procedure_name,
        cases.end_at_source,
        cases.end_time_unknown,
        cases.new_due_at,
        dims.dim_key,
        cases.channel,
        cases.status,
        cases.received_at,
        cases.due_at,
        cases.end_at,
        -- a case that "ended" before it was received (bad data) is placed in periods at its receipt
        case when cases.end_at < cases.received_at then cases.received_at else cases.end_at end as placed_end_at,
        cases.apology_at,
        cases.reschedule_count,
        d_rec.cum_minutes_before + case when d_rec.is_working_day then m_rec.worked_before else 0 end
            as received_idx,
        d_due.cum_minutes_before + case when d_due.is_working_day then m_due.worked_before else 0 end
            as due_idx,
        d_apo.cum_minutes_before + case when d_apo.is_working_day then m_apo.worked_before else 0 end
            as apology_idx,
        -- half-day slot of the due moment: the day and the session holding the last minute before it
        date_diff('day', date '1970-01-01', cast(cases.due_at as date)) * 10
            - case when m_due.minute_of_day = 0 then 10 else 0 end + m_due.previous_session_no as due_slot,
        d_leg.cum_minutes_before + case when d_leg.is_working_day then m_leg.worked_before else 0 end
            as legal_idx,
        ratings.first_rated_at
    from cases
    inner join intermediate.case_dims as dims
        on dims.unit_value = cases.unit_value
        and dims.sector_value = cases.sector_value
        and dims.procedure_value = cases.procedure_value
        and dims.channel_value = cases.channel_value
    left join core.work_day as d_rec on d_rec.day = cast(cases.received_at as date)
    left join core.work_minute as m_rec
        on m_rec.minute_of_day = hour(cases.received_at) * 60 + minute(cases.received_at)
    left join core.work_day as d_due on d_due.day = cast(cases.due_at as date)
    left join intermediate.day_minutes as m_due
        on m_due.minute_of_day = hour(cases.due_at) * 60 + minute(cases.due_at)
    left join core.work_day as d_apo on d_apo.day = cast(cases.apology_at as date)
    left join core.work_minute as m_apo
        on m_apo.minute_of_day = hour(cases.apology_at) * 60 + minute(cases.apology_at)
    left join core.work_day as d_leg on d_leg.day = cast(cases.legal_due_at as date)
    left join core.work_minute as m_leg
        on m_leg.minute_of_day = hour(cases.legal_due_at) * 60 + minute(cases.legal_due_at)
    left join ratings on ratings.case_id = cases.case_id
)

select
    indexed.* exclude (legal_idx, apology_idx),
    -- appointment check (DESIGN §6): the due moment is later, in working time, than the legal limit
    -- (core.case.legal_due_at) allows
    due_idx > legal_idx as due_beyond_legal_limit,
    -- the apology was issued at least $apology_lead_minutes working minutes before the due moment
    case when apology_at is not null then apology_idx <= due_idx - $apology_lead_minutes end
        as apology_issued_timely
from indexed;
