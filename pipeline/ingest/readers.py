"""Read one export (Excel report, CSV, national sync JSON, ratings) into canonical records.

`read_export(path, settings)` finds the header among the title rows, maps the columns through the
synonyms file, sorts the rows into cases (or ratings), quarantined rows (one line per problem) and
skipped layout rows, hashes applicant identity and drops every personal-data column.

Every row after the header is accounted for exactly once:
``rows_read == len(cases or ratings) + quarantined rows + len(skipped)``. Rows above the header
(Quốc hiệu, report title, period, export time) are not counted; `layout` names them.
`source_row` is the row a user sees: the Excel sheet row, the physical CSV line (1 = first line of
the file), the 1-based position in a JSON array (the line in JSON Lines).

Output dtypes: text columns are pandas "str" (NaN when empty), times datetime64[us] naive local
time (NaT when empty), channel and status nullable Int8, source_row and seq int64.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.records import (
    CASE,
    FILE_KINDS,
    PANDAS_DTYPES,
    PLACEHOLDER_DATES_BEFORE,
    RATING,
    RECORDS,
    SUPPLEMENT,
    Record,
)

from .headers import (
    DATE_FIELDS,
    IGNORE,
    IGNORED,
    MAPPED,
    PII_DROPPED,
    SUPPLEMENT_FIELDS,
    TIME_PART,
    UNMAPPED,
    ColumnInfo,
    HeaderBlock,
    Synonyms,
    assign_columns,
    best_columns,
    column_name,
    find_header,
    kind_of,
    load_synonyms,
    missing_fields,
    targets_of,
)
from .layout import RowClassifier, classify_candidates, datetime_from_name, read_metadata
from .personal import MASK, mask_personal_data, mask_row_texts
from .sources import (
    SPREADSHEET_KINDS,
    FileRejected,
    Limits,
    check_csv_width,
    check_text_export,
    decode_text,
    detect_encoding,
    open_sheets,
    over_long_cells,
    replacement_findings,
    sniff_kind,
)
from .status_map import StatusMap, load_status_map
from .values import (
    TEXT_DTYPE,
    CodeTable,
    _as_arrow_strings,
    applicant_hashes,
    cell_text,
    check_case_ids,
    clean_text_array,
    combine_date_and_time,
    compact,
    date_only,
    fold,
    is_empty,
    parse_datetimes,
    parse_flags,
    parse_one_datetime,
    parse_times,
    pii_salt,
    text_series,
)

# A workbook with case tables on several sheets: rows of the k-th sheet read (k = 0, 1, …) are
# numbered k × SHEET_ROW_OFFSET + the sheet row, so source_row stays unique within the file.
SHEET_ROW_OFFSET = 10_000_000
# Names under which exports arrive; what a file is comes from its content (sources.sniff_kind).
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".htm", ".html", ".xml"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
SUPPORTED_SUFFIXES = EXCEL_SUFFIXES | CSV_SUFFIXES | JSON_SUFFIXES

if TYPE_CHECKING:
    from pipeline.settings import Settings

QUARANTINE_COLUMNS = ("source_row", "field", "raw_value", "reason", "case_id", "row_values")
SKIPPED_COLUMNS = ("source_row", "row_kind", "text")
FATE_COLUMNS = ("sheet", "column_index", "header", "fate", "field", "note")
FINDING_COLUMNS = ("source_row", "case_id", "field", "raw_value", "finding")
MAX_ROW_VALUES = 20_000  # quarantined rows that get a row_values text (a file beyond this is rejected anyway)
_DT = "datetime64[us]"


@dataclass
class ReadResult:
    """Canonical records read from one export, with every row accounted for.

    records: record name (pipeline.records: case, supplement, rating, directive, feedback) -> rows with
    that record's columns; a case list yields cases, their supplement cycles and the rated rows of a
    rating column. quarantine: source_row, field, raw_value (never personal data), reason — one line
    per problem. skipped: source_row, row_kind (column_numbers, group, total, signature, title, header,
    blank), text.

    quarantine also carries the row's case_id (where it has a usable one) and row_values, the row's
    non-personal cells as "header=value; …". column_fates: one row per column of the file — sheet (None
    outside workbooks), column_index (1-based position; JSON: key order), header as written, fate
    (mapped | personal_data_dropped | ignored | unmapped), field (the field or personal-data kind) and
    note (why ignored, which part of a date it holds, a sample of an unmapped column). findings: problems
    that do not reject a row (a date column mapped to no field, a status inferred from dates):
    source_row (NA for the whole file), case_id, field, raw_value, finding. Every free text kept here
    (status texts, skipped rows, quarantined values, samples, findings) has personal data masked
    (pipeline.ingest.personal). File-level notes (undecodable characters, a declared charset not honoured)
    are findings without a source_row.
    """

    path: Path
    kind: str  # file kind: cases | ratings | directives | feedback
    file_format: str  # the kind found by content: xlsx, xlsb, xls, ods, html, xml2003, csv, json
    layout: str
    exported_at: dt.datetime | None
    period_text: str | None
    rows_read: int
    records: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    skipped: pd.DataFrame
    header_map: dict[str, str] = field(default_factory=dict)
    unmapped_headers: list[str] = field(default_factory=list)
    exported_at_source: str | None = None  # where exported_at was read: JSON envelope, export-time line, …
    column_fates: pd.DataFrame = field(default_factory=lambda: _fates_frame([]))
    findings: pd.DataFrame = field(default_factory=lambda: _findings_frame([]))
    # applicant names seen in the file's personal-data columns: used to mask free text (the file name
    # included) while the file is stored; never stored themselves
    personal_names: frozenset[str] = frozenset()

    def rows(self, record: str) -> pd.DataFrame:
        """The rows of one record (empty, with its columns, when the file has none)."""
        found = self.records.get(record)
        return found if found is not None else empty_records(RECORDS[record])

    @property
    def primary(self) -> pd.DataFrame:
        """The rows of the record each data row of the file became."""
        return self.rows(FILE_KINDS[self.kind].primary)

    @property
    def row_records(self) -> pd.DataFrame:
        """source_row of every data row that became a record: the primary record's rows and the rows of a
        companion sheet (a workbook's extension history sheet); each row once."""
        kind = FILE_KINDS[self.kind]
        names = dict.fromkeys([kind.primary, *(FILE_KINDS[c].primary for c in kind.companions)])
        rows = pd.concat([self.rows(n)[["source_row"]] for n in names], ignore_index=True)
        return rows.drop_duplicates("source_row", ignore_index=True)

    @property
    def cases(self) -> pd.DataFrame:
        return self.rows("case")

    @property
    def supplements(self) -> pd.DataFrame:
        return self.rows("supplement")

    @property
    def ratings(self) -> pd.DataFrame:
        return self.rows("rating")


# ----------------------------------------------------------------------------- empty frames
def empty_records(record: Record) -> pd.DataFrame:
    """An empty frame with a record's columns and dtypes."""
    return pd.DataFrame({
        f.name: pd.Series([], dtype=PANDAS_DTYPES.get(f.type, TEXT_DTYPE)) for f in record.fields
    })


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    """An empty frame of text columns (source_row int64)."""
    return pd.DataFrame({
        name: pd.Series([], dtype="int64" if name == "source_row" else TEXT_DTYPE) for name in columns
    })


def empty_cases() -> pd.DataFrame:
    """An empty cases frame with the canonical columns and dtypes."""
    return empty_records(CASE)


def _fates_frame(rows: list[tuple]) -> pd.DataFrame:
    """Column fates (FATE_COLUMNS) from (sheet, column_index, header, fate, field, note) tuples."""
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in FATE_COLUMNS]
    return pd.DataFrame({
        name: pd.Series(values, dtype="int64" if name == "column_index" else TEXT_DTYPE)
        for name, values in zip(FATE_COLUMNS, columns, strict=True)
    })


def _findings_frame(rows: list[tuple]) -> pd.DataFrame:
    """Findings (FINDING_COLUMNS) from (source_row or None, case_id, field, raw_value, finding) tuples."""
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in FINDING_COLUMNS]
    return pd.DataFrame({
        name: pd.Series(values, dtype="Int64" if name == "source_row" else TEXT_DTYPE)
        for name, values in zip(FINDING_COLUMNS, columns, strict=True)
    })


def _one_line(error: BaseException, limit: int = 160) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:limit]


