-- mart.kpi_period: the measures of DESIGN §6 per reporting period, for the department ('all') and per
-- unit, sector, procedure and channel; rates are fractions 0..1, NULL where the denominator is 0;
-- unknown dimension values are grouped under '(không xác định)'.
--
-- The counts equal those of mart.case_timeliness's rows (tests check it), but are computed without
-- building those ~9 rows per case: every period boundary is at midnight (a period starts at 00:00 of
-- its first day and is judged at 24:00 of its last day, or of the as-of day), so
--   received in P   = cases received on a day in [first_day, judged day)
--   resolved in P   = cases ended on a day in [first_day, judged day), with their final class
--   open at P's end = cases open at P's judging moment, with their class at that moment
--   carried over    = resolved + open - received in P (the cases received before P that were still
--                     open at its start: every case of P is received in it or carried over)
-- Ratings are counted by rating time within the period (up to its judging moment) and attributed to
-- the rated case's unit, sector, procedure and channel.
create or replace table mart.kpi_period as
with periods as (
    select
        cast(row_number() over (order by period_scheme, period) as integer) as period_no,
        period_scheme,
        period,
        first_day,
        cast(judged_at as date) as judged_day,
        judged_at
    from core.period
    where period_start < judged_at
),

received_daily as (
    select
        cast(received_at as date) as day,
        dim_key,
        count(*) as received,
        count(*) filter (where channel = 2) as received_online,
        count(*) filter (where channel is distinct from 2) as received_offline,
        count(*) filter (where due_beyond_legal_limit) as due_beyond_legal_limit
    from intermediate.case_facts
    group by all
),

-- each resolved case once, judged at its end
resolved_cases as (
    select
        cast(f.placed_end_at as date) as day,
        f.dim_key,
        f.status,
        f.reschedule_count,
        f.first_rated_at,
        f.apology_issued_timely,
        j.is_past_due,
        j.is_early,
        j.has_apology,
        j.working_minutes_from_receipt
    from intermediate.case_facts as f
    inner join intermediate.case_judgements as j
        on j.case_key = f.case_key and j.judged_moment = f.end_at
    where f.end_at is not null
),

resolved_daily as (
    select
        day,
        dim_key,
        count(*) as resolved,
        count(*) filter (where is_early and not is_past_due) as early,
        count(*) filter (where not is_past_due and not is_early) as on_time,
        count(*) filter (where is_past_due) as late,
        count(*) filter (where status = 7) as withdrawn,
        count(*) filter (where status = 8) as stopped,
        count(*) filter (where first_rated_at is not null) as rated_cases,
        count(*) filter (where is_past_due and has_apology) as late_with_apology,
        count(*) filter (where is_past_due and has_apology and apology_issued_timely) as apology_timely,
        count(*) filter (where reschedule_count > 1) as rescheduled_more_than_once,
        sum(working_minutes_from_receipt) as resolution_minutes_sum,
        count(working_minutes_from_receipt) as resolution_count
    from resolved_cases
    group by all
),

-- the cases open at each judging moment, with their class at that moment
open_at as (
    select
        j.judged_moment as judged_at,
        j.dim_key,
        count(*) as open_total,
        count(*) filter (where not j.is_past_due) as open_in_time,
        count(*) filter (where j.is_past_due) as open_overdue
    from intermediate.case_judgements as j
    where j.is_open_at and j.judged_moment in (select judged_at from periods)
    group by all
),

rated_daily as (
    select
        cast(r.rated_at as date) as day,
        dims.dim_key,
        count(*) as ratings,
        count(*) filter (where r.rating_class = 'satisfied') as satisfied,
        count(*) filter (where r.rating_class = 'unsatisfied') as unsatisfied
    from core.rating as r
    left join core.case as c on c.case_id = r.case_id
    left join core.procedure as pr on pr.procedure_code = c.procedure_code
    left join intermediate.case_dims as dims
        on dims.unit_value = coalesce(c.unit, '(không xác định)')
        and dims.sector_value = coalesce(c.sector, pr.sector, c.sector_code, pr.sector_code, '(không xác định)')
        and dims.procedure_value = coalesce(c.procedure_code, '(không xác định)')
        and dims.channel_value = coalesce(cast(c.channel as varchar), '(không xác định)')
    where r.rating_class is not null and r.rated_at is not null
    group by all
),

