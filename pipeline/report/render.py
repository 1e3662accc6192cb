"""Scorecards for leadership: offline Vietnamese HTML with Plotly charts, Biểu 06 as Excel, case lists.

``render_all`` reads the warehouse read-only and writes, under ``settings.reports_dir``::

    index.html                                        every period of the scheme, newest first, by grain
    scorecards/<scheme>/<period>.html                 one scorecard per period
    scorecards/<scheme>/<period>/<unit-slug>.html     one per unit (units=True)
    bieu06/<scheme>/<period>.xlsx                     Biểu số 06/VPCP/KSTT
    cases/index.html                                  the one case-list viewer (see caselists.py)
    cases/<scheme>/<period>.js                        the cases behind every count of a period
    cases/<scheme>/<period>.directive.js, ….feedback.js   the directive tasks and PAKN behind them (records.py)
    assets/plotly.min.js, assets/scorecard.css, assets/cases.js   shared, referenced relatively

plotly.min.js (4.8 MB) is shipped once in ``assets/`` rather than inlined into each page: a
scorecard is then about 100 kB, and a folder of scorecards to e-mail carries the library once.
Files are written to a temporary name and renamed, so a reader never sees half a page.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import jinja2
import pandas as pd
import plotly
from markupsafe import Markup

from pipeline.db import connect_existing
from pipeline.formatting import (
    DEADLINE_BASIS_VI,
    GRAIN_VI,
    SCHEME_VI,
    fmt_count_change,
    fmt_date,
    fmt_dates_range,
    fmt_datetime,
    fmt_int,
    fmt_late,
    fmt_number,
    fmt_number_short,
    fmt_pct,
    fmt_pct_against,
    fmt_pp,
    is_missing,
    last_day_of_data,
    nfc,
    slugify,
    yes_no,
)
from pipeline.periods import GRAINS, SCHEMES, parse_period, period_containing
from pipeline.report import charts
from pipeline.report.bieu06_xlsx import write_bieu06
from pipeline.report.caselists import (
    ALL,
    UNKNOWN,
    VIEWER_PAGE,
    Link,
    PeriodCaseLists,
    Slice,
    data_file,
    late_case_rows,
    rel,
    viewer_config,
)
from pipeline.report.data import BIEU06_COLUMNS, BIEU06_FIELDS, PeriodRow, WarehouseData
from pipeline.report.manifest import Manifest, code_version, fingerprint
from pipeline.report.records import KINDS, PeriodRecordLists, record_data_file, records_viewer_config

TEMPLATES = Path(__file__).parent / "templates"
ASSETS = Path(__file__).parent / "assets"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
WEEKDAYS_VI = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"]


@dataclass(frozen=True)
class ObjectiveSpec:
    """How a quality objective is shown as a tile: its kind of record, title, the column of the kind's kpi row
    that holds its value, and the linked numerator and denominator (filter id, columns summed; a directive
    filter id holds ``{b}``, the deadline basis the objective is judged on: ``o`` or ``e``)."""

    measure: str
    kind: str  # case | directive | feedback
    title: str
    column: str
    numerator: tuple[str | None, tuple[str, ...]]
    denominator: tuple[str | None, tuple[str, ...]]
    noun: str
    empty_note: str


ALL_RECORDS = "*"  # a record link without a filter: every record of the period
KIND_VI = {"case": "Hồ sơ TTHC", "directive": "Nhiệm vụ UBND tỉnh giao", "feedback": "Phản ánh, kiến nghị"}
# The quality objectives shown as tiles, in the order a leader reads them; a measure with a target that is
# not listed here gets a plain tile from mart.objective.
OBJECTIVES = (
    ObjectiveSpec("on_time_rate", "case", "Giải quyết đúng hạn và trước hạn", "on_time_rate",
                  ("ontime", ("early", "on_time")), ("c7", ("resolved_total",)), "hồ sơ đã giải quyết",
                  "Không có hồ sơ được giải quyết trong kỳ"),
    ObjectiveSpec("early_rate", "case", "Giải quyết trước hạn", "early_rate", ("c8", ("early",)),
                  ("c7", ("resolved_total",)), "hồ sơ đã giải quyết", "Không có hồ sơ được giải quyết trong kỳ"),
    ObjectiveSpec("satisfaction_rate", "case", "Người dân, doanh nghiệp hài lòng", "satisfaction_rate",
                  (None, ("satisfied",)), (None, ("ratings",)), "lượt đánh giá", "Chưa có lượt đánh giá trong kỳ"),
    ObjectiveSpec("apology_rate", "case", "Xin lỗi và hẹn lại khi quá hạn", "apology_rate",
                  ("apology", ("late_with_apology",)), ("c10", ("late",)), "hồ sơ quá hạn",
                  "Không có hồ sơ quá hạn trong kỳ"),
    ObjectiveSpec("directive_on_time_rate", "directive", "Ý kiến chỉ đạo của UBND tỉnh hoàn thành đúng hạn",
                  "strict_rate", ("ontime_{b}", ("completed_on_time",)), ("due_{b}", ("due_total",)),
                  "nhiệm vụ đến hạn", "Không có nhiệm vụ đến hạn trong kỳ"),
    ObjectiveSpec("directive_completion_rate", "directive", "Ý kiến chỉ đạo đến hạn đã hoàn thành", "headline_rate",
                  ("done", ("completed_on_time", "completed_late")), ("due_{b}", ("due_total",)),
                  "nhiệm vụ đến hạn", "Không có nhiệm vụ đến hạn trong kỳ"),
    ObjectiveSpec("feedback_handled_rate", "feedback", "Phản ánh, kiến nghị được xử lý, không để quá hạn",
                  "handled_rate", ("notover", ("handled_total", "open_in_time")),
                  (ALL_RECORDS, ("handled_total", "open_total")), "PAKN", "Không có PAKN nào trong kỳ"),
    ObjectiveSpec("feedback_on_time_rate", "feedback", "Phản ánh, kiến nghị xử lý đúng hạn", "on_time_rate",
                  ("hot", ("handled_on_time",)), ("handled", ("handled_total",)), "PAKN đã xử lý",
                  "Không có PAKN được xử lý trong kỳ"),
    ObjectiveSpec("feedback_rate_5_2", "feedback", "Tiến độ xử lý PAKN (QĐ 766, mục 5.2)", "rate_5_2",
                  ("ok", ("handled_on_time", "open_in_time")), (ALL_RECORDS, ("handled_total", "open_total")),
                  "PAKN", "Không có PAKN nào trong kỳ"),
)
OBJECTIVE_SPECS = {spec.measure: spec for spec in OBJECTIVES}
MEASURE_TITLE = {spec.measure: spec.title for spec in OBJECTIVES}
# The objectives the index lists per period, with their short column headings.
INDEX_COLUMNS = (
    ("on_time_rate", "Đúng hạn và trước hạn"), ("early_rate", "Trước hạn"), ("satisfaction_rate", "Hài lòng"),
    ("apology_rate", "Xin lỗi khi quá hạn"), ("directive_on_time_rate", "Nhiệm vụ UBND tỉnh giao đúng hạn"),
    ("feedback_handled_rate", "PAKN không để quá hạn"), ("feedback_on_time_rate", "PAKN xử lý đúng hạn"),
)

END_RULE_VI = {
    "finished_else_returned": "Thời điểm kết thúc hồ sơ là ngày kết thúc xử lý; hồ sơ chỉ có ngày trả kết quả thì "
                              "dùng ngày trả kết quả và được ghi nhận là thiếu sót dữ liệu.",
    "finished_only": "Thời điểm kết thúc hồ sơ là ngày kết thúc xử lý (không dùng ngày trả kết quả).",
    "returned_only": "Thời điểm kết thúc hồ sơ là ngày trả kết quả cho tổ chức, cá nhân.",
}
END_RULE_SHORT = {
    "finished_else_returned": "kết thúc = ngày kết thúc xử lý (thiếu thì ngày trả kết quả)",
    "finished_only": "kết thúc = ngày kết thúc xử lý",
    "returned_only": "kết thúc = ngày trả kết quả",
}


def early_rule_vi(settings) -> tuple[str, str]:
    """The early rule in Vietnamese: (full sentence, short form)."""
    if settings.early_rule == "working_hours":
        hours = fmt_number_short(settings.early_working_hours, 1)
        return (f"Trước hạn: kết thúc sớm hơn thời điểm hẹn trả ít nhất {hours} giờ làm việc.",
                f"trước hạn = sớm ít nhất {hours} giờ làm việc")
    if settings.early_rule == "half_day":
        return ("Trước hạn: kết thúc ở một buổi làm việc (sáng/chiều) trước buổi của thời điểm hẹn trả.",
                "trước hạn = xong trước buổi hẹn trả")
    return ("Trước hạn: kết thúc vào một ngày trước ngày hẹn trả.", "trước hạn = xong trước ngày hẹn trả")


def rules_vi(settings) -> dict:
    """The timeliness rules used, as leadership reads them (DESIGN §4)."""
    days = sorted(int(d) for d in settings.work_weekdays.split(",") if d.strip())
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        weekdays = f"{WEEKDAYS_VI[days[0]]} đến {WEEKDAYS_VI[days[-1]].lower()}"
    else:
        weekdays = ", ".join(WEEKDAYS_VI[d] for d in days)
    sessions = ", ".join(s.strip().replace("-", "–") for s in settings.work_sessions.split(","))
    early_full, early_short = early_rule_vi(settings)
    full = [
        END_RULE_VI[settings.end_time_rule],
        "Quá hạn: thời điểm kết thúc (sau khi trừ thời gian tạm dừng) muộn hơn thời điểm hẹn trả lần đầu, "
        "so sánh đến từng phút theo giờ Việt Nam; trễ 5 phút cũng là quá hạn.",
        early_full,
        "Đúng hạn: đã giải quyết, không quá hạn và không trước hạn.",
        "Luôn so với thời điểm hẹn trả lần đầu; văn bản xin lỗi và hẹn lại không làm hồ sơ quá hạn thành đúng hạn.",
    ]
    if settings.subtract_supplement_pauses:
        full.append("Thời gian chờ tổ chức, cá nhân bổ sung hồ sơ được trừ khỏi thời gian giải quyết.")
    if settings.multiple_supplements_late:
        full.append("Hồ sơ yêu cầu bổ sung từ hai lần trở lên được tính là quá hạn (theo Bộ chỉ số 766).")
    full += [
        "Hồ sơ rút và hồ sơ dừng xử lý được tính là đã giải quyết và cũng được thống kê riêng.",
        "Hồ sơ đang giải quyết cuối kỳ: trong hạn nếu hạn trả không sớm hơn 24:00 ngày cuối kỳ, ngược lại là quá hạn.",
        f"Thời gian làm việc: {weekdays}, {sessions}; trừ ngày nghỉ lễ, Tết theo quy định.",
    ]
    short = f"{END_RULE_SHORT[settings.end_time_rule]}; {early_short}; quá hạn tính đến từng phút so với hẹn trả lần đầu"
    return {"full": full, "short": short}


# --- small building blocks -------------------------------------------------------------------------


@dataclass
class Scope:
    """Whose scorecard: the department (dimension 'all') or one unit."""

    dimension: str
    value: str
    slice: Slice
    name: str
    page: str
    unit_slug: str | None = None


@dataclass(frozen=True)
class PeriodFiles:
    """The files of one period, relative to the reports folder."""

    scorecard: str
    xlsx: str
    cases: str
    unit_pages: dict[str, str]
    records: dict[str, str] = field(default_factory=dict)

    @property
    def pages(self) -> list[str]:
        """The scorecard, the Biểu 06 workbook and the unit scorecards."""
        return [self.scorecard, self.xlsx, *self.unit_pages.values()]


@dataclass
class Tile:
    """One tile of the objectives strip: a quality objective (or the overdue-cases alert)."""

    measure: str
    title: str
    value: str
    target: str | None
    verdict: str | None
    status: str  # met | missed | nodata | alert | ok
    change: str
    change_status: str  # better | worse | same | none
    detail: list = field(default_factory=list)
    note: str | None = None
    noun: str = ""
    change_note: str = ""
    kind: str = "case"

    @property
    def kind_vi(self) -> str:
        return KIND_VI[self.kind]

    @property
    def is_objective(self) -> bool:
        return self.status in ("met", "missed", "nodata")


def _atomic_write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path


def _copy_if_changed(source: Path, target: Path) -> bool:
    """Copy a file unless the target has the same bytes; whether it was copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and _digest(target) == _digest(source):
        return False
    temporary = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, temporary)
    os.replace(temporary, target)
    return True


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _unique_slugs(values: list[str]) -> dict[str, str]:
    """File-name slugs of names, unique among them (a short hash is added on a collision)."""
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for value in sorted(values, key=str):
        slug = slugify(value)
        if slug in taken:
            slug = f"{slug}-{hashlib.sha1(str(value).encode()).hexdigest()[:6]}"
        taken.add(slug)
        slugs[value] = slug
    return slugs


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update({
        "int": fmt_int, "pct": fmt_pct, "pp": fmt_pp, "date": fmt_date, "datetime": fmt_datetime,
        "late": fmt_late, "yesno": yes_no, "num": fmt_number,
    })
    return env