# ----------------------------------------------------------------------------- context
@dataclass
class _Context:
    path: Path
    settings: Any
    syn: Synonyms
    tz: str
    statuses: StatusMap | None = None
    _salt: str | None = None
    limits: Limits | None = None
    findings: list[str] = field(default_factory=list)

    def salt(self) -> str:
        if self._salt is None:
            self._salt = pii_salt(self.settings)
        return self._salt

    def code_table(self, family: str, name: str) -> CodeTable | None:
        """The code table of a coded field: case states (for this export's source) and channels come
        from the status mapping file, other families' codes from the synonyms file."""
        if family == "case":
            statuses = self.statuses or load_status_map()
            return {"status": statuses.status_for(self.path), "channel": statuses.channel}.get(name)
        return self.syn.code_table(family, name)


@dataclass
class _Part:
    """Records from one table (a sheet, a CSV, a JSON array)."""

    rows_read: int
    records: dict[str, pd.DataFrame]  # record name -> rows (pipeline.records)
    quarantine: pd.DataFrame
    skipped: pd.DataFrame
    kinds: dict[str, list[int]]  # row_kind -> source rows (for the layout description)
    fates: list[tuple] = field(default_factory=list)  # FATE_COLUMNS tuples
    findings: list[tuple] = field(default_factory=list)  # FINDING_COLUMNS tuples
    personal_names: frozenset[str] = frozenset()


@dataclass
class _Problem:
    positions: np.ndarray  # row positions in the table
    field: str
    raw: list[str]
    reasons: list[str]


def _long_cell_problems(raw: pd.DataFrame, ctx: _Context) -> list[_Problem]:
    """Rows holding a cell longer than max_cell_chars: one quarantine line each."""
    cap = ctx.limits.max_cell_chars if ctx.limits else 32_767
    positions, lengths = over_long_cells(raw, cap)
    if not len(positions):
        return []
    reasons = [f"row: a cell holds {n:,} characters (limit {cap:,})" for n in lengths]
    return [_Problem(positions.astype(np.int64), "row", [""] * len(positions), reasons)]


# ----------------------------------------------------------------------------- the table → records
def _nonempty(column: pd.Series) -> np.ndarray:
    if isinstance(column.dtype, pd.StringDtype):
        arr = pa.array(column.array) if not hasattr(column.array, "_pa_array") else column.array._pa_array  # noqa: SLF001
        trimmed = pc.utf8_trim_whitespace(arr)
        return pc.fill_null(pc.not_equal(trimmed, ""), False).to_numpy(zero_copy_only=False)
    values = column.to_numpy(dtype=object)
    return np.fromiter(
        (
            v.strip() != "" if type(v) is str else v is not None and not (type(v) is float and v != v)
            for v in values
        ),
        dtype=bool,
        count=len(values),
    )


def _typed(raw: pd.DataFrame) -> pd.DataFrame:
    """Columns holding only text cells become text columns (the fast, vectorised path)."""
    out = {}
    for key in raw.columns:
        column = raw[key]
        if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
            values = [None if v is None or (isinstance(v, float) and v != v) else v for v in column.tolist()]
            out[key] = pd.Series(pd.array(values, dtype=TEXT_DTYPE), index=column.index)
        else:
            out[key] = column
    return pd.DataFrame(out, index=raw.index, columns=raw.columns)


def _row_texts(raw: pd.DataFrame, pos: int, hidden: set[Any]) -> list[str]:
    return ["" if key in hidden else " ".join(cell_text(v).split()) for key, v in raw.iloc[pos].items()]


# Fields whose time of day is kept as "unknown" when the export gave a date only (DESIGN §8.1).
CASE_TIME_FIELDS = CASE.names_of("time")
# The times of a supplement cycle, in the order of their header fields (records.SUPPLEMENT_SOURCES).
SUPPLEMENT_TIMES = SUPPLEMENT.names_of("time")
RESOLVED_STATES = (7, 8, 9, 10)
# Personal-data kinds whose values are masked wherever the row's free text is kept.
_MASKED_PII = ("applicant_name", "applicant_phone", "applicant_id_number", "applicant_email", "applicant_address")


def _personal_values(raw: pd.DataFrame, columns: list[ColumnInfo], positions: Sequence[int]) -> dict[int, list[str]]:
    """Per row position, the texts of its personal-data cells (to mask them in the row's free text)."""
    keys = [c.key for c in columns if c.target in _MASKED_PII]
    out: dict[int, list[str]] = {}
    if not keys:
        return out
    for pos in positions:
        values = [" ".join(cell_text(raw.iat[pos, raw.columns.get_loc(k)]).split()) for k in keys]
        out[int(pos)] = [v for v in values if len(v) >= 3]
    return out


def _masked(text: str, names: Sequence[str] = ()) -> str:
    return mask_personal_data(text, names) if text else text


def _shown_id(case_id: Any, names: Sequence[str]) -> Any:
    """A quarantined row's case id as shown: as written, so that a clerk finds the case (numeric codes such
    as 0025030002 look like phone or ID numbers but are not masked by pattern); masked only where it is one
    of the row's own personal values (the applicant's phone or ID number typed as the case id)."""
    if not isinstance(case_id, str) or not case_id:
        return case_id
    def squeezed(text: str) -> str:
        return re.sub(r"[\s.()-]", "", text).casefold()

    parts = {squeezed(part) for value in names for part in (value, *re.split(r"[,;/]| - ", value))}  # "Địa chỉ, SĐT"
    return MASK if squeezed(case_id) in parts else case_id


def _row_values(raw: pd.DataFrame, columns: list[ColumnInfo], pos: int, names: Sequence[str], id_name: str) -> str:
    """A quarantined row's non-personal cells as "header=value; …" (personal data masked; the case id as
    :func:`_shown_id` shows it); columns that are kept nowhere (free-text notes) are left out."""
    parts = []
    for column in columns:
        if column.is_pii or not column.stored or column.key not in raw.columns:
            continue
        value = " ".join(cell_text(raw.iat[pos, raw.columns.get_loc(column.key)]).split())
        if value:
            header = _masked(column.header or column.label or f"cột {column.index + 1}", names)
            shown = _shown_id(value, names) if column.target == id_name else _masked(value, names)
            parts.append(f"{header}={shown}")
    return "; ".join(parts)[:500]


def _status_reason(table: CodeTable | None, text: str) -> str:
    if table is not None and table.is_ambiguous(text):
        return (f"status: trạng thái không rõ nghĩa: '{text}'; thêm vào tệp ánh xạ trạng thái "
                f"(status_map.toml) nghĩa của nó cho nguồn này")
    return f"status: unknown status '{text}' (add it to the status mapping file)"


