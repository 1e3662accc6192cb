"""Case-list pages: the cases behind every count of a scorecard, so an auditor can check any figure.

One page per *slice* of a period's cases (the whole department, a unit, a sector, a procedure, or a
unit's sector), written to ``reports/cases/<scheme>/<period>/<slug>.html``. A count links to its
slice page with a *filter* in the fragment (``…/linh-vuc-duong-bo.html#c10``); the page shows only
the rows of that filter with plain CSS (``:target``), so it works offline, without JavaScript, and
prints the filtered list. Each filter's caption states how many cases it lists.

Every link is checked when it is made: the figure shown in the scorecard must equal the number of
rows the linked page lists; mismatches are reported in the scorecard's data-quality section.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from pipeline.formatting import (
    CLASS_VI,
    channel_vi,
    fmt_date,
    fmt_datetime,
    fmt_int,
    fmt_late,
    is_missing,
    nfc,
    slugify,
    yes_no,
)

Slice = tuple[tuple[str, object], ...]
ALL: Slice = ()
UNKNOWN = "(không xác định)"  # how the marts name a missing unit, sector, procedure or channel
SLICE_WORDS = {"unit": ("Đơn vị", "don-vi"), "sector": ("Lĩnh vực", "linh-vuc"),
               "procedure_code": ("Thủ tục", "thu-tuc"), "channel": ("Kênh", "kenh")}


@dataclass(frozen=True)
class CaseFilter:
    """A named subset of a period's cases; ``id`` is the URL fragment and the rows' CSS class."""

    id: str
    label: str
    mask: Callable[[pd.DataFrame], pd.Series]


def _resolved(f: pd.DataFrame, klass: str | tuple[str, ...] | None = None) -> pd.Series:
    mask = f["is_resolved_in_period"]
    if klass is None:
        return mask
    classes = (klass,) if isinstance(klass, str) else klass
    return mask & f["timeliness_class"].isin(classes)


def _received_by(f: pd.DataFrame, channel: str) -> pd.Series:
    return f["is_received_in_period"] & (f["channel"] == channel)


FILTERS: tuple[CaseFilter, ...] = (
    CaseFilter("c3", "Tổng số hồ sơ nhận giải quyết (mới tiếp nhận và kỳ trước chuyển qua)",
               lambda f: pd.Series(True, index=f.index)),
    CaseFilter("c4", "Mới tiếp nhận trực tuyến", lambda f: _received_by(f, "2")),
    CaseFilter("c5", "Mới tiếp nhận trực tiếp và qua dịch vụ bưu chính",
               lambda f: f["is_received_in_period"] & (f["channel"] != "2")),
    CaseFilter("c6", "Kỳ trước chuyển qua", lambda f: f["is_carried_over"]),
    CaseFilter("c7", "Đã giải quyết trong kỳ", _resolved),
    CaseFilter("c8", "Đã giải quyết trước hạn", lambda f: _resolved(f, "early")),
    CaseFilter("c9", "Đã giải quyết đúng hạn", lambda f: _resolved(f, "on_time")),
    CaseFilter("c10", "Đã giải quyết quá hạn", lambda f: _resolved(f, "late")),
    CaseFilter("c11", "Đang giải quyết tại thời điểm cuối kỳ",
               lambda f: ~f["is_resolved_in_period"] & f["timeliness_class"].isin(("open_in_time", "open_overdue"))),
    CaseFilter("c12", "Đang giải quyết, còn trong hạn",
               lambda f: ~f["is_resolved_in_period"] & (f["timeliness_class"] == "open_in_time")),
    CaseFilter("c13", "Đang giải quyết, đã quá hạn",
               lambda f: ~f["is_resolved_in_period"] & (f["timeliness_class"] == "open_overdue")),
    CaseFilter("ontime", "Đã giải quyết đúng hạn và trước hạn", lambda f: _resolved(f, ("early", "on_time"))),
    CaseFilter("withdrawn", "Công dân rút hồ sơ", lambda f: _resolved(f) & f["is_withdrawn"]),
    CaseFilter("stopped", "Dừng xử lý", lambda f: _resolved(f) & f["is_stopped"]),
    CaseFilter("apology", "Quá hạn, có văn bản xin lỗi và hẹn lại", lambda f: _resolved(f, "late") & f["has_apology"]),
    CaseFilter("noapology", "Quá hạn, không có văn bản xin lỗi",
               lambda f: _resolved(f, "late") & ~f["has_apology"]),
    CaseFilter("ch1", "Kênh trực tiếp (mới tiếp nhận)", lambda f: _received_by(f, "1")),
    CaseFilter("ch2", "Kênh trực tuyến (mới tiếp nhận)", lambda f: _received_by(f, "2")),
    CaseFilter("ch3", "Kênh bưu chính công ích (mới tiếp nhận)", lambda f: _received_by(f, "3")),
    CaseFilter("returned", "Thời điểm kết thúc lấy từ ngày trả kết quả (thiếu ngày kết thúc xử lý)",
               lambda f: _resolved(f) & (f["end_at_source"] == "returned_at")),
    CaseFilter("beyond", "Ngày hẹn trả muộn hơn thời hạn luật định cho phép",
               lambda f: f["due_beyond_legal_limit"]),
    CaseFilter("resched", "Hẹn lại hơn một lần", lambda f: f["reschedule_count"].fillna(0) > 1),
)
FILTER_BY_ID = {f.id: f for f in FILTERS}


@dataclass(frozen=True)
class Link:
    """A count shown in a page and the case list behind it."""

    href: str
    figure: object
    count: int
    ok: bool

    @property
    def text(self) -> str:
        return fmt_int(self.figure)


@dataclass(frozen=True)
class Check:
    """A figure that does not equal the number of cases its page lists."""

    page: str
    where: str
    filter_label: str
    figure: object
    count: int


def rel(from_page: str, to_page: str) -> str:
    """Relative URL from one report page to another (both relative to the reports folder)."""
    return posixpath.relpath(to_page, posixpath.dirname(from_page) or ".")


def slice_words(slice_: Slice, names: dict[str, str] | None = None) -> str:
    """'Toàn Sở' or 'Đơn vị: … · Lĩnh vực: …'."""
    if not slice_:
        return "Toàn cơ quan"
    parts = []
    for column, value in slice_:
        shown = "Không rõ" if is_missing(value) else str(value)
        if column == "procedure_code" and names and value in names:
            shown = f"{value} – {names[value]}"
        elif column == "channel":
            shown = channel_vi(value)
        parts.append(f"{SLICE_WORDS[column][0]}: {shown}")
    return " · ".join(parts)


class PeriodCaseLists:
    """The case-list pages of one period, made on demand as scorecards link to them."""

    def __init__(self, scheme: str, period: str, cases: pd.DataFrame):
        self.scheme = scheme
        self.period = period
        self.folder = f"cases/{scheme}/{period}"
        self.cases = cases.reset_index(drop=True)
        self.masks = {f.id: f.mask(self.cases).fillna(False).to_numpy(dtype=bool) for f in FILTERS}
        self._slice_masks: dict[Slice, np.ndarray] = {}
        self._text_columns: dict[str, pd.Series] = {}
        self.slugs: dict[Slice, str] = {}
        self._taken: dict[str, Slice] = {}
        self.checks: list[Check] = []
        self.links_made = 0
        self._rows: list[str] | None = None
        self.procedure_names = (
            self.cases.dropna(subset=["procedure_code"]).groupby("procedure_code")["procedure_name"].first().to_dict()
            if not self.cases.empty else {}
        )

    # --- slices -----------------------------------------------------------------------------------
    def slice_mask(self, slice_: Slice) -> np.ndarray:
        """Rows of the period's cases in a slice (cached)."""
        if slice_ not in self._slice_masks:
            mask = np.ones(len(self.cases), dtype=bool)
            for column, value in slice_:
                series = self.key(column)
                key = UNKNOWN if is_missing(value) else str(value)
                mask &= (series == key).to_numpy(dtype=bool)
            self._slice_masks[slice_] = mask
        return self._slice_masks[slice_]

    def key(self, column: str) -> pd.Series:
        """A slice column as the marts group it: text, missing values as '(không xác định)'.

        A case's sector falls back to its sector code, as in mart.kpi_period.
        """
        if column not in self._text_columns:
            series = self.cases[column].astype("string")
            if column == "sector" and "sector_code" in self.cases.columns:
                series = series.fillna(self.cases["sector_code"].astype("string"))
            self._text_columns[column] = series.fillna(UNKNOWN)
        return self._text_columns[column]

    def count(self, slice_: Slice, filter_id: str) -> int:
        return int((self.slice_mask(slice_) & self.masks[filter_id]).sum())

    def page_of(self, slice_: Slice) -> str:
        """The page (relative to the reports folder) of a slice, registering it."""
        if slice_ not in self.slugs:
            if not slice_:
                slug = "tat-ca"
            else:
                slug = "__".join(f"{SLICE_WORDS[c][1]}-{slugify(v)}" for c, v in slice_)
            if slug in self._taken and self._taken[slug] != slice_:
                slug = f"{slug}-{hashlib.sha1(repr(slice_).encode()).hexdigest()[:6]}"
            self._taken[slug] = slice_
            self.slugs[slice_] = slug
        return f"{self.folder}/{self.slugs[slice_]}.html"

    def link(self, from_page: str, slice_: Slice, filter_id: str, figure: object) -> Link:
        """A link from a page to the cases behind a figure; checks that the figure equals the list."""
        count = self.count(slice_, filter_id)
        ok = not is_missing(figure) and int(figure) == count
        if not ok:
            self.checks.append(Check(from_page, slice_words(slice_, self.procedure_names),
                                     FILTER_BY_ID[filter_id].label, figure, count))
        self.links_made += 1
        return Link(f"{rel(from_page, self.page_of(slice_))}#{filter_id}", figure, count, ok)

    # --- rows -----------------------------------------------------------------------------------
    def _row_html(self) -> list[str]:
        """Every case of the period as one escaped table row (made once, shared by all slice pages)."""
        if self._rows is not None:
            return self._rows
        f = self.cases
        ids = [flt.id for flt in FILTERS]
        matrix = np.column_stack([self.masks[i] for i in ids]) if len(f) else np.zeros((0, len(ids)), bool)
        when = {c: _datetimes(f[c]) for c in ("received_at", "due_at", "end_at")}
        rows = []
        for n, row in enumerate(f.itertuples(index=False)):
            notes = []
            if row.is_carried_over:
                notes.append("Kỳ trước chuyển qua")
            if row.is_withdrawn:
                notes.append("Rút hồ sơ")
            if row.is_stopped:
                notes.append("Dừng xử lý")
            if not is_missing(row.supplement_count) and row.supplement_count:
                paused = "" if is_missing(row.paused_minutes) else f", tạm dừng {fmt_int(row.paused_minutes)} phút"
                notes.append(f"Bổ sung {int(row.supplement_count)} lần{paused}")
            if row.end_at_source == "returned_at":
                notes.append("Kết thúc theo ngày trả kết quả")
            if not is_missing(row.reschedule_count) and row.reschedule_count > 1:
                notes.append(f"Hẹn lại {int(row.reschedule_count)} lần")
            if row.due_beyond_legal_limit:
                notes.append("Hẹn trả vượt thời hạn luật định")
            late = row.timeliness_class == "late" and row.is_resolved_in_period
            klass = row.timeliness_class if isinstance(row.timeliness_class, str) else ""
            cells = (
                nfc(row.case_id), nfc(row.unit) or "Không rõ", nfc(row.sector) or "Không rõ",
                " – ".join(p for p in (nfc(row.procedure_code), nfc(row.procedure_name)) if p),
                channel_vi(row.channel), when["received_at"][n], when["due_at"][n], when["end_at"][n],
            )
            classes = " ".join(i for i, hit in zip(ids, matrix[n], strict=True) if hit)
            rows.append(
                f'<tr class="{classes}"><td class="stt"></td><td class="code">{escape(cells[0])}</td>'
                + "".join(f"<td>{escape(c)}</td>" for c in cells[1:])
                + f'<td class="k-{escape(klass)}">{escape(CLASS_VI.get(klass, klass))}</td>'
                + f"<td>{escape(fmt_late(row.late_working_hours)) if late else ''}</td>"
                + f"<td>{escape(yes_no(row.has_apology)) if late else ''}</td>"
                + f"<td>{escape('; '.join(notes))}</td></tr>"
            )
        self._rows = rows
        return rows

    def page_context(self, slice_: Slice) -> dict:
        """Everything the case-list template needs for one slice."""
        mask = self.slice_mask(slice_)
        filters = [{"id": f.id, "label": f.label, "count": int((mask & self.masks[f.id]).sum())} for f in FILTERS]
        rows = self._row_html()
        return {
            "where": slice_words(slice_, self.procedure_names),
            "filters": filters,
            "total": int(mask.sum()),
            "rows_html": Markup("\n".join(rows[i] for i in np.flatnonzero(mask))),
        }


