-- Intermediate layer: per-task facts of directives (DESIGN §10), once per deadline basis.
--
-- deadline_basis 'original': the task's first deadline; 'extended': the latest extended deadline where
-- an extension was granted, else the original one. A deadline without a time (00:00) ends at 24:00 of
-- its day (deadline_end). A completion given as a date only (00:00) is on time on any day up to the
-- deadline's day; a completion with a time is on time up to deadline_end, to the minute.
-- deadline_idx is deadline_end on the working-minute index (core.work_day / core.work_minute, the
-- calendar the cases are judged on); due_soon_from_idx the index from which the task is "due soon".
create or replace table intermediate.directive_facts as
with bases as (
    select
        d.*,
        b.deadline_basis,
        case b.deadline_basis
            when 'original' then d.deadline_original
            else coalesce(d.deadline_extended, d.deadline_original)
        end as deadline
    from core.directive as d
    cross join (values ('original'), ('extended')) as b (deadline_basis)
    where d.in_scope and d.assigned_at is not null
),

ends as (
    select
        bases.*,
        case when deadline = date_trunc('day', deadline) then deadline + interval 1 day else deadline end
            as deadline_end,
        -- a task "completed" before it was assigned (bad data) is placed in periods at its assignment
        case when completed_at < assigned_at then assigned_at else completed_at end as placed_completed_at
    from bases
)

select
    ends.task_id,
    ends.deadline_basis,
    ends.title,
    ends.lead_unit,
    coalesce(ends.lead_unit, '(không xác định)') as unit_value,
    ends.co_units,
    ends.assigned_at,
    ends.deadline,
    ends.deadline_end,
    ends.deadline_text,
    ends.deadline_extended is not null as has_extension,
    ends.is_completed,
    ends.is_suspended,
    ends.completed_at,
    ends.placed_completed_at,
    case
        when not ends.is_completed or ends.deadline is null then null
        when ends.completed_at = date_trunc('day', ends.completed_at)
            then cast(ends.completed_at as date) <= cast(ends.deadline_end - interval 1 microsecond as date)
        else ends.completed_at <= ends.deadline_end
    end as completed_on_time,
    d_dl.cum_minutes_before + case when d_dl.is_working_day then m_dl.worked_before else 0 end as deadline_idx,
    -- from this working-minute index on, the task is due soon ($directive_due_soon_minutes before its deadline)
    d_dl.cum_minutes_before + case when d_dl.is_working_day then m_dl.worked_before else 0 end
        - $directive_due_soon_minutes as due_soon_from_idx
from ends
left join core.work_day as d_dl on d_dl.day = cast(ends.deadline_end as date)
left join core.work_minute as m_dl
    on m_dl.minute_of_day = hour(ends.deadline_end) * 60 + minute(ends.deadline_end);
