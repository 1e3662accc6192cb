-- Feedback and complaints (PAKN, DESIGN §11): each PAKN's class at every period end, and the measures
-- per period and handling unit, with the national index items 5.2 and 5.3 (Decision 766).
--
-- A PAKN belongs to period P when it was received before P is judged and was not handled before P
-- started; received in P = its clock started in P; handled in P = handled before P's judging moment,
-- with its class handled_on_time / handled_late (intermediate.feedback_facts); open otherwise, in time
-- until the answer limit (15 working days) has passed, overdue after it. It counts against
-- satisfaction (5.3) when the sender reacted unsatisfied (or the answer has more dislikes than likes),
-- it is a repeated complaint or was followed by one, or it was handled late or is still open past its
-- limit at P's end.
create or replace view mart.feedback_timeliness as
with members as (
    select
        p.period_scheme,
        p.grain,
        p.period,
        p.judged_at,
        f.*,
        f.clock_start_at >= p.period_start as is_received_in_period,
        coalesce(f.placed_handled_at < p.judged_at, false) as is_handled_in_period,
        d_j.cum_minutes_before as judged_idx
    from core.period as p
    inner join intermediate.feedback_facts as f
        on f.clock_start_at < p.judged_at
        and coalesce(f.placed_handled_at, 'infinity'::timestamp) >= p.period_start
    left join core.work_day as d_j on d_j.day = cast(p.judged_at as date)
    where p.period_start < p.judged_at
),

classed as (
    select
        members.*,
        case
            when is_handled_in_period and handled_on_time then 'handled_on_time'
            when is_handled_in_period then 'handled_late'
            when judged_idx > answer_due_idx then 'open_overdue'
            else 'open_in_time'
        end as timeliness_class
    from members
)

select
    period_scheme,
    grain,
    period,
    judged_at,
    feedback_id,
    title,
    category,
    case_id,
    case_known,
    unit,
    clock_start_at,
    answer_due_at,
    handling,
    handled_at,
    published_at,
    reaction,
    is_disliked,
    repeated,
    repeat_followed,
    published_late,
    answered_unpublished,
    is_received_in_period,
    is_handled_in_period,
    timeliness_class,
    is_disliked or repeated or repeat_followed or timeliness_class in ('handled_late', 'open_overdue')
        as is_unsatisfied_5_3
from classed;

-- mart.feedback_kpi_period: every period the PAKN span (from the first receipt to the as-of day), both
-- schemes, the department ('all') and each handling unit.
--   rate_5_2  = (handled on time + open in time) / (handled + open), score_5_2 = 6 × rate_5_2
--   rate_5_3  = (received − received and counting against satisfaction) / received, score_5_3 = 6 × rate_5_3
-- A score is 6 when its denominator is 0 (nothing to judge); rates are then NULL.
--   handled_rate  = (handled + open in time) / (handled + open): no PAKN left past its limit
--   on_time_rate  = handled on time / handled
create or replace table mart.feedback_kpi_period as
with span as (
    select min(clock_start_at) as first_received_at from intermediate.feedback_facts
),

periods as (
    select p.*
    from core.period as p, span
    where p.period_start < p.judged_at and p.period_end > span.first_received_at
),

dims as (
    select 'all' as dimension, 'all' as dimension_value
    where exists (select 1 from intermediate.feedback_facts)
    union all
    select distinct 'unit', unit_value from intermediate.feedback_facts
),

counted as (
    select
        t.period_scheme,
        t.period,
        d.dimension,
        d.dimension_value,
        count(*) filter (where t.is_received_in_period) as received_total,
        count(*) filter (where t.timeliness_class = 'handled_on_time') as handled_on_time,
        count(*) filter (where t.timeliness_class = 'handled_late') as handled_late,
        count(*) filter (where t.timeliness_class = 'open_in_time') as open_in_time,
        count(*) filter (where t.timeliness_class = 'open_overdue') as open_overdue,
        count(*) filter (where t.is_received_in_period and t.is_unsatisfied_5_3) as unsatisfied_5_3,
        count(*) filter (where t.is_handled_in_period and t.handling = 'answered') as handled_answered,
        count(*) filter (where t.is_handled_in_period and t.handling = 'refused') as handled_refused,
        count(*) filter (where t.is_handled_in_period and t.handling = 'more_info') as handled_more_info,
        count(*) filter (where t.is_handled_in_period and t.published_late) as published_late,
        count(*) filter (where t.is_handled_in_period and t.answered_unpublished) as answered_unpublished,
        count(*) filter (where t.is_received_in_period and t.is_disliked) as disliked,
        count(*) filter (where t.is_received_in_period and (t.repeated or t.repeat_followed)) as repeated,
        count(*) filter (where t.is_received_in_period and t.case_known) as linked_to_case
    from mart.feedback_timeliness as t
    inner join dims as d
        on d.dimension = 'all' or (d.dimension = 'unit' and d.dimension_value = coalesce(t.unit, '(không xác định)'))
    group by all
),

measures as (
    select
        p.period_scheme, p.period, p.grain, p.period_name, p.first_day, p.last_day, p.judged_at,
        d.dimension, d.dimension_value,
        coalesce(c.received_total, 0) as received_total,
        coalesce(c.handled_on_time, 0) as handled_on_time,
        coalesce(c.handled_late, 0) as handled_late,
        coalesce(c.open_in_time, 0) as open_in_time,
        coalesce(c.open_overdue, 0) as open_overdue,
        coalesce(c.unsatisfied_5_3, 0) as unsatisfied_5_3,
        coalesce(c.handled_answered, 0) as handled_answered,
        coalesce(c.handled_refused, 0) as handled_refused,
        coalesce(c.handled_more_info, 0) as handled_more_info,
        coalesce(c.published_late, 0) as published_late,
        coalesce(c.answered_unpublished, 0) as answered_unpublished,
        coalesce(c.disliked, 0) as disliked,
        coalesce(c.repeated, 0) as repeated,
        coalesce(c.linked_to_case, 0) as linked_to_case
    from periods as p
    cross join dims as d
    left join counted as c using (period_scheme, period, dimension, dimension_value)
),

rated as (
    select
        measures.*,
        (handled_on_time + open_in_time) / nullif(handled_on_time + handled_late + open_in_time + open_overdue, 0)
            as rate_5_2,
        (received_total - unsatisfied_5_3) / nullif(received_total, 0) as rate_5_3
    from measures
)

select
    period_scheme,
    period,
    dimension,
    dimension_value,
    received_total,
    handled_on_time,
    handled_late,
    open_in_time,
    open_overdue,
    rate_5_2,
    coalesce(6 * rate_5_2, 6.0) as score_5_2,
    rate_5_3,
    coalesce(6 * rate_5_3, 6.0) as score_5_3,
    handled_on_time + handled_late as handled_total,
    open_in_time + open_overdue as open_total,
    (handled_on_time + handled_late + open_in_time)
        / nullif(handled_on_time + handled_late + open_in_time + open_overdue, 0) as handled_rate,
    handled_on_time / nullif(handled_on_time + handled_late, 0) as on_time_rate,
    unsatisfied_5_3,
    handled_answered,
    handled_refused,
    handled_more_info,
    published_late,
    answered_unpublished,
    disliked,
    repeated,
    linked_to_case,
    grain,
    period_name,
    first_day,
    last_day,
    judged_at
from rated
order by period_scheme, grain, period, dimension, dimension_value collate vi;
