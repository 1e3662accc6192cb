"""The directive tasks and PAKN behind every count of a scorecard, in the same viewer as the cases.

The viewer (``reports/cases/index.html``) lists a record kind when its URL fragment names one::

    cases/index.html#kind=directive&scheme=calendar&period=2025-Q1&unit=Ph%C3%B2ng%20…&filter=overdue_e
    cases/index.html#kind=feedback&scheme=calendar&period=2025-Q1&filter=ood

(``kind`` is ``directive`` or ``feedback``; without it the viewer lists cases, see caselists.py; ``unit`` and
``filter`` are optional). Each kind has one data file per period, ``reports/cases/<scheme>/<period>.<kind>.js``,
loaded with a ``<script>`` element (works from ``file://``). It assigns one object to
``window.TTHC_RECORDS["<kind>/<scheme>/<period>"]``:

- ``filters``: filter ids; bit *i* of a row's mask set = the row is in ``filters[i]``;
- ``units``: ``[key, shown text]`` (the key is the unit as the marts group it, as in the link);
- ``rows``: one list per record, ``[mask, unit index, class key, cell text, …]``, the cells in the order of
  the kind's columns (:data:`KINDS`), every text made here (Vietnamese, :mod:`pipeline.formatting`).

Titles are shown as the warehouse stores them (personal data already masked); a PAKN's sender is never
read. Every count a scorecard links is counted from the masks that are written
(:meth:`PeriodRecordLists.count`); a figure that differs is reported in the scorecard like a case count.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np
import pandas as pd

from pipeline.formatting import (
    DEADLINE_BASIS_VI,
    DIRECTIVE_CLASS_VI,
    FEEDBACK_CLASS_VI,
    FEEDBACK_HANDLING_VI,
    MISSING,
    fmt_stamp,
    is_missing,
    nfc,
)
from pipeline.report.caselists import UNKNOWN, VIEWER_PAGE, Check, Link, rel

RecordSlice = tuple[tuple[str, object], ...]
DATA_FORMAT = 1
BASES = {"o": "original", "e": "extended"}


@dataclass(frozen=True)
class RecordFilter:
    """A named subset of a period's records; ``id`` is the ``filter`` value of a viewer link."""

    id: str
    label: str
    mask: Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class RecordKind:
    """One kind of record the viewer lists: its filters, columns and words."""

    kind: str
    noun: str
    list_title: str
    all_label: str
    unit_word: str
    filters: tuple[RecordFilter, ...]
    columns: tuple[str, ...]
    alert_texts: tuple[str, ...]
    hint: str

    @property
    def filter_by_id(self) -> dict[str, RecordFilter]:
        return {f.id: f for f in self.filters}


def _basis_filters(suffix: str, basis: str) -> list[RecordFilter]:
    """The filters of one deadline basis (``_o`` original, ``_e`` extended)."""
    column = f"class_{basis}"
    words = f"theo {DEADLINE_BASIS_VI[basis]}"

    def klass(*classes: str) -> Callable[[pd.DataFrame], pd.Series]:
        return lambda f: f[column].isin(classes)

    return [
        RecordFilter(f"due_{suffix}", f"Đến hạn trong kỳ (hoàn thành, hoặc đang thực hiện quá hạn), {words}",
                     klass("completed_on_time", "completed_late", "open_overdue")),
        RecordFilter(f"ontime_{suffix}", f"Hoàn thành đúng hạn, {words}", klass("completed_on_time")),
        RecordFilter(f"late_{suffix}", f"Hoàn thành quá hạn, {words}", klass("completed_late")),
        RecordFilter(f"intime_{suffix}", f"Đang thực hiện trong hạn, {words}", klass("open_in_time")),
        RecordFilter(f"overdue_{suffix}", f"Đang thực hiện quá hạn, {words}", klass("open_overdue")),
        RecordFilter(f"soon_{suffix}", f"Đang thực hiện, sắp đến hạn, {words}", lambda f: f[f"due_soon_{basis}"]),
    ]