def _status(verdict: object) -> str:
    if verdict == "Đạt":
        return "met"
    if verdict == "Không đạt":
        return "missed"
    return "none"


def _change_status(delta: object, higher_is_better: bool = True) -> str:
    if is_missing(delta):
        return "none"
    if abs(float(delta)) < 1e-9:
        return "same"
    return "better" if (float(delta) > 0) == higher_is_better else "worse"


def _sum(row: dict, columns: tuple[str, ...]) -> int | None:
    """The sum of a row's count columns, or None when one is missing."""
    values = [row.get(c) for c in columns]
    return None if any(is_missing(v) for v in values) else sum(int(v) for v in values)


def _clean_row(row: dict) -> dict:
    """A mart row with NaN/NaT/NA as None and numpy scalars as Python values."""
    return {key: (None if is_missing(v) else v.item() if hasattr(v, "item") and not isinstance(v, pd.Timestamp)
                  else v) for key, v in row.items()}


def _unit_name(value: object) -> str:
    return "Không rõ" if is_missing(value) or value == UNKNOWN else nfc(value)


def _summary(tiles: list[Tile]) -> dict:
    """The objectives strip's summary: n met of N objectives, those missed and those without data."""
    objectives = [t for t in tiles if t.is_objective]
    return {"met": sum(t.status == "met" for t in objectives), "total": len(objectives),
            "missed_titles": [t.title for t in objectives if t.status == "missed"],
            "nodata_titles": [t.title for t in objectives if t.status == "nodata"]}


# --- the renderer ----------------------------------------------------------------------------------


