"""The cases behind every count of a scorecard, so an auditor can check any figure.

One viewer page, ``reports/cases/index.html``, lists the cases of the period, slice and filter named
in its URL fragment::

    cases/index.html#scheme=calendar&period=2025-Q1&unit=Ph%C3%B2ng%20…&sector=…&procedure=…&channel=2&filter=c10

(values percent-encoded UTF-8; ``unit``, ``sector``, ``procedure``, ``channel`` and ``filter`` are
optional; without a filter it lists every case of the slice). Its data is one compact file per period,
``reports/cases/<scheme>/<period>.js``, which the viewer loads with a ``<script>`` element, so it works
from ``file://`` and offline. The file assigns one object to ``window.TTHC_CASES["<scheme>/<period>"]``:

- ``filters``: filter ids; bit *i* of a kind's mask set = the row is in ``filters[i]``;
- ``units``, ``sectors``, ``procedures``, ``channels``: ``[key, shown text]`` dictionaries (the key is the
  value the marts group by, as in the link; the text is what the list shows);
- ``kinds``: ``[mask, class key, class text, apology text]``, one per distinct combination;
- ``days``: ``dd/mm/yyyy`` texts; a time is ``day index × 1440 + minute of day`` on this list;
- ``columns``: one packed integer column each, one value per row (``{"type": "u8" | "u16" | "i32" | "f64",
  "base64": …}``: little-endian bytes of that type): ``id_prefix`` (index into ``id_prefixes``,
  ``[prefix, digits]``; omitted when there is one prefix) and ``id_number`` (the case code is the prefix
  and the number zero-padded to ``digits``), or ``id_text`` (the codes as a JSON list of texts); ``unit``,
  ``sector``, ``procedure``, ``channel``, ``kind`` (dictionary indexes); ``received`` (each row's time
  minus the previous row's; rows are in receipt order), ``due`` and ``end`` (minutes after receipt,
  -2147483648 when there is none);
- ``late`` and ``notes``: sparse ``[row, text index]`` pairs into ``late_texts`` and ``note_texts``.

Every text is made here (Vietnamese, formatted by :mod:`pipeline.formatting`); the viewer only places
it. No applicant data is ever read. Every count a scorecard links is counted from the arrays that are
written (:meth:`PeriodCaseLists.count`); a figure that differs is reported in the scorecard.
"""

from __future__ import annotations

import base64
import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np
import pandas as pd

from pipeline.formatting import (
    CLASS_VI,
    GROUP_SYMBOL,
    channel_vi,
    fmt_date,
    fmt_datetime,
    fmt_int,
    fmt_late,
    is_missing,
    nfc,
    yes_no,
)

Slice = tuple[tuple[str, object], ...]
ALL: Slice = ()
UNKNOWN = "(không xác định)"  # how the marts name a missing unit, sector, procedure or channel
SLICE_WORDS = {"unit": "Đơn vị", "sector": "Lĩnh vực", "procedure_code": "Thủ tục", "channel": "Kênh"}
SLICE_PARAMS = {"unit": "unit", "sector": "sector", "procedure_code": "procedure", "channel": "channel"}
VIEWER_PAGE = "cases/index.html"
DATA_FORMAT = 1


@dataclass(frozen=True)
class CaseFilter:
    """A named subset of a period's cases; ``id`` is the ``filter`` value of a viewer link."""

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
FILTER_BIT = {f.id: n for n, f in enumerate(FILTERS)}
ALL_CASES_LABEL = "Tất cả hồ sơ thuộc kỳ (mới tiếp nhận và kỳ trước chuyển qua)"
assert len(FILTERS) < 31  # a row's filters fit the viewer's 32-bit integer masks


@dataclass(frozen=True)
class Link:
    """A count shown in a page and the case list behind it."""

    href: str
    figure: object
    count: int
    ok: bool
    noun: str = "hồ sơ"

    @property
    def text(self) -> str:
        return fmt_int(self.figure)


@dataclass(frozen=True)
class Check:
    """A figure that does not equal the number of cases its list shows."""

    page: str
    where: str
    filter_label: str
    figure: object
    count: int


def rel(from_page: str, to_page: str) -> str:
    """Relative URL from one report page to another (both relative to the reports folder)."""
    return posixpath.relpath(to_page, posixpath.dirname(from_page) or ".")


def data_file(scheme: str, period: str) -> str:
    """The case-data file of a period, relative to the reports folder."""
    return f"cases/{scheme}/{period}.js"