DIRECTIVE = RecordKind(
    kind="directive",
    noun="nhiệm vụ",
    list_title="Danh sách nhiệm vụ do UBND tỉnh giao",
    all_label="Tất cả nhiệm vụ thuộc kỳ (được giao trước cuối kỳ, chưa hoàn thành trước đầu kỳ)",
    unit_word="Đơn vị chủ trì",
    filters=(
        RecordFilter("assigned", "Được giao trong kỳ", lambda f: f["is_assigned_in_period"]),
        RecordFilter("done", "Đã hoàn thành trong kỳ (có hạn)",
                     lambda f: f["class_original"].isin(("completed_on_time", "completed_late"))),
        RecordFilter("open", "Đang thực hiện cuối kỳ (có hạn, không tạm hoãn)",
                     lambda f: f["class_original"].isin(("open_in_time", "open_overdue"))),
        RecordFilter("nodl", "Không có hạn (để trống, ghi bằng chữ hoặc 01/01/1970)",
                     lambda f: f["class_original"] == "no_deadline"),
        RecordFilter("susp", "Tạm hoãn", lambda f: f["class_original"] == "suspended"),
        RecordFilter("ext", "Có gia hạn", lambda f: f["has_extension"] & (f["class_original"] != "no_deadline")),
        *_basis_filters("o", "original"),
        *_basis_filters("e", "extended"),
    ),
    columns=("Số hiệu", "Trích yếu", "Đơn vị chủ trì", "Đơn vị phối hợp", "Ngày giao", "Hạn ban đầu",
             "Hạn đã gia hạn", "Ngày hoàn thành", "Kết quả theo hạn ban đầu", "Kết quả theo hạn đã gia hạn",
             "Ghi chú"),
    alert_texts=(DIRECTIVE_CLASS_VI["completed_late"], DIRECTIVE_CLASS_VI["open_overdue"]),
    hint="Kết quả là tình trạng của nhiệm vụ tại thời điểm cuối kỳ, so với hạn ban đầu và với hạn đã gia hạn "
         "(nhiệm vụ không gia hạn: như nhau). Hạn không ghi giờ tính đến hết 24:00 ngày đó.",
)

FEEDBACK = RecordKind(
    kind="feedback",
    noun="PAKN",
    list_title="Danh sách phản ánh, kiến nghị (PAKN)",
    all_label="Tất cả PAKN thuộc kỳ (đã xử lý trong kỳ và đang xử lý cuối kỳ)",
    unit_word="Đơn vị xử lý",
    filters=(
        RecordFilter("recv", "Tiếp nhận trong kỳ", lambda f: f["is_received_in_period"]),
        RecordFilter("handled", "Đã xử lý trong kỳ", lambda f: f["is_handled_in_period"]),
        RecordFilter("hot", "Xử lý đúng hạn", lambda f: f["timeliness_class"] == "handled_on_time"),
        RecordFilter("hlate", "Xử lý quá hạn", lambda f: f["timeliness_class"] == "handled_late"),
        RecordFilter("open", "Đang xử lý cuối kỳ", lambda f: ~f["is_handled_in_period"]),
        RecordFilter("oit", "Đang xử lý, còn trong hạn", lambda f: f["timeliness_class"] == "open_in_time"),
        RecordFilter("ood", "Đang xử lý, đã quá hạn", lambda f: f["timeliness_class"] == "open_overdue"),
        RecordFilter("ok", "Xử lý đúng hạn hoặc đang trong hạn (mục 5.2)",
                     lambda f: f["timeliness_class"].isin(("handled_on_time", "open_in_time"))),
        RecordFilter("notover", "Đã xử lý hoặc còn trong hạn (không để quá hạn)",
                     lambda f: f["timeliness_class"] != "open_overdue"),
        RecordFilter("sat", "Tiếp nhận trong kỳ, không tính là không hài lòng (mục 5.3)",
                     lambda f: f["is_received_in_period"] & ~f["is_unsatisfied_5_3"]),
        RecordFilter("unsat", "Tiếp nhận trong kỳ, tính là không hài lòng (mục 5.3)",
                     lambda f: f["is_received_in_period"] & f["is_unsatisfied_5_3"]),
        RecordFilter("linked", "Tiếp nhận trong kỳ, gắn với hồ sơ có trong kho dữ liệu",
                     lambda f: f["is_received_in_period"] & f["case_known"]),
        RecordFilter("publate", "Đã xử lý, công khai chậm", lambda f: f["is_handled_in_period"] & f["published_late"]),
        RecordFilter("unpub", "Đã trả lời, chưa công khai",
                     lambda f: f["is_handled_in_period"] & f["answered_unpublished"]),
    ),
    columns=("Mã PAKN", "Tiêu đề", "Lĩnh vực", "Đơn vị xử lý", "Hồ sơ liên quan", "Ngày tiếp nhận", "Hạn trả lời",
             "Hình thức xử lý", "Ngày xử lý", "Ngày công khai", "Kết quả cuối kỳ", "Ghi chú"),
    alert_texts=(FEEDBACK_CLASS_VI["handled_late"], FEEDBACK_CLASS_VI["open_overdue"]),
    hint="Kết quả là tình trạng của PAKN tại thời điểm cuối kỳ: trả lời trong 15, từ chối trong 2, yêu cầu bổ sung "
         "trong 5 ngày làm việc kể từ khi tiếp nhận; công khai trong 2 ngày làm việc. Không có thông tin của người "
         "gửi và không có nội dung phản ánh.",
)
KINDS: dict[str, RecordKind] = {DIRECTIVE.kind: DIRECTIVE, FEEDBACK.kind: FEEDBACK}
for _kind in KINDS.values():
    assert len(_kind.filters) < 31, _kind.kind  # a row's filters fit the viewer's 32-bit integer masks
