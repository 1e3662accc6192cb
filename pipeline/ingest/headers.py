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

from pipeline.records import (
    DROPPED_SOURCES,
    FAMILIES,
    FILE_KINDS,
    IGNORE,
    PII_SOURCES,
    RECORDS,
    SUPPLEMENT_SOURCES,
)

from .values import CodeTable, compact, nfc

DEFAULT_SYNONYMS_FILE = Path(__file__).resolve().parent.parent / "config" / "header_synonyms.toml"

# Header targets (DESIGN §8): the fields of every family (pipeline.records), personal data and "ignore".
SUPPLEMENT_FIELDS = SUPPLEMENT_SOURCES
PII_FIELDS = PII_SOURCES + DROPPED_SOURCES
CASE_FIELDS = FAMILIES["case"].sources
# Every time-typed source field of every family (and the supplement cycle times).
DATE_FIELDS = tuple(dict.fromkeys(
    name for record in RECORDS.values() for name in record.names_of("time") if name not in ("requested_at",)
))


@dataclass(frozen=True)
class Vocabulary:
    """One family's header lookups (its fields plus personal data and ignored headers)."""

    exact: dict[str, tuple[str, bool]]  # normalised header -> (target, weak)
    loose: dict[str, tuple[str, bool]]  # header without diacritics/spaces -> (target, weak), unambiguous only


@dataclass(frozen=True, eq=False)  # hashed by identity: one object per loaded file
class Synonyms:
    """The parsed synonyms file: header lookups per family, coded values, layout words."""

    vocabularies: dict[str, Vocabulary]  # family -> lookups
    status: CodeTable  # case states: national code 1..10
    channel: CodeTable
    codes: dict[str, CodeTable]  # coded fields of the other families, by "<family>.<field>"
    metadata: dict[str, list[str]]
    layout: dict[str, list[str]]
    source: Path

    @property
    def exact(self) -> dict[str, tuple[str, bool]]:
        return self.vocabularies["case"].exact

    def code_table(self, family: str, name: str) -> CodeTable | None:
        """The code table of a coded field of a family (case status and channel included)."""
        if family == "case":
            return {"status": self.status, "channel": self.channel}.get(name)
        return self.codes.get(f"{family}.{name}")


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
    for part in (section, "pii"):
        for target, spec in data.get(part, {}).items():
            add(target, spec.get("names", []), False)
            add(target, spec.get("weak", []), True)
    return Vocabulary(exact, {k: v for k, v in loose.items() if len(loose_all[k]) == 1 and k})


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> Synonyms:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"header synonyms file {path} is not valid TOML: {error}") from None
    vocabularies = {name: _vocabulary(data, family.section) for name, family in FAMILIES.items()}
    status = CodeTable({int(k): v for k, v in data.get("status_names", {}).items()}, range(1, 11))
    channel = CodeTable({int(k): v for k, v in data.get("channel_names", {}).items()}, range(1, 4))
    codes = {}
    for family in FAMILIES:
        for name, table in data.get(f"{family}_codes", {}).items():
            codes[f"{family}.{name}"] = CodeTable({int(k): v for k, v in table.items()}, range(1, 100))
    return Synonyms(vocabularies, status, channel, codes, data.get("metadata", {}), data.get("layout", {}), path)


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
        return LabelMatch(hit[0], 0, hit[1], nfc(text).strip())
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


def assign_columns(
    syn: Synonyms, column_parts: Sequence[Sequence[str]], family: str = "case"
) -> list[ColumnInfo]:
    """Map each column (its header parts, top to bottom) to a field of the family; each field is taken by
    its first column, weak synonyms only where no strong one exists, repeated supplement columns become
    cycles."""
    matches: list[tuple[ColumnInfo, LabelMatch | None]] = []
    for index, parts in enumerate(column_parts):
        candidates = candidate_labels(parts)
        found = None
        for text in candidates:
            found = match_label(syn, text, family)
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
