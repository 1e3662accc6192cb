"""Reference tables of the core layer: working calendar, periods, procedure catalogue, targets.

Each function fills one ``core`` table (created by ``sql/core/schema.sql``) from the settings,
so the marts' SQL can judge cases with joins instead of Python.
"""

from __future__ import annotations

from datetime import date

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


def fill_calendar_and_catalogue(con: duckdb.DuckDBPyConnection, settings: Settings, cal: WorkCalendar) -> None:
    """Fill core.work_day, core.work_minute and core.procedure."""
    db.insert_frame(con, "core.work_day", cal.days)
    db.insert_frame(con, "core.work_minute", work_minute_frame(cal))
    db.insert_frame(con, "core.procedure", load_procedures(settings))


def fill_periods_and_targets(
    con: duckdb.DuckDBPyConnection, settings: Settings, first_day: date, last_day: date, units: list[str]
) -> None:
    """Fill core.period (every period from first_day to last_day) and core.target."""
    periods = periods_frame(first_day, last_day, settings.effective_as_of)
    db.insert_frame(con, "core.period", periods)
    years = sorted({p.year for p in pd.to_datetime(periods["last_day"])} | {first_day.year, last_day.year})
    db.insert_frame(con, "core.target", targets_frame(load_targets(settings.targets_file), years, units))


def fill_reference_tables(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    cal: WorkCalendar,
    first_day: date,
    last_day: date,
    units: list[str],
) -> None:
    """Fill every reference table: calendar, catalogue, periods and targets."""
    fill_calendar_and_catalogue(con, settings, cal)
    fill_periods_and_targets(con, settings, first_day, last_day, units)
