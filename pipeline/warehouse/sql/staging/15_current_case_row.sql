-- The current row of each case: the state ranked first in raw.valid_case_row (later lifecycle stage,
-- then later export, then file hash and row), and the input of the legal-limit model: each current
-- case's receipt time and its procedure's legal time limit.
create schema if not exists staging;

create or replace table staging.current_case_row as
select * exclude (recency)
from (
    select
        *,
        row_number() over (
            partition by case_id
            order by lifecycle_stage desc, exported_at desc, file_sha desc, source_row desc
        ) as recency
    from raw.valid_case_row
)
where recency = 1;

create or replace view staging.legal_due_input as
select c.case_id, c.received_at, p.limit_amount, p.limit_unit
from staging.current_case_row as c
inner join core.procedure as p using (procedure_code)
where c.received_at is not null;
