"""Tiny hand-written warehouses for the timeliness engine's tests (given / expect).

``Warehouse`` builds an in-memory DuckDB with the raw and core schemas and the reference tables, takes
cases written as keyword arguments as *raw rows* (what a reader would have produced from an export),
runs the real SQL layers (:func:`pipeline.warehouse.build.run_sql_layers`: staging, intermediate,
marts) and answers questions about the marts. No rule of the build is repeated here: missing due
dates, end times, scope and the periods covered all come from the SQL.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from helpers import make_settings

from pipeline import db
from pipeline.records import CASE, RATING, SUPPLEMENT
from pipeline.reference import PROCEDURE_COLUMNS, load_procedures, load_reference_tables
from pipeline.settings import Settings, load_settings
from pipeline.warehouse.build import create_schemas, run_sql_layers, table_counts
from pipeline.workcal import WorkCalendar

UNITS = ["Phòng Quản lý vận tải", "Phòng Quản lý kết cấu hạ tầng"]

# code, name, sector code, sector, unit, limit amount, limit unit
PROCEDURES = [
    ("1.000250", "Cấp giấy phép lái xe", "DB", "Đường bộ", UNITS[0], 10, "working_days"),
    ("1.001777", "Cấp giấy phép xe tập lái", "DB", "Đường bộ", UNITS[0], 2, "working_days"),
    ("2.000011", "Cấp phép thi công công trình", "HT", "Kết cấu hạ tầng", UNITS[1], 10, "working_days"),
    ("2.000400", "Chấp thuận vị trí đấu nối", "HT", "Kết cấu hạ tầng", UNITS[1], 7, "calendar_days"),
]
PROCEDURE_BY_CODE = {p[0]: p for p in PROCEDURES}


def dt(text: str) -> datetime:
    """'2025-03-05 16:05' as a datetime."""
    return datetime.fromisoformat(text)


def write_procedures(folder: Path) -> Path:
    """A small procedure catalogue CSV in a test folder."""
    path = folder / "procedures.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PROCEDURE_COLUMNS)
        writer.writerows(PROCEDURES)
    return path


@lru_cache(maxsize=4)
def _calendar(sessions: str, weekdays: str, overrides: str) -> WorkCalendar:
    return WorkCalendar.from_settings(
        load_settings(work_sessions=sessions, work_weekdays=weekdays, calendar_overrides_file=Path(overrides))
    )


def calendar_for(settings: Settings) -> WorkCalendar:
    """The working calendar of the settings (cached: building it reads 21 years of holidays)."""
    return _calendar(settings.work_sessions, settings.work_weekdays, str(settings.calendar_overrides_file))


RATING_TEXT = {"satisfied": "Hài lòng", "unsatisfied": "Không hài lòng", "neutral": "Bình thường"}


@dataclass
class Warehouse:
    """An in-memory warehouse built by the real SQL from hand-written raw rows."""

    settings: Settings
    path: str = ":memory:"
    con: duckdb.DuckDBPyConnection = field(init=False)
    rows: dict[str, list[dict]] = field(default_factory=lambda: {"case": [], "supplement": [], "rating": []})

    @classmethod
    def under(cls, folder: Path, as_of: date, **rules) -> Warehouse:
        """An empty warehouse whose settings (:func:`helpers.make_settings`) live under ``folder``, with the
        small catalogue above, a fixed as-of date and rule overrides."""
        return cls(make_settings(folder, as_of, procedures_file=write_procedures(folder), **rules))

    def __post_init__(self) -> None:
        procedures = load_procedures(self.settings)
        self.catalogue = {r.procedure_code: (r.procedure_code, r.procedure_name, r.sector_code, r.sector, r.unit)
                          for r in procedures.itertuples()}
        self.con = db.connect(self.path)
        create_schemas(self.con)
        load_reference_tables(self.con, self.settings, calendar_for(self.settings))

    # --- given ----------------------------------------------------------------------------
    def case(self, case_id: str, received: str, due: str | None = None, *, finished: str | None = None,
             returned: str | None = None, status: int | None = None, procedure: str = "1.000250",
             channel: int = 1, apology: str | None = None, new_due: str | None = None,
             reschedules: int = 0, supplements: list[tuple[str, str | None]] = (), unit: str | None = None,
             no_unit: bool = False, ratings: list[tuple[str, str | None]] = (),
             procedure_name: str | None = None) -> Warehouse:
        """Add a case as an export row. ``supplements`` are (requested, received or None); ``ratings``
        (rated_at, class); ``reschedules`` > 1 adds earlier exports with other new appointments.

        The unit defaults to the procedure's unit (``no_unit`` leaves it empty); a missing due time is
        computed by the build from the legal limit. A procedure code not in the catalogue is exported
        as given, with ``procedure_name`` (which otherwise replaces the catalogue's name) and no sector.
        """
        code, name, sector_code, sector, proc_unit = self.catalogue.get(procedure, (procedure, None, None, None, None))
        name = procedure_name or name
        if status is None:
            status = 10 if returned else 9 if finished else 4
        row_number = len(self.rows["case"]) + 1
        exported = datetime.combine(self.settings.effective_as_of, datetime.max.time()).replace(microsecond=0)
        row = {
            "case_id": case_id, "procedure_code": code, "procedure_name": name, "sector_code": sector_code,
            "sector": sector, "unit": None if no_unit else unit or proc_unit, "channel": channel, "status": status,
            "received_at": dt(received), "due_at": dt(due) if due else None,
            "finished_at": dt(finished) if finished else None, "returned_at": dt(returned) if returned else None,
            "apology_at": dt(apology) if apology else None, "new_due_at": dt(new_due) if new_due else None,
            "source_row": row_number, "file_sha": "given", "source_file": "given", "exported_at": exported,
        }
        self.rows["case"].append(row)
        for earlier in range(1, reschedules):  # the same case in earlier exports, other new appointments
            self.rows["case"].append({**row, "new_due_at": dt(new_due or received) - timedelta(days=earlier),
                                      "exported_at": exported - timedelta(days=earlier),
                                      "source_row": 100_000 + 100 * row_number + earlier})
        for seq, (requested, answered) in enumerate(supplements, start=1):
            self.rows["supplement"].append({
                "case_id": case_id, "seq": seq, "requested_at": dt(requested),
                "received_at": dt(answered) if answered else None, "source_row": row_number,
                "file_sha": "given", "source_file": "given", "exported_at": exported})
        for rated_at, rating_class in ratings:
            self.rows["rating"].append({
                "case_id": case_id, "rated_at": dt(rated_at), "rating": RATING_TEXT.get(rating_class, rating_class),
                "source_row": row_number, "file_sha": "ratings", "source_file": "given", "exported_at": exported})
        return self

    def save(self, path: Path) -> Path:
        """Copy the whole warehouse to a DuckDB file (for read-only users such as ``tthc kpi``)."""
        self.con.execute(f"attach '{path}' as saved")
        self.con.execute("copy from database memory to saved")
        self.con.execute("detach saved")
        return path

    def save_as_settings_warehouse(self) -> Settings:
        """Build the rows given so far, save the warehouse to its settings' file and close it (so that the
        code under test can open the file); the settings."""
        self.build()
        self.save(self.settings.warehouse)
        self.con.close()
        return self.settings

    def build(self) -> dict[str, int]:
        """Insert the raw rows given so far and run the SQL layers; rows per table."""
        for record in (CASE, SUPPLEMENT, RATING):
            if self.rows[record.name]:
                frame = pd.DataFrame(self.rows[record.name])
                db.insert_frame(self.con, record.table, frame)
                self.rows[record.name] = []
        run_sql_layers(self.con, self.settings)
        return table_counts(self.con)

    # --- expect ---------------------------------------------------------------------------
    def row(self, case_id: str, period: str, scheme: str) -> dict:
        """The case's mart.case_timeliness row for a period (KeyError when it is not in the period)."""
        frame = self.con.execute(
            "select * from mart.case_timeliness where case_id = ? and period = ? and period_scheme = ?",
            [case_id, period, scheme],
        ).df()
        if frame.empty:
            raise KeyError(f"{case_id} is not in {scheme} {period}")
        assert len(frame) == 1
        return frame.iloc[0].to_dict()

    def cls(self, case_id: str, period: str, scheme: str) -> str:
        """The case's timeliness class in a period."""
        return self.row(case_id, period, scheme)["timeliness_class"]

    def kpi(self, period: str, scheme: str, dimension: str = "all", value: str = "all") -> dict:
        """The mart.kpi_period row of a period and dimension value."""
        frame = self.con.execute(
            "select * from mart.kpi_period where period = ? and period_scheme = ? "
            "and dimension = ? and dimension_value = ?",
            [period, scheme, dimension, value],
        ).df()
        assert len(frame) == 1, f"{len(frame)} kpi rows for {scheme} {period} {dimension}={value}"
        return frame.iloc[0].to_dict()

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Any query as a DataFrame."""
        return self.con.execute(sql, params or []).df()


def _text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def add_synthetic_cases(w: Warehouse, n: int = 400, seed: int = 2025, start: date = date(2024, 12, 2),
                        days: int = 160) -> None:
    """A few hundred varied cases (deterministic): early, on time, late, open, withdrawn, stopped,
    returned-only, out of scope, supplements (completed, pending, twice), apologies and ratings."""
    rng = np.random.default_rng(seed)
    cal = calendar_for(w.settings)
    as_of_end = datetime.combine(w.settings.effective_as_of, datetime.min.time()) + timedelta(days=1)
    for i in range(n):
        code, *_, amount, limit_unit = PROCEDURES[rng.integers(len(PROCEDURES))]
        day = start + timedelta(days=int(rng.integers(days)))
        received = datetime.combine(day, datetime.min.time()) + timedelta(minutes=int(rng.integers(6 * 60, 18 * 60)))
        limit_hours = (amount * 8 if limit_unit == "working_days" else amount * 24 * 8 / 24)
        # roughly where the legal limit ends (the exact one is the build's business): an explicit appointment
        # near it, or none (computed by the build)
        due = cal.add_working_hours(received, float(limit_hours))
        explicit_due = None if rng.random() < 0.7 else due + timedelta(hours=int(rng.integers(-30, 30)))
        if explicit_due is not None:
            due = explicit_due
        finish = cal.add_working_hours(received, float(limit_hours * rng.uniform(0.1, 1.3)))
        status = int(rng.choice([9, 10, 7, 8, 4, 5, 2, 1, 3], p=[.45, .2, .04, .03, .12, .06, .04, .03, .03]))
        if status in (2, 4, 5, 1, 3) or finish >= as_of_end:
            status = status if status in (2, 4, 5, 1, 3) else 4
            finished = returned = None
        elif rng.random() < 0.08:
            finished, returned = None, _text(finish)
        else:
            finished = _text(finish)
            returned = _text(finish + timedelta(hours=2)) if status == 10 else None
        supplements = []
        cycles = 0 if rng.random() < 0.8 else 1 if rng.random() < 0.75 else 2
        moment = received
        for _ in range(cycles):
            requested = moment + timedelta(minutes=int(rng.integers(30, 3000)))
            answered = requested + timedelta(minutes=int(rng.integers(30, 4000)))
            pending = rng.random() < 0.15
            supplements.append((_text(requested), None if pending else _text(answered)))
            if pending:
                break
            moment = answered
        apology = new_due = None
        if finish > due and rng.random() < 0.5:
            apology = _text(due - timedelta(hours=int(rng.integers(1, 40))))
            new_due = _text(due + timedelta(days=2))
        ratings = []
        if finished and rng.random() < 0.5:
            rated = finish + timedelta(hours=int(rng.integers(1, 300)))
            ratings.append((_text(rated), rng.choice(["satisfied", "satisfied", "satisfied", "neutral",
                                                      "unsatisfied", None])))
        w.case(f"SYN{i:04d}", _text(received), _text(due) if explicit_due else None, finished=finished,
               returned=returned, status=status, procedure=code, channel=int(rng.integers(1, 4)),
               apology=apology, new_due=new_due, reschedules=int(rng.integers(0, 3)) if apology else 0,
               supplements=supplements, no_unit=rng.random() < 0.03, ratings=ratings)


# --- open cases to warn about (the warning list, its e-mails and its CSV) ----------------------------

WARNING_AS_OF = date(2025, 3, 31)  # a Monday: the warnings are judged at 24:00 on 31/03/2025
UNIT_A, UNIT_B = UNITS
NO_UNIT = "Chưa xác định"  # core.case's unit when neither the export nor the catalogue names one
MARKUP_NAME = "Cấp phép thi công <công trình> & đấu nối"


def add_warning_cases(w: Warehouse) -> Warehouse:
    """Five open cases, judged at 24:00 on 31/03/2025 by the calendar's working time (07:00–11:30 and
    13:30–17:00, Monday to Friday; no holiday in these weeks):

    - H55-0007 (unit A), due 20/03 11:00, no apology letter: overdue and the apology missing, 60 working
      hours late (0,5 + 3,5 on 20/03, 8 on 21/03, 40 on 24–28/03, 8 on 31/03);
    - H55-0012 (unit A), due 01/04 10:30, an apology letter already sent: due soon, 3,5 working hours left;
    - H55-0015 (unit A), due 01/04 16:00: due soon with 7 working hours left, and an apology is due (less
      than the one working day of lead time is left);
    - HT-000123 (unit B, a procedure name with markup), due 31/03 15:30, apology sent: overdue by 1,5 hours;
    - X-1 (a procedure not in the catalogue, no unit: the unit is ``NO_UNIT``), due 31/03 16:30, apology
      sent: overdue by 0,5 working hours.
    """
    apology = "2025-03-31 09:00"
    w.case("H55-0007", "2025-03-03 08:00", "2025-03-20 11:00", procedure="1.000250")
    w.case("H55-0012", "2025-03-28 09:00", "2025-04-01 10:30", procedure="1.001777", apology=apology)
    w.case("H55-0015", "2025-03-28 09:00", "2025-04-01 16:00", procedure="1.001777")
    w.case("HT-000123", "2025-03-20 08:00", "2025-03-31 15:30", procedure="2.000011", procedure_name=MARKUP_NAME,
           apology=apology)
    w.case("X-1", "2025-03-20 08:00", "2025-03-31 16:30", procedure="9.9", procedure_name="Thủ tục lạ", no_unit=True,
           apology=apology)
    return w
