"""What kind of file an export is, known from its content (never from its name), and its sheets as
grids of cell values, read within bounded memory; a hostile or broken file is rejected with a
one-line reason naming it.

Kinds: ``xlsx`` (also .xlsm), ``xlsb``, ``xls`` (BIFF in an OLE2 container), ``ods``, ``html`` (HTML
tables, often saved with an .xls extension by web-based one-stop systems), ``xml2003`` (Excel 2003
XML Spreadsheet), ``csv`` (CSV/TSV text) and ``json``.

Every spreadsheet-like kind gives the same thing to the header finder: a list of :class:`Sheet`, each
with its name, its rows (lists of str / float / int / bool / datetime / time / None; row 0 is the
first sheet row) and its merged ranges ``((r0, c0), (r1, c1))``, inclusive and 0-based.

Before a native parser (python-calamine) sees a file, its real size is checked: the zip members'
uncompressed sizes and compression ratios, and for xlsx and ods the cells actually present in each
sheet's XML (never the ``<dimension>`` the file claims), against the limits in the settings.
"""

from __future__ import annotations

import codecs
import datetime as dt
import lzma
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.settings import Settings

Merge = tuple[tuple[int, int], tuple[int, int]]

SPREADSHEET_KINDS = ("xlsx", "xlsb", "xls", "ods", "html", "xml2003")
CALAMINE_KINDS = ("xlsx", "xlsb", "xls", "ods")
NOT_AN_EXPORT = "not a spreadsheet, CSV or JSON export"

# A single text (a cell, an XML text node, a CSV line) longer than this many times max_cell_chars
# bytes is not read at all: the file is rejected before any parser holds it in memory. Between
# max_cell_chars characters and this bound, the row holding the cell is quarantined instead.
HARD_TEXT_FACTOR = 32
_HEAD_BYTES = 1 << 20
_BLOCK = 1 << 20
_ZIP_RATIO_MIN_BYTES = 1 << 20  # members smaller than this are not held to the compression-ratio limit
_MAX_ZIP_MEMBERS = 10_000
_TITLE_LINES = 100  # lines of a CSV allowed above its rows (title, header) when counting rows
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_SS = "urn:schemas-microsoft-com:office:spreadsheet"
_BINARY_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"\x89PNG": "an image",
    b"\xff\xd8\xff": "an image",
    b"GIF8": "an image",
}


# What reading a damaged zip container can raise (bad directory, bad deflate/bzip2/lzma stream, CRC)
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    zlib.error,
    lzma.LZMAError,
)


class FileRejected(Exception):
    """The whole file cannot be read; str(e) is a one-line reason naming the file."""


@dataclass(frozen=True)
class Limits:
    """Caps on what one export may make the reader hold (from the settings)."""

    max_file_bytes: int
    max_uncompressed_bytes: int
    max_compression_ratio: float
    max_cell_chars: int
    max_columns: int
    max_rows: int
    max_cells: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits set in the settings."""
        return cls(
            max_file_bytes=settings.max_file_bytes,
            max_uncompressed_bytes=settings.max_uncompressed_bytes,
            max_compression_ratio=settings.max_compression_ratio,
            max_cell_chars=settings.max_cell_chars,
            max_columns=settings.max_columns,
            max_rows=settings.max_rows,
            max_cells=settings.max_cells,
        )

    @property
    def hard_text_bytes(self) -> int:
        """Bytes of one text beyond which a file is rejected unread."""
        return self.max_cell_chars * HARD_TEXT_FACTOR


def _mb(n: float) -> str:
    return f"{n / (1 << 20):,.0f} MB" if n >= 1 << 20 else f"{n / 1024:,.0f} KB"


def column_letters(index: int) -> str:
    """Excel column letters of a 0-based column index (0 -> A, 1023 -> AMJ)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_number(letters: bytes) -> int:
    """1-based column number of Excel column letters."""
    number = 0
    for byte in letters:
        number = number * 26 + byte - 64
    return number


# ----------------------------------------------------------------------------- encodings
def detect_encoding(head: bytes, complete: bool = True) -> str:
    """Encoding of a text export from its first bytes: a BOM, UTF-16 without BOM (NUL pattern),
    else UTF-8 when the bytes are valid UTF-8, else Windows-1258 (Vietnamese)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 4 and b"\x00" in sample:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd > 0.3 * len(sample) / 2 and even == 0:
            return "utf-16-le"
        if even > 0.3 * len(sample) / 2 and odd == 0:
            return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1258"


_CHARSET = re.compile(r"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(r"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""")


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def choose_encoding(head: bytes, complete: bool, declared: str | None) -> tuple[str, str | None]:
    """The encoding to read a text with, and a note when a declared charset was not honoured.

    A BOM wins; then a declared charset (HTML ``<meta charset>``, the XML declaration) when the
    bytes decode under it; else :func:`detect_encoding`.
    """
    detected = detect_encoding(head, complete)
    if detected in ("utf-8-sig", "utf-16", "utf-16-le", "utf-16-be") or declared is None:
        return detected, None
    codec = _codec(declared)
    if codec is None:
        return detected, f"declared charset '{declared}' is unknown; read as {detected}"
    if codec.startswith("utf-16") or codec.startswith("utf_16"):
        return detected, None  # a UTF-16 declaration in bytes that are not UTF-16
    try:
        codecs.getincrementaldecoder(codec)().decode(head, final=complete)
    except UnicodeDecodeError:
        return detected, f"declared charset '{declared}' does not match the bytes; read as {detected}"
    return codec, None


@dataclass
class DecodedText:
    """A whole text export decoded: its text, the encoding used and how many U+FFFD it holds."""

    text: str
    encoding: str
    replaced: int

    def finding(self) -> str | None:
        """A file-level finding when the decoded text holds replacement characters."""
        return replacement_note(self.replaced, self.encoding)


def replacement_note(count: int, encoding: str) -> str | None:
    """'text holds 3 undecodable characters (U+FFFD) after decoding as cp1258', or None for 0."""
    if not count:
        return None
    return f"text holds {count:,} undecodable character{'s' if count > 1 else ''} (U+FFFD) after decoding as {encoding}"