def _build(
    raw: pd.DataFrame,
    source_rows: np.ndarray,
    columns: list[ColumnInfo],
    kind: str,
    ctx: _Context,
    *,
    classify: bool = True,
    problems: list[_Problem] | None = None,
    family: str = "case",
    sheet: str | None = None,
) -> _Part:
    """Sort the rows of one table into records, quarantine lines and skipped layout rows, and give each
    column its fate."""
    n = len(raw)
    problems = list(problems or [])
    primary = RECORDS[FILE_KINDS[kind].primary]
    built = [primary, *(RECORDS[name] for name in FILE_KINDS[kind].dependents)]
    id_name = primary.fields[0].name
    by_field: dict[tuple[str, int], ColumnInfo] = {}
    time_of: dict[tuple[str, int], ColumnInfo] = {}
    for column in columns:
        if column.fate == MAPPED and column.target and column.target != IGNORE and not column.is_pii:
            (time_of if column.is_time_part else by_field).setdefault((column.target, column.seq), column)

    def col(name: str, seq: int = 0) -> pd.Series | None:
        column = by_field.get((name, seq))
        return None if column is None else raw[column.key]

    # values of every row (vectorised), also used to tell case rows from layout rows
    nonempty = np.zeros((n, raw.shape[1]), dtype=bool)
    for i, key in enumerate(raw.columns):
        nonempty[:, i] = _nonempty(raw[key])
    blank = ~nonempty.any(axis=1)
    empty_row = blank.copy()

    # dates, with the time of day from a separate time column of the same field (DESIGN §8.1)
    dates: dict[tuple[str, int], Any] = {}
    value_problems: list[_Problem] = []
    for (name, seq), column in by_field.items():
        if name in DATE_FIELDS or name in SUPPLEMENT_FIELDS:
            parsed = parse_datetimes(raw[column.key], ctx.tz)
            time_column = time_of.get((name, seq))
            if time_column is not None:
                times = parse_times(raw[time_column.key])
                values, orphan, conflicting = combine_date_and_time(parsed, times)
                parsed = dataclasses.replace(parsed, values=values)
                label = column_name(name, seq)
                for mask, why in ((times.bad, "cannot read time"), (orphan, "a time without a date"),
                                  (conflicting, "the date column holds another time of day")):
                    positions = np.flatnonzero(mask)
                    shown = [times.raw.get(int(p)) or cell_text(raw[time_column.key].iat[int(p)]) for p in positions]
                    value_problems.append(_Problem(positions, label, shown, [f"{label}: {why} '{v}'" for v in shown]))
            dates[(name, seq)] = parsed
    lenient = {name for name in primary.columns if f"{name}_text" in primary.columns}
    time_texts: dict[str, pd.Series] = {}
    for name in lenient:  # a deadline written as words ("quý IV/2025") is kept as text, not quarantined
        parsed = dates.get((name, 0))
        if parsed is not None:
            words = pd.Series([None] * n, dtype=object)
            for position, text in parsed.raw.items():
                words.iat[position] = text
            placeholder = (parsed.values < pd.Timestamp(PLACEHOLDER_DATES_BEFORE)).to_numpy()
            for position in np.flatnonzero(placeholder):  # 01/01/1970: "none", kept as the date it says
                words.iat[position] = f"{parsed.values.iat[position]:%d/%m/%Y}"
            time_texts[name] = text_series(words)
            values = parsed.values.where(~placeholder)
            dates[(name, 0)] = dataclasses.replace(parsed, values=values, bad=np.zeros(n, dtype=bool), raw={})
    # coded fields: the case family's status and channel (from the status mapping file), and every state
    # field of the records built here (the family's code tables in the synonyms file)
    coded = [name for name in dict.fromkeys(
        ["status", "channel"] + [f.name for r in built for f in r.fields if f.type == "state"]
    ) if col(name) is not None and ctx.code_table(family, name) is not None]
    code_tables = {name: ctx.code_table(family, name) for name in coded}
    code_texts: dict[str, pd.Series] = {}
    codes: dict[str, pd.Series] = {}
    code_bad: dict[str, np.ndarray] = {}
    for name in coded:
        code_texts[name] = text_series(col(name))
        codes[name], code_bad[name] = code_tables[name].parse(code_texts[name])
    status_codes = codes.get("status")
    status_text = code_texts.get("status")
    status_table = code_tables.get("status")
    raw_ids = text_series(col(id_name), id_name, collapse=False) if col(id_name) is not None else None
    id_reasons = None
    case_id = raw_ids
    if raw_ids is not None and id_name == "case_id":
        case_id, id_reasons = check_case_ids(raw_ids)

    kinds = np.full(n, None, dtype=object)
    kinds[blank] = "blank"
    forced = np.zeros(n, dtype=bool)
    for problem in problems:  # rows the caller found broken are case rows, whatever they look like
        forced[problem.positions] = True
    blank &= ~forced
    kinds[forced] = None
    if classify and n:
        has_date = np.zeros(n, dtype=bool)
        for parsed in dates.values():
            has_date |= parsed.values.notna().to_numpy()
        if status_codes is not None:
            has_date |= status_codes.notna().to_numpy()
        odd_id = np.ones(n, dtype=bool)  # no case code, or a phrase where the code should be ("Tổng cộng: …")
        if raw_ids is not None:
            arr = raw_ids.array._pa_array  # noqa: SLF001
            code_like = pc.and_(
                pc.invert(pc.match_substring_regex(arr, r"\s")), pc.match_substring_regex(arr, r"\d")
            )
            odd_id = ~pc.fill_null(code_like, False).to_numpy(zero_copy_only=False)
        candidates = np.flatnonzero(~blank & ~forced & (~has_date | odd_id))
        sure_data = np.flatnonzero(~blank & has_date)
        if len(candidates):
            case_key = by_field.get((id_name, 0))
            case_col = list(raw.columns).index(case_key.key) if case_key is not None else None
            classifier = RowClassifier(ctx.syn, columns, case_col, family)
            found = classify_candidates(
                classifier, candidates, lambda p: _row_texts(raw, p, set()), sure_data
            )
            for pos, row_kind in found.items():
                if row_kind != "data":
                    kinds[pos] = row_kind
    data = pd.isna(kinds)
    problems += value_problems

    findings: list[tuple] = []
    if kind == "cases" and family == "case" and status_codes is None and n:
        # a logbook without a status column (DESIGN §8.1): the state follows the dates it has filled
        returned, finished = dates.get(("returned_at", 0)), dates.get(("finished_at", 0))
        inferred = np.full(n, 4, dtype=np.int8)
        if finished is not None:
            inferred[finished.values.notna().to_numpy()] = 9
        if returned is not None:
            inferred[returned.values.notna().to_numpy()] = 10
        status_codes = pd.Series(pd.arrays.IntegerArray(inferred, np.zeros(n, dtype=bool)))
        codes["status"] = status_codes
        findings.append((None, None, "status", None,
                         "no status column: each case's state is inferred from its dates "
                         "(returned → 10 Đã trả kết quả, finished → 9 Đã xử lý xong, otherwise 4 Đang xử lý)"))

    # problems of case rows: one quarantine line each
    missing = data & ~(forced & empty_row)  # an unreadable record already has its line
    if raw_ids is not None:
        missing &= raw_ids.isna().to_numpy()
    positions = np.flatnonzero(missing)
    problems.append(
        _Problem(positions, id_name, [""] * len(positions), [f"{id_name}: missing"] * len(positions))
    )
    if id_reasons is not None:
        positions = np.flatnonzero(pd.notna(id_reasons) & (id_reasons != None) & raw_ids.notna().to_numpy() & data)  # noqa: E711
        raws = [str(raw_ids.iloc[p]) for p in positions]
        problems.append(_Problem(positions, id_name, raws, [f"{id_name}: {id_reasons[p]}" for p in positions]))
    for (name, seq), parsed in dates.items():
        positions = np.flatnonzero(parsed.bad & data)
        label = f"{name}_{seq}" if seq > 1 else name
        raws = [parsed.raw.get(int(p), "") or "" for p in positions]
        reasons = [f"{label}: {parsed.reasons[p]} '{r}'" for p, r in zip(positions, raws, strict=True)]
        problems.append(_Problem(positions, label, raws, reasons))
    for name in coded:
        texts, bad, table = code_texts[name], code_bad[name], code_tables[name]
        positions = np.flatnonzero(bad & data)
        raws = [str(texts.iloc[p]) for p in positions]
        reasons = [_status_reason(table, r) if name == "status" else f"{name}: unknown {name} '{r}'" for r in raws]
        problems.append(_Problem(positions, name, raws, reasons))
    if kind == "cases" and family == "case" and status_codes is not None:
        # a resolved state without any end time is never counted as open (DESIGN §8.1)
        no_end = status_codes.isin(RESOLVED_STATES).fillna(False).to_numpy(dtype=bool) & data
        for name in ("finished_at", "returned_at"):
            parsed = dates.get((name, 0))
            if parsed is not None:
                no_end &= parsed.values.isna().to_numpy() & ~parsed.bad
        positions = np.flatnonzero(no_end)
        shown = [str(status_text.iloc[p]) if status_text is not None else str(status_codes.iloc[p]) for p in positions]
        problems.append(_Problem(positions, "status", shown, [
            f"status: đã giải quyết nhưng thiếu ngày kết thúc (trạng thái '{v}', không có ngày kết thúc xử lý "
            f"hay ngày trả kết quả)" for v in shown]))

    bad_rows = np.zeros(n, dtype=bool)
    q_pos: list[np.ndarray] = []
    q_fields: list[str] = []
    q_raw: list[str] = []
    q_reason: list[str] = []
    for problem in problems:
        keep = data[problem.positions] if len(problem.positions) else np.zeros(0, dtype=bool)
        positions = problem.positions[keep]
        if not len(positions):
            continue
        bad_rows[positions] = True
        q_pos.append(positions)
        q_fields += [problem.field] * len(positions)
        q_raw += [str(r)[:200] for r, k in zip(problem.raw, keep, strict=True) if k]
        q_reason += [str(r)[:300] for r, k in zip(problem.reasons, keep, strict=True) if k]
    path_names = _names_in_path(ctx.path, [raw[c.key] for c in columns if c.target == "applicant_name"])
    if q_pos:
        positions = np.concatenate(q_pos).astype(np.int64)
        unique_rows = np.unique(positions)
        names = _personal_values(raw, columns, unique_rows)
        shown_rows = set(unique_rows[:MAX_ROW_VALUES].tolist())
        row_values = {int(p): _row_values(raw, columns, int(p), [*names.get(int(p), ()), *path_names], id_name)
                      for p in shown_rows}
        ids = (case_id.iloc[positions].reset_index(drop=True) if case_id is not None
               else pd.Series([np.nan] * len(positions), dtype=TEXT_DTYPE))
        quarantine = pd.DataFrame(
            {
                "source_row": source_rows[positions].astype("int64"),
                "field": pd.Series(q_fields, dtype=TEXT_DTYPE),
                "raw_value": pd.Series([_masked(r, names.get(int(p), ())) for r, p in zip(q_raw, positions, strict=True)],
                                       dtype=TEXT_DTYPE),
                "reason": pd.Series([_masked(r, names.get(int(p), ())) for r, p in zip(q_reason, positions, strict=True)],
                                    dtype=TEXT_DTYPE),
                "case_id": pd.Series([_shown_id(i, names.get(int(p), ())) for i, p in zip(ids, positions, strict=True)],
                                     dtype=TEXT_DTYPE),
                "row_values": pd.Series([row_values.get(int(p)) for p in positions], dtype=TEXT_DTYPE),
            }
        ).sort_values("source_row", kind="stable", ignore_index=True)
    else:
        quarantine = _empty(QUARANTINE_COLUMNS)

    good = data & ~bad_rows
    good_idx = np.flatnonzero(good)

    def take(series: pd.Series | None, dtype: Any) -> pd.Series:
        if series is None:
            return (
                pd.Series(pd.array([None] * len(good_idx), dtype=dtype))
                if dtype != _DT
                else pd.Series(np.full(len(good_idx), np.datetime64("NaT", "us")), dtype=_DT)
            )
        return series.iloc[good_idx].reset_index(drop=True)

    def date_of(name: str, seq: int = 0) -> pd.Series:
        parsed = dates.get((name, seq))
        return take(parsed.values if parsed is not None else None, _DT)

    rows_out = pd.Series(source_rows[good_idx].astype("int64"))
    case_ids = take(case_id, TEXT_DTYPE)

    def assemble(record: Record) -> pd.DataFrame:
        frame: dict[str, pd.Series] = {}
        for f in record.fields:
            source = col(f.name)
            if f.name == id_name:
                frame[f.name] = case_ids
            elif f.type == "row":
                frame[f.name] = rows_out
            elif f.type == "hash":
                frame[f.name] = _hashes(raw, columns, good_idx, ctx)
            elif f.type == "masked":
                text = take(text_series(source, f.name) if source is not None else None, TEXT_DTYPE)
                frame[f.name] = mask_row_texts(text, _pii_values(raw, columns, good_idx))
            elif f.name == "status_text":
                frame[f.name] = _masked_status_texts(take(status_text, TEXT_DTYPE), status_table, raw, columns, good_idx)
            elif f.name == "time_unknown":
                frame[f.name] = _time_unknown({name: frame[name] for name in CASE_TIME_FIELDS if name in frame})
            elif f.name.endswith("_text") and f.name.removesuffix("_text") in time_texts:
                frame[f.name] = take(time_texts[f.name.removesuffix("_text")], TEXT_DTYPE)
            elif f.type == "time":
                frame[f.name] = date_of(f.name)
            elif f.type == "state":
                frame[f.name] = take(codes.get(f.name), "Int8")
            elif f.type in ("code", "text"):
                text = text_series(source, f.name, collapse=f.type == "text") if source is not None else None
                frame[f.name] = take(text, TEXT_DTYPE)
            elif f.type == "int":
                numbers = pd.to_numeric(text_series(source), errors="coerce") if source is not None else None
                frame[f.name] = take(numbers.round().astype("Int64") if numbers is not None else None, "Int64")
            elif f.type == "flag":
                frame[f.name] = take(parse_flags(text_series(source)) if source is not None else None, "boolean")
        return pd.DataFrame(frame, columns=list(record.columns))

    records: dict[str, pd.DataFrame] = {}
    if kind == "cases":
        records["case"] = assemble(CASE)
        records["supplement"] = _flat_supplements(by_field, dates, case_ids, rows_out, good_idx)
    elif kind != "ratings":
        records[primary.name] = assemble(primary)
        for name in FILE_KINDS[kind].dependents:  # kept where the row fills one of the record's own fields
            dependent = RECORDS[name]
            frame = assemble(dependent)
            own = [f.name for f in dependent.fields if f.name != id_name and f.type != "row"]
            records[name] = frame[frame[own].notna().any(axis=1)].reset_index(drop=True)
    if col("rating") is not None and family == "case":
        ratings = assemble(RATING)
        if kind == "cases":  # a rating column in a case list: only the rated cases
            ratings = ratings[ratings["rating"].notna()].reset_index(drop=True)
        records["rating"] = ratings

    skipped_pos = np.flatnonzero(~data)
    hidden = {c.key for c in columns if c.is_pii or not c.stored}
    texts = {p: " | ".join(t for t in _row_texts(raw, p, hidden) if t) for p in skipped_pos[~blank[skipped_pos]].tolist()}
    # a note row may name an applicant of a case next to it: mask the names of the rows around it
    near = _personal_values(raw, columns, sorted({q for p in texts for q in range(max(p - 2, 0), min(p + 3, n))}))
    skipped = pd.DataFrame(
        {
            "source_row": source_rows[skipped_pos].astype("int64"),
            "row_kind": pd.Series([kinds[p] for p in skipped_pos], dtype=TEXT_DTYPE),
            "text": pd.Series(
                [
                    _masked(texts.get(p, ""), [v for q in range(max(p - 2, 0), min(p + 3, n)) for v in near.get(q, ())])[:200]
                    for p in skipped_pos.tolist()
                ],
                dtype=TEXT_DTYPE,
            ),
        }
    )
    kind_rows: dict[str, list[int]] = {}
    for p in skipped_pos:
        kind_rows.setdefault(kinds[p], []).append(int(source_rows[p]))
    fates, column_findings = _column_fates(raw, columns, data, sheet, ctx.tz)
    return _Part(n, records, quarantine, skipped, kind_rows, fates, column_findings + findings, path_names)


