"""The warning list (DESIGN §1, objective "cases at risk are warned about in time"): per unit, the open
cases that need action now, most urgent first; then, each in its own group, the directive tasks of the
province (DESIGN §10) and the PAKN (DESIGN §11) that are overdue or close to it.

Read from ``mart.warnings`` (built by :mod:`pipeline.warehouse.build`; one row per case and warning kind):

- ``overdue``          open and already past its first appointment;
- ``apology_missing``  overdue and no apology letter with a new appointment yet;
- ``apology_due``      not overdue, no apology yet, and the latest moment for a timely apology has come;
- ``due_soon``         open, not overdue, due within N working hours of the as-of moment.

Directive tasks come from ``mart.directive_warnings`` (open, against the deadline in force: ``overdue``, or
``due_soon`` within the ``directive_due_soon_working_days`` setting) and PAKN from
``mart.feedback_warnings`` (open: ``overdue`` past the 15-working-day answer limit, or ``due_soon`` within the
``feedback_due_soon_working_days`` setting of it). A warehouse without those tables has no such groups.

The list shows the case code, the procedure, the receipt and due times and the working time left
("còn 3,5 giờ làm việc" / "quá hạn 12 giờ làm việc"); for tasks and PAKN their code and title as stored
(personal data masked); never anything about the applicant or sender.
Outputs: the terminal (``tthc warnings``), ``reports/warnings/index.html`` (offline, one section per
unit and group) and ``reports/warnings/warnings.csv`` (UTF-8 with BOM so Excel opens it with its diacritics;
one row per case, task or PAKN, the group in its first column).
"""

from __future__ import annotations

import csv
import math
import os
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pipeline import db
from pipeline.formatting import (
    fmt_datetime,
    fmt_int,
    fmt_moment,
    fmt_number_short,
    fmt_stamp,
    is_missing,
    nfc,
    plain_decimal,
    slugify,
    spreadsheet_safe,
)
from pipeline.settings import Settings
from pipeline.warehouse.build import sql_params, working_day_minutes

TEMPLATES_DIR = Path(__file__).parent / "warnings_templates"

KIND_ORDER = {"overdue": 1, "apology_missing": 2, "apology_due": 3, "due_soon": 4}
KIND_VI = {
    "overdue": "Quá hạn",
    "apology_missing": "Chưa có văn bản xin lỗi, hẹn lại",
    "apology_due": "Cần gửi văn bản xin lỗi, hẹn lại",
    "due_soon": "Sắp đến hạn",
}
KIND_SHORT_VI = {
    "overdue": "quá hạn",
    "apology_missing": "chưa xin lỗi",
    "apology_due": "cần xin lỗi",
    "due_soon": "sắp đến hạn",
}
RECORD_KIND_ORDER = {"overdue": 1, "due_soon": 2}
RECORD_KIND_VI = {
    "directive": {"overdue": "Quá hạn", "due_soon": "Sắp đến hạn"},
    "feedback": {"overdue": "Quá hạn trả lời", "due_soon": "Sắp đến hạn trả lời"},
}
RECORD_KIND_SHORT_VI = {"overdue": "quá hạn", "due_soon": "sắp đến hạn"}
GROUP_VI = {"case": "Hồ sơ TTHC", "directive": "Nhiệm vụ UBND tỉnh giao", "feedback": "Phản ánh, kiến nghị"}
RECORD_NOUN = {"directive": "nhiệm vụ", "feedback": "PAKN"}
UNKNOWN_UNIT = "(không xác định)"
CSV_COLUMNS = [
    "Nhóm", "Đơn vị", "STT", "Mã hồ sơ", "Mã TTHC", "Tên thủ tục", "Ngày tiếp nhận", "Hạn giải quyết",
    "Giờ làm việc còn lại", "Thời gian còn lại", "Cảnh báo", "Mã nhiệm vụ, PAKN", "Trích yếu, tiêu đề",
]
# Only these columns of the warning marts are ever read: no personal data can reach a warning.
_MART_COLUMNS = (
    "unit", "case_id", "procedure_code", "procedure_name", "received_at", "due_at", "warning_kind",
    "working_hours_left", "urgency_rank",
)
_RECORD_COLUMNS = {
    "directive": ("unit", "task_id as record_id", "title", "assigned_at as started_at", "deadline as due_at",
                  "deadline_original", "has_extension", "null::varchar as case_id", "warning_kind",
                  "working_hours_left", "urgency_rank"),
    "feedback": ("unit", "feedback_id as record_id", "title", "received_at as started_at", "due_at",
                 "null::timestamp as deadline_original", "false as has_extension", "case_id", "warning_kind",
                 "working_hours_left", "urgency_rank"),
}
_RECORD_TABLES = {"directive": "mart.directive_warnings", "feedback": "mart.feedback_warnings"}


