-- Directives (DESIGN §10): each task's class at every period end, and the measures per period, deadline
-- basis and lead unit.
--
-- A task belongs to period P when it was assigned before P is judged and was not completed before P
-- started. Completed in P = completed before P's judging moment (core.period.judged_at: its end, or the
-- end of the as-of day); open otherwise. Its class there: no_deadline (no date given: empty, free text or
-- the 01/01/1970 placeholder; counted apart), completed_on_time / completed_late, suspended (open and
-- suspended by the assigning body: not due), open_overdue (the deadline ended before P's judging
-- moment) or open_in_time; is_due_soon marks an open task in time whose deadline is within the
-- directive_due_soon_working_days setting's working days of that moment (intermediate.directive_facts).
create or replace view mart.directive_timeliness as
select
    p.period_scheme,
    p.grain,
    p.period,
    p.judged_at,
    f.deadline_basis,
    f.task_id,
    f.title,
    f.lead_unit,
    f.co_units,
    f.assigned_at,
    f.deadline,
    f.deadline_end,
    f.deadline_text,
    f.has_extension,
    f.completed_at,
    f.assigned_at >= p.period_start as is_assigned_in_period,
    coalesce(f.placed_completed_at < p.judged_at, false) as is_completed_in_period,
    case
        when f.deadline is null then 'no_deadline'
        when f.placed_completed_at < p.judged_at and f.completed_on_time then 'completed_on_time'
        when f.placed_completed_at < p.judged_at then 'completed_late'
        when f.is_suspended then 'suspended'
        when p.judged_at > f.deadline_end then 'open_overdue'
        else 'open_in_time'
    end as timeliness_class,
    coalesce(
        f.deadline is not null and not f.is_suspended
        and not coalesce(f.placed_completed_at < p.judged_at, false)
        and p.judged_at <= f.deadline_end
        and d_j.cum_minutes_before >= f.due_soon_from_idx,
        false
    ) as is_due_soon
from core.period as p
inner join intermediate.directive_facts as f
    on f.assigned_at < p.judged_at
    and coalesce(f.placed_completed_at, 'infinity'::timestamp) >= p.period_start
left join core.work_day as d_j on d_j.day = cast(p.judged_at as date)
where p.period_start < p.judged_at;

-- mart.directive_kpi_period: every period the tasks span (from the first assignment to the as-of day),
-- both schemes, both deadline bases, the department ('all') and each lead unit. due_total = completed in
-- the period + open overdue at its end; headline_rate = completed (on time or late) / due_total, as the
-- Prime Minister's office reports it; strict_rate = completed on time / due_total. Rates are fractions
-- 0..1, NULL when due_total is 0.
create or replace table mart.directive_kpi_period as
with span as (
    select min(assigned_at) as first_assigned_at from intermediate.directive_facts
),

periods as (
    select p.*
    from core.period as p, span
    where p.period_start < p.judged_at and p.period_end > span.first_assigned_at
),

dims as (
    select 'all' as dimension, 'all' as dimension_value
    where exists (select 1 from intermediate.directive_facts)
    union all
    select distinct 'unit', unit_value from intermediate.directive_facts
),

bases as (
    select * from (values ('original'), ('extended')) as b (deadline_basis)
),

rows as (
    select t.*, coalesce(t.lead_unit, '(không xác định)') as unit_value
    from mart.directive_timeliness as t
),

counted as (
    select
        r.period_scheme,
        r.period,
        r.deadline_basis,
        d.dimension,
        d.dimension_value,
        count(*) filter (where r.is_assigned_in_period) as assigned_total,
        count(*) filter (where r.timeliness_class = 'completed_on_time') as completed_on_time,
        count(*) filter (where r.timeliness_class = 'completed_late') as completed_late,
        count(*) filter (where r.timeliness_class = 'open_in_time') as open_in_time,
        count(*) filter (where r.timeliness_class = 'open_overdue') as open_overdue,
        count(*) filter (where r.timeliness_class = 'no_deadline') as no_deadline,
        count(*) filter (where r.timeliness_class = 'suspended') as suspended,
        count(*) filter (where r.is_due_soon) as due_soon,
        count(*) filter (where r.has_extension and r.timeliness_class <> 'no_deadline') as with_extension
    from rows as r
    inner join dims as d
        on d.dimension = 'all' or (d.dimension = 'unit' and d.dimension_value = r.unit_value)
    group by all
),

grid as (
    select p.period_scheme, p.period, p.grain, p.period_name, p.first_day, p.last_day, p.judged_at,
        b.deadline_basis, d.dimension, d.dimension_value
    from periods as p
    cross join bases as b
    cross join dims as d
),

measures as (
    select
        g.*,
        coalesce(c.assigned_total, 0) as assigned_total,
        coalesce(c.completed_on_time, 0) as completed_on_time,
        coalesce(c.completed_late, 0) as completed_late,
        coalesce(c.open_in_time, 0) as open_in_time,
        coalesce(c.open_overdue, 0) as open_overdue,
        coalesce(c.no_deadline, 0) as no_deadline,
        coalesce(c.suspended, 0) as suspended,
        coalesce(c.due_soon, 0) as due_soon,
        coalesce(c.with_extension, 0) as with_extension
    from grid as g
    left join counted as c using (period_scheme, period, deadline_basis, dimension, dimension_value)
)

select
    period_scheme,
    period,
    dimension,
    dimension_value,
    deadline_basis,
    assigned_total,
    completed_on_time + completed_late + open_overdue as due_total,
    completed_on_time,
    completed_late,
    open_in_time,
    open_overdue,
    no_deadline,
    (completed_on_time + completed_late) / nullif(completed_on_time + completed_late + open_overdue, 0)
        as headline_rate,
    completed_on_time / nullif(completed_on_time + completed_late + open_overdue, 0) as strict_rate,
    completed_on_time + completed_late as completed_total,
    open_in_time + open_overdue as open_total,
    due_soon,
    suspended,
    with_extension,
    grain,
    period_name,
    first_day,
    last_day,
    judged_at
from measures
order by period_scheme, grain, period, deadline_basis, dimension, dimension_value collate vi;