_FLAGS = {
    "directive": ("is_assigned_in_period", "is_completed_in_period", "has_extension", "due_soon_original",
                  "due_soon_extended"),
    "feedback": ("case_known", "is_disliked", "repeated", "repeat_followed", "published_late",
                 "answered_unpublished", "is_received_in_period", "is_handled_in_period", "is_unsatisfied_5_3"),
}


def record_data_file(scheme: str, period: str, kind: str) -> str:
    """The data file of a record kind and period, relative to the reports folder."""
    if kind not in KINDS:
        raise ValueError(f"unknown record kind {kind!r}")
    return f"cases/{scheme}/{period}.{kind}.js"


def record_fragment(kind: str, scheme: str, period: str, slice_: RecordSlice = (),
                    filter_id: str | None = None) -> str:
    """The viewer's URL fragment (without ``#``) for a record kind, period, unit and filter."""
    parts = [("kind", kind), ("scheme", scheme), ("period", period)]
    parts += [(column, UNKNOWN if is_missing(value) else str(value)) for column, value in slice_]
    if filter_id:
        parts.append(("filter", filter_id))
    return "&".join(f"{name}={quote(nfc(value), safe='')}" for name, value in parts)


def _unit_key(value: object) -> str:
    return UNKNOWN if is_missing(value) or not str(value).strip() else nfc(value)


def _shown_unit(key: str) -> str:
    return "Không rõ" if key == UNKNOWN else key