-- everything at the finest grain: period x dim_key
fine as (
    select
        p.period_scheme,
        p.period,
        x.dim_key,
        sum(x.received) as received,
        sum(x.received_online) as received_online,
        sum(x.received_offline) as received_offline,
        sum(x.due_beyond_legal_limit) as due_beyond_legal_limit
    from periods as p
    inner join received_daily as x on x.day >= p.first_day and x.day < p.judged_day
    group by all
    union all by name
    select
        p.period_scheme,
        p.period,
        x.dim_key,
        sum(x.resolved) as resolved,
        sum(x.early) as early,
        sum(x.on_time) as on_time,
        sum(x.late) as late,
        sum(x.withdrawn) as withdrawn,
        sum(x.stopped) as stopped,
        sum(x.rated_cases) as rated_cases,
        sum(x.late_with_apology) as late_with_apology,
        sum(x.apology_timely) as apology_timely,
        sum(x.rescheduled_more_than_once) as rescheduled_more_than_once,
        sum(x.resolution_minutes_sum) as resolution_minutes_sum,
        sum(x.resolution_count) as resolution_count
    from periods as p
    inner join resolved_daily as x on x.day >= p.first_day and x.day < p.judged_day
    group by all
    union all by name
    select
        p.period_scheme,
        p.period,
        x.dim_key,
        x.open_total,
        x.open_in_time,
        x.open_overdue
    from periods as p
    inner join open_at as x on x.judged_at = p.judged_at
    union all by name
    select
        p.period_scheme,
        p.period,
        x.dim_key,
        sum(x.ratings) as ratings,
        sum(x.satisfied) as satisfied,
        sum(x.unsatisfied) as unsatisfied
    from periods as p
    inner join rated_daily as x on x.day >= p.first_day and x.day < p.judged_day
    group by all
),

counts as (
    select
        f.period_scheme,
        f.period,
        case
            when grouping(d.unit_value) = 0 then 'unit'
            when grouping(d.sector_value) = 0 then 'sector'
            when grouping(d.procedure_value) = 0 then 'procedure'
            when grouping(d.channel_value) = 0 then 'channel'
            else 'all'
        end as dimension,
        case
            when grouping(d.unit_value) = 0 then d.unit_value
            when grouping(d.sector_value) = 0 then d.sector_value
            when grouping(d.procedure_value) = 0 then d.procedure_value
            when grouping(d.channel_value) = 0 then d.channel_value
            else 'all'
        end as dimension_value,
        coalesce(sum(f.received), 0) as received,
        coalesce(sum(f.received_online), 0) as received_online,
        coalesce(sum(f.received_offline), 0) as received_offline,
        coalesce(sum(f.due_beyond_legal_limit), 0) as due_beyond_legal_limit,
        coalesce(sum(f.resolved), 0) as resolved_total,
        coalesce(sum(f.early), 0) as early,
        coalesce(sum(f.on_time), 0) as on_time,
        coalesce(sum(f.late), 0) as late,
        coalesce(sum(f.withdrawn), 0) as withdrawn,
        coalesce(sum(f.stopped), 0) as stopped,
        coalesce(sum(f.rated_cases), 0) as rated_cases,
        coalesce(sum(f.late_with_apology), 0) as late_with_apology,
        coalesce(sum(f.apology_timely), 0) as apology_timely,
        coalesce(sum(f.rescheduled_more_than_once), 0) as rescheduled_more_than_once,
        -- integer sums (exact in any aggregation order), one division at the end
        round(sum(f.resolution_minutes_sum) / (nullif(sum(f.resolution_count), 0) * $day_minutes), 6)
            as mean_resolution_working_days,
        coalesce(sum(f.open_total), 0) as open_total,
        coalesce(sum(f.open_in_time), 0) as open_in_time,
        coalesce(sum(f.open_overdue), 0) as open_overdue,
        coalesce(sum(f.ratings), 0) as ratings,
        coalesce(sum(f.satisfied), 0) as satisfied,
        coalesce(sum(f.unsatisfied), 0) as unsatisfied
    from fine as f
    inner join intermediate.case_dims as d on d.dim_key = f.dim_key
    group by grouping sets (
        (f.period_scheme, f.period),
        (f.period_scheme, f.period, d.unit_value),
        (f.period_scheme, f.period, d.sector_value),
        (f.period_scheme, f.period, d.procedure_value),
        (f.period_scheme, f.period, d.channel_value)
    )
),

-- median resolution time, exact, in bounded memory (a median over millions of values held per group would
-- not spill to disk): each resolved case counts in every period that holds its end day, once per grouping
-- (0 department, 1 unit, 2 sector, 3 procedure, 4 channel). First count the cases per whole working day of
-- resolution time to find the day (bucket) that holds each group's middle case(s), then order only the cases
-- of those buckets by their exact working minutes.
period_days as (
    select
        period_no,
        cast(unnest(range(first_day, judged_day, interval 1 day)) as date) as day
    from periods
),

