-- Feedback and complaints about TTHC (PAKN, DESIGN §11): rows that passed reading and validation, and
-- one current row per PAKN (a handled state first, then the later export, then file hash and row).
create or replace view raw.valid_feedback_row as
select
    r.*,
    case when r.status in (3, 4, 5, 6) or (r.status is null and r.answered_at is not null) then 1 else 0 end
        as lifecycle_stage
from raw.feedback_row as r
anti join (select distinct file_sha, source_row from ops.quarantine) as q using (file_sha, source_row);

insert into core.feedback
with ranked as (
    select
        *,
        row_number() over (
            partition by feedback_id
            order by lifecycle_stage desc, exported_at desc, file_sha desc, source_row desc
        ) as recency
    from raw.valid_feedback_row
),

current_row as (
    select
        *,
        coalesce(received_at, sent_at) as clock_start_at,
        lifecycle_stage = 1 and answered_at is not null as handled
    from ranked
    where recency = 1
),

-- a PAKN is followed by a repeated complaint when the same sender complains later about the same case
followed as (
    select
        feedback_id,
        count(*) over (
            partition by sender_hash, case_id order by clock_start_at, feedback_id
            rows between 1 following and unbounded following
        ) > 0 as repeat_followed
    from current_row
    where sender_hash is not null and case_id is not null and clock_start_at is not null
)

select
    c.feedback_id,
    c.title,
    c.category,
    c.case_id,
    k.case_id is not null as case_known,
    coalesce(c.unit, k.unit) as unit,
    c.sent_at,
    c.received_at,
    c.clock_start_at,
    c.status,
    c.status_text,
    c.status is distinct from 7 as in_scope,
    c.handled as is_handled,
    case
        when not c.handled then null
        when c.handling = 1 then 'answered'
        when c.handling = 2 then 'refused'
        when c.handling = 3 then 'more_info'
        when c.status = 5 then 'refused'
        when c.status = 6 then 'more_info'
        else 'answered'
    end as handling,
    case when c.handled then c.answered_at end as handled_at,
    c.published_at,
    case c.reaction when 1 then 'satisfied' when 2 then 'unsatisfied' when 3 then 'none' end as reaction,
    c.likes,
    c.dislikes,
    coalesce(c.reaction = 2, false) or coalesce(c.dislikes, 0) > coalesce(c.likes, 0) as is_disliked,
    coalesce(c.repeated, false) as repeated,
    coalesce(f.repeat_followed, false) as repeat_followed,
    c.sender_hash,
    c.exported_at,
    c.source_file,
    c.source_row,
    c.file_sha
from current_row as c
left join followed as f using (feedback_id)
left join core.case as k on k.case_id = c.case_id;
