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