class Renderer:
    """Renders every page of one run; holds the warehouse reader, settings and Jinja environment."""

    def __init__(self, settings, wh: WarehouseData):
        self.settings = settings
        self.wh = wh
        self.scheme = settings.period_scheme
        self.out = Path(settings.reports_dir)
        self.env = _environment()
        self.rules = rules_vi(settings)
        self.freshness = wh.data_freshness()
        self.quality = wh.data_quality()
        self.generated_at = datetime.now()
        self.written: list[Path] = []
        self.all_periods = wh.scheme_periods(self.scheme)
        self.code_version = code_version()
        self.record_rules = self._record_rules()
        self._kind_rows_cache: dict[tuple, dict] = {}
        self._target_sources: dict[tuple, str | None] = {}

    def _record_rules(self) -> dict:
        """The directive and PAKN rules the marts were built with (mart.timeliness_rules; else the settings)."""
        basis = self.wh.rule("directive_objective_basis") or self.settings.directive_objective_basis
        day_minutes = float(self.wh.rule("day_minutes") or 0) or None
        soon_minutes = self.wh.rule("directive_due_soon_minutes")
        soon_days = (float(soon_minutes) / day_minutes if soon_minutes and day_minutes
                     else float(self.settings.directive_due_soon_working_days))
        answer_minutes = self.wh.rule("feedback_answer_minutes")
        answer_days = (float(answer_minutes) / day_minutes if answer_minutes and day_minutes
                       else float(self.settings.feedback_answer_working_days))
        return {"basis": basis, "basis_code": "e" if basis == "extended" else "o",
                "basis_vi": DEADLINE_BASIS_VI[basis], "soon_days": fmt_number_short(soon_days, 1),
                "answer_days": fmt_number_short(answer_days, 1)}

    # --- pages ----------------------------------------------------------------------------------
    def write_page(self, page: str, template: str, **context) -> Path:
        root = rel(page, "index.html").removesuffix("index.html")
        html = self.env.get_template(template).render(
            root=root, page=page, settings=self.settings, generated_at=self.generated_at,
            freshness=self.freshness, scheme_vi=SCHEME_VI[self.scheme], **context,
        )
        path = _atomic_write(self.out / page, html)
        self.written.append(path)
        return path

    def copy_assets(self) -> None:
        """plotly.min.js and this package's assets, copied when they differ from the reports folder's."""
        sources = [(PLOTLY_JS, "plotly.min.js"), *((a, a.name) for a in sorted(ASSETS.glob("*")) if a.is_file())]
        for source, name in sources:
            if _copy_if_changed(source, self.out / "assets" / name):
                self.written.append(self.out / "assets" / name)

    # --- one period ---------------------------------------------------------------------------
    def period_files(self, period: PeriodRow, units: bool) -> PeriodFiles:
        """The files of a period (relative to the reports folder)."""
        unit_pages = {}
        if units:
            unit_values = self.wh.kpi(self.scheme, period.label, "unit")["dimension_value"].tolist()
            slugs = _unique_slugs(unit_values)
            unit_pages = {v: f"scorecards/{self.scheme}/{period.label}/{slugs[v]}.html" for v in unit_values}
        return PeriodFiles(scorecard=f"scorecards/{self.scheme}/{period.label}.html",
                           xlsx=f"bieu06/{self.scheme}/{period.label}.xlsx",
                           cases=data_file(self.scheme, period.label), unit_pages=unit_pages,
                           records={kind: record_data_file(self.scheme, period.label, kind) for kind in KINDS})

    def record_lists(self, period: PeriodRow) -> dict[str, PeriodRecordLists]:
        """The directive tasks and PAKN of a period, as the viewer lists them."""
        return {
            "directive": PeriodRecordLists("directive", self.scheme, period.label,
                                           self.wh.directives_of_period(self.scheme, period.label)),
            "feedback": PeriodRecordLists("feedback", self.scheme, period.label,
                                          self.wh.feedback_of_period(self.scheme, period.label)),
        }

    def render_period(self, period: PeriodRow, files: PeriodFiles, cases: pd.DataFrame, *, pages: bool = True,
                      case_data: bool = True, record_data: tuple[str, ...] = tuple(KINDS)) -> dict | None:
        """A period's scorecard(s) and Biểu 06 (``pages``), its case-data file (``case_data``) and its directive
        and PAKN data files (the kinds in ``record_data``); returns the index entry when the pages were made."""
        lists = PeriodCaseLists(self.scheme, period.label, cases)
        records = self.record_lists(period) if pages or record_data else {}
        entry = None
        if pages:
            bieu06 = self.wh.bieu06(self.scheme, period.label).to_dict("records")
            scopes = [Scope("all", "all", ALL, "Toàn cơ quan", files.scorecard)]
            scopes += [Scope("unit", v, (("unit", v),), v, page, page.rsplit("/", 1)[1].removesuffix(".html"))
                       for v, page in files.unit_pages.items()]
            for scope in scopes:
                context = self.scorecard_context(period, scope, lists, records, bieu06, files.xlsx, files.unit_pages)
                self.write_page(scope.page, "scorecard.html.j2", **context)
                if scope.dimension == "all":
                    entry = self._entry(period, files, context["kpi"], context["tiles"], context["summary"])
                else:
                    entry["units"].append({"name": scope.name, "page": scope.page, "tiles": context["tiles"],
                                           "by": {t.measure: t for t in context["tiles"]},
                                           "summary": context["summary"]})
            self.written.append(write_bieu06(
                self.out / files.xlsx, bieu06, department=self.settings.department_name,
                province=self.settings.province_name, period_name=period.name, dates_text=_dates_text(period),
                today=last_day_of_data(period.judged_at) or period.last_day,
            ))
        for kind in record_data:
            self.write_record_data(period, records[kind], files.records[kind], files.scorecard)
        if case_data:
            self.write_case_data(period, lists, files.scorecard)
        return entry

    @staticmethod
    def _entry(period: PeriodRow, files: PeriodFiles, kpi: dict, tiles: list[Tile], summary: dict) -> dict:
        return {"period": period, "page": files.scorecard, "xlsx": files.xlsx, "kpi": kpi, "tiles": tiles,
                "by": {t.measure: t for t in tiles}, "summary": summary, "units": []}

    def index_entry(self, period: PeriodRow, files: PeriodFiles) -> dict:
        """The index row of a period whose pages were not rewritten (its tiles from the marts)."""
        def figure(kind: str, filter_id: str | None, value: object, slice_: Slice | None = None) -> object:
            return value

        def tiles(scope: Scope) -> tuple[list[Tile], dict]:
            made = self._tiles(period, scope, figure)
            return made, _summary(made)

        department, summary = tiles(Scope("all", "all", ALL, "Toàn cơ quan", files.scorecard))
        entry = self._entry(period, files, self.wh.kpi_row(self.scheme, period.label) or {}, department, summary)
        for v, page in files.unit_pages.items():
            unit_tiles, unit_summary = tiles(Scope("unit", v, (("unit", v),), v, page))
            entry["units"].append({"name": v, "page": page, "tiles": unit_tiles,
                                   "by": {t.measure: t for t in unit_tiles}, "summary": unit_summary})
        return entry

    def write_case_data(self, period: PeriodRow, lists: PeriodCaseLists, scorecard_page: str) -> Path:
        """The period's case-data file for the case-list viewer."""
        path = _atomic_write(self.out / data_file(self.scheme, period.label), lists.data_js(self._meta(period,
                                                                                                      scorecard_page)))
        self.written.append(path)
        return path

    def write_record_data(self, period: PeriodRow, lists: PeriodRecordLists, path: str, scorecard_page: str) -> Path:
        """A period's directive or PAKN data file for the viewer."""
        written = _atomic_write(self.out / path, lists.data_js(self._meta(period, scorecard_page)))
        self.written.append(written)
        return written

    @staticmethod
    def _meta(period: PeriodRow, scorecard_page: str) -> dict:
        return {"period_name": period.name, "dates_text": _dates_text(period), "scorecard": scorecard_page,
                "status_text": _period_status(period) or ""}

    def render_viewer(self) -> Path:
        """The one list viewer page, ``cases/index.html`` (cases, directive tasks and PAKN)."""
        config = {**viewer_config(), "kinds": records_viewer_config()}
        text = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
        return self.write_page(VIEWER_PAGE, "cases.html.j2", config_json=Markup(text))

    # --- fingerprints -----------------------------------------------------------------------------
    def month_window(self, period: PeriodRow) -> list:
        """The 12 months the scorecard's monthly charts show, oldest first (ending with the period's last)."""
        months = [period_containing(period.last_day, "month", self.scheme)]
        for _ in range(11):
            months.insert(0, months[0].previous())
        return months

    def trend_labels(self, period: PeriodRow, count: int = 8) -> list[str]:
        """The period and up to ``count - 1`` periods of its grain before it, oldest first (the directive and
        PAKN trend charts)."""
        labels = [period.label]
        current = parse_period(period.label, self.scheme)
        for _ in range(count - 1):
            current = current.previous()
            if current.label not in self.all_periods:
                break
            labels.insert(0, current.label)
        return labels

    def fingerprints(self, periods: list[PeriodRow], units: bool) -> dict[str, dict[str, str]]:
        """For each period, the fingerprint of each part: ``cases`` (its case data), ``directive`` and
        ``feedback`` (its directive and PAKN data) and ``pages``: everything each shows."""
        labels = [p.label for p in periods]
        cases = self.wh.case_digests(self.scheme, labels)
        kpi = self.wh.period_digests("mart.kpi_period", self.scheme)
        objectives = self.wh.period_digests("mart.objective", self.scheme)
        bieu06 = self.wh.period_digests("mart.bieu06", self.scheme)
        directive_kpi = self.wh.period_digests("mart.directive_kpi_period", self.scheme)
        feedback_kpi = self.wh.period_digests("mart.feedback_kpi_period", self.scheme)
        records = {kind: self.wh.record_digests(kind, self.scheme) for kind in KINDS}
        shown = {"department": self.settings.department_name, "province": self.settings.province_name,
                 "scheme": self.scheme, "rules": self.rules, "record_rules": self.record_rules, "units": units}
        targets: dict[int, list] = {}

        def row(label: str | None) -> dict | None:
            found = self.all_periods.get(label) if label else None
            return None if found is None else asdict(found)

        def year_targets(label: str) -> list:
            year = int(label[:4])
            if year not in targets:
                targets[year] = self.wh.target_rows(year)
            return targets[year]

        out = {}
        for period in periods:
            previous = self._previous_label(period)
            months = [m.label for m in self.month_window(period)]
            trend = sorted({*self.trend_labels(period), *([previous] if previous else [])})
            prints = {"cases": fingerprint(self.code_version, "cases", self.scheme, row(period.label),
                                           cases.get(period.label))}
            for kind in KINDS:
                prints[kind] = fingerprint(self.code_version, kind, self.scheme, row(period.label),
                                           records[kind].get(period.label))
            prints["pages"] = fingerprint(
                self.code_version, "pages", shown, row(period.label), row(previous), cases.get(period.label),
                kpi.get(period.label), kpi.get(previous), objectives.get(period.label), bieu06.get(period.label),
                [(row(m), kpi.get(m)) for m in months], year_targets(period.label),
                [records[kind].get(period.label) for kind in KINDS],
                [(row(t), directive_kpi.get(t), feedback_kpi.get(t)) for t in trend],
            )
            out[period.label] = prints
        return out

    # --- scorecard context ----------------------------------------------------------------------
    def scorecard_context(self, period: PeriodRow, scope: Scope, lists: PeriodCaseLists,
                          records: dict[str, PeriodRecordLists], bieu06: list[dict], xlsx_page: str,
                          unit_pages: dict[str, str]) -> dict:
        page = scope.page
        checks_before = len(lists.checks)
        record_checks_before = {kind: len(r.checks) for kind, r in records.items()}
        kpi = self.wh.kpi_row(self.scheme, period.label, scope.dimension, scope.value) or {}
        previous = self._previous(period)
        objectives = self.wh.objectives(self.scheme, period.label, scope.dimension, scope.value)

        def link(filter_id: str, figure: object, slice_: Slice = scope.slice):
            return lists.link(page, slice_, filter_id, figure)

        def any_link(kind: str, filter_id: str | None, figure: object, slice_: Slice | None = None):
            slice_ = scope.slice if slice_ is None else slice_
            if kind == "case":
                return lists.link(page, slice_, filter_id, figure)
            return records[kind].link(page, slice_, None if filter_id == ALL_RECORDS else filter_id, figure)

        tiles = self._tiles(period, scope, any_link)
        summary = {**_summary(tiles), "year": period.label[:4],
                   "source": self._target_sources.get((period.label, scope.dimension, scope.value))}
        key_figures = {key: link(fid, kpi.get(col)) for key, fid, col in (
            ("received", "c3", "received_total"), ("online", "c4", "received_online"),
            ("offline", "c5", "received_offline"), ("carried", "c6", "carried_over"),
            ("resolved", "c7", "resolved_total"), ("early", "c8", "early"), ("on_time", "c9", "on_time"),
            ("late", "c10", "late"), ("open", "c11", "open_total"), ("open_in_time", "c12", "open_in_time"),
            ("open_overdue", "c13", "open_overdue"), ("withdrawn", "withdrawn", "withdrawn"),
            ("stopped", "stopped", "stopped"),
        )}

        if scope.dimension == "all":
            units_rows = self._unit_rows(period, lists, page, unit_pages)
            bieu = self._bieu06_rows(bieu06, lists, page)
            procedures = self._procedure_rows_from_mart(period, lists, page)
            sector_chart_rows = [{"name": r["name"], **r["chart"]} for r in bieu["rows"]]
        else:
            units_rows = []
            bieu = self._bieu06_rows_from_cases(lists, scope, page)
            procedures = self._procedure_rows_from_cases(lists, scope, page)
            sector_chart_rows = [{"name": r["name"], **r["chart"]} for r in bieu["rows"]]
        directives = self._directive_section(period, scope, any_link, unit_pages, page, objectives)
        feedback = self._feedback_section(period, scope, any_link, unit_pages, page, objectives)
        late_rows, late_count = late_case_rows(lists, scope.slice)
        focus = self._focus(kpi, units_rows, procedures, key_figures, link, page, directives, feedback)
        figures = self._charts(period, scope, objectives, units_rows, sector_chart_rows, lists)
        figures += [c for c in (directives.get("chart"), feedback.get("chart")) if c]
        quality_links = {fid: link(fid, lists.count(scope.slice, fid)) for fid in ("returned", "beyond", "resched")}
        mismatches = lists.checks[checks_before:]
        for kind, record_lists in records.items():
            mismatches += record_lists.checks[record_checks_before[kind]:]
        return {
            "period": period, "dates_text": _dates_text(period), "scope": scope,
            "previous": previous, "kpi": kpi, "tiles": tiles, "summary": summary, "key": key_figures,
            "units": units_rows, "bieu06": bieu, "procedures": procedures, "focus": focus,
            "directives": directives, "feedback": feedback,
            "late_rows": late_rows, "late_count": late_count, "late_all": link("c10", late_count),
            "charts": figures, "quality": self.quality, "quality_links": quality_links,
            "mismatches": mismatches,
            "links_made": lists.links_made + sum(r.links_made for r in records.values()),
            "rules": self.rules, "record_rules": self.record_rules,
            "xlsx": rel(page, xlsx_page) if scope.dimension == "all" else None,
            "department_page": rel(page, f"scorecards/{self.scheme}/{period.label}.html"),
            "validation_href": rel(page, "validation/index.html"),
            "warnings_href": rel(page, "warnings/index.html"),
            "index_href": rel(page, "index.html"),
            "unit_links": [{"name": n, "href": rel(page, p)} for n, p in unit_pages.items()],
            "status_text": _period_status(period),
            "data_until": fmt_date(last_day_of_data(period.judged_at) or period.last_day),
        }

    def _previous_label(self, period: PeriodRow) -> str | None:
        try:
            return parse_period(period.label, self.scheme).previous().label
        except ValueError:
            return None

    def _previous(self, period: PeriodRow) -> PeriodRow | None:
        return self.all_periods.get(self._previous_label(period))

    def kind_rows(self, label: str, scope: Scope) -> dict[str, dict | None]:
        """The scope's measures of a period per kind: the case kpi row, the directive row on the objective's
        deadline basis and the PAKN row (None where the period has none)."""
        key = (label, scope.dimension, scope.value)
        if key not in self._kind_rows_cache:
            out: dict[str, dict | None] = {"case": self.wh.kpi_row(self.scheme, label, scope.dimension, scope.value)}
            for kind in ("directive", "feedback"):
                frame = self.wh.kind_kpi(kind, self.scheme, [label], scope.dimension, scope.value)
                if kind == "directive" and not frame.empty:
                    frame = frame[frame["deadline_basis"] == self.record_rules["basis"]]
                out[kind] = None if frame.empty else _clean_row(frame.iloc[0].to_dict())
            self._kind_rows_cache[key] = out
        return self._kind_rows_cache[key]

    def _tiles(self, period: PeriodRow, scope: Scope, link) -> list[Tile]:
        """One tile per quality objective of the period's year (cases, directives, PAKN), then the alert tile
        of cases open past their due time. ``link(kind, filter id, figure)`` makes a linked count."""
        year = int(period.label[:4])
        targets = self.wh.targets(year, scope.value if scope.dimension == "unit" else None)
        objectives = self.wh.objectives(self.scheme, period.label, scope.dimension, scope.value)
        previous = self._previous(period)
        rows = self.kind_rows(period.label, scope)
        previous_rows = self.kind_rows(previous.label, scope) if previous else None
        measures = [m for m in OBJECTIVE_SPECS if m in targets] + [m for m in targets if m not in OBJECTIVE_SPECS]
        tiles = [self._objective_tile(m, targets[m], objectives.get(m), rows, previous_rows, previous, link)
                 for m in measures]
        self._target_sources[(period.label, scope.dimension, scope.value)] = next(
            (t.get("source") for t in targets.values() if t.get("source")), None)
        kpi, kpi_prev = rows["case"] or {}, (previous_rows or {}).get("case")
        prev_name = previous.name if previous else None
        overdue = kpi.get("open_overdue")
        prev_overdue = kpi_prev.get("open_overdue") if kpi_prev else None
        delta = None if is_missing(overdue) or is_missing(prev_overdue) else int(overdue) - int(prev_overdue)
        tiles.append(Tile(
            measure="open_overdue", title="Hồ sơ đang giải quyết đã quá hạn", value=fmt_int(overdue),
            target="0 hồ sơ", verdict=None, status="alert" if overdue else "ok",
            change=fmt_count_change(delta) if delta is not None else "Chưa có số liệu kỳ trước",
            change_note=f"so với {prev_name} ({fmt_int(prev_overdue)})" if delta is not None else "",
            change_status=_change_status(delta, higher_is_better=False),
            detail=[link("case", "c13", overdue), link("case", "c11", kpi.get("open_total"))],
            note="Cần xử lý ngay" if overdue else "Không có hồ sơ quá hạn", noun="hồ sơ đang giải quyết",
        ))
        return tiles

    def _objective_tile(self, measure: str, target: dict, objective: dict | None, rows: dict,
                        previous_rows: dict | None, previous: PeriodRow | None, link) -> Tile:
        """The tile of one objective: value, target, verdict (or "chưa có số liệu"), change, linked counts."""
        objective = objective or {}
        spec = OBJECTIVE_SPECS.get(measure)
        target_text = objective.get("target_text") or target.get("target_text")
        target_value = target.get("value")
        kind = spec.kind if spec else ("directive" if measure.startswith("directive_")
                                       else "feedback" if measure.startswith("feedback_") else "case")
        row = rows.get(kind)
        value = row.get(spec.column) if spec and row else objective.get("value")
        previous_row = (previous_rows or {}).get(kind)
        previous_value = previous_row.get(spec.column) if spec and previous_row else None
        verdict = objective.get("verdict") if not is_missing(value) else None
        status = {"met": "met", "missed": "missed"}.get(_status(verdict), "nodata")
        detail, note, noun = [], None, ""
        if spec and row:
            basis = self.record_rules["basis_code"]
            numerator = _sum(row, spec.numerator[1])
            denominator = _sum(row, spec.denominator[1])
            (num_filter, _), (den_filter, _) = spec.numerator, spec.denominator
            if num_filter:
                detail = [link(kind, num_filter.format(b=basis), numerator),
                          link(kind, den_filter.format(b=basis), denominator)]
            else:
                detail = [fmt_int(numerator), fmt_int(denominator)]
            noun = spec.noun + (f", theo {self.record_rules['basis_vi']}" if kind == "directive" else "")
            if not denominator:
                note = spec.empty_note
        elif spec:
            note = {"directive": "Kỳ này không có nhiệm vụ nào do UBND tỉnh giao.",
                    "feedback": "Kỳ này không có phản ánh, kiến nghị nào."}.get(kind, "Kỳ này không có số liệu.")
        delta = None
        if not is_missing(value) and not is_missing(previous_value):
            delta = float(value) - float(previous_value)
        prev_name = previous.name if previous else None
        change_note = ""
        if previous_row is None or previous is None:
            change = "Chưa có số liệu kỳ trước"
        elif delta is None:
            change = f"Kỳ trước ({prev_name}): {fmt_pct(previous_value)}"
        else:
            change = fmt_pp(delta)
            change_note = f"so với {prev_name} ({fmt_pct(previous_value)})"
        title = spec.title if spec else (objective.get("measure_name") or measure)
        return Tile(
            measure=measure, title=title, kind=kind,
            value=fmt_pct_against(value, target_value) if not is_missing(value) else "Chưa có số liệu",
            target=target_text, verdict=verdict if status != "nodata" else "Chưa có số liệu", status=status,
            change=change, change_status=_change_status(delta), detail=detail, note=note, noun=noun,
            change_note=change_note,
        )

    def _focus(self, kpi: dict, unit_rows: list[dict], procedures: list[dict], key: dict, link, page: str,
               directives: dict, feedback: dict) -> list:
        """What needs leadership's attention, each point a list of text and linked counts."""
        points = []
        late_units = [u for u in unit_rows if u["late_value"] > 0]
        if late_units:
            u = late_units[0]
            points.append(["Đơn vị có nhiều hồ sơ quá hạn nhất: ", u["name"], " – ", u["late"], " hồ sơ quá hạn (",
                           u["no_apology"], " chưa có văn bản xin lỗi), tỷ lệ đúng hạn ", u["on_time_rate"], "."])
        if procedures:
            p = procedures[0]
            points.append(["Thủ tục có nhiều hồ sơ quá hạn nhất: ", f"{p['code']} – {p['name']}", " – ", p["late"],
                           " hồ sơ quá hạn trên ", p["resolved"], " hồ sơ đã giải quyết."])
        late, with_apology = kpi.get("late"), kpi.get("late_with_apology")
        if late and with_apology is not None and int(late) > int(with_apology):
            points.append([link("noapology", int(late) - int(with_apology)),
                           " hồ sơ quá hạn chưa có văn bản xin lỗi và hẹn lại thời gian trả kết quả."])
        if kpi.get("open_overdue"):
            points.append([key["open_overdue"], " hồ sơ đang giải quyết đã quá hạn tại thời điểm cuối kỳ: cần đôn đốc "
                           "giải quyết ngay."])
        if directives.get("overdue_link") is not None:
            points.append([directives["overdue_link"], " nhiệm vụ do UBND tỉnh giao đang thực hiện quá hạn so với "
                           f"{self.record_rules['basis_vi']} tại thời điểm cuối kỳ."])
        if feedback.get("overdue_link") is not None:
            points.append([feedback["overdue_link"], " phản ánh, kiến nghị đang xử lý đã quá "
                           f"{self.record_rules['answer_days']} ngày làm việc tại thời điểm cuối kỳ."])
        return points

    # --- directives and PAKN ----------------------------------------------------------------------
    def _kind_trend(self, kind: str, period: PeriodRow, scope: Scope) -> list[dict]:
        labels = self.trend_labels(period)
        frame = self.wh.kind_kpi(kind, self.scheme, labels, scope.dimension, scope.value)
        if kind == "directive" and not frame.empty:
            frame = frame[frame["deadline_basis"] == self.record_rules["basis"]]
        found = {r["period"]: _clean_row(r) for r in frame.to_dict("records")}
        return [{**found[label], "label": label, "name": self.all_periods[label].name}
                for label in labels if label in found]

    def _directive_section(self, period: PeriodRow, scope: Scope, link, unit_pages: dict, page: str,
                           objectives: dict) -> dict:
        """The directives section: key figures on both deadline bases, the trend chart and the lead units."""
        frame = self.wh.kind_kpi("directive", self.scheme, [period.label], scope.dimension, scope.value)
        basis, code = self.record_rules["basis"], self.record_rules["basis_code"]
        out: dict = {"has_data": not frame.empty, "basis": basis, "basis_vi": self.record_rules["basis_vi"],
                     "soon_days": self.record_rules["soon_days"], "overdue_link": None, "chart": None, "units": []}
        if frame.empty:
            return out
        rows = {r["deadline_basis"]: _clean_row(r) for r in frame.to_dict("records")}
        original, extended = rows.get("original") or {}, rows.get("extended") or {}
        objective = objectives.get("directive_on_time_rate") or {}

        def both(filter_prefix: str, column: str) -> list:
            return [link("directive", f"{filter_prefix}_o", original.get(column)),
                    link("directive", f"{filter_prefix}_e", extended.get(column))]

        def one(filter_id: str, column: str) -> list:
            return [link("directive", filter_id, extended.get(column))]

        out["figures"] = [
            {"key": "assigned_total", "label": "Được giao trong kỳ", "cells": one("assigned", "assigned_total")},
            {"key": "due_total", "label": "Đến hạn trong kỳ (đã hoàn thành + đang thực hiện quá hạn)",
             "cells": both("due", "due_total")},
            {"key": "completed_on_time", "label": "Hoàn thành đúng hạn", "cells": both("ontime", "completed_on_time")},
            {"key": "completed_late", "label": "Hoàn thành quá hạn", "cells": both("late", "completed_late")},
            {"key": "open_in_time", "label": "Đang thực hiện, còn trong hạn", "cells": both("intime", "open_in_time")},
            {"key": "due_soon", "label": f"trong đó sắp đến hạn (trong {self.record_rules['soon_days']} ngày làm việc)",
             "cells": both("soon", "due_soon"), "sub": True},
            {"key": "open_overdue", "label": "Đang thực hiện, đã quá hạn", "cells": both("overdue", "open_overdue")},
            {"key": "no_deadline", "label": "Không có hạn (tính riêng, không vào tỷ lệ)",
             "cells": one("nodl", "no_deadline")},
            {"key": "suspended", "label": "Tạm hoãn (không tính đến hạn)", "cells": one("susp", "suspended")},
            {"key": "with_extension", "label": "Có gia hạn", "cells": one("ext", "with_extension")},
        ]
        out["rates"] = [
            {"key": "headline_rate", "label": "Tỷ lệ hoàn thành (cách tính của Văn phòng Chính phủ)",
             "formula": "(hoàn thành đúng hạn + quá hạn) / đến hạn",
             "cells": [fmt_pct(original.get("headline_rate")), fmt_pct(extended.get("headline_rate"))]},
            {"key": "strict_rate", "label": "Tỷ lệ hoàn thành đúng hạn (mục tiêu chất lượng)",
             "formula": "hoàn thành đúng hạn / đến hạn",
             "cells": [fmt_pct(original.get("strict_rate")), fmt_pct(extended.get("strict_rate"))]},
        ]
        out["objective"] = {"verdict": objective.get("verdict"), "status": _status(objective.get("verdict")),
                            "target": objective.get("target_text")}
        current = rows.get(basis) or {}
        if current.get("open_overdue"):
            out["overdue_link"] = link("directive", f"overdue_{code}", current.get("open_overdue"))
        trend = self._kind_trend("directive", period, scope)
        target = self.wh.targets(int(period.label[:4]),
                                 scope.value if scope.dimension == "unit" else None).get("directive_on_time_rate") or {}
        out["chart"] = {"id": "chart-directives", "title": "Nhiệm vụ đến hạn qua các kỳ và tỷ lệ hoàn thành",
                        "note": f"Theo {self.record_rules['basis_vi']}; {len(trend)} kỳ gần nhất.",
                        "figure": charts.directive_trend(trend, target.get("value"), target.get("target_text"),
                                                         period.label)}
        if scope.dimension == "all":
            out["units"] = self._directive_unit_rows(period, link, unit_pages, page)
        return out

    def _directive_unit_rows(self, period: PeriodRow, link, unit_pages: dict, page: str) -> list[dict]:
        basis, code = self.record_rules["basis"], self.record_rules["basis_code"]
        frame = self.wh.kind_kpi("directive", self.scheme, [period.label], "unit", None)
        if frame.empty:
            return []
        frame = frame[frame["deadline_basis"] == basis]
        verdicts = self.wh.objectives_by_value(self.scheme, period.label, "unit", "directive_on_time_rate")
        rows = []
        for k in (_clean_row(r) for r in frame.to_dict("records")):
            name = k["dimension_value"]
            slice_ = (("unit", name),)
            verdict = (verdicts.get(name) or {}).get("verdict")

            def cell(filter_id: str, column: str, k=k, slice_=slice_) -> Link:
                return link("directive", filter_id, k[column], slice_)

            rows.append({
                "name": _unit_name(name), "key": name,
                "href": rel(page, unit_pages[name]) if name in unit_pages else None,
                "assigned_total": cell("assigned", "assigned_total"), "due_total": cell(f"due_{code}", "due_total"),
                "completed_on_time": cell(f"ontime_{code}", "completed_on_time"),
                "completed_late": cell(f"late_{code}", "completed_late"),
                "open_in_time": cell(f"intime_{code}", "open_in_time"),
                "open_overdue": cell(f"overdue_{code}", "open_overdue"),
                "no_deadline": cell("nodl", "no_deadline"),
                "headline_rate": fmt_pct(k["headline_rate"]), "strict_rate": fmt_pct(k["strict_rate"]),
                "verdict": verdict, "status": _status(verdict),
                "order": (-int(k["open_overdue"] or 0) - int(k["completed_late"] or 0), _unit_name(name)),
            })
        rows.sort(key=lambda r: r["order"])
        return rows

    def _feedback_section(self, period: PeriodRow, scope: Scope, link, unit_pages: dict, page: str,
                          objectives: dict) -> dict:
        """The PAKN section: key figures, items 5.2 and 5.3, the trend chart and the handling units."""
        frame = self.wh.kind_kpi("feedback", self.scheme, [period.label], scope.dimension, scope.value)
        out: dict = {"has_data": not frame.empty, "overdue_link": None, "chart": None, "units": [],
                     "answer_days": self.record_rules["answer_days"]}
        if frame.empty:
            return out
        k = _clean_row(frame.iloc[0].to_dict())
        out["figures"] = [
            {"key": "received_total", "label": "Tiếp nhận trong kỳ", "cell": link("feedback", "recv", k["received_total"])},
            {"key": "handled_total", "label": "Đã xử lý trong kỳ", "cell": link("feedback", "handled", k["handled_total"])},
            {"key": "handled_on_time", "label": "xử lý đúng hạn", "cell": link("feedback", "hot", k["handled_on_time"]),
             "sub": True},
            {"key": "handled_late", "label": "xử lý quá hạn", "cell": link("feedback", "hlate", k["handled_late"]),
             "sub": True},
            {"key": "open_total", "label": "Đang xử lý tại thời điểm cuối kỳ",
             "cell": link("feedback", "open", k["open_total"])},
            {"key": "open_in_time", "label": "còn trong hạn", "cell": link("feedback", "oit", k["open_in_time"]),
             "sub": True},
            {"key": "open_overdue", "label": f"đã quá hạn ({self.record_rules['answer_days']} ngày làm việc)",
             "cell": link("feedback", "ood", k["open_overdue"]), "sub": True},
        ]
        handled_objective = objectives.get("feedback_handled_rate") or {}
        on_time_objective = objectives.get("feedback_on_time_rate") or {}
        out["rates"] = [
            {"key": "handled_rate", "label": "Tỷ lệ xử lý, không để quá hạn",
             "formula": "(đã xử lý + đang trong hạn) / (đã xử lý + đang xử lý)", "value": fmt_pct(k["handled_rate"]),
             "verdict": handled_objective.get("verdict"), "status": _status(handled_objective.get("verdict"))},
            {"key": "on_time_rate", "label": "Tỷ lệ xử lý đúng hạn", "formula": "xử lý đúng hạn / đã xử lý",
             "value": fmt_pct(k["on_time_rate"]), "verdict": on_time_objective.get("verdict"),
             "status": _status(on_time_objective.get("verdict"))},
            {"key": "rate_5_2", "label": "Mục 5.2 (QĐ 766): tiến độ xử lý",
             "formula": "(xử lý đúng hạn + đang trong hạn) / (đã xử lý + đang xử lý)",
             "value": fmt_pct(k["rate_5_2"]), "score": fmt_number(k["score_5_2"], 2)},
            {"key": "rate_5_3", "label": "Mục 5.3 (QĐ 766): mức độ hài lòng",
             "formula": "(tiếp nhận − không hài lòng, phản ánh lặp lại, quá hạn) / tiếp nhận",
             "value": fmt_pct(k["rate_5_3"]), "score": fmt_number(k["score_5_3"], 2),
             "unsatisfied": link("feedback", "unsat", k["unsatisfied_5_3"])},
        ]
        if k.get("open_overdue"):
            out["overdue_link"] = link("feedback", "ood", k["open_overdue"])
        trend = self._kind_trend("feedback", period, scope)
        target = self.wh.targets(int(period.label[:4]),
                                 scope.value if scope.dimension == "unit" else None).get("feedback_handled_rate") or {}
        out["chart"] = {"id": "chart-feedback", "title": "Phản ánh, kiến nghị qua các kỳ và tỷ lệ xử lý",
                        "note": f"{len(trend)} kỳ gần nhất.",
                        "figure": charts.feedback_trend(trend, target.get("value"), target.get("target_text"),
                                                        period.label)}
        if scope.dimension == "all":
            out["units"] = self._feedback_unit_rows(period, link, unit_pages, page)
        return out

    def _feedback_unit_rows(self, period: PeriodRow, link, unit_pages: dict, page: str) -> list[dict]:
        frame = self.wh.kind_kpi("feedback", self.scheme, [period.label], "unit", None)
        if frame.empty:
            return []
        handled = self.wh.objectives_by_value(self.scheme, period.label, "unit", "feedback_handled_rate")
        on_time = self.wh.objectives_by_value(self.scheme, period.label, "unit", "feedback_on_time_rate")
        rows = []
        for k in (_clean_row(r) for r in frame.to_dict("records")):
            name = k["dimension_value"]
            slice_ = (("unit", name),)

            def cell(filter_id: str, column: str, k=k, slice_=slice_) -> Link:
                return link("feedback", filter_id, k[column], slice_)

            handled_verdict = (handled.get(name) or {}).get("verdict")
            on_time_verdict = (on_time.get(name) or {}).get("verdict")
            rows.append({
                "name": _unit_name(name), "key": name,
                "href": rel(page, unit_pages[name]) if name in unit_pages else None,
                "received_total": cell("recv", "received_total"),
                "handled_on_time": cell("hot", "handled_on_time"), "handled_late": cell("hlate", "handled_late"),
                "open_in_time": cell("oit", "open_in_time"), "open_overdue": cell("ood", "open_overdue"),
                "handled_rate": fmt_pct(k["handled_rate"]), "on_time_rate": fmt_pct(k["on_time_rate"]),
                "score_5_2": fmt_number(k["score_5_2"], 2), "score_5_3": fmt_number(k["score_5_3"], 2),
                "handled_verdict": handled_verdict, "handled_status": _status(handled_verdict),
                "on_time_verdict": on_time_verdict, "on_time_status": _status(on_time_verdict),
                "order": (-int(k["open_overdue"] or 0) - int(k["handled_late"] or 0), _unit_name(name)),
            })
        rows.sort(key=lambda r: r["order"])
        return rows

    def _unit_rows(self, period: PeriodRow, lists: PeriodCaseLists, page: str, unit_pages: dict) -> list[dict]:
        frame = self.wh.kpi(self.scheme, period.label, "unit")
        verdicts = self.wh.objectives_by_value(self.scheme, period.label, "unit", "on_time_rate")
        rows = []
        for k in frame.to_dict("records"):
            k = {key: (None if is_missing(v) else v) for key, v in k.items()}
            name = k["dimension_value"]
            slice_ = (("unit", name),)
            verdict = (verdicts.get(name) or {}).get("verdict")
            rows.append({
                "name": nfc(name) or "Không rõ", "href": rel(page, unit_pages[name]) if name in unit_pages else None,
                "received": lists.link(page, slice_, "c3", k["received_total"]),
                "resolved": lists.link(page, slice_, "c7", k["resolved_total"]),
                "early": lists.link(page, slice_, "c8", k["early"]),
                "on_time": lists.link(page, slice_, "c9", k["on_time"]),
                "late": lists.link(page, slice_, "c10", k["late"]),
                "open_overdue": lists.link(page, slice_, "c13", k["open_overdue"]),
                "no_apology": lists.link(page, slice_, "noapology",
                                         None if k["late"] is None or k["late_with_apology"] is None
                                         else int(k["late"]) - int(k["late_with_apology"])),
                "on_time_rate": fmt_pct(k["on_time_rate"]), "early_rate": fmt_pct(k["early_rate"]),
                "satisfaction_rate": fmt_pct(k["satisfaction_rate"]),
                "verdict": verdict, "status": _status(verdict),
                "late_value": int(k["late"] or 0),
                "chart": {"early": k["early"] or 0, "on_time": k["on_time"] or 0, "late": k["late"] or 0,
                          "resolved_total": k["resolved_total"] or 0, "on_time_rate": k["on_time_rate"]},
            })
        rows.sort(key=lambda r: (-r["late_value"], r["name"]))
        return rows

    def _bieu06_rows(self, bieu06: list[dict], lists: PeriodCaseLists, page: str) -> dict:
        rows, total = [], None
        for n, r in enumerate(bieu06, start=1):
            r = {key: (None if is_missing(v) else v) for key, v in r.items()}
            slice_ = ALL if r.get("is_total") else (("sector", r["sector"]),)
            cells = [lists.link(page, slice_, col, r[fieldname])
                     for col, fieldname in zip(BIEU06_COLUMNS, BIEU06_FIELDS, strict=True)]
            item = {"row_no": r["row_no"] if r["row_no"] is not None else n, "name": nfc(r["sector"]) or "Không rõ",
                    "cells": cells, "chart": _chart_counts(r)}
            if r.get("is_total"):
                total = item
            else:
                rows.append(item)
        return {"rows": rows, "total": total, "source": "mart.bieu06"}

    def _bieu06_rows_from_cases(self, lists: PeriodCaseLists, scope: Scope, page: str) -> dict:
        """Biểu 06 of one unit by sector, counted from the unit's case list (no mart holds unit × sector)."""
        unit_mask = lists.slice_mask(scope.slice)
        sectors = sorted(set(lists.key("sector")[unit_mask].tolist()), key=lambda s: (s == UNKNOWN, s))
        rows = []
        for n, sector in enumerate(sectors, start=1):
            slice_ = (*scope.slice, ("sector", sector))
            counts = {col: lists.count(slice_, col) for col in BIEU06_COLUMNS}
            rows.append({"row_no": n, "name": nfc(sector) or "Không rõ",
                         "cells": [lists.link(page, slice_, col, counts[col]) for col in BIEU06_COLUMNS],
                         "chart": _chart_counts({f: counts[c] for c, f in zip(BIEU06_COLUMNS, BIEU06_FIELDS,
                                                                              strict=True)})})
        total_counts = {col: lists.count(scope.slice, col) for col in BIEU06_COLUMNS}
        total = {"row_no": None, "name": "Tổng cộng",
                 "cells": [lists.link(page, scope.slice, col, total_counts[col]) for col in BIEU06_COLUMNS],
                 "chart": {}}
        return {"rows": rows, "total": total, "source": "mart.case_timeliness"}

    def _procedure_rows_from_mart(self, period: PeriodRow, lists: PeriodCaseLists, page: str) -> list[dict]:
        frame = self.wh.kpi(self.scheme, period.label, "procedure")
        frame = frame[frame["late"].fillna(0) > 0].sort_values(["late", "resolved_total"], ascending=[False, False])
        rows = []
        for k in frame.head(10).to_dict("records"):
            code = k["dimension_value"]
            slice_ = (("procedure_code", code),)
            rows.append({"code": nfc(code), "name": nfc(lists.procedure_names.get(code)),
                         "late": lists.link(page, slice_, "c10", k["late"]),
                         "resolved": lists.link(page, slice_, "c7", k["resolved_total"]),
                         "no_apology": lists.link(page, slice_, "noapology",
                                                  int(k["late"]) - int(k["late_with_apology"] or 0)),
                         "on_time_rate": fmt_pct(k["on_time_rate"])})
        return rows

    def _procedure_rows_from_cases(self, lists: PeriodCaseLists, scope: Scope, page: str) -> list[dict]:
        mask = lists.slice_mask(scope.slice) & lists.masks["c10"]
        counts = lists.key("procedure_code")[mask].value_counts()
        rows = []
        for code, late in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:10]:
            slice_ = (*scope.slice, ("procedure_code", code))
            resolved = lists.count(slice_, "c7")
            ontime = lists.count(slice_, "ontime")
            rows.append({"code": nfc(code), "name": nfc(lists.procedure_names.get(code)),
                         "late": lists.link(page, slice_, "c10", int(late)),
                         "resolved": lists.link(page, slice_, "c7", resolved),
                         "no_apology": lists.link(page, slice_, "noapology", lists.count(slice_, "noapology")),
                         "on_time_rate": fmt_pct(ontime / resolved if resolved else None)})
        return rows

    # --- charts ---------------------------------------------------------------------------------
    def _months(self, period: PeriodRow, scope: Scope) -> tuple[list[dict], set[str]]:
        window = self.month_window(period)
        first, last_month = window[0], window[-1]
        frame = self.wh.kpi_months(self.scheme, first.first_day, last_month.first_day, scope.dimension, scope.value)
        by_channel = {}
        if scope.dimension == "all":
            channels = self.wh.kpi_months(self.scheme, first.first_day, last_month.first_day, "channel", None)
            for r in channels.to_dict("records"):
                by_channel.setdefault(r["period"], {})[str(r["dimension_value"])] = (
                    int(r["received_total"] or 0) - int(r["carried_over"] or 0))
        months = []
        highlight = set()
        for r in frame.to_dict("records"):
            r = {key: (None if is_missing(v) else v) for key, v in r.items()}
            label = f"{r['period'][5:7]}/{r['period'][:4]}"
            r["label"] = label
            r["by_channel"] = by_channel.get(r["period"])
            months.append(r)
            day = pd.Timestamp(r["month_first_day"]).date()
            if period.first_day <= day <= period.last_day:
                highlight.add(label)
        return months, highlight

    def _charts(self, period, scope, objectives, unit_rows, sector_rows, lists) -> list[dict]:
        months, highlight = self._months(period, scope)
        on_time_target = (objectives.get("on_time_rate") or {}).get("target_value")
        satisfaction_target = (objectives.get("satisfaction_rate") or {}).get("target_value")
        period_words = "Vùng tô vàng là các tháng của kỳ báo cáo." if highlight and len(highlight) < len(months) else ""
        out = [{"id": "chart-monthly", "title": "Kết quả giải quyết theo tháng và tỷ lệ đúng hạn so với mục tiêu",
                "note": f"12 tháng gần nhất. {period_words}".strip(),
                "figure": charts.monthly_timeliness(months, on_time_target, highlight,
                                                    (objectives.get("on_time_rate") or {}).get("target_text"))}]
        if unit_rows:
            out.append({"id": "chart-units", "title": "Kết quả giải quyết theo đơn vị",
                        "note": "Đơn vị có tỷ lệ đúng hạn thấp nhất ở trên cùng.",
                        "figure": charts.by_group([{"name": r["name"], **r["chart"]} for r in unit_rows],
                                                  "Số hồ sơ đã giải quyết trong kỳ")})
        if sector_rows:
            out.append({"id": "chart-sectors", "title": "Kết quả giải quyết theo lĩnh vực",
                        "note": "Lĩnh vực có tỷ lệ đúng hạn thấp nhất ở trên cùng.",
                        "figure": charts.by_group(sector_rows, "Số hồ sơ đã giải quyết trong kỳ")})
        out.append({"id": "chart-satisfaction", "title": "Mức độ hài lòng theo tháng so với mục tiêu",
                    "note": "Tỷ lệ (rất hài lòng + hài lòng) / số lượt đánh giá trong tháng.",
                    "figure": charts.satisfaction_monthly(
                        months, satisfaction_target, highlight,
                        (objectives.get("satisfaction_rate") or {}).get("target_text"))})
        mask = lists.slice_mask(scope.slice) & lists.masks["c10"]
        hours = [float(h) for h in lists.cases.loc[mask, "late_working_hours"].dropna().tolist()]
        out.append({"id": "chart-late", "title": "Hồ sơ quá hạn trễ bao lâu",
                    "note": f"{fmt_int(int(mask.sum()))} hồ sơ quá hạn trong kỳ, theo thời gian trễ tính bằng giờ "
                            "làm việc.",
                    "figure": charts.late_histogram(hours)})
        out.append({"id": "chart-channels", "title": "Hồ sơ mới tiếp nhận theo kênh và tỷ lệ nộp trực tuyến",
                    "note": "Theo tháng, 12 tháng gần nhất.",
                    "figure": charts.channel_monthly(months, highlight)})
        return out

    # --- index ----------------------------------------------------------------------------------
    def render_index(self, entries: list[dict], grains: list[str]) -> None:
        page = "index.html"
        groups = []
        for grain in grains:
            items = [e for e in entries if e["period"].grain == grain]
            if items:
                groups.append({"grain": grain, "title": f"{GRAIN_VI[grain]}", "entries": items})
        shown = {t.measure for e in entries for t in e["tiles"] if t.is_objective}
        columns = [(m, title) for m, title in INDEX_COLUMNS if m in shown]
        self.write_page(page, "index.html.j2", groups=groups, quality=self.quality, columns=columns)


