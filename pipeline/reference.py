"""Reference tables of the core layer: working calendar, periods, procedure catalogue, targets.

Each function fills one ``core`` table (created by ``sql/core/schema.sql``) from the settings,
so the marts' SQL can judge cases with joins instead of Python.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from pipeline import db
from pipeline.periods import periods_frame
from pipeline.settings import Settings
from pipeline.targets import load_targets, targets_frame
from pipeline.workcal import WorkCalendar

PROCEDURE_COLUMNS = ["procedure_code", "procedure_name", "sector_code", "sector", "unit", "limit_amount", "limit_unit"]


def work_minute_frame(cal: WorkCalendar) -> pd.DataFrame:
    """One row per minute of a day: working minutes before it and the session it is in (or next)."""
    minutes = np.arange(1440)
    worked = np.zeros(1440, dtype=np.int64)
    session_no = np.full(1440, len(cal.sessions) + 1, dtype=np.int64)
    for number, (start, end) in reversed(list(enumerate(cal.sessions, start=1))):
        s, e = start.hour * 60 + start.minute, end.hour * 60 + end.minute
        worked += np.clip(minutes - s, 0, e - s)
        session_no = np.where(minutes < e, number, session_no)
    return pd.DataFrame({"minute_of_day": minutes, "worked_before": worked, "session_no": session_no})


def load_procedures(settings: Settings) -> pd.DataFrame:
    """The procedure catalogue with codes as text and limits as numbers."""
    frame = pd.read_csv(settings.procedures_file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in PROCEDURE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{settings.procedures_file}: missing columns {', '.join(missing)}")
    frame = frame[PROCEDURE_COLUMNS].copy()
    frame["limit_amount"] = pd.to_numeric(frame["limit_amount"], errors="coerce")
    return frame.drop_duplicates("procedure_code", keep="last")


def rating_scale_frame(settings: Settings) -> pd.DataFrame:
    """The rating scale as (rating_key, rating_class); keys compared accent- and case-insensitively in SQL."""
    pairs = [item.split("=", 1) for item in settings.rating_scale.split(",") if "=" in item]
    return pd.DataFrame([(k.strip(), v.strip()) for k, v in pairs], columns=["rating_key", "rating_class"])


def target_units(config: dict) -> list[str]:
    """Units that have targets of their own in the targets file."""
    return sorted({unit for year in config.get("years", {}).values() for unit in year.get("units", {})})


def load_reference_tables(con: duckdb.DuckDBPyConnection, settings: Settings, cal: WorkCalendar) -> None:
    """Fill the reference tables the SQL judges by, none of which depends on the exports: the working
    calendar (core.work_day, core.work_minute), the procedure catalogue, the rating scale, every reporting
    period from the calendar's origin to the as-of date (core.period_catalogue; the build keeps those the
    records span in core.period) and the targets of those years (core.target)."""
    db.insert_frame(con, "core.work_day", cal.days)
    db.insert_frame(con, "core.work_minute", work_minute_frame(cal))
    db.insert_frame(con, "core.procedure", load_procedures(settings))
    db.create_table_from_frame(con, "core.rating_scale", rating_scale_frame(settings))
    as_of = settings.effective_as_of
    periods = periods_frame(cal.origin, as_of, as_of)
    db.insert_frame(con, "core.period_catalogue", periods)
    config = load_targets(settings.targets_file)
    years = list(range(cal.origin.year, as_of.year + 1))
    db.insert_frame(con, "core.target", targets_frame(config, years, target_units(config)))
