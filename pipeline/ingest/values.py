"""Cell values of exports turned into canonical values: text, datetimes, status and channel codes,
and the salted applicant hash. Column-wise and vectorised (pyarrow compute kernels), so a
1,000,000-row column is read in a fraction of a second; Python loops run only over distinct values
or over the few cells that need a second look.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Texts that mean "no value" in exports (compared lower-case, stripped).
NULL_TOKENS = frozenset({"", "-", "--", "---", "—", "–", "null", "none", "nan", "nat", "n/a", "#n/a"})

TEXT_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3 default "str" dtype

_MICROS_PER_DAY = 86_400_000_000
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "us")
_MAX_EXCEL_SERIAL = 2_958_466  # 9999-12-31
# Dates that exporting software writes for "no date": .NET MinValue, the Excel and SQL zero dates,
# and the 9999-12-31 "no end" date. Read as empty, never as an error.
_SENTINELS = np.array(
    ["0001-01-01", "1899-12-30", "1899-12-31", "1900-01-01", "1753-01-01", "9999-12-31"],
    dtype="datetime64[us]",
)
MIN_YEAR, MAX_YEAR = 1950, 2100
_MIN_MICROS = int(np.datetime64(f"{MIN_YEAR}-01-01", "us").astype(np.int64))
_YEAR_100_MICROS = int(np.datetime64("0100-01-01", "us").astype(np.int64))
_MAX_MICROS = int(np.datetime64(f"{MAX_YEAR + 1}-01-01", "us").astype(np.int64))


# ----------------------------------------------------------------------------- text helpers
def nfc(text: str) -> str:
    """The text in Unicode NFC."""
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case ASCII words of a text: no diacritics (đ → d), punctuation as spaces, single spaces."""
    decomposed = unicodedata.normalize("NFD", str(text).casefold().replace("đ", "d").replace("Đ", "d"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", stripped).split())


@lru_cache(maxsize=65536)
def compact(text: str) -> str:
    """fold() without spaces: "Mã hồ sơ", "MA_HO_SO" and "MaHoSo" all give "mahoso"."""
    return fold(text).replace(" ", "")


def cell_text(value: Any) -> str:
    """A cell value as the text a user sees ('' for empty); integral numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return format(value, ".15g")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S") if value.second else value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else value.strftime("%d/%m/%Y %H:%M")
    return str(value)


def is_empty(value: Any) -> bool:
    """True for None, NaN and blank strings."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    return value is pd.NaT


def _code_text(value: Any, field: str | None) -> str:
    """Text of a code cell. A numeric cell is lossy: leading zeros are already gone, and a national
    procedure code (1.000250) arrives as 1.00025 — it is written back with six decimals."""
    if (
        field == "procedure_code"
        and isinstance(value, float)
        and not value.is_integer()
        and 0 < value < 10
        and round(value, 6) == value
    ):
        return f"{value:.6f}"
    return cell_text(value)


def _as_arrow_strings(series: pd.Series, field: str | None = None) -> pa.Array:
    """The column as a pyarrow string array (nulls kept), converting non-text cells to text."""
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        arr = series.array._pa_array  # noqa: SLF001 - zero-copy access to the arrow data
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        return arr.cast(pa.string()) if arr.type != pa.string() else arr
    values = series.to_numpy(dtype=object, na_value=None)
    texts = [None if is_empty(v) else _code_text(v, field) for v in values]
    return pa.array(texts, type=pa.string())


_NULL_VARIANTS = pa.array(
    sorted({v for t in NULL_TOKENS for v in (t, t.upper(), t.title(), t.capitalize())}), type=pa.string()
)


def _null_tokens_mask(arr: pa.Array) -> pa.Array:
    """Boolean array: the (stripped) value is empty or a no-value token like '-' or 'NULL'."""
    listed = pc.is_in(arr, value_set=_NULL_VARIANTS)
    return pc.or_kleene(pc.is_null(arr), pc.fill_null(listed, True))


_COMBINING = r"[\x{0300}-\x{036F}\x{1AB0}-\x{1AFF}\x{1DC0}-\x{1DFF}\x{20D0}-\x{20FF}\x{FE20}-\x{FE2F}]"


def _nfc_array(arr: pa.Array) -> pa.Array:
    """The array in Unicode NFC. Only values holding combining marks (decomposed text, e.g. NFD
    Vietnamese from macOS tools) can change, so only those are normalised."""
    if pc.all(pc.fill_null(pc.string_is_ascii(arr), True)).as_py():
        return arr
    decomposed = pc.fill_null(pc.match_substring_regex(arr, _COMBINING), False)
    if not pc.any(decomposed).as_py():
        return arr
    return pc.if_else(decomposed, pc.utf8_normalize(arr, "NFC"), arr)


def _clean(arr: pa.Array, collapse: bool) -> pa.Array:
    arr = pc.utf8_trim_whitespace(_nfc_array(arr))
    if pc.any(pc.fill_null(pc.starts_with(arr, '="'), False)).as_py():
        arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, r'^="(.*)"$', r"\1"))
    if collapse and any(
        pc.any(pc.fill_null(pc.match_substring(arr, token), False)).as_py()
        for token in ("  ", "\t", "\n", "\r", "\u00a0")
    ):
        arr = pc.replace_substring_regex(arr, r"[\s\x{00A0}]+", " ")
    return pc.if_else(_null_tokens_mask(arr), pa.scalar(None, pa.string()), arr)


