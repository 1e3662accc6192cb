"""The warehouse build: the Parquet raw layer and the reference tables in, then SQL only.

:func:`build_warehouse` writes a new DuckDB file beside the target and renames it over the target at
the end (:func:`pipeline.db.building_warehouse`), so analysts never see a half-built warehouse. In order:

1. ``raw`` and ``ops`` tables from the Parquet raw layer (record tables declared in
   :mod:`pipeline.records`, the others in ``sql/raw/schema.sql``);
2. reference tables that do not depend on the exports (:func:`pipeline.reference.load_reference_tables`:
   calendar, procedures, rating scale, period catalogue, targets);
3. the SQL layers, each a folder of models run in file-name order with the settings bound as
   ``$parameters`` (:func:`sql_params`): ``staging`` (current case rows, states, supplements, ratings,
   legal due dates, the periods the records span), ``intermediate`` (per-case facts and judgements),
   ``marts`` (the published measures);
4. the checks of the built warehouse (:mod:`pipeline.validate.marts`), stored in ``ops``, and the
   ``COMMENT ON`` descriptions.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

import duckdb

from pipeline import db
from pipeline.records import RECORDS, raw_table_ddl
from pipeline.reference import load_reference_tables, work_minute_frame
from pipeline.settings import Settings
from pipeline.validate.marts import check_marts, check_warehouse_rows
from pipeline.validate.suites import prepare_runner_in_background
from pipeline.workcal import WorkCalendar, parse_sessions

SQL_LAYERS = ("staging", "intermediate", "marts")
SIDE_PARTS = {
    "skipped": "raw.skipped_row",
    "files": "ops.file",
    "column_fates": "ops.column_fate",
    "quarantine": "ops.quarantine",
    "findings": "ops.finding",
    "validation": "ops.validation_result",
    "runs": "ops.run",
}
MART_TABLES = (
    "mart.case_timeliness",
    "mart.kpi_period",
    "mart.bieu06",
    "mart.objective",
    "mart.warnings",
    "mart.timeliness_rules",
    "mart.directive_kpi_period",
    "mart.feedback_kpi_period",
    "mart.directive_warnings",
    "mart.feedback_warnings",
)


def working_day_minutes(settings: Settings) -> int:
    """Working minutes of one full working day (480 for 07:00-11:30 and 13:30-17:00)."""
    return sum(
        (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        for start, end in parse_sessions(settings.work_sessions)
    )


def as_of_end(settings: Settings) -> datetime:
    """The moment the current period is judged at: 24:00 of the as-of day."""
    return datetime.combine(settings.effective_as_of + timedelta(days=1), time())


def sql_params(settings: Settings) -> dict:
    """The ``$parameters`` of the SQL layers, from the settings."""
    day_minutes = working_day_minutes(settings)
    return {
        "end_time_rule": settings.end_time_rule,
        "subtract_supplement_pauses": bool(settings.subtract_supplement_pauses),
        "multiple_supplements_late": bool(settings.multiple_supplements_late),
        "early_rule": settings.early_rule,
        "early_minutes": round(settings.early_working_hours * 60),
        "apology_lead_minutes": round(settings.apology_lead_working_days * day_minutes),
        "warning_minutes": round(settings.warning_within_hours * 60),
        "day_minutes": day_minutes,
        "as_of_end": as_of_end(settings),
        "directive_due_soon_minutes": round(settings.directive_due_soon_working_days * day_minutes),
        "directive_objective_basis": settings.directive_objective_basis,
        "feedback_answer_minutes": round(settings.feedback_answer_working_days * day_minutes),
        "feedback_refusal_minutes": round(settings.feedback_refusal_working_days * day_minutes),
        "feedback_more_info_minutes": round(settings.feedback_more_info_working_days * day_minutes),
        "feedback_publication_minutes": round(settings.feedback_publication_working_days * day_minutes),
        "feedback_due_soon_minutes": round(settings.feedback_due_soon_working_days * day_minutes),
    }


def _parquet_glob(settings: Settings, part: str) -> str | None:
    folder = settings.raw_parquet_dir / part
    return str(folder / "*.parquet") if folder.exists() and any(folder.glob("*.parquet")) else None


def create_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """The empty raw, core, ops and mart tables."""
    db.run_sql_file(con, "core/schema")
    for record in RECORDS.values():
        con.execute(raw_table_ddl(record))
    db.run_sql_file(con, "raw/schema")


def load_raw_layer(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str | None = None) -> None:
    """raw.* and ops.* tables from the Parquet raw layer (and the files rejected by this run)."""
    create_schemas(con)
    parts = {**{record.part: record.table for record in RECORDS.values()}, **SIDE_PARTS}
    if run_id:
        parts[f"rejected/{run_id}"] = "ops.file"
    for part, table in parts.items():
        pattern = _parquet_glob(settings, part)
        if pattern is not None:
            # table names come from the constant mappings above, never from data
            con.execute(f"insert into {table} by name select * from read_parquet($pattern, union_by_name = true)",
                        {"pattern": pattern})


def run_sql_layers(con: duckdb.DuckDBPyConnection, settings: Settings, layers: tuple[str, ...] = SQL_LAYERS) -> None:
    """The staging, intermediate and mart models (or some of those layers), in order, with the settings bound."""
    params = sql_params(settings)
    for layer in layers:
        db.run_sql_dir(con, layer, params)


def build_into(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str | None = None) -> None:
    """The whole build on an empty database: raw layer, reference tables, SQL layers, checks, comments."""
    load_raw_layer(con, settings, run_id)
    load_reference_tables(con, settings, WorkCalendar.from_settings(settings))
    run_sql_layers(con, settings)
    db.insert_frame(con, "ops.validation_result",
                    check_marts(con, settings.expectations_dir).assign(source_file="mart.kpi_period"))
    results, findings = check_warehouse_rows(con, settings.expectations_dir)
    db.insert_frame(con, "ops.validation_result", results.assign(source_file="core.case"))
    if len(findings):
        db.insert_frame(con, "ops.finding", findings)
    db.run_sql_file(con, "core/comments")


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per table of the raw, core, mart and ops schemas (the case_timeliness view by its periods)."""
    counts = {
        name: con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
        for schema, table, name in con.execute(
            "select schema_name, table_name, schema_name || '.' || table_name from duckdb_tables() "
            "where schema_name in ('raw', 'core', 'mart', 'ops') order by 3"
        ).fetchall()
    }
    counts["mart.case_timeliness"] = int(con.execute(
        "select coalesce(sum(received_total), 0) from mart.kpi_period where dimension = 'all'").fetchone()[0])
    return counts


