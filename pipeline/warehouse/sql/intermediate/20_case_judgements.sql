-- Intermediate layer, step 2: each case judged at every moment a report needs it judged at:
--   its end (for the period it is resolved in),
--   each period's judging moment it is still open at (core.period.judged_at: the period's end, or
--   the end of the as-of day for the current period, DESIGN §4.9; a past period is never judged
--   "today"), and the as-of moment (for the warning list).
--
-- Supplement pauses (DESIGN §4.2), as of the moment judged M:
--   completed cycles (answered at or before M) are subtracted from M;
--   a cycle still pending at M stops the clock: the case is judged at that request time, minus the
--   pauses completed before it;
--   more than one request by M makes the case late/overdue (setting multiple_supplements_late).
-- compared_at is the moment compared with due_at, to the minute (§4.3): later means late (if the case
-- ended at M) or overdue (if it was still open at M). Early (§4.4) by the early_rule setting.
-- is_final: M is the case's end (this row judges the resolved case); is_open_at: the case was
-- received before M and had not ended before M (this row judges it as open at a period's end).
-- has_apology: an apology letter had been issued by M.
-- An end time the export gave as a date only (core.case.end_time_unknown, DESIGN §8.1) is judged by
-- day at the case's end: on the due day on time (mart.case_timeliness carries the finding "time
-- unknown"), on an earlier day early, on a later day late, whatever the early rule.

create or replace table intermediate.case_judgements as
with moments as (
    select judged_moment, cast(row_number() over (order by judged_moment) as integer) as moment_no
    from (
        select judged_at as judged_moment from core.period where period_start < judged_at
        union
        select cast($as_of_end as timestamp)
    )
),

-- moments falling on or before each day (every moment is a midnight, so "on or before day d" is
-- "at or before any time of d"): a case is open at the moments numbered
-- (moments up to its receipt day) + 1 .. (moments up to its end day, or all of them while open)
moments_up_to as (
    select d.day, count(m.moment_no) as moments
    from core.work_day as d
    left join moments as m on cast(m.judged_moment as date) <= d.day
    group by d.day
),

case_facts as (
    select
        c.case_key,
        c.dim_key,
        c.received_at,
        c.end_at,
        c.placed_end_at,
        c.end_time_unknown,
        c.apology_at,
        c.due_at,
        c.due_idx,
        c.due_slot,
        c.received_idx
    from intermediate.case_facts as c
),

-- (case, moment) pairs with the case's facts the judgement needs: each case at its end, and at every
-- judging moment it is open at (a case that ended exactly at such a moment is judged there once)
open_pairs as (
    select spans.* exclude (moment_no), m.judged_moment
    from (
        select
            c.*,
            unnest(range(u_rec.moments + 1, coalesce(u_end.moments, (select count(*) from moments)) + 1))
                as moment_no
        from case_facts as c
        inner join moments_up_to as u_rec on u_rec.day = cast(c.received_at as date)
        left join moments_up_to as u_end on u_end.day = cast(c.placed_end_at as date)
    ) as spans
    inner join moments as m on m.moment_no = spans.moment_no
    where spans.end_at is distinct from m.judged_moment
),

pairs as (
    select c.*, c.end_at as judged_moment
    from case_facts as c
    where c.end_at is not null
    union all
    select * from open_pairs
),

cycles as (
    select c.case_key, s.requested_at, s.received_at, s.pause_us, s.pause_before_us
    from intermediate.supplement_cycles as s
    inner join intermediate.case_facts as c on c.case_id = s.case_id
),

pauses as (
    select
        pairs.case_key,
        pairs.judged_moment,
        count(*) filter (where s.requested_at <= pairs.judged_moment) as supplement_count,
        cast(coalesce(
            sum(s.pause_us) filter (
                where s.requested_at <= pairs.judged_moment and s.received_at <= pairs.judged_moment
            ),
            0
        ) as bigint) as completed_us,
        min(s.requested_at) filter (
            where s.requested_at <= pairs.judged_moment
            and (s.received_at is null or s.received_at > pairs.judged_moment)
        ) as pending_requested_at,
        arg_min(s.pause_before_us, s.requested_at) filter (
            where s.requested_at <= pairs.judged_moment
            and (s.received_at is null or s.received_at > pairs.judged_moment)
        ) as pending_before_us
    from pairs
    inner join cycles as s on s.case_key = pairs.case_key
    group by all
),

adjusted as (
    select
        pairs.*,
        coalesce(pauses.supplement_count, 0) as supplement_count,
        coalesce($subtract_supplement_pauses and pauses.pending_requested_at is not null, false)
            as is_waiting_for_applicant,
        case
            when not $subtract_supplement_pauses then 0
            when pauses.pending_requested_at is not null then coalesce(pauses.pending_before_us, 0)
            else coalesce(pauses.completed_us, 0)
        end as paused_us,
        case
            when not $subtract_supplement_pauses then pairs.judged_moment
            when pauses.pending_requested_at is not null
                then pauses.pending_requested_at - to_microseconds(coalesce(pauses.pending_before_us, 0))
            else pairs.judged_moment - to_microseconds(coalesce(pauses.completed_us, 0))
        end as compared_at
    from pairs
    left join pauses on pauses.case_key = pairs.case_key and pauses.judged_moment = pairs.judged_moment
),

day_judged as (
    select
        adjusted.*,
        coalesce(adjusted.end_time_unknown and adjusted.judged_moment = adjusted.end_at, false) as is_judged_by_day
    from adjusted
),

indexed as (
    select
        adjusted.*,
        coalesce(adjusted.judged_moment = adjusted.end_at, false) as is_final,
        adjusted.received_at < adjusted.judged_moment
            and coalesce(adjusted.placed_end_at, 'infinity'::timestamp) >= adjusted.judged_moment as is_open_at,
        coalesce(adjusted.apology_at <= adjusted.judged_moment, false) as has_apology,
        d_cmp.cum_minutes_before + case when d_cmp.is_working_day then m_cmp.worked_before else 0 end
            as compared_idx,
        date_diff('day', date '1970-01-01', cast(adjusted.compared_at as date)) * 10
            - case when m_cmp.minute_of_day = 0 then 10 else 0 end + m_cmp.previous_session_no as compared_slot,
        case
            when adjusted.is_judged_by_day then cast(adjusted.compared_at as date) > cast(adjusted.due_at as date)
            else date_trunc('minute', adjusted.compared_at) > date_trunc('minute', adjusted.due_at)
        end
            or ($multiple_supplements_late and adjusted.supplement_count > 1) as is_past_due
    from day_judged as adjusted
    left join core.work_day as d_cmp on d_cmp.day = cast(adjusted.compared_at as date)
    left join intermediate.day_minutes as m_cmp
        on m_cmp.minute_of_day = hour(adjusted.compared_at) * 60 + minute(adjusted.compared_at)
)

select
    case_key,
    judged_moment,
    dim_key,
    is_final,
    is_open_at,
    has_apology,
    compared_at,
    compared_idx,
    supplement_count,
    is_waiting_for_applicant,
    round(paused_us / 60e6, 2) as paused_minutes,
    is_past_due,
    -- early (DESIGN §4.4), only for a case that is not late (never NULL: on time when undecidable)
    coalesce(not is_past_due and case
        when is_judged_by_day or $early_rule = 'calendar_day' then cast(compared_at as date) < cast(due_at as date)
        when $early_rule = 'working_hours' then due_idx - compared_idx >= $early_minutes
        when $early_rule = 'half_day' then compared_slot < due_slot
    end, false) as is_early,
    is_judged_by_day,
    case
        when is_past_due
            then greatest(date_diff('minute', date_trunc('minute', due_at), date_trunc('minute', compared_at)), 0)
    end as late_minutes,
    -- (greatest() would skip a NULL index; these keep NULL for moments outside the calendar)
    case
        when is_past_due and compared_idx < due_idx then 0.0
        when is_past_due then (compared_idx - due_idx) / 60.0
    end as late_working_hours,
    -- whole working minutes (an integer, so sums of it are exact in any order); days divide once
    case
        when compared_idx < received_idx then 0
        else compared_idx - received_idx
    end as working_minutes_from_receipt,
    working_minutes_from_receipt / $day_minutes as working_days_from_receipt
from indexed;
