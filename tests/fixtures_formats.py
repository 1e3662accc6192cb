"""Export files of every kind a one-stop system may produce, written byte by byte in code (no
binary fixtures): BIFF8 .xls in an OLE2 container, xlsb, hand-made ODS, HTML tables saved as .xls,
Excel 2003 XML Spreadsheets, and raw xlsx parts (for hostile files)."""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
from html import escape
from pathlib import Path
from typing import Any

from fixtures_exports import PII_VALUES

Merge = tuple[tuple[int, int], tuple[int, int]]


# ----------------------------------------------------------------------------- BIFF8 (.xls)
def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _short_string(text: str) -> bytes:
    return struct.pack("<BB", len(text), 1) + text.encode("utf-16-le")


def biff_workbook(sheets: list[tuple[str, list[list[Any]], list[Merge]]]) -> bytes:
    """A BIFF8 workbook (Excel 97-2003 .xls) in an OLE2 compound file: per sheet its name, rows of
    str / float / datetime / None (datetimes as serial numbers with a date format) and merged ranges."""
    strings: list[str] = []
    index: dict[str, int] = {}
    for _, rows, _ in sheets:
        for row in rows:
            for value in row:
                if isinstance(value, str) and value not in index:
                    index[value] = len(strings)
                    strings.append(value)

    def bof(kind: int) -> bytes:
        return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))

    def xf(number_format: int, style: bool) -> bytes:
        return _record(
            0x00E0,
            struct.pack("<HHHBBBBIIH", 0, number_format, 0xFFF5 if style else 0x0001, 0x20, 0, 0, 0, 0, 0, 0x20C0),
        )

    font = _record(0x0031, struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0) + _short_string("Arial"))
    head = bof(0x0005) + _record(0x0042, struct.pack("<H", 1200)) + _record(0x0022, struct.pack("<H", 0))
    head += font * 5 + b"".join(xf(0, True) for _ in range(16)) + xf(0, False) + xf(22, False)  # XF 16, 17
    sst_body = struct.pack("<II", len(strings), len(strings)) + b"".join(
        struct.pack("<HB", len(s), 1) + s.encode("utf-16-le") for s in strings
    )
    assert len(sst_body) <= 8224, "keep fixture strings short (no CONTINUE records)"
    sst = _record(0x00FC, sst_body)
    bodies = []
    for name, rows, merges in sheets:
        body = bof(0x0010)
        width = max((len(r) for r in rows), default=0)
        body += _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    body += _record(0x00FD, struct.pack("<HHHI", r, c, 16, index[value]))
                elif isinstance(value, dt.datetime):
                    serial = (value - dt.datetime(1899, 12, 30)).total_seconds() / 86400
                    body += _record(0x0203, struct.pack("<HHHd", r, c, 17, serial))
                else:
                    body += _record(0x0203, struct.pack("<HHHd", r, c, 16, float(value)))
        if merges:
            body += _record(
                0x00E5,
                struct.pack("<H", len(merges))
                + b"".join(struct.pack("<HHHH", r0, r1, c0, c1) for (r0, c0), (r1, c1) in merges),
            )
        bodies.append((name, body + _record(0x000A)))
    boundsheets_size = sum(4 + 6 + len(_short_string(n)) for n, _ in bodies)
    offset = len(head) + boundsheets_size + len(sst) + 4
    boundsheets = b""
    for name, body in bodies:
        boundsheets += _record(0x0085, struct.pack("<IBB", offset, 0, 0) + _short_string(name))
        offset += len(body)
    stream = head + boundsheets + sst + _record(0x000A) + b"".join(b for _, b in bodies)
    return ole2_container("Workbook", stream)


