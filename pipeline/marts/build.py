"""Build the intermediate and mart layers from the filled ``core`` tables.

The rules of DESIGN §4 are applied in SQL (``pipeline/sql/intermediate`` then ``pipeline/sql/marts``);
this module only turns the settings into the SQL's ``$parameters`` and runs the files in order.

Layers: ``intermediate`` (schema of the same name) holds per-case facts and each case judged at every
moment a report needs (its end, each period end it is open at, the as-of moment); ``mart`` holds the
published tables and the view ``mart.case_timeliness`` (one row per case and period, computed when
read, so the ~9 rows per case are never stored).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import duckdb

from pipeline import db
from pipeline.settings import Settings
from pipeline.workcal import parse_sessions

MART_TABLES = (
    "mart.case_timeliness",
    "mart.kpi_period",
    "mart.bieu06",
    "mart.objective",
    "mart.warnings",
    "mart.timeliness_rules",
    "mart.directive_kpi_period",
    "mart.feedback_kpi_period",
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


def mart_params(settings: Settings) -> dict:
    """The ``$parameters`` of the intermediate and mart SQL, from the settings."""
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
    }


def build_marts(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, int]:
    """Run the intermediate then the mart SQL on a connection with filled core tables; rows per mart table."""
    params = mart_params(settings)
    db.run_sql_dir(con, "intermediate", params)
    db.run_sql_dir(con, "marts", params)
    counts = {}
    for table in MART_TABLES:
        if table == "mart.case_timeliness":
            # A view of ~9 rows per case: its row count is the sum of the periods' received totals
            # (every row of a period is one case received in it or carried over into it).
            sql = "select coalesce(sum(received_total), 0) from mart.kpi_period where dimension = 'all'"
        else:
            sql = f"select count(*) from {table}"
        counts[table] = int(con.execute(sql).fetchone()[0])
    return counts
