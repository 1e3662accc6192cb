-- Raw and ops layers as read from the Parquet raw layer: every row keeps its lineage
-- (file_sha, source_file, source_row, exported_at). The record tables (raw.case_row, …) are created
-- from their declaration in pipeline/records.py; these are the layout and ops tables.
create table raw.skipped_row (
    source_row integer, row_kind varchar, text varchar, file_sha varchar, source_file varchar, exported_at timestamp
);
create table ops.file (
    sha256 varchar, file_path varchar, file_name varchar, size_bytes bigint, file_format varchar, kind varchar,
    layout varchar, exported_at timestamp, period_text varchar, status varchar, reason varchar,
    rows_read bigint, rows_loaded bigint, rows_skipped bigint, rows_quarantined bigint,
    ingested_at timestamp, run_id varchar
);
-- case_id: the row's case id where it has a usable one; row_values: its non-personal cells as
-- "header=value; …" (reader quarantine only; personal data masked).
create table ops.quarantine (
    source_row integer, field varchar, raw_value varchar, reason varchar, expectation varchar,
    case_id varchar, row_values varchar, file_sha varchar, source_file varchar, exported_at timestamp
);
-- What became of each column of each export (ReadResult.column_fates): fate is mapped,
-- personal_data_dropped, ignored (note says why) or unmapped (note shows a masked sample).
create table ops.column_fate (
    sheet varchar, column_index integer, header varchar, fate varchar, field varchar, note varchar,
    file_sha varchar, source_file varchar, exported_at timestamp
);
create table ops.finding (
    source_row integer, case_id varchar, field varchar, raw_value varchar, finding varchar, expectation varchar,
    file_sha varchar, source_file varchar, exported_at timestamp
);
create table ops.validation_result (
    suite varchar, expectation varchar, "column" varchar, success boolean, element_count bigint,
    unexpected_count bigint, severity varchar, file_sha varchar, source_file varchar, exported_at timestamp
);
create table ops.run (
    run_id varchar, started_at timestamp, finished_at timestamp, status varchar, reason varchar, as_of date,
    files_seen integer, files_loaded integer, files_rejected integer, rows_loaded bigint,
    rows_quarantined bigint, cases bigint
);