def _names_in_path(path: Path, name_columns: list[pd.Series]) -> frozenset[str]:
    """The applicant names of the file that also appear in its path (clerks name files after applicants):
    the path's runs of two to five words are looked up among the names, in bulk."""
    words = re.findall(r"[^\W\d_]+", unicodedata.normalize("NFC", str(path)).casefold())
    runs = {" ".join(words[i:i + k]) for k in range(2, 6) for i in range(len(words) - k + 1)}
    if not runs or not name_columns:
        return frozenset()
    found: set[str] = set()
    for column in name_columns:
        names = clean_text_array(_as_arrow_strings(column))
        hits = pc.is_in(pc.utf8_lower(names), value_set=pa.array(sorted(runs)))
        found.update(v for v in names.filter(pc.fill_null(hits, False)).unique().to_pylist() if v)
    return frozenset(found)


def _masked_status_texts(texts: pd.Series, table: CodeTable | None, raw: pd.DataFrame, columns: list[ColumnInfo],
                         rows: np.ndarray) -> pd.Series:
    """Status texts as kept: personal data masked (phones, ids, e-mails, and the row's own applicant
    names where the text is more than a known state name)."""
    if texts.isna().all():
        return texts
    codes, distinct = pd.factorize(texts)  # each distinct text is looked at once
    plain = table.exact if table is not None else {}
    masked_distinct = np.array([_masked(t) for t in distinct] + [None], dtype=object)
    unusual_distinct = np.array([fold(t) not in plain for t in distinct] + [False], dtype=bool)
    masked = pd.Series(masked_distinct[codes], index=texts.index, dtype=object)
    unusual = np.flatnonzero(unusual_distinct[codes])
    if len(unusual) and any(c.target in _MASKED_PII for c in columns):
        names = _personal_values(raw, columns, rows[unusual])
        for i in unusual.tolist():
            masked.iat[i] = _masked(texts.iat[i], names.get(int(rows[i]), ()))
    return masked.astype(TEXT_DTYPE)


