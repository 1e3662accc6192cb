"""Export headers mapped to canonical fields through the synonyms file, and the search for the
header block (one to three merged rows) among the title rows of a report."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .values import CodeTable, compact, nfc

DEFAULT_SYNONYMS_FILE = Path(__file__).resolve().parent.parent / "config" / "header_synonyms.toml"

DATE_FIELDS = (
    "received_at",
    "due_at",
    "finished_at",
    "returned_at",
    "apology_at",
    "new_due_at",
    "rated_at",
)
SUPPLEMENT_FIELDS = ("supplement_requested_at", "supplement_received_at", "supplement_new_due_at")
CASE_FIELDS = (
    "case_id",
    "procedure_code",
    "procedure_name",
    "sector_code",
    "sector",
    "unit",
    "channel",
    "received_at",
    "due_at",
    "finished_at",
    "returned_at",
    "status",
    "apology_at",
    "new_due_at",
    *SUPPLEMENT_FIELDS,
    "supplements",
    "rating",
    "rated_at",
)
PII_FIELDS = (
    "applicant_name",
    "applicant_phone",
    "applicant_address",
    "applicant_id_number",
    "applicant_email",
    "applicant_birth_date",
)
IGNORE = "ignore"


@dataclass(frozen=True, eq=False)  # hashed by identity: one object per loaded file
class Synonyms:
    """The parsed synonyms file: header lookups, status and channel names, layout words."""

    exact: dict[str, tuple[str, bool]]  # normalised header -> (target, weak)
    loose: dict[str, tuple[str, bool]]  # header without diacritics/spaces -> (target, weak), unambiguous only
    status: CodeTable
    channel: CodeTable
    metadata: dict[str, list[str]]
    layout: dict[str, list[str]]
    source: Path


def norm_header(text: Any) -> str:
    """A header as compared: NFC, lower case, single spaces, no trailing ':' '*' '(*)' or '(3)'."""
    if not isinstance(text, str):
        return ""
    key = " ".join(unicodedata.normalize("NFC", text).casefold().split())
    key = re.sub(r"\s*(\(\*\)|\*|:|\(\d{1,2}\))+$", "", key)
    return key.strip(" \"'").strip()


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> Synonyms:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"header synonyms file {path} is not valid TOML: {error}") from None
    exact: dict[str, tuple[str, bool]] = {}
    loose_all: dict[str, set[str]] = {}
    loose: dict[str, tuple[str, bool]] = {}

    def add(target: str, names: Iterable[str], weak: bool) -> None:
        for name in names:
            key = norm_header(name)
            if not key:
                continue
            exact.setdefault(key, (target, weak))
            squeezed = compact(key)
            loose_all.setdefault(squeezed, set()).add(target)
            loose.setdefault(squeezed, (target, weak))

    add(IGNORE, data.get("ignore", {}).get("names", []), False)
    for section in ("fields", "pii"):
        for target, spec in data.get(section, {}).items():
            add(target, spec.get("names", []), False)
            add(target, spec.get("weak", []), True)
    loose = {k: v for k, v in loose.items() if len(loose_all[k]) == 1 and k}
    status = CodeTable({int(k): v for k, v in data.get("status_names", {}).items()}, range(1, 11))
    channel = CodeTable({int(k): v for k, v in data.get("channel_names", {}).items()}, range(1, 4))
    return Synonyms(exact, loose, status, channel, data.get("metadata", {}), data.get("layout", {}), path)


def load_synonyms(path: Path | None = None) -> Synonyms:
    """The synonyms file (default: the packaged one), re-read when it changes."""
    path = Path(path or DEFAULT_SYNONYMS_FILE).resolve()
    return _load(path, path.stat().st_mtime_ns)


# ----------------------------------------------------------------------------- one header
@dataclass(frozen=True)
class LabelMatch:
    """What one header text means: target field, supplement cycle (0 = not numbered), weak or not."""

    target: str
    seq: int
    weak: bool
    label: str


_CYCLE = re.compile(r"\(?\s*\b(?:lần|lan|lân)\s*(?:thứ\s*)?(\d{1,2})\s*\)?", re.IGNORECASE)


def _lookup(syn: Synonyms, key: str) -> tuple[str, bool] | None:
    return syn.exact.get(key) or syn.loose.get(compact(key))


def match_label(syn: Synonyms, text: str) -> LabelMatch | None:
    """The field a header text names, or None."""
    return _match_label(syn, text) if isinstance(text, str) else None


@lru_cache(maxsize=65536)
def _match_label(syn: Synonyms, text: str) -> LabelMatch | None:
    key = norm_header(text)
    if not key:
        return None
    hit = _lookup(syn, key)
    if hit:
        return LabelMatch(hit[0], 0, hit[1], nfc(text).strip())
    number, rest = 0, ""
    cycle = _CYCLE.search(key)
    if cycle:
        number, rest = int(cycle.group(1)), " ".join(_CYCLE.sub(" ", key, count=1).split())
    else:
        trailing = re.fullmatch(r"(.*?\D)[\s_#.-]*(\d)", key)  # NgayYeuCauBoSung2, "… bổ sung 2"
        if trailing:
            number, rest = int(trailing.group(2)), trailing.group(1).strip()
    hit = _lookup(syn, rest) if rest else None
    if hit and hit[0] in SUPPLEMENT_FIELDS and number > 0:
        return LabelMatch(hit[0], number, hit[1], nfc(text).strip())
    return None


def candidate_labels(parts: Sequence[str]) -> list[str]:
    """Texts to try for a column whose header spans rows `parts` (top to bottom): the most specific
    first — all rows combined, lower rows combined, the bottom cell, then each upper cell."""
    cleaned: list[str] = []
    for part in parts:
        text = " ".join(nfc(part).split()) if isinstance(part, str) else ""
        if text and (not cleaned or cleaned[-1].casefold() != text.casefold()):
            cleaned.append(text)
    if not cleaned:
        return []
    out = [" ".join(cleaned[i:]) for i in range(len(cleaned))]  # full, lower rows, …, bottom
    out += list(reversed(cleaned[:-1]))
    seen: list[str] = []
    for text in out:
        if text not in seen:
            seen.append(text)
    return seen


# ----------------------------------------------------------------------------- columns
@dataclass
class ColumnInfo:
    """One column of the export: its position, header text and what it maps to."""

    index: int
    label: str
    target: str | None = None  # canonical field, a PII field, "ignore", or None (unmapped)
    seq: int = 0  # supplement cycle for supplement fields (1..n), else 0
    key: Any = None  # column key in the raw frame (position, or JSON key path)

    @property
    def is_pii(self) -> bool:
        return self.target in PII_FIELDS

    @property
    def field_name(self) -> str | None:
        """The canonical name used in header_map (supplement cycles ≥ 2 get a suffix)."""
        if self.target in SUPPLEMENT_FIELDS and self.seq > 1:
            return f"{self.target}_{self.seq}"
        return self.target


def assign_columns(syn: Synonyms, column_parts: Sequence[Sequence[str]]) -> list[ColumnInfo]:
    """Map each column (its header parts, top to bottom) to a field; each field is taken by its first
    column, weak synonyms only where no strong one exists, repeated supplement columns become cycles."""
    matches: list[tuple[ColumnInfo, LabelMatch | None]] = []
    for index, parts in enumerate(column_parts):
        candidates = candidate_labels(parts)
        found = None
        for text in candidates:
            found = match_label(syn, text)
            if found:
                break
        label = found.label if found else (candidates[0] if candidates else "")
        matches.append((ColumnInfo(index, label, key=index), found))
    strong = {m.target for _, m in matches if m and not m.weak}
    taken: set[tuple[str, int]] = set()
    next_cycle: dict[str, int] = {}
    for column, m in matches:
        if m is None or (m.weak and m.target in strong):
            continue
        if m.target in (IGNORE, *PII_FIELDS):
            column.target = m.target
            continue
        seq = 0
        if m.target in SUPPLEMENT_FIELDS:
            seq = m.seq or next_cycle.get(m.target, 1)
            while not m.seq and (m.target, seq) in taken:
                seq += 1
            next_cycle[m.target] = seq + 1
        if (m.target, seq) in taken:
            continue
        taken.add((m.target, seq))
        column.target, column.seq = m.target, seq
    return [column for column, _ in matches]


def targets_of(columns: Iterable[ColumnInfo]) -> set[str]:
    return {c.target for c in columns if c.target}


def kind_of(targets: set[str]) -> str | None:
    """'cases' (case_id + received_at + status or due_at), 'ratings' (case_id + rating) or None."""
    if {"case_id", "received_at"} <= targets and targets & {"status", "due_at"}:
        return "cases"
    if {"case_id", "rating"} <= targets:
        return "ratings"
    return None


def missing_fields(targets: set[str]) -> list[str]:
    """The fields a header lacks to be recognised (as ratings when it has a rating column)."""
    if "rating" in targets and "received_at" not in targets:
        return [f for f in ("case_id", "rating") if f not in targets]
    missing = [f for f in ("case_id", "received_at") if f not in targets]
    if not targets & {"status", "due_at"}:
        missing.append("status or due_at")
    return missing


def detect_kind(headers: Iterable[Any], synonyms: Synonyms | Path | None = None) -> str | None:
    """'cases', 'ratings' or None for a list of header texts (or JSON keys)."""
    syn = synonyms if isinstance(synonyms, Synonyms) else load_synonyms(synonyms)
    columns = assign_columns(syn, [[h if isinstance(h, str) else ""] for h in headers])
    return kind_of(targets_of(columns))


def _score(columns: list[ColumnInfo]) -> float:
    fields = {c.target for c in columns if c.target and c.target not in PII_FIELDS and c.target != IGNORE}
    pii = {c.target for c in columns if c.is_pii}
    ignored = any(c.target == IGNORE for c in columns)
    return len(fields) + 0.5 * len(pii) + 0.25 * ignored


# ----------------------------------------------------------------------------- header block
@dataclass
class HeaderBlock:
    """Where the header sits in a grid (0-based rows) and its columns."""

    start: int
    depth: int
    columns: list[ColumnInfo]
    score: float
    kind: str | None
    merged: bool = False  # some header cells were spread from merged cells
    targets: set[str] = field(default_factory=set)

    @property
    def end(self) -> int:
        """Index of the last header row."""
        return self.start + self.depth - 1


def header_cell(value: Any) -> str:
    """Header text of a cell ('' for numbers, dates and blanks)."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def _block_parts(
    texts: list[list[str]],
    start: int,
    depth: int,
    width: int,
    merges: Sequence[tuple[tuple[int, int], tuple[int, int]]],
) -> tuple[list[list[str]], bool]:
    """Per column, the header parts of rows start..start+depth-1, spreading merged and group cells."""
    grid = [list(texts[start + i]) + [""] * (width - len(texts[start + i])) for i in range(depth)]
    spread = False
    for (r0, c0), (r1, c1) in merges:
        if r0 < start or r0 >= start + depth:
            continue
        value = texts[r0][c0] if c0 < len(texts[r0]) else ""
        for r in range(r0, min(r1, start + depth - 1) + 1):
            for c in range(c0, min(c1, width - 1) + 1):
                if not grid[r - start][c] and value:
                    grid[r - start][c] = value
                    spread = True
    for i in range(depth - 1):  # group headers without merge information: carry right over blanks
        carry = ""
        for c in range(width):
            below = grid[i + 1][c]
            if grid[i][c]:
                carry = grid[i][c] if below else ""
            elif carry and below:
                grid[i][c] = carry
                spread = True
            else:
                carry = ""
    return [[grid[i][c] for i in range(depth)] for c in range(width)], spread


def find_header(
    rows: Sequence[Sequence[Any]],
    syn: Synonyms,
    merges: Sequence[tuple[tuple[int, int], tuple[int, int]]] = (),
    max_scan: int = 30,
    max_depth: int = 3,
) -> HeaderBlock | None:
    """The best header block in the first rows: most fields recognised, then fewest rows, then first."""
    texts = [[header_cell(v) for v in row] for row in rows[: max_scan + max_depth]]
    width = max((len(r) for r in texts), default=0)
    best: HeaderBlock | None = None
    best_key: tuple | None = None
    for start in range(min(max_scan, len(texts))):
        if not any(texts[start]):
            continue
        for depth in range(1, max_depth + 1):
            if start + depth > len(texts):
                break
            parts, spread = _block_parts(texts, start, depth, width, merges)
            columns = assign_columns(syn, parts)
            score = _score(columns)
            if score <= 0:
                continue
            targets = targets_of(columns)
            kind = kind_of(targets)
            key = (kind is not None, score, -depth, -start)
            if best_key is None or key > best_key:
                best_key = key
                best = HeaderBlock(start, depth, columns, score, kind, spread, targets)
    return best
