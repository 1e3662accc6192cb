-- Every distinct state a case was exported in, first seen at its earliest export; the current
-- state is flagged. Exact duplicate rows (in one file or across re-exports) collapse here.
insert into core.case_state_history
with states as (
    select
        case_id, status, due_at, finished_at, returned_at, apology_at, new_due_at,
        min(exported_at) as exported_at,
        arg_min(source_file, (exported_at, file_sha, source_row)) as source_file,
        arg_min(source_row, (exported_at, file_sha, source_row)) as source_row,
        max(lifecycle_stage) as lifecycle_stage,
        max(exported_at) as last_exported_at,
        max(file_sha) as last_file_sha,
        max(source_row) as last_source_row
    from raw.valid_case_row
    group by all
),
ranked as (
    select
        *,
        row_number() over (
            partition by case_id
            order by lifecycle_stage desc, last_exported_at desc, last_file_sha desc, last_source_row desc
        ) as recency
    from states
)
select
    case_id, exported_at, status, due_at, finished_at, returned_at, apology_at, new_due_at,
    source_file, source_row, recency = 1 as is_current
from ranked;
