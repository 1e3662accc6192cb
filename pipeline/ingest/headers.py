"""Export headers mapped to canonical fields through the synonyms file, and the search for the
header block (one to three merged rows) among the title rows of a report."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.records import (
    DROPPED_SOURCES,
    FAMILIES,
    FILE_KINDS,
    IGNORE,
    PII_SOURCES,
    RECORDS,
    SUPPLEMENT_SOURCES,
)

from .values import CodeTable, compact, fold, nfc

DEFAULT_SYNONYMS_FILE = Path(__file__).resolve().parent.parent / "config" / "header_synonyms.toml"

# Header targets (DESIGN §8): the fields of every family (pipeline.records), personal data and "ignore".
SUPPLEMENT_FIELDS = SUPPLEMENT_SOURCES
PII_FIELDS = PII_SOURCES + DROPPED_SOURCES
CASE_FIELDS = FAMILIES["case"].sources
# Every time-typed source field of every family (and the supplement cycle times).
DATE_FIELDS = tuple(dict.fromkeys(
    name for record in RECORDS.values() for name in record.names_of("time") if name not in ("requested_at",)
))
TIME_FIELDS = frozenset((*DATE_FIELDS, *SUPPLEMENT_FIELDS))  # fields a date/time sub-header may belong to


@dataclass(frozen=True)
class Vocabulary:
    """One family's header lookups (its fields plus personal data and ignored headers)."""

    exact: dict[str, tuple[str, bool]]  # normalised header -> (target, weak)
    loose: dict[str, tuple[str, bool]]  # header without diacritics/spaces -> (target, weak), unambiguous only
    reasons: dict[str, str] = field(default_factory=dict)  # compact header -> why it is ignored / dropped
    stands_for: dict[str, str] = field(default_factory=dict)  # field -> field it is read as when that has no column
    unstored: frozenset[str] = frozenset()  # compact headers of ignored columns whose cells are kept nowhere


# Generic sub-headers (DESIGN §8.1): they name a part of the date field their group names.
DATE_PART, TIME_PART, DATETIME_PART = "date", "time", "datetime"


@dataclass(frozen=True, eq=False)  # hashed by identity: one object per loaded file
class Synonyms:
    """The parsed synonyms file: header lookups per family, coded values, layout words, and the generic
    date/time sub-headers (folded text -> part)."""

    vocabularies: dict[str, Vocabulary]  # family -> lookups
    codes: dict[str, CodeTable]  # coded fields of the families other than cases, by "<family>.<field>"
    metadata: dict[str, list[str]]
    layout: dict[str, list[str]]
    source: Path
    date_parts: dict[str, str] = field(default_factory=dict)

    @property
    def exact(self) -> dict[str, tuple[str, bool]]:
        return self.vocabularies["case"].exact

    def code_table(self, family: str, name: str) -> CodeTable | None:
        """The code table of a coded field of a family other than cases (case states and channels come
        from the status mapping file, pipeline.ingest.status_map)."""
        return self.codes.get(f"{family}.{name}")

    def date_part(self, text: str) -> str | None:
        """'date', 'time' or 'datetime' when a header text is a generic date/time sub-header, else None."""
        return self.date_parts.get(fold(text)) if isinstance(text, str) else None


def norm_header(text: Any) -> str:
    """A header as compared: NFC, lower case, single spaces, no trailing ':' '*' '(*)' or '(3)'."""
    if not isinstance(text, str):
        return ""
    key = " ".join(unicodedata.normalize("NFC", text).casefold().split())
    key = re.sub(r"\s*(\(\*\)|\*|:|\(\d{1,2}\))+$", "", key)
    return key.strip(" \"'").strip()