def decode_text(data: bytes, declared: str | None = None) -> DecodedText:
    """Bytes of a text export decoded as :func:`choose_encoding` says; undecodable bytes become U+FFFD."""
    encoding, _ = choose_encoding(data[:_HEAD_BYTES], len(data) <= _HEAD_BYTES, declared)
    text = data.decode(encoding, errors="replace")
    if encoding in ("utf-16-le", "utf-16-be") and text.startswith("\ufeff"):
        text = text[1:]
    return DecodedText(text, encoding, text.count("\ufffd"))


def _decoded_chunks(path: Path, encoding: str, counter: list[int]) -> Iterator[str]:
    """The file decoded block by block; counter[0] counts the U+FFFD characters met."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with path.open("rb") as handle:
        while True:
            block = handle.read(_BLOCK)
            text = decoder.decode(block, final=not block)
            if text:
                counter[0] += text.count("\ufffd")
                yield text
            if not block:
                return


# ----------------------------------------------------------------------------- sniffing
def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size < 200 and archive.read(info).strip() == _ODS_MIME:
                    return "ods"
            if "xl/workbook.xml" in names:
                return "xlsx"
            if "xl/workbook.bin" in names:
                return "xlsb"
    except _ZIP_ERRORS as error:
        raise FileRejected(f"{path.name}: cannot open as a workbook (damaged zip container: {_short(error)})") from None
    raise FileRejected(f"{path.name}: {NOT_AN_EXPORT} (a zip archive without a workbook)")


def _short(error: BaseException, limit: int = 120) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:limit]


def _skip_comments(text: str) -> str:
    """The text without leading whitespace, BOMs and <!-- comments -->."""
    text = text.lstrip("\ufeff \t\r\n\x0c")
    while text.startswith("<!--"):
        end = text.find("-->")
        if end < 0:
            return ""
        text = text[end + 3 :].lstrip("\ufeff \t\r\n\x0c")
    return text


_HTML_STARTS = ("<html", "<!doctype html", "<table", "<head", "<meta", "<body", "<title", "<style", "<div", "<tr")


def _is_binary(text: str) -> bool:
    if not text:
        return False
    sample = text[:65536]
    if "\x00" in sample:
        return True
    controls = sum(1 for ch in sample if (ch < " " and ch not in "\t\r\n\x0c") or ch == "\ufffd")
    return controls > 0.02 * len(sample)


def sniff_kind(path: Path) -> str:
    """The kind of an export from its content: xlsx, xlsb, ods, xls, html, xml2003, json or csv.

    Raises FileRejected ("not a spreadsheet, CSV or JSON export …") for anything else."""
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    if not head:
        raise FileRejected(f"{path.name}: file is empty")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path)
    if head.startswith(_OLE2):
        return "xls"
    for signature, what in _BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise FileRejected(f"{path.name}: {NOT_AN_EXPORT} ({what})")
    complete = len(head) < _HEAD_BYTES
    encoding = detect_encoding(head, complete)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head[:65536], final=complete)
    start = _skip_comments(text)
    lower = start[:4096].lower()
    if lower.startswith("<?xml"):
        window = text[:65536]
        if _SS in window or "progid=\"excel.sheet\"" in window.lower():
            return "xml2003"
        if re.search(r"<(html|table)\b", window, re.IGNORECASE):
            return "html"
        raise FileRejected(f"{path.name}: {NOT_AN_EXPORT} (an XML document that is not an Excel 2003 spreadsheet)")
    if lower.startswith(_HTML_STARTS):
        return "html"
    if start[:1] in ("[", "{"):
        return "json"
    if not start.strip():
        raise FileRejected(f"{path.name}: file is empty")
    if _is_binary(text):
        raise FileRejected(f"{path.name}: {NOT_AN_EXPORT} (binary content)")
    return "csv"


# ----------------------------------------------------------------------------- sheets
@dataclass
class Sheet:
    """One sheet (or HTML table) of an export: name, merged ranges and rows of cell values.

    Rows of a sheet read by python-calamine are converted on demand (the header search needs only
    the first rows); HTML and XML sheets are parsed whole."""

    name: str
    merges: list[Merge] = field(default_factory=list)
    _rows: list[list[Any]] | None = None
    _loader: Callable[[int | None], list[list[Any]]] | None = None

    def head(self, n: int) -> list[list[Any]]:
        """The first n rows."""
        if self._rows is not None:
            return self._rows[:n]
        assert self._loader is not None
        return self._loader(n)

    def rows(self) -> list[list[Any]]:
        """Every row, row 0 being the sheet's first row."""
        if self._rows is None:
            assert self._loader is not None
            self._rows = self._loader(None)
        return self._rows


def open_sheets(path: Path, kind: str, limits: Limits, findings: list[str]) -> list[Sheet]:
    """The sheets of a spreadsheet-like export (kind from :func:`sniff_kind`), checked against the
    limits before any native parser loads them; notes about the file are appended to findings."""
    if kind in CALAMINE_KINDS:
        return _calamine_sheets(path, kind, limits)
    if kind == "html":
        return _html_sheets(path, limits, findings)
    if kind == "xml2003":
        return _xml2003_sheets(path, limits, findings)
    raise ValueError(f"not a spreadsheet kind: {kind}")


def _check_extent(path: Path, where: str, rows: int, columns: int, limits: Limits) -> None:
    """Reject a sheet whose used area exceeds the row, column or cell limits."""
    if columns > limits.max_columns:
        raise FileRejected(
            f"{path.name}: {where} has cells up to column {column_letters(columns - 1)} "
            f"({columns:,} columns; limit {limits.max_columns:,})"
        )
    if rows > limits.max_rows:
        raise FileRejected(f"{path.name}: {where} has cells down to row {rows:,} (limit {limits.max_rows:,} rows)")
    if rows * columns > limits.max_cells:
        raise FileRejected(
            f"{path.name}: {where} spans {rows:,} rows × {columns:,} columns = {rows * columns:,} cells "
            f"(limit {limits.max_cells:,})"
        )