def viewer_fragment(scheme: str, period: str, slice_: Slice = ALL, filter_id: str | None = None) -> str:
    """The viewer's URL fragment (without ``#``) for a period, a slice and a filter."""
    parts = [("scheme", scheme), ("period", period)]
    parts += [(SLICE_PARAMS[column], UNKNOWN if is_missing(value) else str(value)) for column, value in slice_]
    if filter_id:
        parts.append(("filter", filter_id))
    return "&".join(f"{name}={quote(nfc(value), safe='')}" for name, value in parts)


def slice_words(slice_: Slice, names: dict[str, str] | None = None) -> str:
    """'Toàn cơ quan' or 'Đơn vị: … · Lĩnh vực: …'."""
    if not slice_:
        return "Toàn cơ quan"
    parts = []
    for column, value in slice_:
        shown = "Không rõ" if is_missing(value) else str(value)
        if column == "procedure_code" and names and value in names:
            shown = f"{value} – {names[value]}"
        elif column == "channel":
            shown = channel_vi(value)
        parts.append(f"{SLICE_WORDS[column]}: {shown}")
    return " · ".join(parts)


NULL_INT32 = -(2**31)  # a missing time in an i32 column
_PACKED_TYPES = (("u8", "<u1", 0, 2**8), ("u16", "<u2", 0, 2**16), ("i32", "<i4", -(2**31), 2**31))


def pack(values: np.ndarray) -> dict:
    """An integer column as the viewer reads it: the narrowest little-endian type (``u8``, ``u16``, ``i32``,
    else ``f64``) and its bytes in base64."""
    values = np.asarray(values, dtype=np.int64)
    low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
    kind, dtype = next(((k, d) for k, d, lo, hi in _PACKED_TYPES if lo <= low and high < hi), ("f64", "<f8"))
    return {"type": kind, "base64": base64.b64encode(values.astype(dtype).tobytes()).decode("ascii")}


def _shown(key: str, text: str | None = None) -> str:
    return "Không rõ" if key == UNKNOWN else (text if text else key)


