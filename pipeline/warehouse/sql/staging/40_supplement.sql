-- Supplement cycles of each case, as listed by the export that gave the case's current row.
insert into core.supplement
select distinct s.case_id, s.seq, s.requested_at, s.received_at, s.new_due_at
from raw.supplement_row as s
join core.case as c
    on c.case_id = s.case_id and c.file_sha = s.file_sha and c.source_row = s.source_row
where s.requested_at is not null;