# ----------------------------------------------------------------------------- zip containers
def check_zip(path: Path, archive: zipfile.ZipFile, limits: Limits) -> None:
    """Reject a zip container whose members would unpack beyond the limits (before decompressing)."""
    infos = archive.infolist()
    if len(infos) > _MAX_ZIP_MEMBERS:
        raise FileRejected(f"{path.name}: zip container holds {len(infos):,} parts (limit {_MAX_ZIP_MEMBERS:,})")
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        raise FileRejected(
            f"{path.name}: unpacks to {_mb(total)} (limit {_mb(limits.max_uncompressed_bytes)}); "
            "a zip bomb or an export too large to read"
        )
    for info in infos:
        if info.file_size < _ZIP_RATIO_MIN_BYTES:
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_compression_ratio:
            raise FileRejected(
                f"{path.name}: part '{info.filename[:60]}' is compressed {ratio:,.0f}:1 "
                f"(limit {limits.max_compression_ratio:,.0f}:1); a zip bomb"
            )


def _long_runs(block: bytes, run: int) -> tuple[int, int]:
    """Track runs of bytes without '<' over a stream: (longest run ending or inside this block,
    run carried into the next block)."""
    marks = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 0x3C)
    if not len(marks):
        return run + len(block), run + len(block)
    longest = run + int(marks[0])
    if len(marks) > 1:
        longest = max(longest, int(np.diff(marks).max()) - 1)
    return longest, len(block) - int(marks[-1]) - 1


def _reject_long_text(path: Path, where: str, limits: Limits) -> FileRejected:
    return FileRejected(
        f"{path.name}: {where} holds a text of more than {limits.hard_text_bytes:,} bytes "
        f"(a cell holds at most {limits.max_cell_chars:,} characters)"
    )


def _stream_blocks(
    archive: zipfile.ZipFile, member: str, path: Path, limits: Limits, where: str, check_text: bool = True
) -> Iterator[bytes]:
    """A zip member's bytes block by block (CRC checked at the end); in XML, a text run longer than
    the hard limit rejects the file before it is held."""
    run = 0
    try:
        with archive.open(member) as handle:
            while block := handle.read(_BLOCK):
                if check_text:
                    longest, run = _long_runs(block, run)
                    if longest > limits.hard_text_bytes:
                        raise _reject_long_text(path, where, limits)
                yield block
    except FileRejected:
        raise
    except _ZIP_ERRORS as error:
        raise FileRejected(f"{path.name}: cannot open as a workbook (damaged part '{member[:60]}': {_short(error)})") from None


# an xlsx cell that holds something: <c …> (not self-closing <c …/>)
_CELL_COLUMN = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]+)\d+"[^>/]*>')
_CELL_ROW = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="[A-Z]+(\d+)"[^>/]*>')
_CELL_WITHOUT_REF = re.compile(rb'<(?:\w+:)?c(?:>|\s(?:(?!\br=)[^>])*>)')


def _xlsx_extent(archive: zipfile.ZipFile, member: str, path: Path, limits: Limits, where: str) -> tuple[int, int]:
    """(rows, columns) from A1 to the farthest cell holding a value in a worksheet's XML."""
    max_row = max_col = 0
    carry = b""
    without_ref = False
    for block in _stream_blocks(archive, member, path, limits, where):
        data = carry + block
        cut = data.rfind(b"<")
        if cut < 0:
            carry = b""
            continue
        data, carry = data[:cut], data[cut:]
        columns = set(_CELL_COLUMN.findall(data))
        if columns:
            widest = max(map(len, columns))
            max_col = max(max_col, _column_number(max(c for c in columns if len(c) == widest)))
        row_numbers = set(_CELL_ROW.findall(data))
        if row_numbers:
            longest = max(map(len, row_numbers))
            max_row = max(max_row, max(int(r) for r in row_numbers if len(r) == longest))
        if not without_ref and _CELL_WITHOUT_REF.search(data):
            without_ref = True
    if without_ref:  # cells placed by position: count them exactly
        return _xlsx_extent_by_position(archive, member, path, limits, where)
    return max_row, max_col


def _xlsx_extent_by_position(
    archive: zipfile.ZipFile, member: str, path: Path, limits: Limits, where: str
) -> tuple[int, int]:
    from lxml import etree

    max_row = max_col = 0
    row = 0
    ref = re.compile(r"([A-Z]+)(\d+)")
    with archive.open(member) as handle:
        events = etree.iterparse(handle, events=("end",), resolve_entities=False, no_network=True, huge_tree=False)
        try:
            for _, element in events:
                tag = element.tag.rsplit("}", 1)[-1]
                if tag != "row":
                    continue
                number = element.get("r")
                row = int(number) if number and number.isdigit() else row + 1
                col = 0
                for cell in element:
                    if cell.tag.rsplit("}", 1)[-1] != "c":
                        continue
                    found = ref.fullmatch(cell.get("r") or "")
                    col = _column_number(found.group(1).encode()) if found else col + 1
                    if len(cell):
                        max_row, max_col = max(max_row, row), max(max_col, col)
                element.clear()
                _check_extent(path, where, max_row, max_col, limits)
        except etree.XMLSyntaxError as error:
            raise FileRejected(f"{path.name}: cannot open as a workbook ({where}: {_short(error)})") from None
    return max_row, max_col