class PeriodCaseLists:
    """The cases of one period's workload, encoded as the viewer reads them, and the counts behind links."""

    def __init__(self, scheme: str, period: str, cases: pd.DataFrame):
        self.scheme = scheme
        self.period = period
        self.cases = cases.reset_index(drop=True)
        self.checks: list[Check] = []
        self.links_made = 0
        names = (self.cases.dropna(subset=["procedure_code"]).groupby("procedure_code", observed=True)["procedure_name"]
                 .first().to_dict() if not self.cases.empty else {})
        self.procedure_names = {nfc(code): nfc(name) for code, name in names.items()}
        self._keys: dict[str, tuple[np.ndarray, list[str]]] = {}
        self._slice_masks: dict[Slice, np.ndarray] = {}
        self._encode_kinds()
        self.masks = {f.id: ((self.row_masks >> FILTER_BIT[f.id]) & 1).astype(bool) for f in FILTERS}

    # --- encoding -------------------------------------------------------------------------------
    def _encode_kinds(self) -> None:
        """Each row's filters as a bit mask, with its class and apology, as indexes into ``kinds``."""
        f = self.cases
        n = len(f)
        bits = np.zeros(n, dtype=np.int64)
        for flt in FILTERS:
            if n:
                bits |= flt.mask(f).fillna(False).to_numpy(dtype=bool).astype(np.int64) << FILTER_BIT[flt.id]
        class_codes, class_uniques = pd.factorize(f["timeliness_class"]) if n else (np.zeros(0, np.int64), [])
        class_keys = [str(u) for u in class_uniques] + [""]
        class_codes = np.where(np.asarray(class_codes) < 0, len(class_keys) - 1, class_codes)
        late = (bits >> FILTER_BIT["c10"]) & 1
        has_apology = f["has_apology"].to_numpy(dtype=bool).astype(np.int64) if n else late
        apology = np.where(late == 1, has_apology, 2)
        combined = (bits << 12) | (np.asarray(class_codes, dtype=np.int64) << 2) | apology
        codes, uniques = pd.factorize(combined, sort=False)
        self.kind_codes = np.asarray(codes, dtype=np.int64)
        self.kinds = []
        for value in np.asarray(uniques, dtype=np.int64).tolist():
            klass = str(class_keys[(value >> 2) & 1023])
            apology_flag = value & 3
            self.kinds.append([value >> 12, klass, CLASS_VI.get(klass, klass),
                               "" if apology_flag == 2 else yes_no(bool(apology_flag))])
        kind_bits = np.array([k[0] for k in self.kinds], dtype=np.int64)
        self.row_masks = kind_bits[self.kind_codes] if self.kinds else np.zeros(0, np.int64)

    def key_codes(self, column: str) -> tuple[np.ndarray, list[str]]:
        """Dictionary codes of a slice column (one per row) and its keys (text as the marts group it).

        Missing values are '(không xác định)'; a case's sector falls back to its sector code, as in
        mart.kpi_period; texts are compared in Unicode NFC.
        """
        if column not in self._keys:
            codes, uniques = pd.factorize(self.cases[column]) if len(self.cases) else (np.zeros(0, np.int64), [])
            codes = np.asarray(codes, dtype=np.int64)
            texts = [nfc(u) for u in uniques]
            if column == "sector" and "sector_code" in self.cases.columns and (codes < 0).any():
                missing = codes < 0
                fallback, fallback_uniques = pd.factorize(self.cases["sector_code"][missing])
                codes = codes.copy()
                codes[missing] = np.where(fallback >= 0, np.asarray(fallback, dtype=np.int64) + len(texts), -1)
                texts += [nfc(u) for u in fallback_uniques]
            codes = np.where(codes < 0, len(texts), codes)
            texts.append(UNKNOWN)
            keys: list[str] = []
            position: dict[str, int] = {}
            remap = np.empty(len(texts), dtype=np.int64)
            for i, text in enumerate(texts):
                if text not in position:
                    position[text] = len(keys)
                    keys.append(text)
                remap[i] = position[text]
            merged = remap[codes]
            used = np.bincount(merged, minlength=len(keys)) > 0  # drop keys no row has
            position_of = np.cumsum(used) - 1
            self._keys[column] = (position_of[merged].astype(np.int64), [k for k, u in zip(keys, used, strict=True) if u])
        return self._keys[column]

    def key(self, column: str) -> pd.Series:
        """A slice column's key of every row (see :meth:`key_codes`)."""
        codes, keys = self.key_codes(column)
        return pd.Series(np.array(keys, dtype=object)[codes] if keys else np.zeros(0, object), dtype=object)

    # --- counts and links -------------------------------------------------------------------------
    def slice_mask(self, slice_: Slice) -> np.ndarray:
        """Rows of the period's cases in a slice (cached), from the written dictionary codes."""
        if slice_ not in self._slice_masks:
            mask = np.ones(len(self.cases), dtype=bool)
            for column, value in slice_:
                codes, keys = self.key_codes(column)
                key = UNKNOWN if is_missing(value) else nfc(value)
                mask &= codes == (keys.index(key) if key in keys else -2)
            self._slice_masks[slice_] = mask
        return self._slice_masks[slice_]

    def count(self, slice_: Slice, filter_id: str) -> int:
        """How many rows the viewer lists for a slice and filter."""
        return int((self.slice_mask(slice_) & self.masks[filter_id]).sum())

    def href(self, from_page: str, slice_: Slice, filter_id: str | None = None) -> str:
        """The viewer link of a slice and filter, relative to a page."""
        return f"{rel(from_page, VIEWER_PAGE)}#{viewer_fragment(self.scheme, self.period, slice_, filter_id)}"

    def link(self, from_page: str, slice_: Slice, filter_id: str, figure: object) -> Link:
        """A link from a page to the cases behind a figure; checks that the figure equals the list."""
        count = self.count(slice_, filter_id)
        ok = not is_missing(figure) and int(figure) == count
        if not ok:
            self.checks.append(Check(from_page, slice_words(slice_, self.procedure_names),
                                     FILTER_BY_ID[filter_id].label, figure, count))
        self.links_made += 1
        return Link(self.href(from_page, slice_, filter_id), figure, count, ok)

    # --- the data file ----------------------------------------------------------------------------
    def data(self, meta: dict) -> dict:
        """The period's case data as the viewer reads it (see the module docstring)."""
        f = self.cases
        n = len(f)
        out: dict = {"format": DATA_FORMAT, "scheme": self.scheme, "period": self.period, "rows": n, **meta,
                     "filters": [flt.id for flt in FILTERS], "kinds": self.kinds}
        unit_codes, unit_keys = self.key_codes("unit")
        sector_codes, sector_keys = self.key_codes("sector")
        procedure_codes, procedure_keys = self.key_codes("procedure_code")
        channel_codes, channel_keys = self.key_codes("channel")
        out["units"] = [[k, _shown(k)] for k in unit_keys]
        out["sectors"] = [[k, _shown(k)] for k in sector_keys]
        out["procedures"] = [[k, _shown(k, " – ".join(p for p in (k, nfc(self.procedure_names.get(k))) if p))]
                             for k in procedure_keys]
        out["channels"] = [[k, "Không rõ" if k == UNKNOWN else channel_vi(k)] for k in channel_keys]
        columns: dict = {}
        prefixes, id_columns = self._id_columns()
        if prefixes:
            out["id_prefixes"] = prefixes
        columns.update(id_columns)
        columns["unit"] = pack(unit_codes)
        columns["sector"] = pack(sector_codes)
        columns["procedure"] = pack(procedure_codes)
        columns["channel"] = pack(channel_codes)
        columns["kind"] = pack(self.kind_codes)
        days, received, due, end = self._times()
        out["days"] = days
        columns["received"], columns["due"], columns["end"] = pack(received), pack(due), pack(end)
        out["columns"] = columns
        out["late"], out["late_texts"] = self._late_texts()
        out["notes"], out["note_texts"] = self._note_texts()
        return out

    def data_js(self, meta: dict) -> str:
        """The case-data file's text: one assignment to ``window.TTHC_CASES``."""
        payload = json.dumps(self.data(meta), ensure_ascii=False, separators=(",", ":"))
        key = json.dumps(f"{self.scheme}/{self.period}")
        return f"(window.TTHC_CASES=window.TTHC_CASES||{{}})[{key}]={payload};\n"

    def _id_columns(self) -> tuple[list, dict]:
        """Case codes as prefix + zero-padded number when they share a few prefixes, else as text."""
        f = self.cases
        if f.empty:
            return [], {"id_text": []}
        widths = f["id_width"].to_numpy(dtype=np.int64)
        if (widths == 0).any():
            return [], {"id_text": f["case_id"].astype(object).tolist()}
        prefix_codes, prefix_texts = pd.factorize(f["id_prefix"].astype(object).fillna(""))
        combined = np.asarray(prefix_codes, dtype=np.int64) * 16 + widths
        codes, uniques = pd.factorize(combined, sort=False)
        if len(uniques) > max(16, len(f) // 50):
            return [], {"id_text": f["case_id"].astype(object).tolist()}
        prefixes = [[str(prefix_texts[u // 16]), int(u % 16)] for u in np.asarray(uniques).tolist()]
        columns = {"id_number": pack(f["id_number"].to_numpy(dtype=np.int64))}
        if len(prefixes) > 1:
            columns["id_prefix"] = pack(np.asarray(codes, dtype=np.int64))
        return prefixes, columns

    def _times(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Day texts and the received (delta-coded), due and end (minutes after receipt) columns."""
        f = self.cases
        if f.empty:
            return [], *(np.zeros(0, np.int64),) * 3
        stamps = {c: pd.to_datetime(f[c]).to_numpy(dtype="datetime64[m]") for c in ("received_at", "due_at", "end_at")}
        valid = {c: ~np.isnat(v) for c, v in stamps.items()}
        all_days = np.concatenate([v[valid[c]].astype("datetime64[D]") for c, v in stamps.items()])
        days = np.unique(all_days)

        def code(column: str) -> np.ndarray:
            values = stamps[column]
            day = values.astype("datetime64[D]")
            index = np.searchsorted(days, np.where(valid[column], day, days[0]))
            minute = (values - day).astype(np.int64)
            return np.where(valid[column], index * 1440 + minute, 0)

        received = code("received_at")
        if not valid["received_at"].all():
            raise ValueError(f"cases of {self.scheme} {self.period} without a receipt time")
        deltas = np.diff(received, prepend=0)

        def after_receipt(column: str) -> np.ndarray:
            return np.where(valid[column], code(column) - received, NULL_INT32)

        texts = [fmt_date(pd.Timestamp(d)) for d in days]
        return texts, deltas, after_receipt("due_at"), after_receipt("end_at")

    def _late_texts(self) -> tuple[list[list[int]], list[str]]:
        """How late each late case is (sparse: rows of cases resolved late in the period)."""
        rows = np.flatnonzero(self.masks["c10"]) if len(self.cases) else np.zeros(0, np.int64)
        if not len(rows):
            return [], []
        hours = self.cases["late_working_hours"].to_numpy(dtype=float, na_value=np.nan)[rows]
        hour_codes, hour_values = pd.factorize(hours, use_na_sentinel=False)
        texts = [fmt_late(h) if not is_missing(h) else "" for h in hour_values]
        text_codes, unique_texts = pd.factorize(pd.Series(texts, dtype=object), sort=False)
        codes = np.asarray(text_codes)[hour_codes]
        return [[int(r), int(c)] for r, c in zip(rows, codes, strict=True)], [str(u) for u in unique_texts]

    def _note_texts(self) -> tuple[list[list[int]], list[str]]:
        """Notes on a case (carried over, withdrawn, supplements, …), sparse, as dictionary codes."""
        f = self.cases
        if f.empty:
            return [], []
        supplements = f["supplement_count"].fillna(0).astype(np.int64)
        paused = f["paused_minutes"]
        reschedules = f["reschedule_count"].fillna(0).astype(np.int64)
        parts = pd.DataFrame({
            "carried": f["is_carried_over"].to_numpy(dtype=bool),
            "withdrawn": f["is_withdrawn"].to_numpy(dtype=bool),
            "stopped": f["is_stopped"].to_numpy(dtype=bool),
            "supplements": supplements.to_numpy(),
            "paused": paused.round().astype("Int64").fillna(-1).to_numpy(dtype=np.int64),
            "returned": (f["end_at_source"] == "returned_at").fillna(False).to_numpy(dtype=bool),
            "reschedules": np.where(reschedules.to_numpy() > 1, reschedules.to_numpy(), 0),
            "beyond": f["due_beyond_legal_limit"].to_numpy(dtype=bool),
        })
        has_note = (parts["carried"] | parts["withdrawn"] | parts["stopped"] | (parts["supplements"] > 0)
                    | parts["returned"] | (parts["reschedules"] > 0) | parts["beyond"]).to_numpy()
        rows = np.flatnonzero(has_note)
        if not len(rows):
            return [], []
        subset = parts.iloc[rows]
        codes, uniques = pd.MultiIndex.from_frame(subset).factorize()
        texts = [_note_text(*combination) for combination in uniques]
        return [[int(r), int(c)] for r, c in zip(rows, codes, strict=True)], texts


def _note_text(carried: bool, withdrawn: bool, stopped: bool, supplements: int, paused: int, returned: bool,
               reschedules: int, beyond: bool) -> str:
    notes = []
    if carried:
        notes.append("Kỳ trước chuyển qua")
    if withdrawn:
        notes.append("Rút hồ sơ")
    if stopped:
        notes.append("Dừng xử lý")
    if supplements:
        notes.append(f"Bổ sung {fmt_int(supplements)} lần" + (f", tạm dừng {fmt_int(paused)} phút" if paused >= 0 else ""))
    if returned:
        notes.append("Kết thúc theo ngày trả kết quả")
    if reschedules:
        notes.append(f"Hẹn lại {fmt_int(reschedules)} lần")
    if beyond:
        notes.append("Hẹn trả vượt thời hạn luật định")
    return "; ".join(notes)


def viewer_config() -> dict:
    """What the viewer page needs to word its lists (every text a leader reads is made here)."""
    return {
        "filters": [{"id": f.id, "label": f.label} for f in FILTERS],
        "all_label": ALL_CASES_LABEL,
        "slice_words": {SLICE_PARAMS[c]: w for c, w in SLICE_WORDS.items()},
        "whole": "Toàn cơ quan",
        "page_sizes": [100, 500, 2000, 10000],
        "page_size": 500,
        "texts": {
            "cases": "hồ sơ", "all": "Tất cả", "unknown_filter": "Bộ lọc không có trong danh sách",
            "loading": "Đang tải danh sách hồ sơ…",
            "missing": "Không tìm thấy dữ liệu hồ sơ của kỳ này. Hãy tạo lại báo cáo.",
            "bad_link": "Liên kết không hợp lệ: thiếu hoặc sai kỳ báo cáo.",
            "shown": "Đang hiện hồ sơ {from}–{to} trong {total}.", "none": "Không có hồ sơ nào.",
            "previous": "← Trang trước", "next": "Trang sau →", "page_size": "Số hồ sơ mỗi trang",
            "show_all": "Tất cả", "back": "← Về báo cáo", "list_title": "Danh sách hồ sơ",
            "hint": "Kết quả là tình trạng của hồ sơ tại thời điểm cuối kỳ. Không có thông tin cá nhân của người nộp "
                    "hồ sơ.",
        },
        "group_symbol": GROUP_SYMBOL,
    }


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