resolved_in_periods as (
    select
        pd.period_no,
        d.unit_no,
        d.sector_no,
        d.procedure_no,
        d.channel_no,
        r.working_minutes_from_receipt as minutes
    from resolved_cases as r
    inner join intermediate.case_dims as d on d.dim_key = r.dim_key
    inner join period_days as pd on pd.day = r.day
    where r.working_minutes_from_receipt is not null
),

bucket_counts as (
    select
        r.period_no,
        g.grouping_no,
        case g.grouping_no
            when 1 then r.unit_no when 2 then r.sector_no when 3 then r.procedure_no when 4 then r.channel_no else 0
        end as dim_no,
        r.minutes // $day_minutes as bucket,
        count(*) as cases
    from resolved_in_periods as r
    cross join range(5) as g (grouping_no)
    group by all
),

-- the middle positions of n cases: k1 = (n + 1) // 2 and k2 = n // 2 + 1 (the same case when n is odd)
middle_buckets as (
    select
        period_no,
        grouping_no,
        dim_no,
        bucket,
        cases_up_to - cases as cases_before,
        (cases_total + 1) // 2 as k1,
        cases_total // 2 + 1 as k2
    from (
        select
            *,
            sum(cases) over (
                partition by period_no, grouping_no, dim_no order by bucket rows between unbounded preceding and current row
            ) as cases_up_to,
            sum(cases) over (partition by period_no, grouping_no, dim_no) as cases_total
        from bucket_counts
    )
    where cases_up_to >= (cases_total + 1) // 2 and cases_up_to - cases < cases_total // 2 + 1
),

-- the groupings are spelled out again here rather than shared with bucket_counts through one CTE of exploded
-- rows: DuckDB would materialise that CTE (five rows per case and period), 40% slower at 3M cases
middle_minutes as (
    select
        r.period_no,
        g.grouping_no,
        case g.grouping_no
            when 1 then r.unit_no when 2 then r.sector_no when 3 then r.procedure_no when 4 then r.channel_no else 0
        end as dim_no,
        r.minutes // $day_minutes as bucket,
        r.minutes,
        count(*) as cases
    from resolved_in_periods as r
    cross join range(5) as g (grouping_no)
    semi join middle_buckets as m
        on m.period_no = r.period_no
        and m.grouping_no = g.grouping_no
        and m.dim_no = case g.grouping_no
            when 1 then r.unit_no when 2 then r.sector_no when 3 then r.procedure_no when 4 then r.channel_no else 0
        end
        and m.bucket = r.minutes // $day_minutes
    group by all
),

-- the k1-th and k2-th smallest minutes; their mean, in working days, is what median() gives
medians_by_no as (
    select
        x.period_no,
        case when x.grouping_no = 1 then x.dim_no end as unit_no,
        case when x.grouping_no = 2 then x.dim_no end as sector_no,
        case when x.grouping_no = 3 then x.dim_no end as procedure_no,
        case when x.grouping_no = 4 then x.dim_no end as channel_no,
        (min(x.minutes) filter (where x.position >= x.k1) + min(x.minutes) filter (where x.position >= x.k2))
            / (2.0 * $day_minutes) as median_resolution_working_days
    from (
        select
            mm.*,
            m.k1,
            m.k2,
            m.cases_before + sum(mm.cases) over (
                partition by mm.period_no, mm.grouping_no, mm.dim_no, mm.bucket
                order by mm.minutes rows between unbounded preceding and current row
            ) as position
        from middle_minutes as mm
        inner join middle_buckets as m
            on m.period_no = mm.period_no and m.grouping_no = mm.grouping_no and m.dim_no = mm.dim_no
            and m.bucket = mm.bucket
    ) as x
    group by all
),

medians as (
    select
        p.period_scheme,
        p.period,
        case
            when m.unit_no is not null then 'unit'
            when m.sector_no is not null then 'sector'
            when m.procedure_no is not null then 'procedure'
            when m.channel_no is not null then 'channel'
            else 'all'
        end as dimension,
        coalesce(u.unit_value, s.sector_value, pr.procedure_value, ch.channel_value, 'all') as dimension_value,
        m.median_resolution_working_days
    from medians_by_no as m
    inner join periods as p on p.period_no = m.period_no
    left join (select distinct unit_no, unit_value from intermediate.case_dims) as u on u.unit_no = m.unit_no
    left join (select distinct sector_no, sector_value from intermediate.case_dims) as s
        on s.sector_no = m.sector_no
    left join (select distinct procedure_no, procedure_value from intermediate.case_dims) as pr
        on pr.procedure_no = m.procedure_no
    left join (select distinct channel_no, channel_value from intermediate.case_dims) as ch
        on ch.channel_no = m.channel_no
),