def _chart_counts(r: dict) -> dict:
    early, on_time, late = (r.get("c8_early") or 0, r.get("c9_on_time") or 0, r.get("c10_late") or 0)
    resolved = r.get("c7_resolved_total") or 0
    return {"early": early, "on_time": on_time, "late": late, "resolved_total": resolved,
            "on_time_rate": (early + on_time) / resolved if resolved else None}


def _dates_text(period: PeriodRow) -> str:
    return fmt_dates_range(period.first_day, period.last_day)


def _period_status(period: PeriodRow) -> str | None:
    if period.is_complete:
        return None
    last_day = last_day_of_data(period.judged_at)
    if last_day is None:
        return "Kỳ báo cáo chưa kết thúc."
    return f"Kỳ báo cáo chưa kết thúc: số liệu tính đến hết ngày {fmt_date(last_day)}."


def scorecard_grains(settings, grains: list[str] | None = None) -> list[str]:
    """The grains to render: those asked for, else the settings' ``scorecard_grains``; in period order."""
    chosen = set(grains or settings.scorecard_grain_list)
    unknown = chosen - set(GRAINS)
    if unknown:
        raise ValueError(f"unknown grain {', '.join(sorted(unknown))}; use {', '.join(GRAINS)}")
    return [g for g in GRAINS if g in chosen]