def clean_text_array(arr: pa.Array, *, collapse: bool = True) -> pa.Array:
    """NFC, trimmed, ="…" unwrapped, internal whitespace collapsed (unless `collapse` is False),
    empty and no-value tokens as null. Columns with few distinct values are cleaned once per value."""
    n = len(arr)
    if n == 0:
        return arr
    if n > 20_000:
        sample = arr.take(pa.array(np.linspace(0, n - 1, 2_000).astype(np.int64)))
        if len(pc.unique(sample)) < 500:
            encoded = pc.dictionary_encode(arr)
            return pc.take(_clean(encoded.dictionary, collapse), encoded.indices)
    return _clean(arr, collapse)


def text_series(series: pd.Series, field: str | None = None, *, collapse: bool = True) -> pd.Series:
    """A column as clean text (pandas "str" dtype, NaN for empty): NFC, stripped, codes kept as text."""
    arr = clean_text_array(_as_arrow_strings(series, field), collapse=collapse)
    return pd.Series(
        pd.arrays.ArrowStringArray(pa.chunked_array([arr]), dtype=TEXT_DTYPE), index=series.index
    )


# ----------------------------------------------------------------------------- datetimes
@dataclass(frozen=True)
class _Format:
    fmt: str  # pyarrow strptime format
    shape: str  # RE2 regex the whole text must match (strptime alone is lenient)
    day: Any  # where the day sits: "lead" (first digits), "after" (after the time), or (start, stop)


