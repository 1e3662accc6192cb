-- Directive tasks (DESIGN §10): rows that passed reading and validation, their extensions as history,
-- and one current row per task. The current row is chosen like a case's: a completed state first, then
-- the later export, then the file hash and row (content-based, so the order files arrived in never
-- matters).
create or replace view raw.valid_directive_row as
select
    r.*,
    case when r.status = 3 or (r.status is null and r.completed_at is not null) then 1 else 0 end
        as lifecycle_stage
from raw.directive_row as r
anti join (select distinct file_sha, source_row from ops.quarantine) as q using (file_sha, source_row);

create or replace view raw.valid_directive_extension_row as
select e.*
from raw.directive_extension_row as e
anti join (select distinct file_sha, source_row from ops.quarantine) as q using (file_sha, source_row);

-- Extensions: each (task, new deadline) once, from the exports' extension columns and history sheets,
-- then the later deadlines a re-export showed without an extension row ('deadline_change'). An extension
-- always moves the deadline later; seq numbers them in that order.
insert into core.directive_extension
with exported as (
    select
        task_id,
        new_deadline,
        max(old_deadline) as old_deadline,
        max(extension_reason) as extension_reason,
        min(extended_at) as extended_at,
        arg_min(source_file, (exported_at, file_sha, source_row)) as source_file,
        arg_min(source_row, (exported_at, file_sha, source_row)) as source_row
    from raw.valid_directive_extension_row
    where new_deadline is not null and (old_deadline is null or new_deadline <> old_deadline)
    group by task_id, new_deadline
),

-- each distinct deadline of a task in the order exports first showed it
shown as (
    select
        task_id,
        deadline,
        min(exported_at) as first_exported_at,
        arg_min(source_file, (exported_at, file_sha, source_row)) as source_file,
        arg_min(source_row, (exported_at, file_sha, source_row)) as source_row
    from raw.valid_directive_row
    where deadline is not null
    group by task_id, deadline
),

changes as (
    select
        task_id,
        lag(deadline) over (partition by task_id order by first_exported_at, deadline) as old_deadline,
        deadline as new_deadline,
        source_file,
        source_row
    from shown
),

derived as (
    select c.task_id, c.new_deadline, c.old_deadline, c.source_file, c.source_row
    from changes as c
    where c.old_deadline is not null and c.new_deadline > c.old_deadline
        and not exists (
            select 1 from exported as e where e.task_id = c.task_id and e.new_deadline = c.new_deadline
        )
),

extensions as (
    select task_id, old_deadline, new_deadline, extension_reason, extended_at, 'export' as source,
        source_file, source_row
    from exported
    union all
    select task_id, old_deadline, new_deadline, null, null, 'deadline_change', source_file, source_row
    from derived
)

select
    task_id,
    cast(row_number() over (partition by task_id order by new_deadline) as integer) as seq,
    old_deadline,
    new_deadline,
    extension_reason,
    extended_at,
    source,
    task_id in (select task_id from raw.valid_directive_row) as task_known,
    source_file,
    source_row
from extensions;

insert into core.directive
with ranked as (
    select
        *,
        row_number() over (
            partition by task_id
            order by lifecycle_stage desc, exported_at desc, file_sha desc, source_row desc
        ) as recency
    from raw.valid_directive_row
),

current_row as (
    select * from ranked where recency = 1
),

seen as (
    select
        task_id,
        -- the longest title; among equally long ones the latest export's (never an arbitrary one)
        arg_max(title, (length(title), exported_at, file_sha, source_row)) filter (where title is not null)
            as title,
        arg_min(deadline, (exported_at, file_sha, source_row)) filter (where deadline is not null)
            as first_deadline
    from raw.valid_directive_row
    group by task_id
),

extended as (
    select
        task_id,
        count(*) as extension_count,
        arg_min(old_deadline, seq) as first_old_deadline,
        arg_max(new_deadline, seq) as last_new_deadline
    from core.directive_extension
    group by task_id
),

states as (
    select
        c.*,
        c.status = 3 or (c.status is null and c.completed_at is not null) as completed
    from current_row as c
)

select
    c.task_id,
    s.title,
    c.assigned_by,
    c.leader,
    c.source_document,
    c.assigned_at,
    c.lead_unit,
    nullif(array_to_string(list_filter(list_transform(string_split(c.co_units, ';'), lambda u: trim(u)), lambda u: u <> ''), '; '), '')
        as co_units,
    c.status,
    c.status_text,
    c.status is distinct from 5 as in_scope,
    coalesce(c.completed and c.completed_at is not null, false) as is_completed,
    c.status = 4 and not coalesce(c.completed, false) as is_suspended,
    case when c.completed then c.completed_at end as completed_at,
    -- an extension only moves a deadline later: the earliest deadline any export shows is the original
    coalesce(least(e.first_old_deadline, s.first_deadline), c.deadline) as deadline_original,
    e.last_new_deadline as deadline_extended,
    c.deadline_text,
    coalesce(e.extension_count, 0) as extension_count,
    c.exported_at,
    c.source_file,
    c.source_row,
    c.file_sha
from states as c
inner join seen as s using (task_id)
left join extended as e using (task_id);

insert into core.directive_co_unit
select task_id, trim(unit) as unit
from (select task_id, unnest(string_split(co_units, ';')) as unit from core.directive where co_units is not null)
where trim(unit) <> '';