def render_all(settings, grains: list[str] | None = None, units: bool = False) -> list[Path]:
    """Render the index, the list viewer, and the scorecards, Biểu 06 workbooks, case data and directive and
    PAKN data of every period of the grains (default: ``settings.scorecard_grains``) in ``settings.period_scheme``.

    Reads ``settings.warehouse`` read-only and writes under ``settings.reports_dir``, which may hold an
    earlier render: a period's pages and data files are rewritten only when what they show changed (see
    :mod:`pipeline.report.manifest`); files of periods that no longer exist are deleted. The index, the
    viewer and the manifest are always rewritten. Returns the paths written (or copied) by this run.
    """
    grains = scorecard_grains(settings, grains)
    out = Path(settings.reports_dir)
    con = connect_existing(settings.warehouse, settings.warehouse_memory_mb)
    try:
        wh = WarehouseData(con)
        missing = [t for t in ("core.period", "mart.kpi_period", "mart.case_timeliness", "mart.bieu06")
                   if not wh.has(t)]
        if missing:
            raise RuntimeError(f"{settings.warehouse}: no {', '.join(missing)} yet; run 'tthc run' first")
        renderer = Renderer(settings, wh)
        scheme = renderer.scheme
        renderer.copy_assets()
        renderer.render_viewer()
        existing = [p for each in SCHEMES for p in wh.periods(each, list(GRAINS))]
        periods = [p for p in existing if p.scheme == scheme and p.grain in grains]
        old = Manifest.load(out)
        new = Manifest(code_version=renderer.code_version)
        prints = renderer.fingerprints(periods, units)
        entries: dict[str, dict] = {}
        for grain in grains:
            batch = [p for p in periods if p.grain == grain]
            plan = {}
            for period in batch:
                files = renderer.period_files(period, units)
                part_prints = prints[period.label]
                stale_records = tuple(kind for kind in KINDS
                                      if not old.unchanged(out, [files.records[kind]], part_prints[kind]))
                plan[period.label] = (files, not old.unchanged(out, files.pages, part_prints["pages"]),
                                      not old.unchanged(out, [files.cases], part_prints["cases"]), stale_records)
                new.record(files.pages, scheme, period.label, "pages", part_prints["pages"])
                new.record([files.cases], scheme, period.label, "cases", part_prints["cases"])
                for kind in KINDS:
                    new.record([files.records[kind]], scheme, period.label, kind, part_prints[kind])
            for period in batch:
                files, pages, case_data, record_data = plan[period.label]
                entry = None
                if pages or case_data:  # one period's cases in memory at a time
                    cases = wh.cases_of_periods(scheme, [period.label])[period.label]
                    entry = renderer.render_period(period, files, cases, pages=pages,
                                                   case_data=case_data, record_data=record_data)
                    del cases
                elif record_data:
                    for kind, record_lists in renderer.record_lists(period).items():
                        if kind in record_data:
                            renderer.write_record_data(period, record_lists, files.records[kind], files.scorecard)
                entries[period.label] = entry or renderer.index_entry(period, files)
        renderer.render_index([entries[p.label] for p in periods], grains)
        _remove_stale(out, old, new, {(p.scheme, p.label) for p in existing}, {p.label for p in periods},
                      scheme)
        new.save(out)
    finally:
        con.close()
    return renderer.written