def _vocabulary(data: dict, section: str) -> Vocabulary:
    exact: dict[str, tuple[str, bool]] = {}
    loose_all: dict[str, set[str]] = {}
    loose: dict[str, tuple[str, bool]] = {}
    reasons: dict[str, str] = {}
    unstored: set[str] = set()

    def add(target: str, names: Iterable[str], weak: bool, reason: str | None = None, stored: bool = True) -> None:
        for name in names:
            key = norm_header(name)
            if not key:
                continue
            exact.setdefault(key, (target, weak))
            squeezed = compact(key)
            loose_all.setdefault(squeezed, set()).add(target)
            loose.setdefault(squeezed, (target, weak))
            if reason:
                reasons.setdefault(squeezed, reason)
            if not stored:
                unstored.add(squeezed)

    ignore = data.get("ignore", {})
    add(IGNORE, ignore.get("names", []), False, ignore.get("reason", "row number"))
    for spec in ignore.values():  # [ignore.<what>] tables: known columns that carry no field, with a reason
        if isinstance(spec, dict):
            add(IGNORE, spec.get("names", []), False, spec.get("reason"), spec.get("stored", True))
    for part in (section, "pii"):
        for target, spec in data.get(part, {}).items():
            add(target, spec.get("names", []), False, spec.get("reason"))
            add(target, spec.get("weak", []), True, spec.get("reason"))
    stands_for = {target: spec["stands_for"] for target, spec in data.get(section, {}).items() if spec.get("stands_for")}
    return Vocabulary(exact, {k: v for k, v in loose.items() if len(loose_all[k]) == 1 and k}, reasons, stands_for,
                      frozenset(unstored))


def _date_parts(data: dict) -> dict[str, str]:
    parts = data.get("date_parts", {})
    found: dict[str, str] = {}
    for part in (DATE_PART, TIME_PART, DATETIME_PART):
        for name in parts.get(part, []):
            found.setdefault(fold(name), part)
    return found


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> Synonyms:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"header synonyms file {path} is not valid TOML: {error}") from None
    vocabularies = {name: _vocabulary(data, family.section) for name, family in FAMILIES.items()}
    codes = {}
    for family in FAMILIES:
        for name, table in data.get(f"{family}_codes", {}).items():
            codes[f"{family}.{name}"] = CodeTable({int(k): v for k, v in table.items()}, range(1, 100))
    return Synonyms(vocabularies, codes, data.get("metadata", {}), data.get("layout", {}), path, _date_parts(data))


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
    reason: str | None = None  # why an ignored or personal-data header carries nothing (synonyms file)
    stored: bool = True  # False: an ignored column whose cells are kept nowhere (`stored = false` in the synonyms)


_CYCLE = re.compile(r"\(?\s*\b(?:lần|lan|lân)\s*(?:thứ\s*)?(\d{1,2})\s*\)?", re.IGNORECASE)


def _lookup(vocabulary: Vocabulary, key: str) -> tuple[str, bool] | None:
    return vocabulary.exact.get(key) or vocabulary.loose.get(compact(key))


def match_label(syn: Synonyms, text: str, family: str = "case") -> LabelMatch | None:
    """The field of a family a header text names, or None."""
    return _match_label(syn, text, family) if isinstance(text, str) else None


@lru_cache(maxsize=65536)
def _match_label(syn: Synonyms, text: str, family: str) -> LabelMatch | None:
    vocabulary = syn.vocabularies[family]
    key = norm_header(text)
    if not key:
        return None
    hit = _lookup(vocabulary, key)
    if hit:
        return LabelMatch(hit[0], 0, hit[1], nfc(text).strip(), vocabulary.reasons.get(compact(key)),
                          compact(key) not in vocabulary.unstored)
    number, rest = 0, ""
    cycle = _CYCLE.search(key)
    if cycle:
        number, rest = int(cycle.group(1)), " ".join(_CYCLE.sub(" ", key, count=1).split())
    else:
        trailing = re.fullmatch(r"(.*?\D)[\s_#.-]*(\d)", key)  # NgayYeuCauBoSung2, "… bổ sung 2"
        if trailing:
            number, rest = int(trailing.group(2)), trailing.group(1).strip()
    hit = _lookup(vocabulary, rest) if rest else None
    if hit and hit[0] in SUPPLEMENT_FIELDS and number > 0:
        return LabelMatch(hit[0], number, hit[1], nfc(text).strip())
    return None


def clean_parts(parts: Sequence[Any]) -> list[str]:
    """A column's header texts, top to bottom: NFC, single spaces, blanks and repeats (a merged cell
    spread over two rows) removed."""
    cleaned: list[str] = []
    for part in parts:
        text = " ".join(nfc(part).split()) if isinstance(part, str) else ""
        if text and (not cleaned or cleaned[-1].casefold() != text.casefold()):
            cleaned.append(text)
    return cleaned