# --- formatting ---------------------------------------------------------------------------------

_VI_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_VI_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter
_VI_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền hỏi ngã sắc nặng


def vi_sort_key(text: str) -> tuple:
    """Sort key in Vietnamese alphabetical order (a ă â b c d đ e ê …), tones as a tie-breaker."""
    letters, tones = [], []
    for char in unicodedata.normalize("NFC", text).lower():
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", parts[0] + "".join(m for m in parts[1:] if m in _VI_LETTER_MARKS))
        position = _VI_ALPHABET.find(base)
        letters.append(position if position >= 0 and len(base) == 1 else 100 + ord(base[0]))
        tones.append(sum(_VI_TONES.get(m, 0) for m in parts[1:]))
    return tuple(letters), tuple(tones)



def _hours_text(hours: float) -> str:
    """``3,5`` or ``12`` (no trailing ``,0``)."""
    return fmt_number_short(hours, 1)


def format_time_left(hours_left: float | None, day_hours: float = 8.0, overdue: bool | None = None) -> str:
    """Working time left to the due time, in Vietnamese.

    ``còn 3,5 giờ làm việc``, ``còn 40 phút làm việc``, ``còn 12 giờ làm việc (1,5 ngày)``,
    ``quá hạn 12 giờ làm việc (1,5 ngày)``, ``vừa quá hạn`` (past due within non-working time).
    """
    if is_missing(hours_left):
        return "–"
    hours = float(hours_left)
    if overdue is None:
        overdue = hours < 0
    amount = abs(hours)
    minutes = round(amount * 60)
    if minutes == 0:
        return "vừa quá hạn" if overdue else "đến hạn vào đầu giờ làm việc tới"
    if minutes < 60:
        text = f"{minutes} phút làm việc"
    else:
        text = f"{_hours_text(amount)} giờ làm việc"
        if day_hours > 0 and amount >= day_hours:
            text += f" ({_hours_text(amount / day_hours)} ngày)"
    return f"quá hạn {text}" if overdue else f"còn {text}"


# --- the list -----------------------------------------------------------------------------------


@dataclass
class WarningCase:
    """One case to act on, with every warning kind it has."""

    unit: str
    rank: int
    case_id: str
    procedure_code: str
    procedure_name: str
    received_at: datetime | None
    due_at: datetime | None
    hours_left: float | None
    kinds: list[str]
    day_hours: float = 8.0

    @property
    def overdue(self) -> bool:
        return "overdue" in self.kinds or "apology_missing" in self.kinds or (
            self.hours_left is not None and self.hours_left < 0
        )

    @property
    def time_left(self) -> str:
        return format_time_left(self.hours_left, self.day_hours, self.overdue)

    @property
    def kinds_text(self) -> str:
        return "; ".join(KIND_VI[k] for k in self.kinds)

    @property
    def received_text(self) -> str:
        return fmt_datetime(self.received_at)

    @property
    def due_text(self) -> str:
        return fmt_datetime(self.due_at)

    @property
    def procedure_text(self) -> str:
        return " – ".join(part for part in (self.procedure_code, self.procedure_name) if part)


