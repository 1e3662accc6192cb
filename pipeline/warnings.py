"""The warning list (DESIGN §1, objective "cases at risk are warned about in time"): per unit, the open
cases that need action now, most urgent first.

Read from ``mart.warnings`` (built by :mod:`pipeline.warehouse.build`; one row per case and warning kind):

- ``overdue``          open and already past its first appointment;
- ``apology_missing``  overdue and no apology letter with a new appointment yet;
- ``apology_due``      not overdue, no apology yet, and the latest moment for a timely apology has come;
- ``due_soon``         open, not overdue, due within N working hours of the as-of moment.

The list shows the case code, the procedure, the receipt and due times and the working time left
("còn 3,5 giờ làm việc" / "quá hạn 12 giờ làm việc"); never anything about the applicant.
Outputs: the terminal (``tthc warnings``), ``reports/warnings/index.html`` (offline, one section per
unit) and ``reports/warnings/warnings.csv`` (UTF-8 with BOM so Excel opens it with its diacritics).
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
UNKNOWN_UNIT = "(không xác định)"
CSV_COLUMNS = [
    "Đơn vị", "STT", "Mã hồ sơ", "Mã TTHC", "Tên thủ tục", "Ngày tiếp nhận", "Hạn giải quyết",
    "Giờ làm việc còn lại", "Thời gian còn lại", "Cảnh báo",
]
# Only these columns of mart.warnings are ever read: no personal data can reach a warning.
_MART_COLUMNS = (
    "unit", "case_id", "procedure_code", "procedure_name", "received_at", "due_at", "warning_kind",
    "working_hours_left", "urgency_rank",
)


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
class UnitWarnings:
    """The warnings of one unit, most urgent first."""

    unit: str
    cases: list[WarningCase] = field(default_factory=list)

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


@dataclass
class WarningList:
    """Every unit's warnings as of one moment."""

    as_of_moment: datetime | None
    within_hours: float
    day_hours: float
    units: list[UnitWarnings]
    department_name: str = ""
    province_name: str = ""

    @property
    def total(self) -> int:
        return sum(len(u.cases) for u in self.units)

    @property
    def counts(self) -> dict[str, int]:
        return {kind: sum(u.counts[kind] for u in self.units) for kind in KIND_ORDER}

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
        rows = _mart_rows(con)
    finally:
        con.close()
    as_of_end = datetime.fromisoformat(as_of_text) if as_of_text else None
    if built_minutes is not None and round(within * 60) > int(float(built_minutes)):
        rows = _recompute_rows(settings.warehouse, settings, within, as_of_end)
    day_hours = (float(day_minutes) if day_minutes is not None else working_day_minutes(settings)) / 60
    return build_warning_list(rows, within, day_hours, as_of_end, settings)


def build_warning_list(rows: pd.DataFrame, within_hours: float, day_hours: float, as_of_moment: datetime | None,
                       settings: Settings | None = None) -> WarningList:
    """Group mart.warnings rows (one per case and kind) into one entry per case, per unit, by urgency."""
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
    return WarningList(
        as_of_moment=as_of_moment,
        within_hours=within_hours,
        day_hours=day_hours,
        units=[units[name] for name in sorted(units, key=lambda n: (n == UNKNOWN_UNIT, vi_sort_key(n)))],
        department_name=settings.department_name if settings else "",
        province_name=settings.province_name if settings else "",
    )


# --- outputs ------------------------------------------------------------------------------------


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_warnings_text(warnings: WarningList) -> str:
    """The warning list as terminal text, per unit, most urgent first."""
    lines = [
        "CẢNH BÁO HỒ SƠ THỦ TỤC HÀNH CHÍNH",
        f"Thời điểm xét: {warnings.as_of_text}; sắp đến hạn: trong {warnings.within_text}",
    ]
    if warnings.department_name:
        lines.insert(1, warnings.department_name)
    if not warnings.units:
        lines += ["", "Không có hồ sơ nào cần cảnh báo."]
        return "\n".join(lines)
    totals = ", ".join(f"{fmt_int(n)} {KIND_SHORT_VI[k]}" for k, n in warnings.counts.items() if n)
    lines.append(f"Tổng cộng {fmt_int(warnings.total)} hồ sơ cần xử lý ({totals})")
    width = max([10] + [len(c.case_id) for u in warnings.units for c in u.cases])  # case codes are never cut
    header = f"{'STT':>4}  {'Mã hồ sơ':<{width}} {'Thủ tục':<42} {'Hạn giải quyết':<16}  {'Thời gian còn lại':<36} Cảnh báo"
    for unit in warnings.units:
        lines += ["", f"== {unit.unit}: {fmt_int(len(unit.cases))} hồ sơ ({unit.counts_text})", header]
        for case in unit.cases:
            lines.append(
                f"{case.rank:>4}  {case.case_id:<{width}} {_clip(case.procedure_text, 42):<42} "
                f"{case.due_text:<16}  {_clip(case.time_left, 36):<36} {case.kinds_text}"
            )
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
    env.globals.update(KIND_VI=KIND_VI, KIND_SHORT_VI=KIND_SHORT_VI, fmt_int=fmt_int)
    return env


def render_template(name: str, **context) -> str:
    """Render one of the templates in ``pipeline/warnings_templates`` (HTML ones autoescaped)."""
    return _environment().get_template(name).render(**context)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def warnings_csv_text(warnings: WarningList) -> str:
    """The CSV text (without BOM): one row per case, Vietnamese headers, hours with a '.' decimal mark.

    Every text cell goes through :func:`pipeline.formatting.spreadsheet_safe`, so a unit or procedure
    name such as ``=HYPERLINK(…)`` opens in Excel as text, never as a formula.
    """
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for unit in warnings.units:
        for case in unit.cases:
            writer.writerow([spreadsheet_safe(cell) for cell in (
                unit.unit, case.rank, case.case_id, case.procedure_code, case.procedure_name, case.received_text,
                case.due_text, plain_decimal(case.hours_left, 2), case.time_left, case.kinds_text,
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
