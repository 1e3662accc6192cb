"""Checks of the built warehouse: the ``marts`` suite on ``mart.kpi_period``, rated cases that exist.

``mart.kpi_period`` is small (periods × dimension values: thousands of rows, not millions), so it is
read into pandas with one query that also computes each identity's right-hand side, and validated
by GX's pandas engine like the exports. GX's SQL engine on DuckDB would need ``duckdb_engine``
(SQLAlchemy dialect), which the pinned stack does not ship.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline.validate.suites import get_runner, results_frame

KPI_CHECK_SQL = """
select
    period_scheme, period, dimension, dimension_value,
    received_total, received_online, received_offline, carried_over,
    resolved_total, early, on_time, late, withdrawn, stopped,
    open_total, open_in_time, open_overdue, ratings, satisfied,
    on_time_rate, early_rate, late_rate, satisfaction_rate, score_766_progress,
    resolved_total + open_total as resolved_plus_open,
    received_online + received_offline + carried_over as received_parts,
    early + on_time + late as early_on_time_late,
    open_in_time + open_overdue as in_time_plus_overdue,
    least(received_total, received_online, received_offline, carried_over, resolved_total, early, on_time, late,
          withdrawn, stopped, open_total, open_in_time, open_overdue, ratings, satisfied) as min_count
from mart.kpi_period
order by period_scheme, period, dimension, dimension_value
"""

FAILURE_COLUMNS = ["period_scheme", "period", "dimension", "dimension_value", "expectation", "column", "reason"]


def check_marts_detailed(con: duckdb.DuckDBPyConnection, expectations_dir: Path | str | None = None
                         ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(results rows of the marts suite, the kpi_period rows that failed an expectation)."""
    runner = get_runner(expectations_dir)
    frame = con.execute(KPI_CHECK_SQL).df()
    frame.index = pd.RangeIndex(len(frame), name="kpi_row")
    outcomes = runner.run("marts", "rows", frame, {})
    failures = []
    for outcome in outcomes:
        if outcome.success is False and len(outcome.rows):
            rows = frame.iloc[np.asarray(outcome.rows, dtype=np.int64)][FAILURE_COLUMNS[:4]].copy()
            rows["expectation"] = outcome.spec.type
            rows["column"] = outcome.spec.column
            rows["reason"] = outcome.spec.reason
            failures.append(rows)
    failed = pd.concat(failures, ignore_index=True) if failures else pd.DataFrame(columns=FAILURE_COLUMNS)
    return results_frame(outcomes), failed


def check_marts(con: duckdb.DuckDBPyConnection, expectations_dir: Path | str | None = None) -> pd.DataFrame:
    """Results rows of the marts suite (Biểu 06 identities, rate ranges) for every period and dimension."""
    return check_marts_detailed(con, expectations_dir)[0]


BUILT_CASES_SQL = """
select c.case_id, c.due_at, c.legal_due_at, f.due_beyond_legal_limit, c.source_file, c.source_row, c.file_sha
from intermediate.case_facts as f
inner join core.case as c using (case_id)
where f.due_beyond_legal_limit is not null
order by c.source_file, c.source_row, c.case_id
"""
FINDING_COLUMNS = ["source_row", "case_id", "field", "raw_value", "finding", "expectation", "source_file", "file_sha"]


def check_warehouse_rows(con: duckdb.DuckDBPyConnection, expectations_dir: Path | str | None = None
                         ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(results, findings) of the built warehouse: the ``built_cases`` suite on the cases' legal-limit
    judgement (computed once, in SQL) and ratings of cases that are not in ``core.case``."""
    runner = get_runner(expectations_dir)
    frame = con.execute(BUILT_CASES_SQL).df()
    frame.index = pd.RangeIndex(len(frame), name="case_row")
    found = [unknown_rated_cases(con)]
    outcomes = runner.run("built_cases", "rows", frame, {})
    for outcome in outcomes:
        spec = outcome.spec
        if outcome.success is not False or not len(outcome.rows):
            continue
        rows = frame.iloc[np.asarray(outcome.rows, dtype=np.int64)]
        found.append(pd.DataFrame({
            "source_row": rows["source_row"].to_numpy(),
            "case_id": rows["case_id"].to_numpy(),
            "field": spec.report_field,
            "raw_value": ("due_at=" + rows["due_at"].dt.strftime("%Y-%m-%d %H:%M:%S") + "; legal_due_at="
                          + rows["legal_due_at"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_numpy(),
            "finding": f"{spec.reason} ({spec.type})",
            "expectation": spec.type,
            "source_file": rows["source_file"].to_numpy(),
            "file_sha": rows["file_sha"].to_numpy(),
        }))
    found = [f for f in found if len(f)]
    findings = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=FINDING_COLUMNS)
    return results_frame(outcomes), findings


def unknown_rated_cases(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Findings for ratings whose case is not in ``core.case`` (evaluated after loading)."""
    return con.execute(
        """
        select
            source_row,
            case_id,
            'case_id' as field,
            case_id as raw_value,
            'rated case not found among the loaded cases (rated_case_exists)' as finding,
            'rated_case_exists' as expectation,
            source_file
        from core.rating
        where not coalesce(case_known, false)
        order by source_file, source_row
        """
    ).df()