def candidate_labels(parts: Sequence[str]) -> list[str]:
    """Texts to try for a column whose header spans rows `parts` (top to bottom): the most specific
    first — all rows combined (top to bottom, then bottom to top: a group and its sub-header compose in
    either order), lower rows combined, the bottom cell, then each upper cell."""
    cleaned = clean_parts(parts)
    if not cleaned:
        return []
    out = [" ".join(cleaned[i:]) for i in range(len(cleaned) - 1)]  # full, lower rows, …
    out += [" ".join(reversed(cleaned[i:])) for i in range(len(cleaned) - 1)]  # the same read upwards
    out.append(cleaned[-1])  # the bottom cell
    out += list(reversed(cleaned[:-1]))
    seen: list[str] = []
    for text in out:
        if text not in seen:
            seen.append(text)
    return seen


@dataclass(frozen=True)
class ColumnReading:
    """How one column's header reads: the field it names (or None), which part of a date field it holds
    (a generic "Giờ" under "Nhận hồ sơ" holds the time of received_at) and its group text."""

    match: LabelMatch | None
    part: str  # DATETIME_PART (a date, possibly with a time) or TIME_PART
    group: str  # the non-generic header text (folded), to pair a date column with its time column
    header: str  # the header as written, rows joined with " / "
    label: str  # the header as read ("Ngày Nhận hồ sơ")
    generic_only: bool = False  # the header is only a generic sub-header ("Ngày" with no group)


def read_column(syn: Synonyms, parts: Sequence[Any], family: str = "case") -> ColumnReading:
    """What a column's header (its texts top to bottom) names; each distinct header is read once (the
    header search tries every block of the first rows for every family)."""
    return _read_column(syn, tuple(p if isinstance(p, str) else "" for p in parts), family)


@lru_cache(maxsize=65536)
def _read_column(syn: Synonyms, parts: tuple[str, ...], family: str) -> ColumnReading:
    """What a column's header (its texts top to bottom) names (DESIGN §8.1: header rows compose).

    A generic sub-header ("Ngày", "Giờ", "Thời gian", "Ngày, giờ", "Ngày tháng năm") names a part of the
    date field its group names, whichever row the group is on: "Nhận hồ sơ" over "Giờ" is the time of
    "Ngày nhận hồ sơ"; "Ngày" over "Tiếp nhận" is "Ngày tiếp nhận". A single header starting with "Giờ"
    ("Giờ tiếp nhận") is read the same way. Other headers are read as :func:`candidate_labels` lists."""
    cleaned = clean_parts(parts)
    header = " / ".join(cleaned)
    generic = [(text, syn.date_part(text)) for text in cleaned]
    specific = [text for text, part in generic if part is None]
    parts_named = [part for _, part in generic if part is not None]
    time_fields = TIME_FIELDS
    if parts_named and specific:
        part = TIME_PART if parts_named[-1] == TIME_PART else DATETIME_PART
        group = fold(" ".join(specific))
        for text in candidate_labels(specific):
            for composed in (f"Ngày {text}", text, f"Thời gian {text}"):
                found = match_label(syn, composed, family)
                if found and (found.target in time_fields or found.target == IGNORE):
                    return ColumnReading(found, part, group, header, composed)
        return ColumnReading(None, part, group, header, " ".join(specific))
    if parts_named:
        return ColumnReading(None, DATETIME_PART, "", header, header, generic_only=True)
    candidates = candidate_labels(cleaned)
    for text in candidates:
        found = match_label(syn, text, family)
        if found:
            return ColumnReading(found, DATETIME_PART, fold(text), header, found.label)
    words = fold(cleaned[-1]).split() if cleaned else []
    if len(words) > 1 and syn.date_part(words[0]) == TIME_PART:  # "Giờ tiếp nhận", "Giờ trả kết quả"
        rest = " ".join(cleaned[-1].split()[1:])
        for composed in (f"Ngày {rest}", rest):
            found = match_label(syn, composed, family)
            if found and found.target in time_fields:
                return ColumnReading(found, TIME_PART, fold(rest), header, composed)
    return ColumnReading(None, DATETIME_PART, fold(" ".join(cleaned)), header, candidates[0] if candidates else "")


# ----------------------------------------------------------------------------- columns
# What becomes of a column (ReadResult.column_fates): a field, personal data dropped, ignored with a
# reason (row numbers, signatures, a second column of a field already read), or not recognised.
MAPPED, PII_DROPPED, IGNORED, UNMAPPED = "mapped", "personal_data_dropped", "ignored", "unmapped"