def _datetimes(series: pd.Series) -> list[str]:
    """dd/mm/yyyy HH:MM texts of a column of times ('–' where missing)."""
    return [fmt_datetime(v) for v in series.tolist()]


def late_case_rows(lists: PeriodCaseLists, slice_: Slice, limit: int = 25) -> tuple[list[dict], int]:
    """The latest-finishing late cases of a slice (most late first) and how many late cases there are."""
    mask = lists.slice_mask(slice_) & lists.masks["c10"]
    frame = lists.cases[mask].sort_values(["late_working_hours", "case_id"], ascending=[False, True])
    rows = []
    for row in frame.head(limit).itertuples(index=False):
        rows.append({
            "case_id": nfc(row.case_id), "unit": nfc(row.unit) or "Không rõ",
            "procedure": " – ".join(p for p in (nfc(row.procedure_code), nfc(row.procedure_name)) if p),
            "due": fmt_datetime(row.due_at), "end": fmt_datetime(row.end_at),
            "adjusted": (fmt_datetime(row.adjusted_end_at)
                         if not is_missing(row.adjusted_end_at) and row.adjusted_end_at != row.end_at else ""),
            "late": fmt_late(row.late_working_hours), "apology": yes_no(row.has_apology),
            "has_apology": bool(row.has_apology),
        })
    return rows, int(mask.sum())


def received_date_range(lists: PeriodCaseLists) -> str:
    """The first and last receipt dates of a period's cases, for the case-list header."""
    if lists.cases.empty:
        return ""
    return f"{fmt_date(lists.cases['received_at'].min())} – {fmt_date(lists.cases['received_at'].max())}"