def _xlsx_sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> worksheet part, from xl/workbook.xml and its relationships (best effort)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        workbook = etree.fromstring(archive.read("xl/workbook.xml"), parser)
        rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"), parser)
    except (KeyError, etree.XMLSyntaxError, *_ZIP_ERRORS):
        return {}
    targets = {}
    for rel in rels:
        target = rel.get("Target") or ""
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        targets[rel.get("Id")] = re.sub(r"[^/]+/\.\./", "", target)
    out = {}
    for element in workbook.iter():
        if isinstance(element.tag, str) and element.tag.rsplit("}", 1)[-1] == "sheet":
            rid = next((v for k, v in element.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
            if rid in targets:
                out[element.get("name") or ""] = targets[rid]
    return out


def _scan_xlsx(path: Path, archive: zipfile.ZipFile, limits: Limits) -> dict[str, tuple[int, int]]:
    """Extent of every worksheet by sheet name (member name when the workbook does not say);
    shared strings checked for over-long texts."""
    names = set(archive.namelist())
    for member in ("xl/sharedStrings.xml",):
        if member in names:
            for _ in _stream_blocks(archive, member, path, limits, "the shared strings"):
                pass
    members = _xlsx_sheet_members(archive)
    by_member = {v: k for k, v in members.items()}
    extents: dict[str, tuple[int, int]] = {}
    for member in sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")):
        name = by_member.get(member, member)
        where = f"sheet '{name}'"
        rows, columns = _xlsx_extent(archive, member, path, limits, where)
        _check_extent(path, where, rows, columns, limits)
        extents[name] = (rows, columns)
    return extents


# BIFF12 (xlsb) records: BrtRowHdr gives the row; cell records start with their column.
_XLSB_ROW = 0x00
_XLSB_CELLS = frozenset({0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x3E})


def _xlsb_extent(archive: zipfile.ZipFile, member: str, path: Path, limits: Limits, where: str) -> tuple[int, int]:
    """(rows, columns) from A1 to the farthest cell holding a value in an xlsb worksheet part."""
    max_row = max_col = 0
    row = 0
    buffer = b""
    position = 0
    blocks = _stream_blocks(archive, member, path, limits, where, check_text=False)
    exhausted = False
    while True:
        if len(buffer) - position < 16 and not exhausted:
            block = next(blocks, b"")
            exhausted = not block
            buffer = buffer[position:] + block
            position = 0
        if position >= len(buffer):
            break
        start = position
        record, shift = 0, 0
        for _ in range(2):
            if position >= len(buffer):
                break
            byte = buffer[position]
            position += 1
            record |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        size, shift = 0, 0
        for _ in range(4):
            if position >= len(buffer):
                break
            byte = buffer[position]
            position += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if size > 2 * limits.hard_text_bytes:
            raise _reject_long_text(path, where, limits)
        while len(buffer) - position < size and not exhausted:
            block = next(blocks, b"")
            exhausted = not block
            buffer = buffer[start:] + block
            position -= start
            start = 0
        data = buffer[position : position + size]
        position += size
        if len(data) < 4:
            if len(data) < size:
                break
            continue
        if record == _XLSB_ROW:
            row = int.from_bytes(data[:4], "little") + 1
        elif record in _XLSB_CELLS:
            max_row = max(max_row, row)
            max_col = max(max_col, int.from_bytes(data[:4], "little") + 1)
            if max_col > limits.max_columns or max_row > limits.max_rows:
                _check_extent(path, where, max_row, max_col, limits)
    return max_row, max_col


# ----------------------------------------------------------------------------- BIFF (.xls) in OLE2
_FREE, _END = 0xFFFFFFFF, 0xFFFFFFFE
# BIFF8 cell records (row and column first): NUMBER, LABEL, BOOLERR, RK, LABELSST, FORMULA; MULRK apart
_BIFF_CELLS = frozenset({0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x0006})


def _damaged(path: Path, what: str) -> FileRejected:
    return FileRejected(f"{path.name}: cannot open as a workbook (damaged OLE2 container: {what})")


def _ole2_workbook_stream(path: Path, data: bytes) -> bytes:
    """The Workbook (or Book) stream of an OLE2 compound file, every count and size in the file
    checked against the file's own size first (python-calamine reserves memory from them)."""
    size = len(data)
    if size < 512:
        raise _damaged(path, "shorter than its header")
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if shift not in (9, 12) or mini_shift != 6:
        raise _damaged(path, "bad sector size")
    sector = 1 << shift
    sectors = max(0, (size - sector + sector - 1) // sector) if shift == 12 else (size - 512 + 511) // 512
    dir_len, fat_len, dir_start = struct.unpack_from("<III", data, 0x28)
    mini_start, mini_len, difat_start, difat_len = struct.unpack_from("<IIII", data, 0x3C)
    for name, count in (("FAT", fat_len), ("directory", dir_len), ("mini FAT", mini_len), ("DIFAT", difat_len)):
        if count * sector > size:
            raise _damaged(path, f"{name} sector count {count:,} beyond the file")
    base = 512 if shift == 9 else sector

    def read_sector(number: int) -> bytes:
        if number >= sectors:
            raise _damaged(path, f"sector {number:,} beyond the file")
        return data[base + number * sector : base + (number + 1) * sector]

    fat_sectors = [n for n in struct.unpack_from("<109I", data, 0x4C) if n not in (_FREE, _END)]
    seen: set[int] = set()
    next_difat = difat_start
    while next_difat not in (_FREE, _END):
        if next_difat in seen or len(seen) > sectors:
            raise _damaged(path, "DIFAT chain loops")
        seen.add(next_difat)
        entries = struct.unpack(f"<{sector // 4}I", read_sector(next_difat))
        fat_sectors += [n for n in entries[:-1] if n not in (_FREE, _END)]
        next_difat = entries[-1]
    if len(fat_sectors) > sectors:
        raise _damaged(path, "more FAT sectors than the file holds")
    fat: list[int] = []
    for number in fat_sectors:
        fat.extend(struct.unpack(f"<{sector // 4}I", read_sector(number)))

    def chain(start: int, table: list[int], limit: int) -> list[int]:
        out: list[int] = []
        visited: set[int] = set()
        while start not in (_END, _FREE):
            if start in visited or start >= len(table) or len(out) > limit:
                raise _damaged(path, "sector chain loops or leaves the file")
            visited.add(start)
            out.append(start)
            start = table[start]
        return out

    directory = b"".join(read_sector(n) for n in chain(dir_start, fat, sectors))
    streams: dict[str, tuple[int, int]] = {}
    root: tuple[int, int] | None = None
    for at in range(0, len(directory) - 127, 128):
        entry = directory[at : at + 128]
        kind = entry[66]
        if kind not in (1, 2, 5):
            continue
        start = struct.unpack_from("<I", entry, 116)[0]
        length = struct.unpack_from("<Q" if shift == 12 else "<I", entry, 120)[0]
        if length > size:
            raise _damaged(path, f"a stream of {length:,} bytes in a file of {size:,}")
        name_length = min(struct.unpack_from("<H", entry, 64)[0], 64)
        name = entry[: max(0, name_length - 2)].decode("utf-16-le", errors="replace")
        if kind == 5 and root is None:
            root = (start, length)
        elif kind == 2:
            streams.setdefault(name, (start, length))
    found = streams.get("Workbook") or streams.get("Book")
    if found is None:
        raise FileRejected(f"{path.name}: cannot open as a workbook (an OLE2 file without a Workbook stream)")
    start, length = found
    if length >= 4096:
        stream = b"".join(read_sector(n) for n in chain(start, fat, sectors))
    else:  # a small stream lives in the mini stream, cut in 64-byte sectors
        if root is None:
            raise _damaged(path, "no root entry")
        mini_stream = b"".join(read_sector(n) for n in chain(root[0], fat, sectors))[: root[1]]
        mini_fat: list[int] = []
        for number in chain(mini_start, fat, sectors):
            mini_fat.extend(struct.unpack(f"<{sector // 4}I", read_sector(number)))
        stream = b"".join(mini_stream[n * 64 : (n + 1) * 64] for n in chain(start, mini_fat, len(mini_stream) // 64))
    if len(stream) < length:
        raise _damaged(path, "the Workbook stream is cut short")
    return stream[:length]


def _check_biff(path: Path, limits: Limits) -> None:
    """Reject a BIFF workbook whose container, shared-string count, claimed dimensions or cells
    would make python-calamine reserve more than the limits allow."""
    data = path.read_bytes()
    stream = _ole2_workbook_stream(path, data)
    position, sheet, rows, columns = 0, 0, 0, 0
    while position + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, position)
        record = stream[position + 4 : position + 4 + length]
        position += 4 + length
        where = f"sheet {sheet}" if sheet else "the workbook"
        if kind == 0x0809:  # BOF: a new substream (globals, then one per sheet)
            if rows or columns:
                _check_extent(path, where, rows, columns, limits)
            sheet, rows, columns = sheet + 1, 0, 0
        elif kind == 0x00FC and len(record) >= 8:  # SST: calamine reserves one slot per unique string
            unique = struct.unpack_from("<i", record, 4)[0]
            if unique < 0 or unique * 3 > len(stream):
                raise _damaged(path, f"shared-string table claims {unique:,} strings")
        elif kind == 0x0200 and len(record) in (10, 14):  # DIMENSIONS: calamine reserves rows × columns
            if len(record) == 14:
                first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", record)
            else:
                first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", record)
            claimed_rows, claimed_cols = max(0, last_row - first_row), max(0, last_col - first_col)
            _check_extent(path, f"{where} (claimed dimensions)", claimed_rows, claimed_cols, limits)
        elif kind in _BIFF_CELLS and len(record) >= 4:
            row, col = struct.unpack_from("<HH", record)
            rows, columns = max(rows, row + 1), max(columns, col + 1)
        elif kind == 0x00BD and len(record) >= 6:  # MULRK: row, first column … last column
            row = struct.unpack_from("<H", record)[0]
            last = struct.unpack_from("<H", record, len(record) - 2)[0]
            rows, columns = max(rows, row + 1), max(columns, last + 1)
    if rows or columns:
        _check_extent(path, f"sheet {sheet}", rows, columns, limits)


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def _ods_int(element: Any, name: str) -> int:
    value = element.get(_ODS_TABLE + name)
    if value is None:
        return 1
    try:
        return max(1, int(value))
    except ValueError:
        return 1


def _scan_ods(path: Path, archive: zipfile.ZipFile, limits: Limits) -> dict[str, tuple[int, int, list[Merge]]]:
    """Extent (rows, columns) and merged ranges of every table in content.xml, repeats counted."""
    from lxml import etree

    if "content.xml" not in archive.namelist():
        raise FileRejected(f"{path.name}: cannot open as a workbook (ods without content.xml)")

    class Blocks:  # a file-like view of the checked member stream
        def __init__(self) -> None:
            self.blocks = _stream_blocks(archive, "content.xml", path, limits, "content.xml")
            self.block = b""
            self.position = 0

        def read(self, size: int = -1) -> bytes:
            if self.position >= len(self.block):
                self.block, self.position = next(self.blocks, b""), 0
            end = len(self.block) if size < 0 else self.position + size
            out = self.block[self.position : end]
            self.position += len(out)
            return out

    tables: dict[str, tuple[int, int, list[Merge]]] = {}
    name = ""
    row = max_row = max_col = 0
    merges: list[Merge] = []
    row_has_value = False
    row_width = 0
    col = 0
    try:
        for event, element in etree.iterparse(
            Blocks(), events=("start", "end"), resolve_entities=False, no_network=True, huge_tree=False
        ):
            tag = element.tag
            if event == "start":
                if tag == _ODS_TABLE + "table":
                    name = element.get(_ODS_TABLE + "name") or f"Sheet{len(tables) + 1}"
                    row = max_row = max_col = 0
                    merges = []
                elif tag == _ODS_TABLE + "table-row":
                    col = row_width = 0
                    row_has_value = False
                continue
            if tag in (_ODS_TABLE + "table-cell", _ODS_TABLE + "covered-table-cell"):
                if element.getparent() is None or element.getparent().tag != _ODS_TABLE + "table-row":
                    continue
                repeat = _ods_int(element, "number-columns-repeated")
                has_value = element.get(_ODS_OFFICE + "value-type") is not None or len(element) > 0
                if has_value:
                    text_bytes = sum(len(t) for t in element.itertext())
                    if text_bytes > limits.hard_text_bytes:
                        raise _reject_long_text(path, f"sheet '{name}'", limits)
                    row_has_value = True
                    row_width = col + repeat
                    spans = _ods_int(element, "number-columns-spanned"), _ods_int(element, "number-rows-spanned")
                    if spans != (1, 1):
                        merges.append(((row, col), (row + spans[1] - 1, col + spans[0] - 1)))
                col += repeat
                element.clear()
            elif tag == _ODS_TABLE + "table-row":
                repeat = _ods_int(element, "number-rows-repeated")
                if row_has_value:
                    max_row = row + repeat
                    max_col = max(max_col, row_width)
                    _check_extent(path, f"sheet '{name}'", max_row, max_col, limits)
                row += repeat
                element.clear()
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
            elif tag == _ODS_TABLE + "table":
                tables[name] = (max_row, max_col, merges)
                element.clear()
    except etree.XMLSyntaxError as error:
        raise FileRejected(f"{path.name}: cannot open as a workbook (content.xml: {_short(error)})") from None
    return tables


# ----------------------------------------------------------------------------- python-calamine
def _native(path: Path, action: str, call: Callable[[], Any]) -> Any:
    """Run a python-calamine call; any error (including a Rust panic) rejects the file."""
    try:
        return call()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 - calamine raises several types, a panic is a BaseException
        raise FileRejected(f"{path.name}: {action} ({_short(error)})") from None


def _open_calamine(workbook_class: Any, path: Path, kind: str) -> Any:
    """python-calamine's workbook for a file, whatever its name: calamine picks its parser by the
    extension, so a file named otherwise is opened through a link named for its kind."""
    wanted = {"xlsx": (".xlsx", ".xlsm"), "xlsb": (".xlsb",), "xls": (".xls",), "ods": (".ods",)}[kind]
    if path.suffix.lower() in wanted:
        return workbook_class.from_path(str(path))
    with tempfile.TemporaryDirectory(prefix="tthc-") as folder:
        link = Path(folder) / f"export{wanted[0]}"
        os.symlink(path.resolve(), link)
        return workbook_class.from_path(str(link))  # the file stays open after the link is gone


def _calamine_sheets(path: Path, kind: str, limits: Limits) -> list[Sheet]:
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    extents: dict[str, tuple[int, int]] = {}
    ods_merges: dict[str, list[Merge]] = {}
    if kind in ("xlsx", "xlsb", "ods"):
        try:
            with zipfile.ZipFile(path) as archive:
                check_zip(path, archive, limits)
                if kind == "xlsx":
                    extents = _scan_xlsx(path, archive, limits)
                elif kind == "xlsb":
                    for member in archive.namelist():
                        if member.startswith("xl/worksheets/") and member.endswith(".bin"):
                            where = f"sheet part '{member}'"
                            _check_extent(path, where, *_xlsb_extent(archive, member, path, limits, where), limits)
                elif kind == "ods":
                    for name, (rows, columns, merges) in _scan_ods(path, archive, limits).items():
                        extents[name] = (rows, columns)
                        ods_merges[name] = merges
        except _ZIP_ERRORS as error:
            raise FileRejected(f"{path.name}: cannot open as a workbook ({_short(error)})") from None
    elif kind == "xls":
        try:
            _check_biff(path, limits)
        except struct.error:
            raise _damaged(path, "a record cut short") from None
    workbook = _native(path, "cannot open as a workbook", lambda: _open_calamine(CalamineWorkbook, path, kind))
    metadata = _native(path, "cannot open as a workbook", lambda: workbook.sheets_metadata)
    sheets: list[Sheet] = []
    for index, meta in enumerate(metadata):
        if meta.typ not in (SheetTypeEnum.WorkSheet,):
            continue  # chart sheets, macro sheets: no table of cases
        sheets.append(_calamine_sheet(path, workbook, index, meta.name, limits, ods_merges.get(meta.name)))
    return sheets


def _calamine_sheet(
    path: Path, workbook: Any, index: int, name: str, limits: Limits, merges: list[Merge] | None
) -> Sheet:
    where = f"sheet '{name}'"
    loaded: list[Any] = []

    def sheet() -> Any:
        if not loaded:
            found = _native(path, f"cannot read {where}", lambda: workbook.get_sheet_by_index(index))
            end = _native(path, f"cannot read {where}", lambda: found.end)
            rows, columns = (end[0] + 1, end[1] + 1) if end else (0, 0)
            _check_extent(path, where, rows, columns, limits)
            loaded.append(found)
        return loaded[0]

    def load(nrows: int | None) -> list[list[Any]]:
        found = sheet()
        if nrows is None:
            return _native(path, f"cannot read {where}", lambda: found.to_python(skip_empty_area=False))
        return _native(path, f"cannot read {where}", lambda: found.to_python(skip_empty_area=False, nrows=nrows))

    result = Sheet(name, _loader=load)
    if merges is not None:
        result.merges = merges
    else:
        try:
            ranges = sheet().merged_cell_ranges or []
            result.merges = [((int(a), int(b)), (int(c), int(d))) for (a, b), (c, d) in ranges]
        except FileRejected:
            raise
        except Exception:  # noqa: BLE001 - not every format reports merged cells
            result.merges = []
    return result


# ----------------------------------------------------------------------------- HTML tables
def _cell_span(value: str | None, cap: int) -> int:
    found = re.match(r"\s*(\d+)", value or "")
    return max(1, min(int(found.group(1)), cap)) if found else 1


def _clean_cell_text(text: str) -> str | None:
    text = " ".join(text.split())
    return text or None


class _Table:
    """An HTML table being laid out: rows, merges, and the columns still covered by a rowspan."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows: list[list[Any]] = []
        self.merges: list[Merge] = []
        self.covered: dict[int, int] = {}  # column -> rows still covered by a cell above (this row included)
        self.current: list[Any] | None = None
        self.col = 0
        self.width = 0


def _text_reader(path: Path, findings: list[str], kind: str) -> Iterator[str]:
    """The text of an HTML or XML export, decoded in blocks (BOM, declared charset, else detection)."""
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    complete = len(head) < _HEAD_BYTES
    sample = codecs.getincrementaldecoder(detect_encoding(head, complete))(errors="replace").decode(
        head[:8192], final=complete
    )
    pattern = _XML_ENCODING if kind == "xml2003" else _CHARSET
    found = pattern.search(sample)
    declared = found.group(1) if found else ("utf-8" if kind == "xml2003" else None)
    encoding, note = choose_encoding(head, complete, declared)
    if note:
        findings.append(note)
    counter = [0]
    yield from _decoded_chunks(path, encoding, counter)
    note = replacement_note(counter[0], encoding)
    if note:
        findings.append(note)


def _html_sheets(path: Path, limits: Limits, findings: list[str]) -> list[Sheet]:
    """Every <table> of an HTML export as a sheet: <th>/<td> with colspan/rowspan as merged ranges,
    every value as text (codes keep their zeros)."""
    from lxml import etree

    parser = etree.HTMLPullParser(events=("start", "end"), no_network=True, remove_comments=True)
    stack: list[_Table] = []
    done: list[_Table] = []
    count = 0
    hard = limits.hard_text_bytes

    def start_row(table: _Table) -> None:
        if len(table.rows) >= limits.max_rows:
            raise FileRejected(f"{path.name}: table {table.name} has more than {limits.max_rows:,} rows")
        table.current = []
        table.col = 0

    def end_row(table: _Table) -> None:
        if table.current is None:
            return
        table.rows.append(table.current)
        table.width = max(table.width, len(table.current))
        table.covered = {c: k - 1 for c, k in table.covered.items() if k > 1}
        table.current = None
        if len(table.rows) * table.width > limits.max_cells:
            _check_extent(path, f"table {table.name}", len(table.rows), table.width, limits)

    def add_cell(table: _Table, element: Any) -> None:
        if table.current is None:
            start_row(table)
        row = table.current
        assert row is not None
        r = len(table.rows)
        while table.covered.get(table.col, 0) > 0:
            table.col += 1
        colspan = _cell_span(element.get("colspan"), 1000)
        rowspan = _cell_span(element.get("rowspan"), 65534)
        c = table.col
        if c + colspan > limits.max_columns:
            raise FileRejected(
                f"{path.name}: table {table.name} row {r + 1} is wider than {limits.max_columns:,} columns"
            )
        for br in element.iter("br"):
            br.tail = "\n" + (br.tail or "")
        text = etree.tostring(element, method="text", encoding=str, with_tail=False)
        if len(text) > hard:
            raise _reject_long_text(path, f"table {table.name} row {r + 1}", limits)
        row.extend([None] * (c + colspan - len(row)))
        row[c] = _clean_cell_text(text)
        if rowspan > 1:
            for k in range(c, c + colspan):
                table.covered[k] = rowspan
        if colspan > 1 or rowspan > 1:
            table.merges.append(((r, c), (r + rowspan - 1, c + colspan - 1)))
        table.col = c + colspan

    def handle(events: Iterator[tuple[str, Any]]) -> None:
        nonlocal count
        for event, element in events:
            tag = element.tag if isinstance(element.tag, str) else ""
            if event == "start":
                if tag == "table":
                    count += 1
                    stack.append(_Table(str(count)))
                elif tag == "tr" and stack:
                    end_row(stack[-1])
                    start_row(stack[-1])
                continue
            if not stack:
                continue
            table = stack[-1]
            if tag in ("td", "th"):
                if element.getparent() is not None and element.getparent().tag == "tr":
                    add_cell(table, element)
                    element.clear()
            elif tag == "tr":
                end_row(table)
                element.clear()
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
            elif tag == "table":
                end_row(table)
                stack.pop()
                done.append(table)
                element.clear()

    try:
        for chunk in _text_reader(path, findings, "html"):
            parser.feed(chunk)
            handle(parser.read_events())
        parser.close()
        handle(parser.read_events())
    except etree.LxmlError as error:
        raise FileRejected(f"{path.name}: cannot read the HTML ({_short(error)})") from None
    while stack:
        table = stack.pop()
        end_row(table)
        done.append(table)
    sheets = []
    for table in sorted(done, key=lambda t: int(t.name)):
        if not table.rows:
            continue
        height = len(table.rows)
        for row in table.rows:
            row.extend([None] * (table.width - len(row)))
        merges = [((r0, c0), (min(r1, height - 1), c1)) for (r0, c0), (r1, c1) in table.merges]
        sheets.append(Sheet(f"table {table.name}", [m for m in merges if m[0] != m[1]], table.rows))
    if not sheets:
        raise FileRejected(f"{path.name}: HTML export holds no table")
    return sheets


# ----------------------------------------------------------------------------- Excel 2003 XML
def _ss_attr(element: Any, name: str) -> str | None:
    value = element.get(f"{{{_SS}}}{name}")
    return value if value is not None else element.get(name)


def _ss_int(element: Any, name: str) -> int | None:
    value = _ss_attr(element, name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _xml_value(kind: str | None, text: str) -> Any:
    """A typed cell value of an Excel 2003 XML <Data ss:Type=…>."""
    if kind == "Number":
        try:
            return float(text)
        except ValueError:
            return _clean_cell_text(text)
    if kind == "DateTime":
        try:
            moment = dt.datetime.fromisoformat(text.strip().rstrip("Z"))
        except ValueError:
            return _clean_cell_text(text)
        if moment.date() in (dt.date(1899, 12, 31), dt.date(1899, 12, 30)):
            return moment.time()
        return moment
    if kind == "Boolean":
        return text.strip() in ("1", "true", "TRUE")
    return text if text.strip() else None


def _xml2003_sheets(path: Path, limits: Limits, findings: list[str]) -> list[Sheet]:
    """The worksheets of an Excel 2003 XML Spreadsheet (ss:Index, ss:MergeAcross, ss:MergeDown,
    ss:Data ss:Type String / Number / DateTime / Boolean)."""
    from lxml import etree

    ss = f"{{{_SS}}}"
    parser = etree.XMLPullParser(
        events=("start", "end"), resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True
    )
    sheets: list[Sheet] = []
    state: dict[str, Any] = {"sheet": None, "rows": {}, "row": 0, "col": 0, "merges": [], "width": 0, "deepest": 0}

    def local(tag: Any) -> str:
        return tag[len(ss) :] if isinstance(tag, str) and tag.startswith(ss) else ""

    def handle(events: Iterator[tuple[str, Any]]) -> None:
        for event, element in events:
            name = local(element.tag)
            if event == "start":
                if name == "Worksheet":
                    state.update(
                        sheet=_ss_attr(element, "Name") or f"Sheet{len(sheets) + 1}",
                        rows={}, row=0, col=0, merges=[], width=0, deepest=0,
                    )
                elif name == "Row" and state["sheet"] is not None:
                    index = _ss_int(element, "Index")
                    state["row"] = index if index and index > 0 else state["row"] + 1
                    state["col"] = 0
                    if state["row"] > limits.max_rows:
                        raise FileRejected(
                            f"{path.name}: sheet '{state['sheet']}' has cells down to row {state['row']:,} "
                            f"(limit {limits.max_rows:,} rows)"
                        )
                continue
            if state["sheet"] is None:
                continue
            if name == "Cell":
                index = _ss_int(element, "Index")
                col = index if index and index > 0 else state["col"] + 1
                across = max(0, _ss_int(element, "MergeAcross") or 0)
                down = max(0, _ss_int(element, "MergeDown") or 0)
                last = col + across
                if last > limits.max_columns:
                    _check_extent(path, f"sheet '{state['sheet']}'", state["row"], last, limits)
                data = element.find(ss + "Data")
                value = None
                if data is not None:
                    text = "".join(data.itertext())
                    if len(text) > limits.hard_text_bytes:
                        raise _reject_long_text(path, f"sheet '{state['sheet']}' row {state['row']}", limits)
                    value = _xml_value(_ss_attr(data, "Type"), text)
                r = state["row"] - 1
                row = state["rows"].setdefault(r, [])
                row.extend([None] * (last - len(row)))
                row[col - 1] = value
                state["width"] = max(state["width"], last)
                if across or down:
                    state["merges"].append(((r, col - 1), (r + down, last - 1)))
                    state["deepest"] = max(state["deepest"], r + down + 1)
                state["col"] = last
                element.clear()
            elif name == "Row":
                height = max(state["row"], state["deepest"])
                if height * state["width"] > limits.max_cells:
                    _check_extent(path, f"sheet '{state['sheet']}'", height, state["width"], limits)
                element.clear()
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
            elif name == "Worksheet":
                rows_by_index: dict[int, list[Any]] = state["rows"]
                height = max(rows_by_index, default=-1) + 1
                width = state["width"]
                grid = [
                    (rows_by_index.get(r) or []) + [None] * (width - len(rows_by_index.get(r) or []))
                    for r in range(height)
                ]
                merges = [((r0, c0), (min(r1, max(height - 1, r0)), c1)) for (r0, c0), (r1, c1) in state["merges"]]
                sheets.append(Sheet(state["sheet"], merges, grid))
                state["sheet"] = None
                element.clear()

    try:
        first = True
        for chunk in _text_reader(path, findings, "xml2003"):
            if first:  # the text is decoded already: drop the declared encoding
                chunk = re.sub(r"^\ufeff?\s*<\?xml[^>]*\?>", '<?xml version="1.0"?>', chunk, count=1)
                first = False
            parser.feed(chunk)
            handle(parser.read_events())
        parser.close()
        handle(parser.read_events())
    except etree.LxmlError as error:
        raise FileRejected(f"{path.name}: cannot read the XML spreadsheet ({_short(error)})") from None
    if not sheets:
        raise FileRejected(f"{path.name}: XML spreadsheet holds no worksheet")
    return sheets


# ----------------------------------------------------------------------------- text exports
def check_text_export(path: Path, limits: Limits, encoding: str) -> None:
    """Reject a CSV whose lines or line count exceed the limits, reading it once in blocks."""
    step = 2 if encoding.startswith("utf-16") else 1
    newline = b"\n\x00" if encoding in ("utf-16", "utf-16-le") else (b"\x00\n" if encoding == "utf-16-be" else b"\n")
    hard = limits.hard_text_bytes * step
    lines = 0
    run = 0
    line_number = 1
    with path.open("rb") as handle:
        while block := handle.read(16 * _BLOCK):
            if step == 1:
                marks = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 0x0A)
            else:
                # positions of the newline code unit (even-aligned; a block holds whole code units)
                units = np.frombuffer(block[: len(block) // 2 * 2], dtype=np.dtype("<u2" if newline == b"\n\x00" else ">u2"))
                marks = np.flatnonzero(units == 0x0A) * 2
            if not len(marks):
                run += len(block)
            else:
                first = run + int(marks[0])
                longest = max(first, int(np.diff(marks).max()) - 1) if len(marks) > 1 else first
                if longest > hard:
                    at = line_number if first > hard else line_number + int(np.argmax(np.diff(marks) - 1 > hard)) + 1
                    raise FileRejected(
                        f"{path.name}: line {at:,} is longer than {hard:,} bytes "
                        f"(a field holds at most {limits.max_cell_chars:,} characters)"
                    )
                run = len(block) - int(marks[-1]) - 1
                line_number += len(marks)
                lines += len(marks)
            if run > hard:
                raise FileRejected(
                    f"{path.name}: line {line_number:,} is longer than {hard:,} bytes "
                    f"(a field holds at most {limits.max_cell_chars:,} characters)"
                )
            if lines > limits.max_rows + _TITLE_LINES:
                raise FileRejected(f"{path.name}: holds more than {limits.max_rows:,} rows (the limit)")


def check_csv_width(path: Path, text: str, limits: Limits) -> None:
    """Reject a CSV whose first lines (where the header is looked for) carry more fields than the column limit."""
    for number, line in enumerate(text.splitlines()[:40], start=1):
        if max(line.count(d) for d in (",", ";", "\t", "|")) + 1 > limits.max_columns:
            raise FileRejected(f"{path.name}: line {number} has more than {limits.max_columns:,} fields")


# ----------------------------------------------------------------------------- cells and findings
def over_long_cells(raw: pd.DataFrame, max_chars: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions holding a cell longer than max_chars characters, and that cell's length."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    longest = np.zeros(len(raw), dtype=np.int64)
    for key in raw.columns:
        column = raw[key]
        if isinstance(column.dtype, pd.StringDtype):
            array = pa.array(column.array) if not hasattr(column.array, "_pa_array") else column.array._pa_array  # noqa: SLF001
            top = pc.max(pc.utf8_length(array)).as_py()
            if top is None or top <= max_chars:
                continue
            lengths = pc.fill_null(pc.utf8_length(array), 0).to_numpy(zero_copy_only=False)
        else:
            values = column.to_numpy(dtype=object)
            lengths = np.fromiter((len(v) if type(v) is str else 0 for v in values), dtype=np.int64, count=len(values))
        np.maximum(longest, lengths, out=longest)
    positions = np.flatnonzero(longest > max_chars)
    return positions, longest[positions]


def replacement_findings(frames: dict[str, pd.DataFrame]) -> list[str]:
    """One finding per text column holding U+FFFD replacement characters (undecodable bytes)."""
    import pandas as pd

    out = []
    for frame_name, frame in frames.items():
        for column in frame.columns:
            series = frame[column]
            if not isinstance(series.dtype, pd.StringDtype) or not len(series):
                continue
            hits = series.str.contains("\ufffd", regex=False).fillna(False).to_numpy(dtype=bool)
            if hits.any():
                first = int(frame["source_row"].to_numpy()[hits.argmax()]) if "source_row" in frame else None
                where = f", first at row {first}" if first is not None else ""
                out.append(
                    f"{frame_name}.{column}: {int(hits.sum()):,} value{'s' if hits.sum() > 1 else ''} "
                    f"hold U+FFFD replacement characters (undecodable bytes){where}"
                )
    return out