-- every period appears for the department even without any case
keyed as (
    select
        p.period_scheme,
        p.period,
        coalesce(c.dimension, 'all') as dimension,
        coalesce(c.dimension_value, 'all') as dimension_value,
        c.* exclude (period_scheme, period, dimension, dimension_value)
    from core.period as p
    left join counts as c on c.period_scheme = p.period_scheme and c.period = p.period
),

measures as (
    select
        k.period_scheme,
        k.period,
        k.dimension,
        k.dimension_value,
        cast(coalesce(k.received, 0) as bigint) as received_in_period,
        cast(coalesce(k.received_online, 0) as bigint) as received_online,
        cast(coalesce(k.received_offline, 0) as bigint) as received_offline,
        cast(coalesce(k.resolved_total, 0) as bigint) as resolved_total,
        cast(coalesce(k.early, 0) as bigint) as early,
        cast(coalesce(k.on_time, 0) as bigint) as on_time,
        cast(coalesce(k.late, 0) as bigint) as late,
        cast(coalesce(k.withdrawn, 0) as bigint) as withdrawn,
        cast(coalesce(k.stopped, 0) as bigint) as stopped,
        cast(coalesce(k.open_total, 0) as bigint) as open_total,
        cast(coalesce(k.open_in_time, 0) as bigint) as open_in_time,
        cast(coalesce(k.open_overdue, 0) as bigint) as open_overdue,
        cast(coalesce(k.ratings, 0) as bigint) as ratings,
        cast(coalesce(k.satisfied, 0) as bigint) as satisfied,
        cast(coalesce(k.unsatisfied, 0) as bigint) as unsatisfied,
        cast(coalesce(k.rated_cases, 0) as bigint) as rated_cases,
        k.mean_resolution_working_days,
        m.median_resolution_working_days,
        cast(coalesce(k.late_with_apology, 0) as bigint) as late_with_apology,
        cast(coalesce(k.apology_timely, 0) as bigint) as apology_timely,
        cast(coalesce(k.rescheduled_more_than_once, 0) as bigint) as rescheduled_more_than_once,
        cast(coalesce(k.due_beyond_legal_limit, 0) as bigint) as due_beyond_legal_limit
    from keyed as k
    left join medians as m
        on m.period_scheme = k.period_scheme and m.period = k.period
        and m.dimension = k.dimension and m.dimension_value = k.dimension_value
),

rates as (
    select
        measures.*,
        resolved_total + open_total as received_total,
        resolved_total + open_total - received_in_period as carried_over,
        (early + on_time) / nullif(resolved_total, 0) as on_time_rate,
        early / nullif(resolved_total, 0) as early_rate,
        late / nullif(resolved_total, 0) as late_rate,
        satisfied / nullif(ratings, 0) as satisfaction_rate,
        20.0 * (early + on_time + open_in_time) / nullif(resolved_total + open_total, 0) as score_766_progress,
        -- item 5.4: 100% - late rate - share of ratings "Không hài lòng" (0 without ratings)
        1.0 - late / nullif(resolved_total, 0) - coalesce(unsatisfied / nullif(ratings, 0), 0)
            as satisfaction_766_rate
    from measures
)

select
    r.period_scheme,
    r.period,
    r.dimension,
    r.dimension_value,
    r.received_total,
    r.received_online,
    r.received_offline,
    r.carried_over,
    r.resolved_total,
    r.early,
    r.on_time,
    r.late,
    r.withdrawn,
    r.stopped,
    r.open_total,
    r.open_in_time,
    r.open_overdue,
    r.on_time_rate,
    r.early_rate,
    r.late_rate,
    r.ratings,
    r.satisfied,
    r.satisfaction_rate,
    r.score_766_progress,
    p.grain,
    p.period_name,
    p.first_day,
    p.last_day,
    p.judged_at,
    r.unsatisfied,
    r.rated_cases / nullif(r.resolved_total, 0) as rating_coverage,
    case
        when r.satisfaction_766_rate is null then null
        when r.satisfaction_766_rate <= 0 then 0.0
        else least(6.0, 6.0 * r.satisfaction_766_rate / 0.9)
    end as score_766_satisfaction,
    r.mean_resolution_working_days,
    r.median_resolution_working_days,
    r.late_with_apology,
    r.late_with_apology / nullif(r.late, 0) as apology_rate,
    r.apology_timely,
    r.rescheduled_more_than_once,
    r.due_beyond_legal_limit
from rates as r
inner join core.period as p on p.period_scheme = r.period_scheme and p.period = r.period
order by
    r.period_scheme,
    case p.grain when 'month' then 1 when 'quarter' then 2 when 'half' then 3 else 4 end,
    p.first_day,
    case r.dimension when 'all' then 0 when 'unit' then 1 when 'sector' then 2 when 'procedure' then 3 else 4 end,
    r.dimension_value collate vi;