def ole2_container(name: str, data: bytes) -> bytes:
    """A compound file (CFB v3, 512-byte sectors) holding one stream (at least 4096 bytes, no mini stream)."""
    data = data + b"\0" * (max(4096, -(-len(data) // 512) * 512) - len(data))
    sectors = len(data) // 512
    assert sectors + 2 <= 128, "one FAT sector only"
    directory_sector, fat_sector = sectors, sectors + 1
    fat = [i + 1 for i in range(sectors)]
    fat[-1] = 0xFFFFFFFE
    fat += [0xFFFFFFFE, 0xFFFFFFFD] + [0xFFFFFFFF] * (128 - sectors - 2)

    def entry(entry_name: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = entry_name.encode("utf-16-le") + b"\0\0"
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB", len(raw), kind, 1)
            + struct.pack("<III", 0xFFFFFFFF, 0xFFFFFFFF, child)
            + b"\0" * 36
            + struct.pack("<II", start, size)
            + b"\0" * 4
        )

    unused = b"\0" * 64 + struct.pack("<HBB", 0, 0, 0) + struct.pack("<III", *[0xFFFFFFFF] * 3) + b"\0" * 48
    directory = entry("Root Entry", 5, 1, 0xFFFFFFFE, 0) + entry(name, 2, 0xFFFFFFFF, 0, len(data)) + unused * 2
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, directory_sector, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
        + struct.pack("<I", fat_sector)
        + b"\xff" * 4 * 108
    )
    return header + data + directory + struct.pack("<128I", *fat)


# ----------------------------------------------------------------------------- xlsb
def _biff12(kind: int, data: bytes = b"") -> bytes:
    out = bytearray()
    for number, most in ((kind, 2), (len(data), 4)):
        for _ in range(most):
            byte, number = number & 0x7F, number >> 7
            out.append(byte | (0x80 if number else 0))
            if not number:
                break
    return bytes(out) + data


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def xlsb_workbook(cells: list[tuple[int, list[tuple[int, float]]]]) -> bytes:
    """A minimal xlsb workbook with one sheet 'S': rows (0-based) of (column, number) cells."""
    import io

    book = _biff12(0x83) + _biff12(0x8F) + _biff12(0x9C, struct.pack("<II", 0, 1) + _wide("rId1") + _wide("S"))
    book += _biff12(0x90) + _biff12(0x84)
    sheet = _biff12(0x81) + _biff12(0x94, struct.pack("<IIII", 0, 0, 0, 0)) + _biff12(0x91)
    for row, values in cells:
        sheet += _biff12(0x00, struct.pack("<IIHBBBII", row, 0, 0, 0, 0, 0, 0, 0))
        for col, value in values:
            sheet += _biff12(0x05, struct.pack("<IId", col, 0, value))
    sheet += _biff12(0x92) + _biff12(0x82)
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.bin"/></Relationships>',
        )
        archive.writestr("xl/workbook.bin", book)
        archive.writestr(
            "xl/_rels/workbook.bin.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.bin"/></Relationships>',
        )
        archive.writestr("xl/worksheets/sheet1.bin", sheet)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- raw xlsx parts
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def xlsx_parts(
    sheet_data: str | bytes, shared: list[str] | bytes = (), dimension: str = "A1", compress: int = 6
) -> dict[str, bytes]:
    """The parts of a one-sheet xlsx with the given <sheetData> content and shared strings."""
    if isinstance(shared, bytes):
        sst = shared
    else:
        items = "".join(f"<si><t>{escape(s)}</t></si>" for s in shared)
        sst = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}">{items}</sst>'.encode()
    body = sheet_data if isinstance(sheet_data, bytes) else sheet_data.encode()
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}"><dimension ref="{dimension}"/><sheetData>'
    ).encode() + body + b"</sheetData></worksheet>"
    return {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            b'<Default Extension="xml" ContentType="application/xml"/>'
            b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            b"</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_RELS}">'
            '<sheets><sheet name="Hồ sơ" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_RELS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        ).encode(),
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": sst,
    }