def _time_unknown(times: dict[str, pd.Series]) -> pd.Series:
    """Per row, the time fields whose value has no time of day (values.date_only), as
    "received_at,due_at"; NaN where every time is known (DESIGN §8.1)."""
    length = len(next(iter(times.values()))) if times else 0
    out = np.full(length, "", dtype=object)
    for name, values in times.items():
        given = date_only(values.to_numpy(dtype="datetime64[us]"))
        out[given] = np.where(out[given] == "", name, out[given] + "," + name)
    return pd.Series(np.where(out == "", None, out), dtype=TEXT_DTYPE)


_TIME_LOOK = r"^\s*\d{1,2}\s*(?::|h|g|giờ)\s*\d{0,2}\s*$"


def _column_fates(raw: pd.DataFrame, columns: list[ColumnInfo], data: np.ndarray, sheet: str | None,
                  tz: str) -> tuple[list[tuple], list[tuple]]:
    """Each column's fate (FATE_COLUMNS tuples) and the findings about columns: an unmapped column whose
    values look like dates or times, a time column without a date column."""
    fates: list[tuple] = []
    findings: list[tuple] = []
    data_rows = np.flatnonzero(data)
    for column in columns:
        note = column.note
        field_name = column.field_name if column.fate in (MAPPED, PII_DROPPED) else None
        if column.fate == UNMAPPED and column.key in raw.columns and len(data_rows):
            values = raw[column.key].iloc[data_rows]
            present = values[_nonempty(values)]
            if len(present):
                names = _personal_values(raw, columns, data_rows[_nonempty(values)][:1])
                sample = _masked(" ".join(cell_text(present.iloc[0]).split()), next(iter(names.values()), ()))[:80]
                note = f"{note}; sample: {sample}" if note else f"sample: {sample}"
                head = present.iloc[:50]
                dated = parse_datetimes(head.astype(object), tz).values.notna().mean()
                timed = head.map(lambda v: isinstance(v, dt.time) or bool(
                    isinstance(v, str) and re.match(_TIME_LOOK, v, re.IGNORECASE))).mean()
                if dated >= 0.8 or timed >= 0.8:
                    what = "dates" if dated >= 0.8 else "times of day"
                    findings.append((None, None, column.header or column.label, sample,
                                     f"column {column.index + 1} '{column.header or column.label}' holds {what} "
                                     f"but maps to no field; add its header to the synonyms file"))
        if column.fate == IGNORED and column.target is None and column.part == TIME_PART and "without a date" in (note or ""):
            findings.append((None, None, column.header or column.label, None,
                             f"column {column.index + 1} '{column.header}': {note}; its times are not used"))
        fates.append((sheet, column.index + 1, column.header or column.label, column.fate, field_name, note))
    return fates, findings


def _pii_values(raw: pd.DataFrame, columns: list[ColumnInfo], good_idx: np.ndarray) -> list[pd.Series]:
    """The kept rows' values of every personal-data column (to mask them where a text quotes them)."""
    return [raw[c.key].iloc[good_idx].reset_index(drop=True) for c in columns if c.is_pii]


def _hashes(raw: pd.DataFrame, columns: list[ColumnInfo], good_idx: np.ndarray, ctx: _Context) -> pd.Series:
    """Applicant hash per kept row from the personal-data columns (which are then dropped)."""
    pii: dict[str, pd.Series] = {}
    for column in columns:
        if column.is_pii and column.target not in pii:
            pii[column.target] = raw[column.key].iloc[good_idx].reset_index(drop=True)
    usable = {
        k: v for k, v in pii.items() if k in ("applicant_id_number", "applicant_name", "applicant_phone")
    }
    if not usable or not len(good_idx):
        return pd.Series([np.nan] * len(good_idx), dtype=TEXT_DTYPE)
    return applicant_hashes(
        ctx.salt(),
        id_number=usable.get("applicant_id_number"),
        name=usable.get("applicant_name"),
        phone=usable.get("applicant_phone"),
        n=len(good_idx),
    )


def _flat_supplements(
    by_field: dict[tuple[str, int], ColumnInfo],
    dates: dict[tuple[str, int], Any],
    case_ids: pd.Series,
    rows_out: pd.Series,
    good_idx: np.ndarray,
) -> pd.DataFrame:
    """Supplement cycles from flat columns: one row per case and cycle with any date filled."""
    cycles = sorted({seq for (name, seq) in by_field if name in SUPPLEMENT_FIELDS})
    frames = []
    for seq in cycles:
        parts = {}
        for name, out in zip(SUPPLEMENT_FIELDS, SUPPLEMENT_TIMES, strict=True):
            parsed = dates.get((name, seq))
            parts[out] = (
                parsed.values.iloc[good_idx].reset_index(drop=True)
                if parsed is not None
                else pd.Series(np.full(len(good_idx), np.datetime64("NaT", "us")), dtype=_DT)
            )
        frame = pd.DataFrame(
            {
                "case_id": case_ids,
                "seq": np.full(len(good_idx), max(seq, 1), dtype="int64"),
                **parts,
                "source_row": rows_out,
            }
        )
        frames.append(frame[frame[list(SUPPLEMENT_TIMES)].notna().any(axis=1)])
    if not frames:
        return empty_records(SUPPLEMENT)
    out = pd.concat(frames, ignore_index=True).sort_values(["source_row", "seq"], ignore_index=True)
    return out[list(SUPPLEMENT.columns)]


# ----------------------------------------------------------------------------- assembling a result
def _header_map(columns: list[ColumnInfo]) -> tuple[dict[str, str], list[str]]:
    """Header as read -> field (a time-of-day column: "<field> (time)"), and the unrecognised headers."""
    mapping: dict[str, str] = {}
    unmapped: list[str] = []
    for column in columns:
        if not column.label:
            continue
        if column.target:
            label = column.label
            name = (column.field_name or "") + (" (time)" if column.is_time_part else "")
            if label in mapping and mapping[label] != name:
                label = f"{label} [{column.index + 1}]"
            mapping[label] = name
        elif column.fate == UNMAPPED:
            unmapped.append(column.label)
    return mapping, unmapped


def _concat(frames: list[pd.DataFrame], columns: Sequence[str] | Record) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_records(columns) if isinstance(columns, Record) else _empty(columns)
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    return pd.concat(frames, ignore_index=True)


def _result(
    ctx: _Context,
    kind: str,
    file_format: str,
    layout: str,
    parts: list[_Part],
    columns: list[ColumnInfo],
    meta_rows: Sequence[Sequence[Any]],
    extra_meta: dict[str, Any] | None = None,
) -> ReadResult:
    meta = read_metadata(meta_rows, ctx.syn, ctx.tz)
    extra_meta = extra_meta or {}
    exported_at, exported_at_source = None, None
    for source, found in (
        ("JSON envelope", extra_meta.get("exported_at")),
        ("export-time line of the file", meta.exported_at),
        ("file name", datetime_from_name(ctx.path.name)),
        ("signature date", meta.signed_on),
    ):
        if found:
            exported_at, exported_at_source = found, source
            break
    header_map, unmapped = _header_map(columns)
    return ReadResult(
        path=ctx.path,
        kind=kind,
        file_format=file_format,
        layout=layout,
        exported_at=exported_at,
        period_text=extra_meta.get("period_text") or meta.period_text,
        rows_read=sum(p.rows_read for p in parts),
        records={
            name: _concat([p.records[name] for p in parts if name in p.records], RECORDS[name])
            for name in dict.fromkeys(n for p in parts for n in p.records)
        },
        quarantine=_concat([p.quarantine for p in parts], QUARANTINE_COLUMNS),
        skipped=_concat([p.skipped for p in parts], SKIPPED_COLUMNS),
        header_map=header_map,
        unmapped_headers=unmapped,
        exported_at_source=exported_at_source,
        column_fates=_fates_frame([fate for p in parts for fate in p.fates]),
        findings=_findings_frame([finding for p in parts for finding in p.findings]),
        personal_names=frozenset(n for p in parts for n in p.personal_names),
    )


def _ranges(rows: list[int]) -> str:
    """'3, 7-9' from [3, 7, 8, 9]."""
    rows = sorted(set(rows))
    out: list[str] = []
    start = prev = None
    for r in rows + [None]:
        if start is None:
            start = prev = r
        elif r is not None and r == prev + 1:
            prev = r
        else:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = r
    return ", ".join(out[:6]) + (" …" if len(out) > 6 else "")