@dataclass
class ColumnInfo:
    """One column of the export: its position, header text and what it maps to."""

    index: int
    label: str
    target: str | None = None  # canonical field, a PII field, "ignore", or None (unmapped)
    seq: int = 0  # supplement cycle for supplement fields (1..n), else 0
    key: Any = None  # column key in the raw frame (position, or JSON key path)
    part: str = DATETIME_PART  # TIME_PART: the column holds the time of day of its field's date column
    header: str = ""  # the header as written (rows joined with " / ")
    fate: str = UNMAPPED
    note: str | None = None
    group: str = ""
    stored: bool = True  # False: its cells are kept nowhere, not even in a quarantined row's values (free-text notes)

    @property
    def is_pii(self) -> bool:
        return self.target in PII_FIELDS

    @property
    def is_time_part(self) -> bool:
        return self.part == TIME_PART and self.target is not None

    @property
    def field_name(self) -> str | None:
        """The canonical name used in header_map (supplement cycles ≥ 2 get a suffix)."""
        if self.target in SUPPLEMENT_FIELDS and self.seq > 1:
            return f"{self.target}_{self.seq}"
        return self.target


def _describe(column: ColumnInfo) -> str:
    return f"column {column.index + 1} '{column.header or column.label}'"


def assign_columns(
    syn: Synonyms, column_parts: Sequence[Sequence[str]], family: str = "case"
) -> list[ColumnInfo]:
    """Map each column (its header parts, top to bottom) to a field of the family, and give every column
    its fate. Each field is taken by its first column (a later one is ignored, naming the one used);
    weak synonyms only where no strong one exists; a field that ``stands_for`` another (the logbook's
    agency for the unit) is read as that one when no column names it; repeated supplement columns become
    cycles; a time column ("Giờ") joins the date column of the same field and group."""
    readings = [read_column(syn, parts, family) for parts in column_parts]
    stands_for = syn.vocabularies[family].stands_for
    named = {r.match.target for r in readings if r.match}
    standing_in = {i for i, r in enumerate(readings)
                   if r.match and stands_for.get(r.match.target) not in (None, *named)}
    readings = [replace(r, match=replace(r.match, target=stands_for[r.match.target], weak=True))
                if i in standing_in else r for i, r in enumerate(readings)]
    columns = [
        ColumnInfo(index, r.match.label if r.match else r.label, key=index, part=r.part,
                   header=r.header or r.label, group=r.group)
        for index, r in enumerate(readings)
    ]
    strong = {r.match.target for r in readings if r.match and not r.match.weak}
    taken: dict[tuple[str, int], ColumnInfo] = {}
    next_cycle: dict[str, int] = {}
    times: list[tuple[ColumnInfo, LabelMatch]] = []
    for column, reading in zip(columns, readings, strict=True):
        m = reading.match
        if m is None:
            if reading.generic_only:
                column.note = "a date/time sub-header without a group naming its field"
            continue
        if m.target == IGNORE:
            column.target, column.fate, column.note = IGNORE, IGNORED, m.reason or "not a field"
            column.stored = m.stored
            continue
        if m.target in PII_FIELDS:
            column.target, column.fate = m.target, PII_DROPPED
            column.note = m.reason or "personal data: dropped after reading"
            continue
        if m.weak and m.target in strong:
            used = next(c for c, r in zip(columns, readings, strict=True)
                        if r.match and r.match.target == m.target and not r.match.weak)
            column.fate = IGNORED
            column.note = m.reason or f"{m.target} is read from {_describe(used)}"
            if m.reason:
                column.note += f"; {m.target} is read from {_describe(used)}"
            continue
        if reading.part == TIME_PART:
            times.append((column, m))
            continue
        seq = 0
        if m.target in SUPPLEMENT_FIELDS:
            seq = m.seq or next_cycle.get(m.target, 1)
            while not m.seq and (m.target, seq) in taken:
                seq += 1
            next_cycle[m.target] = seq + 1
        if (m.target, seq) in taken:
            column.fate = IGNORED
            column.note = f"{column_name(m.target, seq)} is already read from {_describe(taken[(m.target, seq)])}"
            continue
        taken[(m.target, seq)] = column
        column.target, column.seq, column.fate = m.target, seq, MAPPED
        if column.index in standing_in:
            column.note = f"read as {m.target}: no column of the file names {m.target}"
    timed: dict[tuple[str, int], ColumnInfo] = {}
    for column, m in times:
        dates = [c for (target, seq), c in taken.items() if target == m.target and (not m.seq or seq == m.seq)]
        same_group = [c for c in dates if c.group == column.group]
        date_column = same_group[0] if same_group else dates[0] if len(dates) == 1 else None
        if date_column is None:
            column.fate = IGNORED
            column.note = f"time of {m.target} without a date column of that field"
            continue
        key = (date_column.target, date_column.seq)
        if key in timed:
            column.fate = IGNORED
            column.note = f"time of {column_name(*key)} is already read from {_describe(timed[key])}"
            continue
        timed[key] = column
        column.target, column.seq, column.fate = date_column.target, date_column.seq, MAPPED
        column.note = f"time of day of {column_name(*key)}, combined with {_describe(date_column)}"
        date_column.note = f"date of {column_name(*key)}, combined with the time in {_describe(column)}"
    return columns


