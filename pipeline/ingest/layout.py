"""Rows of a report that are not cases (column numbers, group, total, signature, repeated header
and title rows), and what the lines around the table say: the export time and the reporting period."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .headers import PII_FIELDS, ColumnInfo, Synonyms, match_label
from .values import cell_text, fold, nfc, parse_one_datetime

_GROUP_PREFIX = re.compile(r"^([IVXLCivxlc]+|\d{1,3}|[a-zA-Z])[.)]\s")
_COLUMN_NUMBER = re.compile(r"\(?\s*(\d{1,3}|[a-zA-Z])\s*\)?(\s*[=+\-*x,.]\s*\(?\s*\d{1,3}\s*\)?)*")


def _id_like(text: str) -> bool:
    """Looks like a case code (no spaces, has a digit), not a phrase such as a group title."""
    return bool(text) and len(text) <= 64 and not re.search(r"\s", text) and bool(re.search(r"\d", text))


@dataclass
class RowClassifier:
    """Decides what a row without any date or status is: a layout row kind, or 'data'."""

    syn: Synonyms
    columns: list[ColumnInfo]
    case_id_col: int | None
    family: str = "case"

    def __post_init__(self) -> None:
        layout = self.syn.layout
        self.total_prefixes = [fold(t) for t in layout.get("total_prefixes", [])]
        self.total_exact = {fold(t) for t in layout.get("total_exact", [])}
        self.signature_words = [fold(t) for t in layout.get("signature_words", [])]
        self.title_words = [fold(t) for t in layout.get("title_words", [])]
        self.n_fields = sum(1 for c in self.columns if c.target and c.target not in PII_FIELDS)

    def _is_total(self, folded: str) -> bool:
        if folded in self.total_exact:
            return True
        if folded.startswith("cong hoa"):
            return False
        return any(folded == p or folded.startswith(p + " ") for p in self.total_prefixes)

    def _has_words(self, joined: str, words: list[str]) -> bool:
        padded = f" {joined} "
        return any(f" {w} " in padded for w in words if w)

    def classify(self, texts: Sequence[str], *, before_data: bool, in_signature: bool) -> str:
        """One of 'blank', 'column_numbers', 'header', 'total', 'signature', 'title', 'group' or 'data'."""
        cells = [(c, t) for c, t in enumerate(texts) if t]
        if not cells:
            return "blank"
        n = len(cells)
        if n >= 2 and all(_COLUMN_NUMBER.fullmatch(t) for _, t in cells):
            firsts = [int(m.group(1)) for _, t in cells if (m := re.search(r"(\d+)", t))]
            if len(firsts) >= max(2, n - 1) and all(b > a for a, b in zip(firsts, firsts[1:], strict=False)):
                return "column_numbers"
        hits = {m.target for _, t in cells if (m := match_label(self.syn, t, self.family)) and m.target not in PII_FIELDS}
        if len(hits) >= max(2, self.n_fields // 2):
            return "header"
        folded = [fold(t) for _, t in cells]
        if any(self._is_total(f) for f in folded[:3]):
            return "total"
        joined = " ".join(folded)
        case_text = (
            texts[self.case_id_col] if self.case_id_col is not None and self.case_id_col < len(texts) else ""
        )
        if self._has_words(joined, self.signature_words) or re.search(
            r"\bngay\s*\d{1,2}\s*thang\s*\d{1,2}\s*nam\s*\d{4}\b|\bngay\s+thang\s+nam\b", joined
        ):
            return "signature"
        if n <= 3 and self._has_words(joined, self.title_words):
            return "title"
        if in_signature and n <= 3 and not _id_like(case_text):
            return "signature"
        if (
            before_data
            and n >= 3
            and not case_text
            and not _GROUP_PREFIX.match(cells[0][1])
            and all(not re.fullmatch(r"[\d.,/:\s()-]+", t) for _, t in cells)
        ):
            return "header"  # a lower header row that no mapped column needed
        if n <= 3 and not _id_like(case_text):
            return "group"
        return "data"


def classify_candidates(
    classifier: RowClassifier,
    candidate_pos: np.ndarray,
    texts_of: Any,
    sure_data_pos: np.ndarray,
) -> dict[int, str]:
    """Kind of each candidate row (positions in the data area, ascending); `texts_of(pos)` gives its
    cell texts. Rows after a signature line stay signature until the next case row."""
    kinds: dict[int, str] = {}
    first_data = int(sure_data_pos[0]) if len(sure_data_pos) else None
    last_signature: int | None = None
    last_data_candidate: int | None = None
    for pos in candidate_pos.tolist():
        before_data = (first_data is None or pos < first_data) and last_data_candidate is None
        in_signature = False
        if last_signature is not None:
            later_data = np.searchsorted(sure_data_pos, last_signature, side="right")
            in_signature = later_data >= len(sure_data_pos) or sure_data_pos[later_data] > pos
            in_signature = in_signature and (
                last_data_candidate is None or last_data_candidate < last_signature
            )
        kind = classifier.classify(texts_of(pos), before_data=before_data, in_signature=in_signature)
        if kind == "signature":
            last_signature = pos
        if kind == "data":
            last_data_candidate = pos
        kinds[pos] = kind
    return kinds


# ----------------------------------------------------------------------------- metadata
_DATE_TEXT = re.compile(
    r"\d{1,2}[:hg]\d{2}(?::\d{2})?\s*(?:,|ngày|lúc)?\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{4}"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{4}(?:\s*(?:,|lúc|-)?\s*\d{1,2}[:hg]\d{2}(?::\d{2})?)?"
    r"|\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?"
    r"|\d{14}",
    re.IGNORECASE,
)
_WRITTEN_DATE = re.compile(r"ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*(\d{4})", re.IGNORECASE)
_PERIOD = re.compile(
    r"từ\s*(?:ngày)?\s*:?\s*(\d{1,2}/\d{1,2}/\d{4})\s*(?:đến|-|–|tới)\s*(?:ngày)?\s*:?\s*(\d{1,2}/\d{1,2}/\d{4})",
    re.IGNORECASE,
)


def _datetime_in_text(text: str, tz: str) -> dt.datetime | None:
    match = _DATE_TEXT.search(text)
    if match:
        found = parse_one_datetime(match.group(0), tz)
        if found:
            return found
    written = _WRITTEN_DATE.search(text)
    if written:
        try:
            return dt.datetime(int(written.group(3)), int(written.group(2)), int(written.group(1)))
        except ValueError:
            return None
    return None


@dataclass
class Metadata:
    """What the lines around the table say."""

    exported_at: dt.datetime | None = None
    period_text: str | None = None
    signed_on: dt.datetime | None = None  # "…, ngày 14 tháng 01 năm 2025" of the signature block


def read_metadata(rows: Sequence[Sequence[Any]], syn: Synonyms, tz: str) -> Metadata:
    """Export time ("Ngày xuất: …"), reporting period ("Từ ngày … đến ngày …") and signature date."""
    labels = [fold(t) for t in syn.metadata.get("exported_at_labels", [])]
    meta = Metadata()
    for row in rows:
        cells = list(row)
        texts = [nfc(cell_text(v)).strip() for v in cells]
        joined = " ".join(t for t in texts if t)
        if not joined:
            continue
        if meta.period_text is None:
            period = _PERIOD.search(joined)
            if period:
                meta.period_text = " ".join(period.group(0).split())
            elif fold(joined).startswith("ky bao cao"):
                meta.period_text = " ".join(joined.split(":", 1)[-1].split()) or None
        for i, text in enumerate(texts):
            folded = f" {fold(text)} "
            if meta.exported_at is None and text and any(f" {label} " in folded for label in labels if label):
                found = _datetime_in_text(text, tz)
                for later in cells[i + 1 :]:
                    if found is not None:
                        break
                    if isinstance(later, (dt.datetime, float, int)) and not isinstance(later, bool):
                        found = parse_one_datetime(later, tz)
                    elif isinstance(later, str) and later.strip():
                        found = _datetime_in_text(later, tz)
                meta.exported_at = found
        if meta.signed_on is None:
            written = _WRITTEN_DATE.search(joined)
            if written:
                meta.signed_on = _datetime_in_text(written.group(0), tz)
    return meta


_NAME_PATTERNS = (
    re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?:[_\-T ]?(\d{2})(\d{2})(\d{2})?)?(?!\d)"),
    re.compile(r"(?<!\d)(20\d{2})-(\d{2})-(\d{2})(?:[T_ ](\d{2})[-:h.]?(\d{2})(?:[-:.]?(\d{2}))?)?(?!\d)"),
)
_NAME_DMY = re.compile(r"(?<!\d)(\d{2})[-._](\d{2})[-._](20\d{2})(?!\d)")


def datetime_from_name(name: str) -> dt.datetime | None:
    """A date/time written in a file name (…_20250114_0830…, 2025-01-14, 14-01-2025), or None."""
    for pattern in _NAME_PATTERNS:
        for m in pattern.finditer(name):
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
            try:
                return dt.datetime(y, mo, d, h, mi, s)
            except ValueError:
                continue
    for m in _NAME_DMY.finditer(name):
        try:
            return dt.datetime(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            continue
    return None