def _data_span(part: _Part, source_rows: np.ndarray, word: str) -> str:
    """', data rows 13-21' (first and last row that is not a layout row)."""
    skipped = np.array([r for rows in part.kinds.values() for r in rows], dtype=np.int64)
    data = source_rows[~np.isin(source_rows, skipped)] if len(skipped) else source_rows
    if not len(data):
        return f", no data {word}s"
    first, last = int(data[0]), int(data[-1])
    return f", data {word}s {first}-{last}" if last != first else f", data {word} {first}"


def _layout_tail(part: _Part, word: str) -> str:
    bits = []
    for row_kind in ("header", "column_numbers", "group", "total", "signature", "title", "blank"):
        rows = part.kinds.get(row_kind)
        if rows:
            bits.append(f"{row_kind.replace('_', ' ')} {word}{'s' if len(rows) > 1 else ''} {_ranges(rows)}")
    return ("; " + "; ".join(bits)) if bits else ""


def _reject_header(ctx: _Context, block: HeaderBlock | None, where: str = "") -> FileRejected:
    targets = block.targets if block else set()
    family = block.family if block else "case"
    missing = ", ".join(missing_fields(targets, family))
    return FileRejected(f"{ctx.path.name}: header not recognised{where}; missing fields: {missing}")


# ----------------------------------------------------------------------------- Excel
def _read_excel(ctx: _Context, file_format: str = "xlsx") -> ReadResult:
    """A workbook, HTML or XML spreadsheet export: its sheets come from sources.open_sheets."""
    assert ctx.limits is not None
    chosen: list[tuple[str, Any, HeaderBlock, list]] = []
    first_block: HeaderBlock | None = None
    any_data = False
    for sheet in open_sheets(ctx.path, file_format, ctx.limits, ctx.findings):
        name = sheet.name
        head = sheet.head(40)
        if not any(not is_empty(v) for row in head for v in row):
            continue
        any_data = True
        merges = sheet.merges
        block = find_header(head, ctx.syn, merges)
        if block is not None and (first_block is None or block.score > first_block.score):
            first_block = block
        if block is None or block.kind is None:
            continue
        chosen.append((name, sheet, block, merges))
    if not any_data:
        raise FileRejected(f"{ctx.path.name}: workbook is empty")
    if not chosen:
        raise _reject_header(ctx, first_block)

    # the workbook's kind: the first sheet's, unless a later sheet's kind takes it as a companion (a task
    # list after its extension history); sheets of other kinds are not read
    kind = chosen[0][2].kind
    for _, _, block, _ in chosen:
        if kind in FILE_KINDS[block.kind].companions:
            kind = block.kind
    chosen = [c for c in chosen if c[2].kind == kind or c[2].kind in FILE_KINDS[kind].companions]
    parts: list[_Part] = []
    meta_rows: list[Sequence[Any]] = []
    descriptions: list[str] = []
    all_columns: list[ColumnInfo] = []
    for order, (name, sheet, block, merges) in enumerate(chosen):
        grid = sheet.rows()
        width = max((len(r) for r in grid), default=0)
        for (r0, c0), (r1, _c1) in merges:  # cells merged down inside the data: the value applies to each row
            if r0 > block.end and r1 > r0 and r1 < len(grid) and c0 < width:
                for r in range(r0 + 1, r1 + 1):
                    if is_empty(grid[r][c0]):
                        grid[r][c0] = grid[r0][c0]
        body = grid[block.end + 1 :]
        raw = _typed(
            pd.DataFrame(body, columns=range(width), dtype=object)
            if body
            else pd.DataFrame(columns=range(width))
        )
        offset = order * SHEET_ROW_OFFSET  # rows of a second, third … sheet stay distinct
        source_rows = np.arange(block.end + 2, block.end + 2 + len(body), dtype=np.int64) + offset
        part = _build(raw, source_rows, block.columns, block.kind, ctx, family=block.family, sheet=name,
                      problems=_long_cell_problems(raw, ctx))
        parts.append(part)
        titles = grid[: block.start]
        meta_rows += titles
        meta_rows += [
            grid[r - offset - 1] for k in ("title", "signature", "total") for r in part.kinds.get(k, [])
        ]
        header_rows = f"{block.start + 1}" if block.depth == 1 else f"{block.start + 1}-{block.end + 1}"
        title_rows = [i + 1 for i, row in enumerate(titles) if any(not is_empty(v) for v in row)]
        text = f"sheet '{name}'" + (f" (source_row = {offset:,} + row)" if offset else "") + ": "
        text += f"title row{'s' if len(title_rows) > 1 else ''} {_ranges(title_rows)}, " if title_rows else ""
        text += f"header row{'s' if block.depth > 1 else ''} {header_rows}"
        text += f" ({block.depth} rows{', merged' if block.merged else ''})" if block.depth > 1 else ""
        text += _data_span(part, source_rows, "row")
        text += _layout_tail(part, "row")
        descriptions.append(text)
        all_columns = all_columns or block.columns
    layout = f"{file_format} report, " + " | ".join(descriptions)
    return _result(ctx, kind, file_format, layout, parts, all_columns, meta_rows)


# ----------------------------------------------------------------------------- CSV
_HEAD_BYTES = 1 << 20


def _detect_encoding(path: Path) -> tuple[str, str]:
    """Encoding of a text export (sources.detect_encoding: BOM, UTF-16, UTF-8, else Windows-1258) and its
    first ~1 MB decoded."""
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    complete = len(head) < _HEAD_BYTES
    encoding = detect_encoding(head, complete)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=complete)
    if not complete and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return encoding, text


def _head_records(text: str, delimiter: str, limit: int = 40) -> tuple[list[list[str]], list[int]]:
    """The first records of a CSV text and the physical line each ends on."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records: list[list[str]] = []
    ends: list[int] = []
    try:
        for record in reader:
            records.append(record)
            ends.append(reader.line_num)
            if len(records) >= limit:
                break
    except csv.Error:
        pass
    return records, ends


def _csv_fallback(
    path: Path, encoding: str, delimiter: str, skip_records: int, width: int
) -> tuple[pd.DataFrame, np.ndarray, list[_Problem]]:
    """Slow exact reader (Python csv module): line numbers of multi-line records, ragged rows."""
    rows: list[list[str]] = []
    lines: list[int] = []
    too_long: list[int] = []
    too_long_n: list[int] = []
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        previous = 0
        for index, record in enumerate(reader):
            start, previous = previous + 1, reader.line_num
            if index < skip_records:
                continue
            if len(record) > width:
                if any(v.strip() for v in record[width:]):
                    too_long.append(len(rows))
                    too_long_n.append(len(record))
                record = record[:width]
            rows.append(record + [""] * (width - len(record)))
            lines.append(start)
    raw = (
        pd.DataFrame(rows, columns=range(width), dtype=TEXT_DTYPE)
        if rows
        else pd.DataFrame({i: pd.Series([], dtype=TEXT_DTYPE) for i in range(width)})
    )
    problems = [
        _Problem(
            np.array(too_long, dtype=np.int64),
            "row",
            [""] * len(too_long),
            [f"row: {k} fields, the header has {width}" for k in too_long_n],
        )
    ]
    return raw, np.array(lines, dtype=np.int64), problems


def _physical_lines(path: Path) -> int:
    """Number of lines in a file (a last line without a newline counts)."""
    count = 0
    last = b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _csv_arrow(
    path: Path, encoding: str, delimiter: str, header_lines: int, width: int
) -> pd.DataFrame | None:
    """Fast multi-threaded read of the data lines, every column as text; None when a line does not
    map to exactly one row of the header's width (the exact reader takes over)."""
    if encoding not in ("utf-8", "utf-8-sig"):
        return None
    import pyarrow.csv as pacsv

    invalid: list[Any] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row)
        return "skip"

    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(skip_rows=header_lines, column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, ignore_empty_lines=False, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeError):
        return None
    if invalid or table.num_rows != _physical_lines(path) - header_lines:
        return None
    return pd.DataFrame(
        {i: pd.Series(pd.arrays.ArrowStringArray(table.column(i), dtype=TEXT_DTYPE)) for i in range(width)},
        columns=range(width),
    )