class PeriodRecordLists:
    """The records of one kind and period, encoded as the viewer reads them, and the counts behind links."""

    def __init__(self, kind: str, scheme: str, period: str, records: pd.DataFrame):
        self.spec = KINDS[kind]
        self.kind = kind
        self.scheme = scheme
        self.period = period
        frame = records.reset_index(drop=True).copy()
        for flag in _FLAGS[kind]:
            if flag in frame.columns:
                frame[flag] = frame[flag].astype("boolean").fillna(False).astype(bool)
        self.records = frame
        self.checks: list[Check] = []
        self.links_made = 0
        unit_column = "lead_unit" if kind == "directive" else "unit"
        keys = [_unit_key(v) for v in frame[unit_column]] if len(frame) else []
        self.unit_keys = sorted(set(keys), key=lambda k: (k == UNKNOWN, k))
        position = {k: i for i, k in enumerate(self.unit_keys)}
        self.unit_codes = np.array([position[k] for k in keys], dtype=np.int64)
        n = len(frame)
        masks = np.zeros(n, dtype=np.int64)
        self.masks: dict[str, np.ndarray] = {}
        for bit, flt in enumerate(self.spec.filters):
            values = (flt.mask(frame).fillna(False).to_numpy(dtype=bool) if n else np.zeros(0, dtype=bool))
            self.masks[flt.id] = values
            masks |= values.astype(np.int64) << bit
        self.row_masks = masks

    # --- counts and links -------------------------------------------------------------------------
    def slice_mask(self, slice_: RecordSlice) -> np.ndarray:
        """Rows in a slice (only ``unit`` slices exist), from the written dictionary codes."""
        mask = np.ones(len(self.records), dtype=bool)
        for column, value in slice_:
            if column != "unit":
                raise ValueError(f"{self.kind} lists are sliced by unit only, not {column!r}")
            key = _unit_key(value)
            mask &= self.unit_codes == (self.unit_keys.index(key) if key in self.unit_keys else -2)
        return mask

    def count(self, slice_: RecordSlice, filter_id: str | None) -> int:
        """How many rows the viewer lists for a slice and filter (None: every record of the slice)."""
        mask = self.slice_mask(slice_)
        if filter_id is not None:
            mask = mask & self.masks[filter_id]
        return int(mask.sum())

    def href(self, from_page: str, slice_: RecordSlice = (), filter_id: str | None = None) -> str:
        """The viewer link of a slice and filter, relative to a page."""
        fragment = record_fragment(self.kind, self.scheme, self.period, slice_, filter_id)
        return f"{rel(from_page, VIEWER_PAGE)}#{fragment}"

    def link(self, from_page: str, slice_: RecordSlice, filter_id: str | None, figure: object) -> Link:
        """A link from a page to the records behind a figure; checks that the figure equals the list."""
        count = self.count(slice_, filter_id)
        ok = not is_missing(figure) and int(figure) == count
        if not ok:
            where = "Toàn cơ quan" if not slice_ else f"{self.spec.unit_word}: {_shown_unit(_unit_key(slice_[0][1]))}"
            label = self.spec.all_label if filter_id is None else self.spec.filter_by_id[filter_id].label
            self.checks.append(Check(from_page, where, f"{self.spec.list_title} – {label}", figure, count))
        self.links_made += 1
        return Link(self.href(from_page, slice_, filter_id), figure, count, ok, self.spec.noun)

    # --- the data file ----------------------------------------------------------------------------
    def _cells(self) -> list[list[str]]:
        f = self.records
        if f.empty:
            return []
        return [(_directive_cells if self.kind == "directive" else _feedback_cells)(row)
                for row in f.to_dict("records")]

    def _classes(self) -> list[str]:
        f = self.records
        if f.empty:
            return []
        column = "class_extended" if self.kind == "directive" else "timeliness_class"
        return [str(v) if not is_missing(v) else "" for v in f[column]]

    def data(self, meta: dict) -> dict:
        """The period's records as the viewer reads them (see the module docstring)."""
        rows = [[int(m), int(u), k, *cells] for m, u, k, cells in
                zip(self.row_masks.tolist(), self.unit_codes.tolist(), self._classes(), self._cells(), strict=True)]
        return {"format": DATA_FORMAT, "kind": self.kind, "scheme": self.scheme, "period": self.period,
                "rows": len(rows), **meta, "filters": [f.id for f in self.spec.filters],
                "units": [[k, _shown_unit(k)] for k in self.unit_keys], "records": rows}

    def data_js(self, meta: dict) -> str:
        """The data file's text: one assignment to ``window.TTHC_RECORDS``."""
        payload = json.dumps(self.data(meta), ensure_ascii=False, separators=(",", ":"))
        key = json.dumps(f"{self.kind}/{self.scheme}/{self.period}")
        return f"(window.TTHC_RECORDS=window.TTHC_RECORDS||{{}})[{key}]={payload};\n"


def _text(value: object) -> str:
    return MISSING if is_missing(value) or not str(value).strip() else nfc(value)


