-- Case rows that passed reading and validation, each with the rank used to pick a case's current
-- state. The order is content-based, so the result never depends on the order files were loaded:
-- later lifecycle stage first (returned > finished/withdrawn/stopped > open), then the later
-- export, then the file hash and row as a stable tie-break.
create or replace view raw.valid_case_row as
with quarantined as (
    select distinct file_sha, source_row from ops.quarantine
),
valid as (
    select r.*
    from raw.case_row as r
    anti join quarantined as q using (file_sha, source_row)
)
select
    *,
    case when status = 10 then 2 when status in (7, 8, 9) then 1 else 0 end as lifecycle_stage
from valid;