def _read_csv(ctx: _Context) -> ReadResult:
    encoding, head = _detect_encoding(ctx.path)
    if not head.strip().strip("\ufeff"):
        raise FileRejected(f"{ctx.path.name}: file is empty")
    if ctx.limits is not None:
        check_csv_width(ctx.path, head, ctx.limits)
        check_text_export(ctx.path, ctx.limits, encoding)
    best: tuple[tuple, str, HeaderBlock, list[list[str]], list[int]] | None = None
    for delimiter in (",", ";", "\t", "|"):
        records, ends = _head_records(head, delimiter)
        block = find_header(records, ctx.syn)
        if block is None:
            continue
        key = (block.kind is not None, block.score, -block.start)
        if best is None or key > best[0]:
            best = (key, delimiter, block, records, ends)
    if best is None or best[2].kind is None:
        raise _reject_header(ctx, best[2] if best else None)
    _, delimiter, block, records, ends = best
    kind = block.kind
    header_lines = ends[block.end]
    width = max(len(records[r]) for r in range(block.start, block.end + 1))
    problems: list[_Problem] = []
    fast = _csv_arrow(ctx.path, encoding, delimiter, header_lines, width)
    if fast is not None:
        raw = fast
        source_rows = np.arange(header_lines + 1, header_lines + 1 + len(raw), dtype=np.int64)
    else:
        raw, source_rows, problems = _csv_fallback(ctx.path, encoding, delimiter, block.end + 1, width)
    problems += _long_cell_problems(raw, ctx)
    part = _build(raw, source_rows, block.columns, kind, ctx, problems=problems, family=block.family)
    names = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
    title_lines = [
        ends[i - 1] + 1 if i else 1 for i in range(block.start) if any(v.strip() for v in records[i])
    ]
    header_first = ends[block.start - 1] + 1 if block.start else 1
    layout = f"csv ({encoding}, {names[delimiter]}): "
    layout += (
        f"title line{'s' if len(title_lines) > 1 else ''} {_ranges(title_lines)}, " if title_lines else ""
    )
    layout += f"header line{'s' if header_lines > header_first else ''} "
    layout += f"{header_first}-{header_lines}" if header_lines > header_first else f"{header_first}"
    layout += _data_span(part, source_rows, "line")
    layout += _layout_tail(part, "line")
    meta_rows = records[: block.start] + [
        r for k in ("title", "signature") for r in _rows_of(raw, source_rows, part.kinds.get(k, []))
    ]
    return _result(ctx, kind, "csv", layout, [part], block.columns, meta_rows)


def _rows_of(raw: pd.DataFrame, source_rows: np.ndarray, wanted: list[int]) -> list[list[Any]]:
    positions = np.searchsorted(source_rows, wanted)
    return [list(raw.iloc[int(p)]) for p in positions if p < len(raw)]


# ----------------------------------------------------------------------------- JSON
def _find_records(data: Any, list_keys: list[str]) -> tuple[list[Any] | None, str]:
    """The list of records in a JSON document and where it was found."""
    if isinstance(data, list):
        return data, "array"
    if not isinstance(data, dict):
        return None, ""
    wanted = {compact(k) for k in list_keys}
    for key, value in data.items():
        if compact(key) in wanted and isinstance(value, list):
            return value, f"list under '{key}'"
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value[:10]):
            return value, f"list under '{key}'"
    for key, value in data.items():
        if isinstance(value, dict):
            found, where = _find_records(value, list_keys)
            if found is not None:
                return found, f"{where} in '{key}'"
    return None, ""


def _json_meta(data: Any, syn: Synonyms, tz: str) -> dict[str, Any]:
    """Export time and period from the envelope object around the records."""
    if not isinstance(data, dict):
        return {}
    keys = {compact(k): k for k in data}
    meta: dict[str, Any] = {}

    def first(names: list[str]) -> Any:
        for name in names:
            if compact(name) in keys and not is_empty(data[keys[compact(name)]]):
                return data[keys[compact(name)]]
        return None

    exported = first(syn.metadata.get("exported_at_keys", []))
    if exported is not None:
        meta["exported_at"] = parse_one_datetime(exported, tz)
    start = first(syn.metadata.get("period_from_keys", []))
    end = first(syn.metadata.get("period_to_keys", []))
    start_dt = parse_one_datetime(start, tz) if start is not None else None
    end_dt = parse_one_datetime(end, tz) if end is not None else None
    if start_dt and end_dt:
        meta["period_text"] = f"Từ ngày {start_dt:%d/%m/%Y} đến ngày {end_dt:%d/%m/%Y}"
    return meta


def _load_json(ctx: _Context) -> tuple[Any, list[Any], np.ndarray, list[int], str]:
    """The parsed document, its records, their row numbers, unparsable JSON-Lines rows, and a layout note."""
    decoded = decode_text(ctx.path.read_bytes())
    text = decoded.text
    if decoded.finding():
        ctx.findings.append(decoded.finding() or "")
    if not text.strip().lstrip("\ufeff"):
        raise FileRejected(f"{ctx.path.name}: file is empty")
    text = text.lstrip("\ufeff")
    try:
        data = json.loads(text)
    except RecursionError:
        raise FileRejected(f"{ctx.path.name}: JSON nested too deeply") from None
    except json.JSONDecodeError as error:
        lines = text.splitlines()
        records: list[Any] = []
        numbers: list[int] = []
        broken: list[int] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except (json.JSONDecodeError, RecursionError):
                records.append(_BROKEN)
                broken.append(number)
            numbers.append(number)
        if not records or len(broken) == len(records) or len(records) == 1:
            raise FileRejected(f"{ctx.path.name}: not valid JSON ({_one_line(error)})") from None
        _check_json_size(ctx, records)
        return None, records, np.array(numbers, dtype=np.int64), broken, "json lines"
    records_found, where = _find_records(data, ctx.syn.metadata.get("list_keys", []))
    if records_found is None:
        family, single = best_columns(ctx.syn, [[k] for k in data]) if isinstance(data, dict) else ("case", [])
        if isinstance(data, dict) and kind_of(targets_of(single), family):
            records_found, where = [data], "single object"
        else:
            raise FileRejected(f"{ctx.path.name}: JSON holds no list of records")
    _check_json_size(ctx, records_found)
    return data, records_found, np.arange(1, len(records_found) + 1, dtype=np.int64), [], f"json {where}"


_BROKEN = object()


def _read_json_or_csv(ctx: _Context) -> ReadResult:
    """A text starting with '[' or '{' is JSON; when it is not valid JSON it may still be a CSV
    whose first cell starts with a bracket, so the CSV reader has a go before the JSON error stands."""
    try:
        return _read_json(ctx)
    except FileRejected as error:
        if "not valid JSON" not in str(error):
            raise
        ctx.findings.clear()
        try:
            return _read_csv(ctx)
        except FileRejected:
            raise error from None


def _check_json_size(ctx: _Context, records: list[Any]) -> None:
    """Reject JSON with more records, or more distinct keys, than the row and column limits."""
    if ctx.limits is None:
        return
    if len(records) > ctx.limits.max_rows:
        raise FileRejected(f"{ctx.path.name}: holds {len(records):,} records (limit {ctx.limits.max_rows:,} rows)")
    keys: set[Any] = set()
    for record in records:
        if isinstance(record, dict):
            keys.update(record)
            if len(keys) > ctx.limits.max_columns:
                raise FileRejected(
                    f"{ctx.path.name}: records carry more than {ctx.limits.max_columns:,} distinct keys (column limit)"
                )


