-- Intermediate layer: per-PAKN facts (DESIGN §11), on the working-minute index of the cases' calendar
-- (core.work_day.cum_minutes_before + core.work_minute.worked_before; N working days = N × day minutes).
--
-- A PAKN's clock starts at its receipt (else its sending). Handled on time (Decision 766, item 5.2):
-- answered within $feedback_answer_minutes working minutes (15 working days), refused within
-- $feedback_refusal_minutes (2), more information requested within $feedback_more_info_minutes (5); an
-- answer published later than $feedback_publication_minutes (2 working days) after it was given makes the
-- handling late (an answer not published is counted apart, not judged). An open PAKN is overdue once the
-- answer limit has passed.
create or replace table intermediate.feedback_facts as
with facts as (
    select
        f.*,
        coalesce(f.unit, '(không xác định)') as unit_value,
        case when f.handled_at < f.clock_start_at then f.clock_start_at else f.handled_at end as placed_handled_at,
        d_st.cum_minutes_before + case when d_st.is_working_day then m_st.worked_before else 0 end as start_idx,
        d_ha.cum_minutes_before + case when d_ha.is_working_day then m_ha.worked_before else 0 end as handled_idx,
        d_pu.cum_minutes_before + case when d_pu.is_working_day then m_pu.worked_before else 0 end as published_idx,
        case f.handling
            when 'refused' then $feedback_refusal_minutes
            when 'more_info' then $feedback_more_info_minutes
            else $feedback_answer_minutes
        end as limit_minutes
    from core.feedback as f
    left join core.work_day as d_st on d_st.day = cast(f.clock_start_at as date)
    left join core.work_minute as m_st
        on m_st.minute_of_day = hour(f.clock_start_at) * 60 + minute(f.clock_start_at)
    left join core.work_day as d_ha on d_ha.day = cast(f.handled_at as date)
    left join core.work_minute as m_ha
        on m_ha.minute_of_day = hour(f.handled_at) * 60 + minute(f.handled_at)
    left join core.work_day as d_pu on d_pu.day = cast(f.published_at as date)
    left join core.work_minute as m_pu
        on m_pu.minute_of_day = hour(f.published_at) * 60 + minute(f.published_at)
    where f.in_scope and f.clock_start_at is not null
),

judged as (
    select
        facts.*,
        facts.start_idx + $feedback_answer_minutes as answer_due_idx,
        facts.handling = 'answered' and facts.published_at is not null
            and facts.published_idx - facts.handled_idx > $feedback_publication_minutes as published_late,
        facts.is_handled and facts.handled_idx - facts.start_idx <= facts.limit_minutes as handled_within_limit
    from facts
),

-- the moment the answer is due: the working day holding the index, and the first minute of that day
-- with that many working minutes before it
due_day as (
    select j.feedback_id, d.day, j.answer_due_idx - d.cum_minutes_before as minutes_in_day
    from judged as j
    asof join (select day, cum_minutes_before from core.work_day where is_working_day) as d
        on j.answer_due_idx > d.cum_minutes_before
)

select
    judged.feedback_id,
    judged.title,
    judged.category,
    judged.case_id,
    judged.case_known,
    judged.unit,
    judged.unit_value,
    judged.sent_at,
    judged.received_at,
    judged.clock_start_at,
    judged.is_handled,
    judged.handling,
    judged.handled_at,
    judged.placed_handled_at,
    judged.published_at,
    judged.reaction,
    judged.is_disliked,
    judged.repeated,
    judged.repeat_followed,
    judged.start_idx,
    judged.handled_idx,
    judged.answer_due_idx,
    due_day.day + to_minutes((
        select min(m.minute_of_day) from core.work_minute as m where m.worked_before = due_day.minutes_in_day
    )) as answer_due_at,
    judged.limit_minutes,
    coalesce(judged.published_late, false) as published_late,
    judged.is_handled and judged.handling = 'answered' and judged.published_at is null as answered_unpublished,
    case when judged.is_handled then judged.handled_within_limit and not coalesce(judged.published_late, false) end
        as handled_on_time
from judged
left join due_day using (feedback_id);
