-- The legal time limit (DESIGN §4.7, §7), its one home: for each row of staging.legal_due_input
-- (case_id, received_at, limit_amount, limit_unit), the receipt time plus the limit on the working
-- calendar (core.work_day, core.work_minute).
--   working days / hours: the moment whose working-minute index is the receipt's index plus the limit in
--     working minutes (a receipt after hours counts from the next session); the earliest such moment, so
--     a limit ending with a working day ends at that day's last session, not the next morning;
--   calendar days: the receipt time plus the days; a result on a day off moves to the end of the next
--     working day (Civil Code art. 148).
create schema if not exists staging;

create or replace table staging.legal_due as
with
-- working days only, with the working-minute index at the end of each, and each day once per block of
-- $day_minutes minutes of the index it spans (one block a day when every working day is a full one): the day
-- holding an index is then found by an equality join on its block (an ASOF join took a second per 60,000 cases)
working_days as (
    select
        day,
        cum_minutes_before,
        cum_minutes_before + work_minutes as cum_end,
        unnest(range(cum_minutes_before // $day_minutes, (cum_minutes_before + work_minutes - 1) // $day_minutes + 1))
            as block
    from core.work_day
    where work_minutes > 0
),

-- every calendar day with the first working day on or after it
next_working_days as (
    select
        day,
        min(day) filter (where work_minutes > 0) over (
            order by day rows between current row and unbounded following
        ) as next_working_day
    from core.work_day
),

-- the minute of a working day at which the day's r-th working minute ends (r = 0: the first session's start)
index_minute as (
    select worked_before as worked, min(minute_of_day) as minute_of_day
    from core.work_minute
    where worked_before > 0
    group by worked_before
    union all
    select 0, min(m.minute_of_day)
    from core.work_minute as m
    inner join core.work_minute as n on n.minute_of_day = m.minute_of_day + 1
    where n.worked_before = 1
),

limits as (
    select
        c.case_id,
        c.received_at,
        c.limit_unit,
        c.limit_amount,
        d.cum_minutes_before + case when d.is_working_day then m.worked_before else 0 end
            + cast(round(c.limit_amount * case c.limit_unit when 'working_days' then $day_minutes else 60 end)
                   as bigint) as target_idx,
        c.received_at + to_days(cast(floor(c.limit_amount) as integer))
            + to_microseconds(cast(round((c.limit_amount - floor(c.limit_amount)) * 86400e6) as bigint))
            as calendar_moment
    from staging.legal_due_input as c
    inner join core.work_day as d on d.day = cast(c.received_at as date)
    inner join core.work_minute as m on m.minute_of_day = hour(c.received_at) * 60 + minute(c.received_at)
    where c.limit_amount is not null and c.limit_unit in ('working_days', 'hours', 'calendar_days')
),

legal_due as (
    select
        l.case_id,
        case
            when l.limit_unit <> 'calendar_days'
                then w.day + to_minutes(cast(im.minute_of_day as bigint))
            when cd.is_working_day then l.calendar_moment
            else nw.next_working_day + to_minutes(cast(last_end.minute_of_day as bigint))
        end as legal_due_at
    from limits as l
    -- the first working day whose end index is at or after the target index
    left join working_days as w
        on w.block = greatest(l.target_idx - 1, 0) // $day_minutes
        and l.target_idx <= w.cum_end
        and (l.target_idx > w.cum_minutes_before or w.cum_minutes_before = 0)
    left join index_minute as im on im.worked = l.target_idx - w.cum_minutes_before
    left join core.work_day as cd on cd.day = cast(l.calendar_moment as date)
    left join next_working_days as nw on nw.day = cast(l.calendar_moment as date)
    cross join (select minute_of_day from index_minute where worked = $day_minutes) as last_end
)

select case_id, legal_due_at from legal_due;