def write_zip(path: Path, parts: dict[str, bytes], compress: int = 6) -> Path:
    """A zip file of the given parts (deflated)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compress) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def xlsx_cells(rows: list[list[Any]]) -> str:
    """<sheetData> rows with inline strings and numbers (None = no cell), A1-referenced."""
    from pipeline.ingest.sources import column_letters

    out = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{column_letters(c)}{r}"
            if value is None:
                continue
            if isinstance(value, str):
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        out.append(f'<row r="{r}">{"".join(cells)}</row>')
    return "".join(out)


# ----------------------------------------------------------------------------- ODS
_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def ods_cell(value: Any = None, *, across: int = 1, down: int = 1, repeat: int = 1) -> str:
    """One <table:table-cell>: str, float, datetime or None; spans and repeats as attributes."""
    attrs = ""
    if across > 1:
        attrs += f' table:number-columns-spanned="{across}"'
    if down > 1:
        attrs += f' table:number-rows-spanned="{down}"'
    if repeat > 1:
        attrs += f' table:number-columns-repeated="{repeat}"'
    if value is None:
        return f"<table:table-cell{attrs}/>"
    if isinstance(value, dt.datetime):
        return (
            f'<table:table-cell{attrs} office:value-type="date" office:date-value="{value:%Y-%m-%dT%H:%M:%S}">'
            f"<text:p>{value:%d/%m/%Y %H:%M}</text:p></table:table-cell>"
        )
    if isinstance(value, float | int):
        return f'<table:table-cell{attrs} office:value-type="float" office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
    return f'<table:table-cell{attrs} office:value-type="string"><text:p>{escape(value)}</text:p></table:table-cell>'


def ods_document(tables: dict[str, str]) -> bytes:
    """An .ods file (mimetype first, stored) whose content.xml holds the given tables' row XML."""
    import io

    body = "".join(f'<table:table table:name="{escape(name)}">{rows}</table:table>' for name, rows in tables.items())
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} office:version="1.2">'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- HTML saved as .xls
def html_export() -> str:
    """A web one-stop system's "Xuất Excel": two tables (two units), each with a two-row header
    (<th> with rowspan and colspan), a period row above the first, a <br> inside a date cell."""
    header = (
        "<tr><th rowspan='2'>STT</th><th rowspan='2'>Mã hồ sơ</th><th rowspan='2'>Tên thủ tục</th>"
        "<th colspan='3'>Tiến độ giải quyết</th><th rowspan=2>Trạng thái</th><th rowspan=2>Đơn vị xử lý</th>"
        "<th rowspan=2>Chủ hồ sơ</th></tr>"
        "<tr><th>Ngày tiếp nhận</th><th>Ngày hẹn trả</th><th>Ngày trả kết quả</th></tr>"
    )

    def row(*cells: str) -> str:
        return "<tr>" + "".join(f"<td style='mso-number-format:\"\\@\"'>{c}</td>" for c in cells) + "</tr>"

    return (
        "<html xmlns:o='urn:schemas-microsoft-com:office:office' xmlns:x='urn:schemas-microsoft-com:office:excel'>"
        "<head><meta http-equiv='Content-Type' content='text/html; charset=windows-1258'>"
        "<title>Sổ theo dõi</title></head><body>\n"
        "<h3>SỞ GIAO THÔNG VẬN TẢI</h3>\n"
        "<table border='1'>"
        "<tr><td colspan='9'><b>Từ ngày 01/04/2025 đến ngày 30/04/2025</b></td></tr>"
        + header
        + row("1", "007891", "Cấp giấy phép lái xe", "02/04/2025<br>08:15", "06/04/2025 17:00",
              "05/04/2025 10:00", "Đã trả kết quả", "Phòng Quản lý vận tải", PII_VALUES[0])
        + row("2", "007892", "Đổi giấy phép lái xe", "03/04/2025 09:30", "10/04/2025 17:00", "&nbsp;",
              "Đang giải quyết", "Phòng Quản lý vận tải", PII_VALUES[0])
        + "</table>\n<p>Phòng Đăng kiểm</p>\n<table border='1'>"
        + header
        + row("1", "000123", "Đăng ký xe", "04/04/2025 14:00", "08/04/2025 17:00", "", "Chờ bổ sung",
              "Phòng Đăng kiểm", "")
        + "</table></body></html>"
    )


# ----------------------------------------------------------------------------- Excel 2003 XML
def xml2003_document(worksheets: dict[str, str], encoding: str = "UTF-8") -> str:
    """An Excel 2003 XML Spreadsheet with the given worksheets' <Table> content."""
    sheets = "".join(
        f'<Worksheet ss:Name="{escape(name)}"><Table>{rows}</Table></Worksheet>' for name, rows in worksheets.items()
    )
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<?mso-application progid="Excel.Sheet"?>\n'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:html="http://www.w3.org/TR/REC-html40">\n'
        '<Styles><Style ss:ID="Default" ss:Name="Normal"/><Style ss:ID="d"><NumberFormat ss:Format="dd/mm/yyyy hh:mm"/></Style></Styles>\n'
        f"{sheets}</Workbook>\n"
    )


def xml_cell(value: Any = None, *, index: int | None = None, across: int = 0, down: int = 0) -> str:
    """One <Cell>: str -> String, float/int -> Number, datetime -> DateTime."""
    attrs = (f' ss:Index="{index}"' if index else "") + (f' ss:MergeAcross="{across}"' if across else "")
    attrs += f' ss:MergeDown="{down}"' if down else ""
    if value is None:
        return f"<Cell{attrs}/>"
    if isinstance(value, dt.datetime):
        return f'<Cell{attrs} ss:StyleID="d"><Data ss:Type="DateTime">{value:%Y-%m-%dT%H:%M:%S}.000</Data></Cell>'
    if isinstance(value, float | int):
        return f'<Cell{attrs}><Data ss:Type="Number">{value}</Data></Cell>'
    return f'<Cell{attrs}><Data ss:Type="String">{escape(value)}</Data></Cell>'