_D = r"\d{1,2}/\d{1,2}/\d{4}"
_FORMATS = (
    _Format("%d/%m/%Y %H:%M:%S", rf"^{_D} \d{{1,2}}:\d{{2}}:\d{{2}}$", "lead"),
    _Format("%d/%m/%Y %H:%M", rf"^{_D} \d{{1,2}}:\d{{2}}$", "lead"),
    _Format("%d/%m/%Y", rf"^{_D}$", "lead"),
    _Format("%Y%m%d%H%M%S", r"^\d{14}$", (6, 8)),
    _Format("%Y%m%d%H%M", r"^\d{12}$", (6, 8)),
    _Format("%Y%m%d", r"^\d{8}$", (6, 8)),
    _Format("%Y-%m-%dT%H:%M:%S", r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", (8, 10)),
    _Format("%Y-%m-%d %H:%M:%S", r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", (8, 10)),
    _Format("%Y-%m-%dT%H:%M", r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$", (8, 10)),
    _Format("%Y-%m-%d %H:%M", r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$", (8, 10)),
    _Format("%Y-%m-%d", r"^\d{4}-\d{2}-\d{2}$", (8, 10)),
    _Format("%Y/%m/%d %H:%M:%S", r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}$", (8, 10)),
    _Format("%Y/%m/%d %H:%M", r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}$", (8, 10)),
    _Format("%Y/%m/%d", r"^\d{4}/\d{2}/\d{2}$", (8, 10)),
    _Format("%H:%M:%S %d/%m/%Y", rf"^\d{{1,2}}:\d{{2}}:\d{{2}} {_D}$", "after"),
    _Format("%H:%M %d/%m/%Y", rf"^\d{{1,2}}:\d{{2}} {_D}$", "after"),
    _Format("%d/%m/%Y %I:%M:%S %p", rf"^{_D} \d{{1,2}}:\d{{2}}:\d{{2}} [AP]M$", "lead"),
    _Format("%d/%m/%Y %I:%M %p", rf"^{_D} \d{{1,2}}:\d{{2}} [AP]M$", "lead"),
)

# Rewrites tried on texts no format matched: Vietnamese words around dates, other separators.
_REWRITES = (
    (r"[\s\x{00A0}]+", " "),
    # spelled out: "ngày 05 tháng 4 năm 2025" -> 05/4/2025
    (r"(?i)(?:ng[àa]y\s*)?(\d{1,2})\s*th[áa]ng\s*(\d{1,2})\s*n[ăa]m\s*(\d{4})", r"\1/\2/\3"),
    (r"(?i)(lúc|luc|ngày|ngay|vào|vao)", " "),
    (r"\s*,\s*", " "),
    (r"\s+[-–]\s+", " "),
    (r"(?i)(\d{1,2})\s*(?:giờ|gio|h|g)\s*(\d{2})\s*(?:phút|phut|p)?(\s|$)", r"\1:\2\3"),
    (r"(?i)(^|\s)(\d{1,2})\s*(?:giờ|gio|h|g)(\s|$)", r"\1\2:00\3"),
    (r"(^|\s)(\d{1,2})[-.](\d{1,2})[-.](\d{4})", r"\1\2/\3/\4"),
    (r"(:\d{2})[.,]\d+", r"\1"),
    (r"(?i)\s*\b(sa|am|a\.m\.)$", " AM"),
    (r"(?i)\s*\b(ch|pm|p\.m\.)$", " PM"),
    (r"\s+", " "),
)


def _day_numbers(sub: pa.Array, where: Any) -> np.ndarray:
    """Day of month as written in each text (to catch 31/02 that strptime rolls over to 03/03)."""
    if where == "lead":
        part = pc.replace_substring_regex(pc.utf8_slice_codeunits(sub, 0, 2), r"\D", "")
    elif where == "after":
        part = pc.struct_field(pc.extract_regex(sub, r"\s(?P<d>\d{1,2})/"), [0])
    else:
        part = pc.utf8_slice_codeunits(sub, where[0], where[1])
    return pc.fill_null(pc.cast(part, pa.int64()), -1).to_numpy(zero_copy_only=False)


def _rank_formats(arr: pa.Array) -> list[_Format]:
    """The formats seen in a sample of the texts, most frequent first."""
    n = len(arr)
    sample = arr.take(pa.array(np.unique(np.linspace(0, n - 1, min(n, 400)).astype(np.int64))))
    hits = [
        (int(pc.sum(pc.match_substring_regex(sample, f.shape)).as_py() or 0), i)
        for i, f in enumerate(_FORMATS)
    ]
    return [_FORMATS[i] for count, i in sorted(hits, key=lambda h: (-h[0], h[1])) if count]


_NUMERIC_DATE = r"(^|[^\d/.-])(\d{1,2})([/.-])(\d{1,2})([/.-])(\d{4})"


def month_first(arr: pa.Array) -> bool:
    """Whether a column's numeric dates are written month first: day comes before month unless the
    column proves otherwise (some value's second part is above 12 and no value's first part is)."""
    pattern = r"(?:^|[^\d/.-])(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-]\d{4}"
    if len(arr) > 20_000:  # a day above 12 early in the column settles it without reading the rest
        head = pc.extract_regex(arr.slice(0, 20_000), pattern)
        if (pc.max(pc.cast(pc.struct_field(head, [0]), pa.int64())).as_py() or 0) > 12:
            return False
    found = pc.extract_regex(arr, pattern)
    first = pc.max(pc.cast(pc.struct_field(found, [0]), pa.int64())).as_py()
    second = pc.max(pc.cast(pc.struct_field(found, [1]), pa.int64())).as_py()
    return second is not None and second > 12 and (first or 0) <= 12


def _swap_day_month(arr: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(arr, _NUMERIC_DATE, r"\1\4\3\2\5\6")


def _parse_text_dates(arr: pa.Array, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds since 1970 and an ok-mask for non-empty date texts, trying every known format."""
    n = len(arr)
    out = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    idx = np.arange(n)
    swap = month_first(arr)
    cur = _swap_day_month(arr) if swap else arr
    for stage in (0, 1):
        if not len(idx):
            break
        if stage == 1:
            cur = arr.take(pa.array(idx)) if swap else cur  # rewrite the texts as written, then swap once
            for pattern, repl in _REWRITES:
                cur = pc.replace_substring_regex(cur, pattern, repl)
            cur = pc.utf8_trim_whitespace(cur)
            if swap:
                cur = _swap_day_month(cur)
        for f in _rank_formats(cur) if stage == 0 else _FORMATS:
            if not len(idx):
                break
            if f.fmt.startswith("%Y"):  # year first: strptime would take a 2-digit day for the year
                match = pc.fill_null(pc.match_substring_regex(cur, f.shape), False).to_numpy(
                    zero_copy_only=False
                )
            else:  # strptime itself rejects other shapes (and trailing text)
                match = np.ones(len(idx), dtype=bool)
            if not match.any():
                continue
            sub = cur.filter(pa.array(match)) if not match.all() else cur
            parsed = pc.strptime(sub, format=f.fmt, unit="us", error_is_null=True)
            valid = parsed.is_valid().to_numpy(zero_copy_only=False).copy()
            micros = pc.fill_null(parsed.cast(pa.int64()), 0).to_numpy(zero_copy_only=False).copy()
            day_of_month = pc.fill_null(pc.day(parsed), 0).to_numpy(zero_copy_only=False)
            rolled = np.flatnonzero(valid & (day_of_month <= 3))  # 31/02 comes back as 03/03
            if len(rolled):
                written = _day_numbers(sub.take(pa.array(rolled)), f.day)
                valid[rolled] &= day_of_month[rolled] == written
            short = np.flatnonzero(valid & (micros < _YEAR_100_MICROS))
            if len(short):  # dd/mm/yy: pyarrow reads year 25; exports mean 2025
                micros[short] = _two_digit_years(sub.take(pa.array(short)), micros[short], valid, short)
            positions = np.flatnonzero(match)[valid]
            out[idx[positions]] = micros[valid]
            ok[idx[positions]] = True
            keep = np.ones(len(idx), dtype=bool)
            keep[positions] = False
            idx, cur = idx[keep], cur.filter(pa.array(keep))
    if len(idx):
        _parse_leftovers(cur, idx, out, ok, tz)
    return out, ok


def _two_digit_years(texts: pa.Array, micros: np.ndarray, valid: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Years written with two digits moved to 20yy; other tiny years stay (and fail the range check)."""
    out = micros.copy()
    for i, (text, value) in enumerate(zip(texts.to_pylist(), micros.tolist(), strict=True)):
        if re.search(r"(?<!\d)\d{1,2}[/.-]\d{1,2}[/.-]\d{2}(?!\d)", text or ""):
            moment = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=value)
            try:
                out[i] = np.datetime64(moment.replace(year=moment.year + 2000), "us").astype(np.int64)
            except ValueError:  # 29/02/yy in a year that is not leap
                valid[rows[i]] = False
    return out


def _epoch_micros(texts: pd.Series, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Unix times (10 digits: seconds, 13: milliseconds; never with a leading zero, which is a phone number)
    and .NET JSON dates /Date(ms±zone)/ as local times."""
    digits = texts.str.extract(r"^(?:/Date\()?(-?[1-9]\d{9}|-?[1-9]\d{12})(?:[+-]\d{4})?(?:\)/)?$")[0]
    found = digits.notna().to_numpy().copy()
    micros = np.zeros(len(texts), dtype=np.int64)
    if found.any():
        values = digits[found].astype(np.int64).to_numpy()
        seconds = np.where(
            np.char.str_len(digits[found].str.lstrip("-").to_numpy().astype(str)) == 13, values / 1000, values
        )
        local = (
            pd.to_datetime(seconds, unit="s", utc=True)
            .tz_convert(tz)
            .tz_localize(None)
            .astype("datetime64[us]")
        )
        micros[found] = local.to_numpy().astype(np.int64)
    return micros, found


def _parse_leftovers(cur: pa.Array, idx: np.ndarray, out: np.ndarray, ok: np.ndarray, tz: str) -> None:
    """Last tries: ISO 8601 with fractions or a UTC offset, Unix and .NET JSON times, and Excel serial
    numbers written as text."""
    texts = pd.Series(cur.to_pylist(), dtype=object)
    iso = texts.str.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}").fillna(False).astype(bool)
    if iso.any():
        with_tz = iso & texts.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True).fillna(False).astype(bool)
        for mask, utc in ((iso & ~with_tz, False), (with_tz, True)):
            if not mask.any():
                continue
            parsed = pd.to_datetime(texts[mask], format="ISO8601", errors="coerce", utc=utc)
            if utc:
                parsed = parsed.dt.tz_convert(tz).dt.tz_localize(None)
            parsed = parsed.astype("datetime64[us]")
            good = parsed.notna().to_numpy()
            pos = idx[np.flatnonzero(mask.to_numpy())[good]]
            out[pos] = parsed[good].to_numpy().astype(np.int64)
            ok[pos] = True
    epoch, found = _epoch_micros(texts, tz)
    found &= ~ok[idx]
    out[idx[found]] = epoch[found]
    ok[idx[found]] = True
    serial = texts.str.fullmatch(r"\d{4,5}(?:[.,]\d+)?").fillna(False).astype(bool).to_numpy() & ~ok[idx]
    if serial.any():
        numbers = texts[serial].str.replace(",", ".").astype(float).to_numpy()
        micros, good = _serial_to_micros(numbers)
        pos = idx[np.flatnonzero(serial)[good]]
        out[pos] = micros[good]
        ok[pos] = True


def _serial_to_micros(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Excel 1900-system serial day numbers to microseconds since 1970 (rounded to the second)."""
    good = np.isfinite(numbers) & (numbers >= 0) & (numbers < _MAX_EXCEL_SERIAL)
    seconds = np.round(np.where(good, numbers, 0) * 86_400).astype(np.int64)
    micros = _EXCEL_EPOCH.astype(np.int64) + seconds * 1_000_000
    return micros, good


_EMPTY, _TEXT, _NUMBER, _STAMP, _DAY, _OTHER = range(6)
_CELL_KINDS = {
    type(None): _EMPTY,
    str: _TEXT,
    float: _NUMBER,
    int: _NUMBER,
    np.float64: _NUMBER,
    np.float32: _NUMBER,
    np.int64: _NUMBER,
    np.int32: _NUMBER,
    dt.datetime: _STAMP,
    pd.Timestamp: _STAMP,
    np.datetime64: _STAMP,
    dt.date: _DAY,
}


@dataclass
class ParsedDates:
    """A parsed date column: values (datetime64[us], NaT when empty or unreadable) and its problems."""

    values: pd.Series
    bad: np.ndarray  # bool per row: non-empty but unreadable or out of range
    reasons: np.ndarray  # object per row: "cannot read date" / "date out of range" where bad
    raw: dict[int, str]  # row position -> the text as read, for the bad rows only


def parse_datetimes(series: pd.Series, tz: str = "Asia/Ho_Chi_Minh") -> ParsedDates:
    """Read a column of dates written as text (dd/mm/yyyy[ HH:MM[:SS]], yyyyMMddHHmmss, ISO …),
    Excel serial numbers, or date cells, mixed in any way; naive local times in `tz`."""
    n = len(series)
    out = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    nonempty = np.zeros(n, dtype=bool)
    cell_values = None  # the cells of an object column, to quote unreadable ones as read

    if isinstance(series.dtype, pd.StringDtype):
        text_rows = np.arange(n)
        text_values = _as_arrow_strings(series)
    else:
        values = series.to_numpy(dtype=object, na_value=None)
        kinds = np.fromiter((_CELL_KINDS.get(type(v), _OTHER) for v in values), dtype=np.int8, count=n)
        # numbers: Excel serial days, or yyyyMMdd[HHmm[ss]] written as a number
        numbers_at = np.flatnonzero(kinds == _NUMBER)
        numbers = values[numbers_at].astype(float)
        kinds[numbers_at[np.isnan(numbers)]] = _EMPTY
        keep = ~np.isnan(numbers)
        numbers_at, numbers = numbers_at[keep], numbers[keep]
        digits = (numbers == np.floor(numbers)) & (np.abs(numbers) >= 10_000_000) & (np.abs(numbers) < 1e15)
        micros, good = _serial_to_micros(numbers[~digits])
        serial_at = numbers_at[~digits]
        out[serial_at[good]] = micros[good]
        ok[serial_at[good]] = True
        # date cells
        stamps_at = np.flatnonzero(kinds == _STAMP)
        cells = values[stamps_at]
        if any(getattr(v, "tzinfo", None) is not None for v in cells):
            for i in stamps_at.tolist():
                stamp = pd.Timestamp(values[i])
                if stamp.tzinfo is not None:
                    stamp = stamp.tz_convert(tz).tz_localize(None)
                out[i] = np.datetime64(stamp.to_datetime64(), "us").astype(np.int64)
        elif len(cells):
            out[stamps_at] = pd.to_datetime(list(cells)).as_unit("us").asi8
        ok[stamps_at] = True
        days_at = np.flatnonzero(kinds == _DAY)
        if len(days_at):
            out[days_at] = (
                np.array(list(values[days_at]), dtype="datetime64[D]")
                .astype("datetime64[us]")
                .astype(np.int64)
            )
            ok[days_at] = True
        nonempty |= np.isin(kinds, (_NUMBER, _STAMP, _DAY, _OTHER))  # texts are judged after cleaning
        text_rows = np.concatenate([np.flatnonzero(kinds == _TEXT), numbers_at[digits]])
        order = np.argsort(text_rows, kind="stable")
        text_rows = text_rows[order]
        texts = [values[i] if kinds[i] == _TEXT else str(int(values[i])) for i in text_rows.tolist()]
        text_values = pa.array(texts, type=pa.string())
        cell_values = values

    cleaned = None
    present_rows = np.zeros(0, dtype=np.int64)
    if len(text_rows):
        cleaned = pc.utf8_trim_whitespace(_nfc_array(text_values))
        present = pc.invert(_null_tokens_mask(cleaned)).to_numpy(zero_copy_only=False)
        present_rows = text_rows[present]
        nonempty[present_rows] = True
        if len(present_rows):
            cleaned = cleaned.filter(pa.array(present))
            micros, good = _parse_text_dates(cleaned, tz)
            out[present_rows[good]] = micros[good]
            ok[present_rows[good]] = True

    stamps = out.astype("datetime64[us]")
    odd = np.flatnonzero(ok & ((out < _MIN_MICROS) | (out >= _MAX_MICROS)))
    sentinel = np.zeros(n, dtype=bool)
    sentinel[odd] = np.isin(stamps[odd].astype("datetime64[D]"), _SENTINELS.astype("datetime64[D]"))
    out_of_range = np.zeros(n, dtype=bool)
    out_of_range[odd] = ~sentinel[odd]
    usable = ok & ~sentinel & ~out_of_range
    unreadable = nonempty & ~ok
    bad = unreadable | out_of_range
    reasons = np.full(n, None, dtype=object)
    reasons[unreadable] = "cannot read date"
    reasons[out_of_range] = "date out of range"
    raw: dict[int, str] = {}
    bad_rows = np.flatnonzero(bad)
    if len(bad_rows):
        text_at = np.searchsorted(present_rows, bad_rows)
        for row, pos in zip(bad_rows.tolist(), text_at.tolist(), strict=True):
            if cell_values is not None and not isinstance(cell_values[row], str):
                raw[row] = cell_text(cell_values[row])
            elif cleaned is not None and pos < len(present_rows) and present_rows[pos] == row:
                raw[row] = cleaned[pos].as_py()
    result = pd.Series(
        np.where(usable, stamps, np.datetime64("NaT", "us")), index=series.index, dtype="datetime64[us]"
    )
    return ParsedDates(result, bad, reasons, raw)


def parse_one_datetime(value: Any, tz: str = "Asia/Ho_Chi_Minh") -> dt.datetime | None:
    """One date value (text, serial or date cell) as a naive local datetime, or None."""
    parsed = parse_datetimes(pd.Series([value], dtype=object), tz)
    stamp = parsed.values.iloc[0]
    return None if pd.isna(stamp) else stamp.to_pydatetime()


# ----------------------------------------------------------------------------- times of day
_TIME_TEXT = re.compile(
    r"(\d{1,2})\s*(?::|h|g|giờ|gio|\.)\s*(?:(\d{1,2})\s*(?:phút|phut|p|')?)?"
    r"\s*(?::\s*(\d{1,2})\s*(?:giây|giay|s)?)?\s*(sa|ch|am|pm|a\.m\.|p\.m\.)?",
    re.IGNORECASE,
)
_MICROS_PER_SECOND = 1_000_000


@dataclass
class ParsedTimes:
    """A parsed time-of-day column (a "Giờ" column under a date group): microseconds after midnight
    (-1 where empty or unreadable) and its problems."""

    micros: np.ndarray  # int64 per row
    bad: np.ndarray  # bool per row: non-empty but not a time of day
    reasons: np.ndarray  # object per row: "cannot read time" where bad
    raw: dict[int, str]  # row position -> the value as read, for the bad rows only


def _time_of_text(text: str) -> int | None:
    """Microseconds after midnight of a time written as text (14:35, 14h35, 14 giờ 35, 14g35, 2:35 CH,
    a day fraction such as 0.6076, or a whole datetime), or None."""
    text = " ".join(nfc(text).split()).strip(" ,;")
    match = _TIME_TEXT.fullmatch(text)
    if match:
        hour, minute, second = (int(g) if g else 0 for g in match.groups()[:3])
        suffix = (match.group(4) or "").casefold().replace(".", "")
        if suffix in ("ch", "pm") and hour < 12:
            hour += 12
        elif suffix in ("sa", "am") and hour == 12:
            hour = 0
        if hour < 24 and minute < 60 and second < 60:
            return ((hour * 60 + minute) * 60 + second) * _MICROS_PER_SECOND
        return None
    if re.fullmatch(r"\d{1,2}", text) and int(text) < 24:  # an hour alone
        return int(text) * 3600 * _MICROS_PER_SECOND
    if re.fullmatch(r"0?[.,]\d+", text):  # a day fraction written as text
        return _time_of_number(float(text.replace(",", ".")))
    moment = parse_one_datetime(text)
    if moment is not None and (moment.hour or moment.minute or moment.second):
        return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * _MICROS_PER_SECOND
    return None


def _time_of_number(value: float) -> int | None:
    """An Excel time: a day fraction (0.5 = 12:00), the fraction of a datetime serial, or a whole hour."""
    if not math.isfinite(value) or value < 0:
        return None
    if value == int(value):
        return int(value) * 3600 * _MICROS_PER_SECOND if value < 24 else None
    seconds = round((value - math.floor(value)) * 86_400)
    return (seconds % 86_400) * _MICROS_PER_SECOND


def _time_of(value: Any) -> int | None | bool:
    """Microseconds after midnight of one cell; False when empty."""
    if is_empty(value) or (isinstance(value, str) and value.strip().casefold() in NULL_TOKENS):
        return False
    if isinstance(value, dt.time):
        return ((value.hour * 60 + value.minute) * 60 + value.second) * _MICROS_PER_SECOND
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return ((value.hour * 60 + value.minute) * 60 + value.second) * _MICROS_PER_SECOND
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        return seconds * _MICROS_PER_SECOND if 0 <= seconds < 86_400 else None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _time_of_number(float(value))
    if isinstance(value, str):
        return _time_of_text(value)
    return None


def parse_times(series: pd.Series) -> ParsedTimes:
    """Read a column of times of day (text, Excel day fractions, time cells); each distinct value once."""
    n = len(series)
    micros = np.full(n, -1, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    reasons = np.full(n, None, dtype=object)
    raw: dict[int, str] = {}
    seen: dict[Any, int | None | bool] = {}
    for position, value in enumerate(series.to_numpy(dtype=object, na_value=None).tolist()):
        if value not in seen:  # cells are text, numbers, times or dates: all hashable
            seen[value] = _time_of(value)
        found = seen[value]
        if found is False:
            continue
        if found is None:
            bad[position] = True
            reasons[position] = "cannot read time"
            raw[position] = cell_text(value) if not isinstance(value, dt.time) else value.isoformat()
        else:
            micros[position] = found
    return ParsedTimes(micros, bad, reasons, raw)


def date_only(stamps: np.ndarray | np.datetime64) -> np.ndarray:
    """Per time, whether the export gave a date without a time of day: exactly 00:00:00 is read as a date
    only (DESIGN §8.1), never as an event at midnight; NaT is not. Any datetime64 unit, array or scalar."""
    stamps = np.asarray(stamps)
    return ~np.isnat(stamps) & (stamps == stamps.astype("datetime64[D]").astype(stamps.dtype))


def combine_date_and_time(dates: ParsedDates, times: ParsedTimes) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """One timestamp per row from a date column and the time column of the same field: the time column's
    time where it has one, else the date's own. Returns (values, time_without_date, conflicting): rows
    whose time has no date, and rows whose date already holds another time of day."""
    values = dates.values.to_numpy(dtype="datetime64[us]")
    day = values.astype("datetime64[D]").astype("datetime64[us]")
    has_time = times.micros >= 0
    has_date = ~np.isnat(values)
    own = (values - day).astype(np.int64)
    conflicting = has_time & has_date & (own != 0) & (own != times.micros)
    combined = np.where(has_time & has_date, day + times.micros.astype("timedelta64[us]"), values)
    return (
        pd.Series(combined, index=dates.values.index, dtype="datetime64[us]"),
        has_time & ~has_date & ~dates.bad,
        conflicting,
    )


# ----------------------------------------------------------------------------- yes / no
_YES = frozenset({"co", "x", "1", "true", "yes", "y", "dung", "lap lai", "da lap lai", "v"})
_NO = frozenset({"khong", "0", "false", "no", "n", "sai", "chua"})


def parse_flags(texts: pd.Series) -> pd.Series:
    """A yes/no column (``Có``/``x``/``1`` → True, ``Không``/``0`` → False, anything else NA)."""
    def one(value: Any) -> bool | None:
        if is_empty(value):
            return None
        key = fold(str(value))
        return True if key in _YES else False if key in _NO else None

    return pd.Series(pd.array([one(v) for v in texts.tolist()], dtype="boolean"), index=texts.index)


# ----------------------------------------------------------------------------- coded values
class CodeTable:
    """Texts (and numbers) of a coded field, e.g. status names → national code 1..10."""

    def __init__(self, names: dict[int, Iterable[str]], valid: Iterable[int], ambiguous: Iterable[str] = ()):
        self.valid = frozenset(valid)
        self.exact: dict[str, int] = {}
        for code, texts in names.items():
            for text in texts:
                self.exact.setdefault(fold(text), int(code))
        self.ambiguous = frozenset(fold(t) for t in ambiguous) - frozenset(self.exact)

    def with_names(self, names: dict[int, Iterable[str]]) -> CodeTable:
        """A copy where the given texts mean the given codes (overriding the table and its ambiguous list)."""
        table = CodeTable({}, self.valid)
        table.exact = dict(self.exact)
        for code, texts in names.items():
            for text in texts:
                table.exact[fold(text)] = int(code)
        table.ambiguous = self.ambiguous - frozenset(table.exact)
        return table

    @staticmethod
    def _keys(text: str) -> tuple[str, str]:
        """The text compared, and the text without a qualifier in brackets or after a dash
        ("Đã trả kết quả (trước hạn)", "Đang xử lý - quá hạn", "Hồ sơ đã trả")."""
        shorter = fold(re.split(r"\s[-–:,;]|[(\[]", nfc(text), maxsplit=1)[0])
        return fold(text), re.sub(r"^ho so ", "", shorter)

    def lookup(self, text: str) -> int | None:
        """The code of one text: a known name or a number; a name followed by a qualifier in brackets
        or after a dash also counts. Anything else is unknown (no guessing by word prefixes), and so is
        an ambiguous wording."""
        key, shorter = self._keys(text)
        if not key:
            return None
        if key in self.exact:
            return self.exact[key]
        if key in self.ambiguous:
            return None
        number = re.fullmatch(r"\s*0*(\d{1,3})(?:[.,]0+)?\s*", text)  # "10", "010", "10.0"
        if number and int(number.group(1)) in self.valid:
            return int(number.group(1))
        return self.exact.get(shorter)

    def is_ambiguous(self, text: str) -> bool:
        """Whether a text no code matched is a wording listed as ambiguous."""
        key, shorter = self._keys(text)
        return key in self.ambiguous or (shorter in self.ambiguous and key not in self.exact)

    def parse(self, texts: pd.Series) -> tuple[pd.Series, np.ndarray]:
        """Codes (Int8, <NA> when empty or unknown) and a mask of non-empty unknown values; each
        distinct text is looked up once."""
        encoded = pc.dictionary_encode(_as_arrow_strings(texts))
        looked = np.array([self.lookup(u) or 0 for u in encoded.dictionary.to_pylist()] + [0], dtype=np.int8)
        indices = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy(zero_copy_only=False)
        mapped = looked[indices]  # missing text picks the trailing 0
        present = encoded.indices.is_valid().to_numpy(zero_copy_only=False)
        result = pd.arrays.IntegerArray(mapped, mapped == 0)
        return pd.Series(result, index=texts.index), present & (mapped == 0)


# ----------------------------------------------------------------------------- personal data
def pii_salt(settings: Any) -> str:
    """The secret salt of applicant hashes: the pii_salt setting, else a random one kept in
    `<warehouse folder>/.pii_salt` (created once, mode 0600, published atomically so that readers
    running in parallel threads or processes all get the same salt)."""
    secret = getattr(settings, "pii_salt", None)
    if secret is not None and secret.get_secret_value():
        return secret.get_secret_value()
    path = Path(settings.warehouse).parent / ".pii_salt"
    if path.exists():
        existing = path.read_text(encoding="utf-8").strip()
        if existing:
            return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".pii_salt.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(draft, path)  # atomic; fails when another process published first
        except FileExistsError:
            if not path.read_text(encoding="utf-8").strip():
                os.replace(draft, path)  # an empty salt file left by a crash
    finally:
        if draft.exists():
            draft.unlink()
    return path.read_text(encoding="utf-8").strip()


def _identity_part(series: pd.Series | None, n: int, kind: str) -> pa.Array:
    """One identity part normalised for hashing (null where empty): id number upper-case alphanumerics,
    name NFC lower case with single spaces, phone digits with 84… written 0…."""
    if series is None:
        return pa.nulls(n, pa.string())
    arr = clean_text_array(_as_arrow_strings(series.reset_index(drop=True)), collapse=kind == "name")
    if kind == "id":
        arr = pc.replace_substring_regex(pc.utf8_upper(arr), r"[^0-9A-Z]", "")
    elif kind == "name":
        arr = pc.utf8_lower(arr)
    else:
        arr = pc.replace_substring_regex(pc.replace_substring_regex(arr, r"\D", ""), r"^84(\d{9})$", r"0\1")
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def applicant_hashes(
    salt: str, *, id_number: pd.Series | None, name: pd.Series | None, phone: pd.Series | None, n: int
) -> pd.Series:
    """Hex sha256 of salt + the applicant's id number, else of name + phone; NaN with neither."""
    ids = _identity_part(id_number, n, "id")
    names = _identity_part(name, n, "name")
    phones = _identity_part(phone, n, "phone")
    by_name = pc.binary_join_element_wise("np:", pc.fill_null(names, ""), "|", pc.fill_null(phones, ""), "")
    keys = pc.if_else(
        pc.is_valid(ids),
        pc.binary_join_element_wise("id:", pc.fill_null(ids, ""), ""),
        pc.if_else(pc.or_(pc.is_valid(names), pc.is_valid(phones)), by_name, pa.scalar(None, pa.string())),
    )
    return _sha256_hex(salt, keys)


def _sha256_hex(salt: str, keys: pa.Array) -> pd.Series:
    """Hex sha256 of salt + key for each key (null stays null): by hashlib for a small file, by DuckDB in
    bulk for a large one (a DuckDB connection costs more than hashing a few thousand keys)."""
    if len(keys) < 20_000:
        digests = [None if k is None else hashlib.sha256((salt + k).encode("utf-8")).hexdigest()
                   for k in keys.to_pylist()]
        return pd.Series(pd.array(digests, dtype=TEXT_DTYPE))
    import duckdb

    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        con.register("identity_keys", pa.table({"k": keys}))
        digests = con.sql(
            "select sha256($salt || k) as h from identity_keys", params={"salt": salt}
        ).to_arrow_table()
    return pd.Series(pd.arrays.ArrowStringArray(digests.column("h").cast(pa.string()), dtype=TEXT_DTYPE))


# ----------------------------------------------------------------------------- case ids
_ID_CHARS = re.compile(r"[0-9A-Za-z][0-9A-Za-z._/\-]*")
_NOT_IDS = frozenset({"true", "false", "nan", "nat", "null", "none", "n/a", "#n/a", "undefined", "yes", "no",
                      "#value!", "#ref!", "#name?", "#num!", "#div/0!", "#null!", "infinity", "-infinity", "inf"})
_INTEGRAL_FLOAT = re.compile(r"(\d+)\.0+")
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")
MAX_CASE_ID_LENGTH = 64


def check_case_id(text: str) -> tuple[str | None, str | None]:
    """(the case id as kept, None) for a usable case code, or (None, reason) for a value that cannot be
    one: a boolean or error word, a number that is not positive, a number Excel wrote in scientific
    notation, a sentence, a value without a digit. A whole number Excel wrote as a float ("123456.0")
    is kept as "123456"; leading zeros stay ("007891")."""
    value = text.strip()
    if not value:
        return None, "missing"
    if value.casefold() in _NOT_IDS:
        return None, f"not a case code: {value!r} is a spreadsheet value, not an id"
    if _SCIENTIFIC.fullmatch(value):
        return None, f"not a case code: {value!r} is a number in scientific notation (the export lost the code)"
    integral = _INTEGRAL_FLOAT.fullmatch(value)
    if integral:
        value = integral.group(1)
    if re.fullmatch(r"[+-]?\d+(?:[.,]\d+)?", value) and (value.startswith("-") or float(value.replace(",", ".")) <= 0):
        return None, f"not a case code: {value!r} is a number below 1"
    if re.search(r"\s", value):
        return None, f"not a case code: {value!r} has spaces (a sentence or a label)"
    if len(value) > MAX_CASE_ID_LENGTH:
        return None, f"not a case code: longer than {MAX_CASE_ID_LENGTH} characters"
    if not re.search(r"\d", value):
        return None, f"not a case code: {value!r} has no digit"
    if not _ID_CHARS.fullmatch(value):
        return None, f"not a case code: {value!r} has characters a code does not use"
    return value, None


# Values :func:`check_case_id` keeps unchanged, recognised in bulk: code characters only, a digit, not a
# float or scientific number Excel wrote, not all zeros. Every other value takes the exact path.
_PLAIN_ID = rf"^[0-9A-Za-z][0-9A-Za-z._/\-]{{0,{MAX_CASE_ID_LENGTH - 1}}}$"
_NOT_PLAIN = (r"^\d+\.0+$", r"^\d+(?:[.,]\d+)?[eE][+-]?\d+$", r"^[0.,]+$")


def check_case_ids(ids: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Case ids (text) checked with :func:`check_case_id`, each distinct value once: the ids as kept
    (NaN where empty or rejected) and the reason per row (None where usable or empty). Plain codes are
    recognised with vectorised patterns; only the others go through the exact function."""
    arr = _as_arrow_strings(ids)
    plain = pc.and_(pc.match_substring_regex(arr, _PLAIN_ID), pc.match_substring_regex(arr, r"\d"))
    for pattern in _NOT_PLAIN:
        plain = pc.and_(plain, pc.invert(pc.match_substring_regex(arr, pattern)))
    plain = pc.fill_null(plain, False).to_numpy(zero_copy_only=False)
    if plain.all():
        return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([arr]), dtype=TEXT_DTYPE),
                         index=ids.index), np.full(len(arr), None, dtype=object)
    if plain.any():
        rest = np.flatnonzero(~plain)
        kept_rest, why_rest = check_case_ids(pd.Series(arr.take(pa.array(rest)).to_pylist(), dtype=object))
        kept = np.array(arr.to_pylist(), dtype=object)
        kept[rest] = kept_rest.astype(object).where(kept_rest.notna(), None).to_numpy()
        why = np.full(len(arr), None, dtype=object)
        why[rest] = why_rest
        return pd.Series(pd.array(kept, dtype=TEXT_DTYPE), index=ids.index), why
    encoded = pc.dictionary_encode(arr)
    checked = [check_case_id(v) for v in encoded.dictionary.to_pylist()]
    kept = pa.array([k for k, _ in checked] + [None], type=pa.string())
    why = np.array([r for _, r in checked] + [None], dtype=object)
    indices = pc.fill_null(encoded.indices, len(checked)).to_numpy(zero_copy_only=False)
    out = pd.Series(
        pd.arrays.ArrowStringArray(pa.chunked_array([kept.take(pa.array(indices))]), dtype=TEXT_DTYPE),
        index=ids.index,
    )
    return out, why[indices]