_PERIOD_FILE = re.compile(
    r"^(?:scorecards/(?P<s1>\w+)/(?P<p1>[\w-]+?)(?:\.html|/[^/]+\.html)"
    r"|bieu06/(?P<s2>\w+)/(?P<p2>[\w-]+?)\.xlsx|cases/(?P<s3>\w+)/(?P<p3>[\w-]+?)(?:\.(?:directive|feedback))?"
    r"(?:\.js|/.*))$"
)


def _period_of(path: str) -> tuple[str, str] | None:
    """(scheme, period) of a report file's path (relative to the reports folder), or None."""
    match = _PERIOD_FILE.match(path)
    if not match:
        return None
    scheme = match["s1"] or match["s2"] or match["s3"]
    return scheme, match["p1"] or match["p2"] or match["p3"]


def _remove_stale(out: Path, old: Manifest, new: Manifest, existing: set[tuple[str, str]],
                  rendered: set[str], scheme: str) -> None:
    """Delete report files of periods that no longer exist, and files of rendered periods that this render
    did not produce (a unit gone, unit pages no longer asked for, case lists of an older layout).

    Files of existing periods of other grains or schemes are kept, and stay in the manifest.
    """
    for folder in ("scorecards", "bieu06", "cases"):
        root = out / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*"), reverse=True):
            relative = path.relative_to(out).as_posix()
            if path.is_dir():
                if not any(path.iterdir()):
                    path.rmdir()
                continue
            if relative in new.files or relative == VIEWER_PAGE:
                continue
            owner = _period_of(relative)
            if owner is None:
                if path.name.startswith(".") and path.name.endswith(".tmp"):
                    path.unlink()  # left by an interrupted render
                continue
            legacy = folder == "cases" and relative.count("/") > 2  # per-slice case pages of an older layout
            if legacy or owner not in existing or (owner[0] == scheme and owner[1] in rendered):
                path.unlink()
            elif relative in old.files:
                new.files[relative] = old.files[relative]