def column_name(target: str, seq: int) -> str:
    """A field as header_map and fates name it (supplement cycles ≥ 2 get a suffix)."""
    return f"{target}_{seq}" if target in SUPPLEMENT_FIELDS and seq > 1 else target


def targets_of(columns: Iterable[ColumnInfo]) -> set[str]:
    return {c.target for c in columns if c.target}


def kind_of(targets: set[str], family: str = "case") -> str | None:
    """The file kind (pipeline.records.FILE_KINDS) a family's header fields make, or None."""
    for name in FAMILIES[family].kinds:
        if FILE_KINDS[name].recognised(targets):
            return name
    return None


def missing_fields(targets: set[str], family: str = "case") -> list[str]:
    """The fields a header lacks to be recognised as the family's closest file kind."""
    kinds = [FILE_KINDS[name] for name in FAMILIES[family].kinds]
    closest = max(kinds, key=lambda k: (len(k.required) - len(k.missing(targets)), -kinds.index(k)))
    return closest.missing(targets)


def best_columns(syn: Synonyms, column_parts: Sequence[Sequence[str]]) -> tuple[str, list[ColumnInfo]]:
    """(family, columns) of the family that recognises the header best: a recognised file kind first,
    then the most fields mapped; ties go to the family declared first (cases)."""
    best: tuple[tuple, str, list[ColumnInfo]] | None = None
    for order, family in enumerate(FAMILIES):
        columns = assign_columns(syn, column_parts, family)
        key = (kind_of(targets_of(columns), family) is not None, _score(columns), -order)
        if best is None or key > best[0]:
            best = (key, family, columns)
    assert best is not None
    return best[1], best[2]


def detect_kind(headers: Iterable[Any], synonyms: Synonyms | Path | None = None) -> str | None:
    """The file kind ('cases', 'ratings', 'directives', 'feedback') of header texts (or JSON keys), or None."""
    syn = synonyms if isinstance(synonyms, Synonyms) else load_synonyms(synonyms)
    family, columns = best_columns(syn, [[h if isinstance(h, str) else ""] for h in headers])
    return kind_of(targets_of(columns), family)


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
    family: str = "case"

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
    """The best header block in the first rows: most fields recognised, then fewest rows, then first.

    Once a recognised header is found, the search stops a few rows below it: what follows is data (and
    reading every data row as a possible header costs more than reading the file)."""
    texts = [[header_cell(v) for v in row] for row in rows[: max_scan + max_depth]]
    width = max((len(r) for r in texts), default=0)
    best: HeaderBlock | None = None
    best_key: tuple | None = None
    for start in range(min(max_scan, len(texts))):
        if best is not None and best.kind is not None and start > best.end + max_depth + 1:
            break
        if not any(texts[start]):
            continue
        for depth in range(1, max_depth + 1):
            if start + depth > len(texts):
                break
            parts, spread = _block_parts(texts, start, depth, width, merges)
            family, columns = best_columns(syn, parts)
            score = _score(columns)
            if score <= 0:
                continue
            targets = targets_of(columns)
            kind = kind_of(targets, family)
            key = (kind is not None, score, -depth, -start)
            if best_key is None or key > best_key:
                best_key = key
                best = HeaderBlock(start, depth, columns, score, kind, spread, targets, family)
    return best