@dataclass
class RecordWarning:
    """One directive task or PAKN to act on: overdue, or due soon."""

    kind: str  # directive | feedback
    unit: str
    rank: int
    record_id: str
    title: str
    started_at: datetime | None  # assigned (task) or received (PAKN)
    due_at: datetime | None  # the deadline in force (task) or the answer limit (PAKN)
    hours_left: float | None
    warning_kind: str
    deadline_original: datetime | None = None
    has_extension: bool = False
    case_id: str = ""
    day_hours: float = 8.0

    @property
    def overdue(self) -> bool:
        return self.warning_kind == "overdue"

    @property
    def time_left(self) -> str:
        return format_time_left(self.hours_left, self.day_hours, self.overdue)

    @property
    def kinds_text(self) -> str:
        return RECORD_KIND_VI[self.kind][self.warning_kind]

    @property
    def started_text(self) -> str:
        return fmt_stamp(self.started_at)

    @property
    def due_text(self) -> str:
        return fmt_stamp(self.due_at)

    @property
    def note(self) -> str:
        """``gia hạn từ 10/03/2025`` for an extended task; ``hồ sơ H55-…`` for a PAKN about a case."""
        if self.kind == "directive" and self.has_extension and self.deadline_original is not None:
            return f"gia hạn từ {fmt_stamp(self.deadline_original)}"
        if self.kind == "feedback" and self.case_id:
            return f"hồ sơ {self.case_id}"
        return ""


def _record_counts(records: list[RecordWarning]) -> dict[str, int]:
    return {kind: sum(r.warning_kind == kind for r in records) for kind in RECORD_KIND_ORDER}


def _record_counts_text(records: list[RecordWarning]) -> str:
    return ", ".join(f"{fmt_int(n)} {RECORD_KIND_SHORT_VI[k]}" for k, n in _record_counts(records).items() if n)


@dataclass
class UnitWarnings:
    """The warnings of one unit, most urgent first: its cases, its directive tasks and its PAKN."""

    unit: str
    cases: list[WarningCase] = field(default_factory=list)
    directives: list[RecordWarning] = field(default_factory=list)
    feedback: list[RecordWarning] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return slugify(self.unit)

    @property
    def counts(self) -> dict[str, int]:
        """Cases per warning kind (a case may have two kinds: overdue and no apology)."""
        return {kind: sum(kind in c.kinds for c in self.cases) for kind in KIND_ORDER}

    @property
    def counts_text(self) -> str:
        parts = [f"{fmt_int(n)} {KIND_SHORT_VI[k]}" for k, n in self.counts.items() if n]
        return ", ".join(parts)

    @property
    def directive_counts(self) -> dict[str, int]:
        return _record_counts(self.directives)

    @property
    def feedback_counts(self) -> dict[str, int]:
        return _record_counts(self.feedback)

    @property
    def directive_counts_text(self) -> str:
        return _record_counts_text(self.directives)

    @property
    def feedback_counts_text(self) -> str:
        return _record_counts_text(self.feedback)

    @property
    def summary_text(self) -> str:
        """``3 hồ sơ cần xử lý (1 quá hạn, …); 1 nhiệm vụ (1 quá hạn); 2 PAKN (2 sắp đến hạn)``."""
        parts = []
        if self.cases:
            parts.append(f"{fmt_int(len(self.cases))} hồ sơ cần xử lý ({self.counts_text})")
        for records, kind in ((self.directives, "directive"), (self.feedback, "feedback")):
            if records:
                words = f"{fmt_int(len(records))} {RECORD_NOUN[kind]}"
                parts.append(f"{words}{'' if parts else ' cần xử lý'} ({_record_counts_text(records)})")
        return "; ".join(parts)