def build_warehouse(settings: Settings, run_id: str | None = None, target: Path | None = None) -> dict[str, int]:
    """Rebuild the warehouse from the Parquet raw layer into ``target`` (default the settings' warehouse),
    swapped in atomically; returns the row count of every table."""
    prepare_runner_in_background(settings.expectations_dir)  # ready when the SQL layers are done
    with db.building_warehouse(Path(target or settings.warehouse), settings.warehouse_storage_version,
                               settings.warehouse_memory_mb) as con:
        build_into(con, settings, run_id)
        return table_counts(con)


def legal_due_times(cal: WorkCalendar, receipts) -> list:
    """The legal due time of each (received_at, limit_amount, limit_unit), by the warehouse's own model
    (``staging/25_legal_due.sql``) on an in-memory database: for callers outside the build, such as the
    demo generator simulating a one-stop system's appointments."""
    import pandas as pd

    frame = pd.DataFrame(list(receipts), columns=["received_at", "limit_amount", "limit_unit"])
    frame.insert(0, "case_id", [str(i) for i in range(len(frame))])
    con = db.connect(":memory:")
    try:
        db.run_sql_file(con, "core/schema")
        db.insert_frame(con, "core.work_day", cal.days)
        db.insert_frame(con, "core.work_minute", work_minute_frame(cal))
        con.execute("create schema staging")
        db.create_table_from_frame(con, "staging.legal_due_input", frame)
        db.run_sql_file(con, "staging/25_legal_due", {"day_minutes": cal.minutes_per_day})
        found = dict(con.execute("select case_id, legal_due_at from staging.legal_due").fetchall())
    finally:
        con.close()
    return [found.get(str(i)) for i in range(len(frame))]