def _read_json(ctx: _Context) -> ReadResult:
    data, records, source_rows, broken, where = _load_json(ctx)
    keys: dict[tuple[str, ...], None] = {}
    for record in records:
        if isinstance(record, dict):
            for key, value in record.items():
                if isinstance(value, dict):
                    for sub in value:
                        keys[(key, sub)] = None
                else:
                    keys[(key,)] = None
    paths = list(keys)
    family, columns = best_columns(ctx.syn, [list(p) for p in paths])
    for position, (column, path) in enumerate(zip(columns, paths, strict=True)):
        column.key = position
        column.label = ".".join(path) if not column.target or len(path) > 1 else path[0]
        column.header = ".".join(path)
    targets = targets_of(columns)
    kind = kind_of(targets, family)
    if kind is None and not records:
        kind = "cases"  # an empty list: a sync export with nothing new (the national sync format is cases)
    if kind is None and not any(isinstance(r, dict) for r in records):
        raise FileRejected(f"{ctx.path.name}: JSON holds no records (objects)")
    if kind is None:
        raise _reject_header(ctx, HeaderBlock(0, 1, columns, 0, None, targets=targets, family=family),
                             " in JSON keys")

    def value(record: Any, path: tuple[str, ...]) -> Any:
        if not isinstance(record, dict):
            return None
        found = record.get(path[0])
        if len(path) == 2:
            return found.get(path[1]) if isinstance(found, dict) else None
        return None if isinstance(found, (dict, list)) else found

    supplements_at = next((i for i, c in enumerate(columns) if c.target == "supplements"), None)
    supplements_path = paths[supplements_at] if supplements_at is not None else None
    kept = [i for i in range(len(paths)) if i != supplements_at]
    raw = pd.DataFrame(
        {i: pd.Series([value(r, paths[i]) for r in records], dtype=object) for i in kept},
        index=range(len(records)),
        columns=kept,
    )
    problems: list[_Problem] = []
    not_objects = [i for i, r in enumerate(records) if not isinstance(r, dict)]
    if not_objects:
        reasons = [
            "record: invalid JSON line" if records[i] is _BROKEN else "record: not a JSON object"
            for i in not_objects
        ]
        problems.append(
            _Problem(np.array(not_objects, dtype=np.int64), "record", [""] * len(not_objects), reasons)
        )
    problems += _json_supplement_problems(records, supplements_path, ctx)
    problems += _long_cell_problems(raw, ctx)
    part = _build(
        raw,
        source_rows,
        [c for c in columns if c.key != supplements_at],
        kind,
        ctx,
        classify=False,
        problems=problems,
        family=family,
    )
    if supplements_path is not None and kind == "cases":
        part.records["supplement"] = _json_supplements(records, supplements_path, source_rows, part, ctx)
    if supplements_at is not None:  # the list of cycles, and each key inside it
        cycles = columns[supplements_at]
        part.fates.insert(supplements_at, (None, supplements_at + 1, cycles.header, MAPPED, "supplements",
                                           "list of supplement cycles (one row each in the supplement records)"))
        for key in _supplement_keys(records, supplements_path):
            inner = assign_columns(ctx.syn, [[key]], "case")[0]
            mapped = inner.target in SUPPLEMENT_FIELDS or inner.target == "new_due_at"
            part.fates.append((None, supplements_at + 1, f"{cycles.header}.{key}", MAPPED if mapped else inner.fate,
                               inner.target if mapped or inner.is_pii else None,
                               inner.note or ("a field of each supplement cycle" if mapped else None)))
    layout = f"{where}, {len(records)} records" + _layout_tail(part, "record")
    if broken:
        layout += f"; invalid JSON lines {_ranges(broken)}"
    return _result(ctx, kind, "json", layout, [part], columns, [], _json_meta(data, ctx.syn, ctx.tz))


_CYCLE_COLUMNS = ("pos", "seq", *SUPPLEMENT_TIMES)


def _supplement_table(records: list[Any], path: tuple[str, ...] | None, ctx: _Context) -> pd.DataFrame:
    """One row per supplement cycle in the records: position, seq and its raw times (SUPPLEMENT_TIMES)."""
    rows: list[tuple[Any, ...]] = []
    if path is None:
        return pd.DataFrame(columns=list(_CYCLE_COLUMNS))
    # the field a key of a cycle maps to -> its slot in the row (a cycle's "new due date" may be named as
    # the case's own new_due_at)
    inner = {source: _CYCLE_COLUMNS.index(name) for source, name in zip(SUPPLEMENT_FIELDS, SUPPLEMENT_TIMES, strict=True)}
    inner["new_due_at"] = _CYCLE_COLUMNS.index("new_due_at")
    key_cache: dict[str, int | None] = {}
    for pos, record in enumerate(records):
        cycles = record.get(path[0]) if isinstance(record, dict) else None
        if not isinstance(cycles, list):
            continue
        for seq, cycle in enumerate(cycles, start=1):
            if not isinstance(cycle, dict):
                continue
            row: list[Any] = [pos, seq, *(None for _ in SUPPLEMENT_TIMES)]
            for key, val in cycle.items():
                if key not in key_cache:
                    found = assign_columns(ctx.syn, [[key]], "case")[0].target
                    key_cache[key] = inner.get(found or "")
                slot = key_cache[key]
                if slot is not None and row[slot] is None:
                    row[slot] = val
            rows.append(tuple(row))
    return pd.DataFrame(rows, columns=list(_CYCLE_COLUMNS), dtype=object)


def _supplement_keys(records: list[Any], path: tuple[str, ...] | None) -> list[str]:
    """The keys used inside the supplement cycles of the records, in order of first use."""
    keys: dict[str, None] = {}
    for record in records:
        cycles = record.get(path[0]) if isinstance(record, dict) and path else None
        for cycle in cycles if isinstance(cycles, list) else ():
            if isinstance(cycle, dict):
                keys.update(dict.fromkeys(cycle))
    return list(keys)


def _json_supplement_problems(
    records: list[Any], path: tuple[str, ...] | None, ctx: _Context
) -> list[_Problem]:
    table = _supplement_table(records, path, ctx)
    problems = []
    for name in SUPPLEMENT_TIMES:
        if not len(table):
            break
        parsed = parse_datetimes(table[name].astype(object), ctx.tz)
        bad = np.flatnonzero(parsed.bad)
        if len(bad):
            raws = [parsed.raw.get(int(i), "") for i in bad]
            seqs = table["seq"].to_numpy()[bad]
            problems.append(
                _Problem(
                    table["pos"].to_numpy()[bad].astype(np.int64),
                    f"supplement_{name}",
                    raws,
                    [
                        f"supplement_{name} (cycle {s}): {parsed.reasons[i]} '{r}'"
                        for i, s, r in zip(bad, seqs, raws, strict=True)
                    ],
                )
            )
    return problems


def _json_supplements(
    records: list[Any], path: tuple[str, ...], source_rows: np.ndarray, part: _Part, ctx: _Context
) -> pd.DataFrame:
    """Supplement cycles of the kept cases from the JSON lists."""
    table = _supplement_table(records, path, ctx)
    if not len(table):
        return empty_records(SUPPLEMENT)
    table["source_row"] = source_rows[table["pos"].to_numpy(dtype=np.int64)]
    kept = part.records["case"][["source_row", "case_id"]]
    table = table.merge(kept, on="source_row", how="inner")
    out = pd.DataFrame(
        {
            "case_id": table["case_id"].astype(TEXT_DTYPE),
            "seq": table["seq"].astype("int64"),
            **{name: parse_datetimes(table[name].astype(object), ctx.tz).values for name in SUPPLEMENT_TIMES},
            "source_row": table["source_row"].astype("int64"),
        }
    )
    return out.sort_values(["source_row", "seq"], ignore_index=True)


# ----------------------------------------------------------------------------- entry point
def _sniff_format(path: Path) -> str:
    """The kind of an export, from its content (see sources.sniff_kind)."""
    return sniff_kind(path)


def read_export(path: Path, settings: Settings) -> ReadResult:
    """Read one export file into canonical records; raises FileRejected when the file cannot be used.

    What the file is comes from its content, whatever its name; the limits in the settings bound
    what a hostile file can make the reader hold. (For isolation from crashes of the native
    parsers, and a time limit, read through pipeline.ingest.isolate.)"""
    path = Path(path)
    if not path.is_file():
        raise FileRejected(f"{path.name}: not a readable file")
    size = path.stat().st_size
    if size == 0:
        raise FileRejected(f"{path.name}: file is empty")
    limits = Limits.of(settings)
    if size > limits.max_file_bytes:
        raise FileRejected(f"{path.name}: {size:,} bytes is larger than the limit ({limits.max_file_bytes:,} bytes)")
    ctx = _Context(path, settings, load_synonyms(settings.header_synonyms_file), settings.timezone,
                   load_status_map(settings.status_map_file), limits=limits)
    try:
        kind = _sniff_format(path)
        if kind in SPREADSHEET_KINDS:
            result = _read_excel(ctx, kind)
        elif kind == "json":
            result = _read_json_or_csv(ctx)
        else:
            result = _read_csv(ctx)
    except FileRejected:
        raise
    except (OSError, UnicodeError, csv.Error, pd.errors.ParserError) as error:
        raise FileRejected(f"{path.name}: cannot read ({_one_line(error)})") from None
    notes = ctx.findings + replacement_findings(result.records)
    if notes:
        file_notes = _findings_frame([(None, None, "file", None, note) for note in notes if note])
        result.findings = pd.concat([file_notes, result.findings], ignore_index=True)
    return result