@dataclass
class WarningList:
    """Every unit's warnings as of one moment."""

    as_of_moment: datetime | None
    within_hours: float
    day_hours: float
    units: list[UnitWarnings]
    department_name: str = ""
    province_name: str = ""
    has_directives: bool = False  # the warehouse warns about directive tasks (mart.directive_warnings)
    has_feedback: bool = False  # … and about PAKN (mart.feedback_warnings)
    directive_due_soon_days: float | None = None
    feedback_due_soon_days: float | None = None
    feedback_answer_days: float | None = None  # the answer limit of a PAKN, working days

    @property
    def case_units(self) -> list[UnitWarnings]:
        return [u for u in self.units if u.cases]

    @property
    def directive_units(self) -> list[UnitWarnings]:
        return [u for u in self.units if u.directives]

    @property
    def feedback_units(self) -> list[UnitWarnings]:
        return [u for u in self.units if u.feedback]

    @property
    def total(self) -> int:
        return sum(len(u.cases) for u in self.units)

    @property
    def directive_total(self) -> int:
        return sum(len(u.directives) for u in self.units)

    @property
    def feedback_total(self) -> int:
        return sum(len(u.feedback) for u in self.units)

    @property
    def counts(self) -> dict[str, int]:
        return {kind: sum(u.counts[kind] for u in self.units) for kind in KIND_ORDER}

    @property
    def directive_counts_text(self) -> str:
        return _record_counts_text([r for u in self.units for r in u.directives])

    @property
    def feedback_counts_text(self) -> str:
        return _record_counts_text([r for u in self.units for r in u.feedback])

    @property
    def directive_within_text(self) -> str:
        return "" if self.directive_due_soon_days is None else f"{_hours_text(self.directive_due_soon_days)} ngày làm việc"

    @property
    def feedback_limit_text(self) -> str:
        return "" if self.feedback_answer_days is None else f"{_hours_text(self.feedback_answer_days)} ngày làm việc"

    @property
    def feedback_within_text(self) -> str:
        return "" if self.feedback_due_soon_days is None else f"{_hours_text(self.feedback_due_soon_days)} ngày làm việc"

    @property
    def as_of_text(self) -> str:
        """``24:00 ngày 31/03/2025`` for the end of a day (how the marts judge), else ``dd/mm/yyyy HH:MM``."""
        return fmt_moment(self.as_of_moment)

    @property
    def within_text(self) -> str:
        return f"{_hours_text(self.within_hours)} giờ làm việc"

    def unit(self, name: str) -> UnitWarnings | None:
        key = nfc(name).casefold().strip()
        return next((u for u in self.units if nfc(u.unit).casefold().strip() == key), None)


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
    ).fetchone()[0])