def _directive_cells(r: dict) -> list[str]:
    """The shown cells of one directive task (see ``DIRECTIVE.columns``)."""
    if is_missing(r["deadline_original"]):
        original = f"Không có hạn ({nfc(r['deadline_text'])})" if not is_missing(r["deadline_text"]) else "Không có hạn"
    else:
        original = fmt_stamp(r["deadline_original"])
    extended = ""
    if r["has_extension"] and not is_missing(r["deadline_extended"]):
        extended = fmt_stamp(r["deadline_extended"])
    notes = []
    if r["due_soon_extended"] or r["due_soon_original"]:
        basis = "extended" if r["due_soon_extended"] else "original"
        notes.append(f"Sắp đến hạn ({DEADLINE_BASIS_VI[basis]})")
    if r["is_assigned_in_period"]:
        notes.append("Được giao trong kỳ")
    else:
        notes.append("Kỳ trước chuyển qua")
    return [
        _text(r["task_id"]), _text(r["title"]), _shown_unit(_unit_key(r["lead_unit"])),
        "" if is_missing(r["co_units"]) else nfc(r["co_units"]), fmt_stamp(r["assigned_at"]), original, extended,
        fmt_stamp(r["completed_at"]) if r["is_completed_in_period"] else "",
        DIRECTIVE_CLASS_VI.get(r["class_original"], _text(r["class_original"])),
        DIRECTIVE_CLASS_VI.get(r["class_extended"], _text(r["class_extended"])),
        "; ".join(notes),
    ]


def _feedback_cells(r: dict) -> list[str]:
    """The shown cells of one PAKN (see ``FEEDBACK.columns``)."""
    case = ""
    if not is_missing(r["case_id"]):
        case = nfc(r["case_id"]) + ("" if r["case_known"] else " (không có trong kho dữ liệu)")
    handled = r["is_handled_in_period"]
    notes = []
    if r["is_disliked"]:
        notes.append("Người gửi không hài lòng")
    if r["repeated"]:
        notes.append("Phản ánh lặp lại")
    if r["repeat_followed"]:
        notes.append("Bị phản ánh lại sau đó")
    if handled and r["published_late"]:
        notes.append("Công khai chậm")
    if handled and r["answered_unpublished"]:
        notes.append("Chưa công khai")
    if r["is_received_in_period"] and r["is_unsatisfied_5_3"]:
        notes.append("Tính là không hài lòng (mục 5.3)")
    if not r["is_received_in_period"]:
        notes.append("Kỳ trước chuyển qua")
    return [
        _text(r["feedback_id"]), _text(r["title"]), "" if is_missing(r["category"]) else nfc(r["category"]),
        _shown_unit(_unit_key(r["unit"])), case, fmt_stamp(r["clock_start_at"]), fmt_stamp(r["answer_due_at"]),
        FEEDBACK_HANDLING_VI.get(r["handling"], "") if handled else "",
        fmt_stamp(r["handled_at"]) if handled else "",
        fmt_stamp(r["published_at"]) if handled and not is_missing(r["published_at"]) else "",
        FEEDBACK_CLASS_VI.get(r["timeliness_class"], _text(r["timeliness_class"])),
        "; ".join(notes),
    ]


def records_viewer_config() -> dict:
    """What the viewer needs to word the record lists, per kind (every text a leader reads is made here)."""
    return {
        kind.kind: {
            "filters": [{"id": f.id, "label": f.label} for f in kind.filters],
            "all_label": kind.all_label, "list_title": kind.list_title, "noun": kind.noun,
            "unit_word": kind.unit_word, "columns": list(kind.columns), "alert_texts": list(kind.alert_texts),
            "hint": kind.hint,
            "loading": f"Đang tải {kind.list_title[0].lower()}{kind.list_title[1:]}…",
            "none": f"Không có {kind.noun} nào.",
            "shown": f"Đang hiện {kind.noun} {{from}}–{{to}} trong {{total}}.",
            "page_size": f"Số {kind.noun} mỗi trang",
            "missing": f"Không tìm thấy dữ liệu {kind.noun} của kỳ này. Hãy tạo lại báo cáo.",
        }
        for kind in KINDS.values()
    }