def _rule(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    if not _table_exists(con, "mart", "timeliness_rules"):
        return None
    row = con.execute("select value from mart.timeliness_rules where rule = ?", [name]).fetchone()
    return None if row is None else row[0]


def _mart_rows(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(f"select {', '.join(_MART_COLUMNS)} from mart.warnings").df()


def _record_rows(con: duckdb.DuckDBPyConnection, kind: str) -> pd.DataFrame | None:
    """The rows of a record kind's warning mart (only the listed columns), or None without the table."""
    schema, table = _RECORD_TABLES[kind].split(".")
    if not _table_exists(con, schema, table):
        return None
    # table and column names come from the constants above, never from data
    return con.execute(f"select {', '.join(_RECORD_COLUMNS[kind])} from {_RECORD_TABLES[kind]}").df()


def _recompute_rows(path: Path, settings: Settings, within_hours: float, as_of_end: datetime | None) -> pd.DataFrame:
    """mart.warnings for a wider due-soon window than the warehouse was built with, in memory.

    The warehouse is only read: its tables are copied into an in-memory database where the marts'
    own SQL runs with the wider window and the warehouse's as-of moment.
    """

    params = sql_params(settings.model_copy(update={"warning_within_hours": within_hours}))
    if as_of_end is not None:
        params["as_of_end"] = as_of_end
    con = db.connect(":memory:")
    try:
        con.execute("attach $path as wh (read_only)", {"path": str(path)})
        con.execute("copy from database wh to memory")
        con.execute("detach wh")
        db.run_sql_dir(con, "intermediate", params)
        db.run_sql_file(con, "marts/50_warnings", params)
        return _mart_rows(con)
    finally:
        con.close()


def load_warnings(settings: Settings, within_hours: float | None = None) -> WarningList:
    """The warnings in the settings' warehouse, due-soon window ``within_hours`` (default from settings)."""
    within = float(settings.warning_within_hours if within_hours is None else within_hours)
    if within < 0 or math.isnan(within):
        raise ValueError(f"--within-hours must be a positive number of working hours, not {within_hours}")
    con = db.connect_existing(settings.warehouse)
    try:
        if not _table_exists(con, "mart", "warnings"):
            raise RuntimeError(f"{settings.warehouse}: no mart.warnings table; run 'tthc run' first")
        built_minutes = _rule(con, "warning_minutes")
        day_minutes = _rule(con, "day_minutes")
        as_of_text = _rule(con, "as_of_end")
        soon = {kind: _rule(con, name) for kind, name in (("directive", "directive_due_soon_minutes"),
                                                          ("feedback", "feedback_due_soon_minutes"),
                                                          ("feedback_answer", "feedback_answer_minutes"))}
        rows = _mart_rows(con)
        records = {kind: _record_rows(con, kind) for kind in _RECORD_TABLES}
    finally:
        con.close()
    as_of_end = datetime.fromisoformat(as_of_text) if as_of_text else None
    if built_minutes is not None and round(within * 60) > int(float(built_minutes)):
        rows = _recompute_rows(settings.warehouse, settings, within, as_of_end)
    day_hours = (float(day_minutes) if day_minutes is not None else working_day_minutes(settings)) / 60
    due_soon_days = {kind: float(v) / (day_hours * 60) if v is not None and day_hours else None
                     for kind, v in soon.items()}
    return build_warning_list(rows, within, day_hours, as_of_end, settings, records, due_soon_days)


def build_warning_list(rows: pd.DataFrame, within_hours: float, day_hours: float, as_of_moment: datetime | None,
                       settings: Settings | None = None, records: dict[str, pd.DataFrame | None] | None = None,
                       due_soon_days: dict[str, float | None] | None = None) -> WarningList:
    """Group mart.warnings rows (one per case and kind) into one entry per case, per unit, by urgency; add the
    directive tasks and PAKN of ``records`` (rows of mart.directive_warnings / mart.feedback_warnings, None
    when the warehouse has no such table) to their units."""
    rows = rows.copy()
    due_soon_too_far = (rows["warning_kind"] == "due_soon") & (
        rows["working_hours_left"].astype(float) * 60 > round(within_hours * 60)
    )
    rows = rows[~due_soon_too_far & rows["warning_kind"].isin(list(KIND_ORDER))]
    rows["unit"] = rows["unit"].map(lambda u: nfc(u) or UNKNOWN_UNIT)
    units: dict[str, UnitWarnings] = {}
    ordered = rows.assign(_kind_order=rows["warning_kind"].map(KIND_ORDER)).sort_values(
        ["unit", "urgency_rank", "_kind_order", "case_id"], kind="stable"
    )
    for (unit, case_id), group in ordered.groupby(["unit", "case_id"], sort=False):
        first = group.iloc[0]
        kinds = sorted(set(group["warning_kind"]), key=KIND_ORDER.__getitem__)
        hours = None if is_missing(first["working_hours_left"]) else float(first["working_hours_left"])
        units.setdefault(unit, UnitWarnings(unit)).cases.append(WarningCase(
            unit=unit,
            rank=int(group["urgency_rank"].min()),
            case_id=str(case_id),
            procedure_code="" if is_missing(first["procedure_code"]) else nfc(first["procedure_code"]),
            procedure_name="" if is_missing(first["procedure_name"]) else nfc(first["procedure_name"]),
            received_at=None if is_missing(first["received_at"]) else pd.Timestamp(first["received_at"]).to_pydatetime(),
            due_at=None if is_missing(first["due_at"]) else pd.Timestamp(first["due_at"]).to_pydatetime(),
            hours_left=hours,
            kinds=kinds,
            day_hours=day_hours,
        ))
    for unit in units.values():
        unit.cases.sort(key=lambda c: (c.rank, KIND_ORDER[c.kinds[0]], c.case_id))
        for number, case in enumerate(unit.cases, start=1):
            case.rank = number
    records = records or {}
    for kind, frame in records.items():
        if frame is None:
            continue
        for r in frame.to_dict("records"):
            unit = nfc(r["unit"]) or UNKNOWN_UNIT
            target = units.setdefault(unit, UnitWarnings(unit))
            (target.directives if kind == "directive" else target.feedback).append(RecordWarning(
                kind=kind, unit=unit, rank=int(r["urgency_rank"]), record_id=nfc(r["record_id"]),
                title="" if is_missing(r["title"]) else nfc(r["title"]),
                started_at=_moment(r["started_at"]), due_at=_moment(r["due_at"]),
                hours_left=None if is_missing(r["working_hours_left"]) else float(r["working_hours_left"]),
                warning_kind=str(r["warning_kind"]), deadline_original=_moment(r["deadline_original"]),
                has_extension=bool(r["has_extension"]) if not is_missing(r["has_extension"]) else False,
                case_id="" if is_missing(r["case_id"]) else nfc(r["case_id"]), day_hours=day_hours,
            ))
    for unit in units.values():
        for group in (unit.directives, unit.feedback):
            group.sort(key=lambda w: (w.rank, RECORD_KIND_ORDER.get(w.warning_kind, 9), w.record_id))
            for number, warning in enumerate(group, start=1):
                warning.rank = number
    due_soon_days = due_soon_days or {}
    return WarningList(
        as_of_moment=as_of_moment,
        within_hours=within_hours,
        day_hours=day_hours,
        units=[units[name] for name in sorted(units, key=lambda n: (n == UNKNOWN_UNIT, vi_sort_key(n)))],
        department_name=settings.department_name if settings else "",
        province_name=settings.province_name if settings else "",
        has_directives=records.get("directive") is not None,
        has_feedback=records.get("feedback") is not None,
        directive_due_soon_days=due_soon_days.get("directive"),
        feedback_due_soon_days=due_soon_days.get("feedback"),
        feedback_answer_days=due_soon_days.get("feedback_answer"),
    )


def _moment(value: object) -> datetime | None:
    return None if is_missing(value) else pd.Timestamp(value).to_pydatetime()


# --- outputs ------------------------------------------------------------------------------------


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_warnings_text(warnings: WarningList) -> str:
    """The warning list as terminal text: the cases per unit, most urgent first, then the directive tasks and
    the PAKN, each group per unit."""
    lines = [
        "CẢNH BÁO HỒ SƠ THỦ TỤC HÀNH CHÍNH",
        f"Thời điểm xét: {warnings.as_of_text}; sắp đến hạn: trong {warnings.within_text}",
    ]
    if warnings.department_name:
        lines.insert(1, warnings.department_name)
    if not warnings.case_units:
        lines += ["", "Không có hồ sơ nào cần cảnh báo."]
    else:
        totals = ", ".join(f"{fmt_int(n)} {KIND_SHORT_VI[k]}" for k, n in warnings.counts.items() if n)
        lines.append(f"Tổng cộng {fmt_int(warnings.total)} hồ sơ cần xử lý ({totals})")
        width = max([10] + [len(c.case_id) for u in warnings.units for c in u.cases])  # case codes are never cut
        header = (f"{'STT':>4}  {'Mã hồ sơ':<{width}} {'Thủ tục':<42} {'Hạn giải quyết':<16}  "
                  f"{'Thời gian còn lại':<36} Cảnh báo")
        for unit in warnings.case_units:
            lines += ["", f"== {unit.unit}: {fmt_int(len(unit.cases))} hồ sơ ({unit.counts_text})", header]
            for case in unit.cases:
                lines.append(
                    f"{case.rank:>4}  {case.case_id:<{width}} {_clip(case.procedure_text, 42):<42} "
                    f"{case.due_text:<16}  {_clip(case.time_left, 36):<36} {case.kinds_text}"
                )
    for kind, present, units, total, counts_text, within in (
        ("directive", warnings.has_directives, warnings.directive_units, warnings.directive_total,
         warnings.directive_counts_text, warnings.directive_within_text),
        ("feedback", warnings.has_feedback, warnings.feedback_units, warnings.feedback_total,
         warnings.feedback_counts_text, warnings.feedback_within_text),
    ):
        if present:
            lines += ["", "", _record_text(kind, units, total, counts_text, within)]
    return "\n".join(lines)


def _record_text(kind: str, units: list[UnitWarnings], total: int, counts_text: str, within: str) -> str:
    """One group of the terminal text: the directive tasks or the PAKN, per unit."""
    noun = RECORD_NOUN[kind]
    title = "NHIỆM VỤ DO UBND TỈNH GIAO" if kind == "directive" else "PHẢN ÁNH, KIẾN NGHỊ (PAKN)"
    soon = f"; sắp đến hạn: trong {within}" if within else ""
    lines = [f"{title}{soon}"]
    if not units:
        lines.append(f"Không có {noun} nào cần cảnh báo.")
        return "\n".join(lines)
    lines.append(f"Tổng cộng {fmt_int(total)} {noun} cần xử lý ({counts_text})")
    group = [w for u in units for w in (u.directives if kind == "directive" else u.feedback)]
    width = max([8] + [len(w.record_id) for w in group])
    code = "Số hiệu" if kind == "directive" else "Mã PAKN"
    due = "Hạn" if kind == "directive" else "Hạn trả lời"
    header = f"{'STT':>4}  {code:<{width}} {'Trích yếu' if kind == 'directive' else 'Tiêu đề':<42} {due:<16}  " \
             f"{'Thời gian còn lại':<36} Cảnh báo"
    for unit in units:
        records = unit.directives if kind == "directive" else unit.feedback
        lines += ["", f"== {unit.unit}: {fmt_int(len(records))} {noun} ({_record_counts_text(records)})", header]
        for w in records:
            note = f" ({w.note})" if w.note else ""
            lines.append(f"{w.rank:>4}  {w.record_id:<{width}} {_clip(w.title, 42):<42} {w.due_text:<16}  "
                         f"{_clip(w.time_left, 36):<36} {w.kinds_text}{note}")
    return "\n".join(lines)


def print_warnings(settings: Settings, within_hours: float) -> int:
    """``tthc warnings``: print the open cases at risk or overdue, per unit; returns the exit code."""
    print(format_warnings_text(load_warnings(settings, within_hours)))
    return 0


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(KIND_VI=KIND_VI, KIND_SHORT_VI=KIND_SHORT_VI, RECORD_KIND_VI=RECORD_KIND_VI,
                       GROUP_VI=GROUP_VI, fmt_int=fmt_int)
    return env


def render_template(name: str, **context) -> str:
    """Render one of the templates in ``pipeline/report/warnings_templates`` (HTML ones autoescaped)."""
    return _environment().get_template(name).render(**context)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def warnings_csv_text(warnings: WarningList) -> str:
    """The CSV text (without BOM): one row per case, then per directive task, then per PAKN, the group in the first
    column; Vietnamese headers, hours with a '.' decimal mark. A task's row holds its code and title in the last
    two columns, its assignment date and deadline in the date columns; a PAKN's row also its related case code.

    Every text cell goes through :func:`pipeline.formatting.spreadsheet_safe`, so a unit, procedure or title such
    as ``=HYPERLINK(…)`` opens in Excel as text, never as a formula.
    """
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for unit in warnings.case_units:
        for case in unit.cases:
            writer.writerow([spreadsheet_safe(cell) for cell in (
                GROUP_VI["case"], unit.unit, case.rank, case.case_id, case.procedure_code, case.procedure_name,
                case.received_text, case.due_text, plain_decimal(case.hours_left, 2), case.time_left, case.kinds_text,
                "", "",
            )])
    for kind, units in (("directive", warnings.directive_units), ("feedback", warnings.feedback_units)):
        for unit in units:
            for w in unit.directives if kind == "directive" else unit.feedback:
                writer.writerow([spreadsheet_safe(cell) for cell in (
                    GROUP_VI[kind], unit.unit, w.rank, w.case_id, "", "", w.started_text, w.due_text,
                    plain_decimal(w.hours_left, 2), w.time_left,
                    w.kinds_text + (f" ({w.note})" if kind == "directive" and w.note else ""), w.record_id, w.title,
                )])
    return buffer.getvalue()


def write_warning_reports(settings: Settings, warnings: WarningList | None = None) -> list[Path]:
    """``reports/warnings/index.html`` (one section per unit) and ``reports/warnings/warnings.csv``."""
    warnings = warnings or load_warnings(settings)
    folder = Path(settings.reports_dir) / "warnings"
    html = render_template(
        "index.html.j2", w=warnings, generated_at=fmt_datetime(datetime.now().replace(microsecond=0)),
    )
    index = folder / "index.html"
    table = folder / "warnings.csv"
    _write_atomic(index, html.encode("utf-8"))
    _write_atomic(table, warnings_csv_text(warnings).encode("utf-8-sig"))
    return [index, table]
