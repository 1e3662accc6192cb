"""Writers of the demo exports in the formats of DESIGN §8: the one-stop software's Excel report, the national
sync JSON, ratings CSV (``;``, BOM) and the flat daily delta CSV; plus the injection of dirty rows."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import xlsxwriter

from pipeline.demo.catalogue import CHANNEL_NAMES, STATUS_NAMES, UnitInfo, strip_accents

EXCEL_EPOCH = datetime(1899, 12, 30)
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
DIRT_KINDS = ("missing_received", "end_before_receipt", "unknown_status", "bad_date", "duplicate_row")
DIRT_RATE = 0.005
BAD_DATES_TEXT = ("31/02/2025", "abc", "30/02/2024 08:15", "32/13/2025 10:00", "00/00/0000")
BAD_DATES_JSON = ("20250231083000", "abc", "2025-02-31", "99999999999999")
UNKNOWN_STATUS_TEXT = ("Đang chờ xác minh", "Đang chờ ký số", "Chờ xác minh thực địa", "Đang chờ xxx")
UNKNOWN_STATUS_JSON = ("99", "0", "xxx")

# Excel layouts: (field, group header or None, column header). Headers are DESIGN §8 synonyms.
LAYOUT_A = [
    ("stt", None, "STT"), ("case_id", None, "Số hồ sơ"), ("procedure_code", None, "Mã TTHC"),
    ("procedure_name", None, "Tên thủ tục hành chính"), ("sector", None, "Lĩnh vực"),
    ("unit", None, "Đơn vị xử lý"), ("channel", None, "Hình thức nộp"),
    ("applicant", "Thông tin chủ hồ sơ", "Chủ hồ sơ"), ("phone", "Thông tin chủ hồ sơ", "Số điện thoại"),
    ("id_number", "Thông tin chủ hồ sơ", "Số CCCD"), ("address", "Thông tin chủ hồ sơ", "Địa chỉ"),
    ("received_at", "Thời gian", "Ngày tiếp nhận"), ("due_at", "Thời gian", "Ngày hẹn trả"),
    ("finished_at", "Thời gian", "Ngày kết thúc xử lý"), ("returned_at", "Thời gian", "Ngày trả kết quả"),
    ("sup_requested_at", "Bổ sung hồ sơ", "Ngày yêu cầu bổ sung"),
    ("sup_received_at", "Bổ sung hồ sơ", "Ngày nhận bổ sung"),
    ("apology_at", "Xin lỗi, hẹn lại", "Ngày xin lỗi"), ("new_due_at", "Xin lỗi, hẹn lại", "Ngày hẹn trả mới"),
    ("status", None, "Trạng thái"),
]
LAYOUT_B = [
    ("stt", None, "STT"), ("case_id", None, "Mã hồ sơ"), ("procedure_name", None, "Tên TTHC"),
    ("procedure_code", None, "Mã thủ tục"), ("sector", None, "Tên lĩnh vực"), ("unit", None, "Phòng xử lý"),
    ("channel", None, "Kênh nộp"),
    ("applicant", "Người nộp hồ sơ", "Chủ hồ sơ"), ("id_number", "Người nộp hồ sơ", "Số định danh"),
    ("phone", "Người nộp hồ sơ", "Số điện thoại"), ("address", "Người nộp hồ sơ", "Địa chỉ"),
    ("status", None, "Tình trạng hồ sơ"),
    ("received_at", "Thời gian giải quyết", "Ngày nhận"), ("due_at", "Thời gian giải quyết", "Hẹn trả"),
    ("finished_at", "Thời gian giải quyết", "Ngày hoàn thành"), ("returned_at", "Thời gian giải quyết", "Ngày trả"),
    ("sup_requested_at", "Bổ sung hồ sơ", "Ngày yêu cầu bổ sung"),
    ("sup_received_at", "Bổ sung hồ sơ", "Ngày nhận bổ sung"),
    ("apology_at", "Xin lỗi và hẹn lại", "Ngày văn bản xin lỗi"), ("new_due_at", "Xin lỗi và hẹn lại", "Ngày hẹn lại"),
]
DATE_FIELDS = {"received_at", "due_at", "finished_at", "returned_at", "sup_requested_at", "sup_received_at",
               "apology_at", "new_due_at"}

# The flat layout of the daily delta CSV (one header row).
DELTA_HEADERS = [
    ("case_id", "Mã hồ sơ"), ("procedure_code", "Mã TTHC"), ("procedure_name", "Tên TTHC"), ("sector", "Lĩnh vực"),
    ("unit", "Đơn vị xử lý"), ("channel", "Kênh thực hiện"), ("applicant", "Chủ hồ sơ"),
    ("phone", "Số điện thoại"), ("id_number", "Số CCCD"), ("address", "Địa chỉ"),
    ("received_at", "Ngày tiếp nhận"), ("due_at", "Ngày hẹn trả"), ("finished_at", "Ngày kết thúc xử lý"),
    ("returned_at", "Ngày trả kết quả"), ("status", "Trạng thái"), ("sup_requested_at", "Ngày yêu cầu bổ sung"),
    ("sup_received_at", "Ngày nhận bổ sung"), ("apology_at", "Ngày xin lỗi"), ("new_due_at", "Ngày hẹn trả mới"),
]
RATING_HEADERS = ["Mã hồ sơ", "Thời gian đánh giá", "Mức độ hài lòng"]


@dataclass(frozen=True)
class Bad:
    """A value written verbatim where a date or status was expected (dirty data)."""

    text: str


@dataclass
class DirtyRow:
    """One dirtied row as a user sees it: file (relative), row number, case, kind of dirt."""

    file: str
    row: int
    case_id: str
    kind: str
    column: str | None = None
    value: str | None = None
    duplicate_of_row: int | None = None


@dataclass
class Written:
    """What one writer produced: the data rows written and the dirty ones, by row number."""

    path: Path
    data_rows: int = 0
    dirty: list[DirtyRow] = field(default_factory=list)


# --- dirt ----------------------------------------------------------------------------------------

def inject_dirt(rows: list[dict], rng: np.random.Generator, fmt: str, rate: float = DIRT_RATE) -> list[dict]:
    """Rows with about ``rate`` of them dirtied (missing receipt, end before receipt, unknown status, bad date,
    exact duplicate); each dirtied row carries ``_dirt`` = {kind, column, value[, original]}."""
    n = len(rows)
    draws, kinds, picks = rng.random(n), rng.integers(0, len(DIRT_KINDS), n), rng.integers(0, 1_000_000, n)
    out: list[dict] = []
    for row, draw, kind_no, pick in zip(rows, draws, kinds, picks, strict=True):
        if draw >= rate:
            out.append(row)
            continue
        kind = DIRT_KINDS[kind_no]
        if kind == "end_before_receipt" and (row.get("finished_at") is None or row.get("received_at") is None):
            kind = "bad_date"
        if kind == "duplicate_row":
            out.append(row)
            out.append(dict(row, _dirt={"kind": kind, "column": None, "value": None, "original": row}))
            continue
        dirty = dict(row)
        column, value = None, None
        if kind == "missing_received":
            column = "received_at"
            dirty["received_at"] = None
        elif kind == "end_before_receipt":
            column = "finished_at"
            dirty["finished_at"] = row["received_at"] - timedelta(days=1 + int(pick % 9), minutes=int(pick % 600))
            value = format_text(dirty["finished_at"], True)
        elif kind == "unknown_status":
            column = "status"
            choices = UNKNOWN_STATUS_JSON if fmt == "json" else UNKNOWN_STATUS_TEXT
            value = choices[pick % len(choices)]
            dirty["status"] = Bad(value)
        else:
            candidates = [c for c in ("received_at", "due_at", "finished_at") if row.get(c) is not None]
            column = candidates[pick % len(candidates)]
            choices = BAD_DATES_JSON if fmt == "json" else BAD_DATES_TEXT
            value = choices[(pick // 7) % len(choices)]
            dirty[column] = Bad(value)
        dirty["_dirt"] = {"kind": kind, "column": column, "value": value}
        out.append(dirty)
    return out


def _record_dirt(written: Written, relative: str, rows: list[dict], numbers: list[int]) -> None:
    position = {id(row): number for row, number in zip(rows, numbers, strict=True)}
    for row, number in zip(rows, numbers, strict=True):
        dirt = row.get("_dirt")
        if dirt:
            original = dirt.get("original")
            written.dirty.append(DirtyRow(relative, number, row["case_id"], dirt["kind"], dirt["column"],
                                          dirt["value"], position.get(id(original)) if original is not None else None))


# --- value formatting ----------------------------------------------------------------------------

def format_text(value: datetime, seconds: bool = False, date_only: bool = False) -> str:
    """dd/mm/yyyy[ HH:MM[:SS]]."""
    if date_only:
        return value.strftime("%d/%m/%Y")
    return value.strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def excel_serial(value: datetime) -> float:
    """Excel serial day number of a naive local time."""
    return (value - EXCEL_EPOCH).total_seconds() / 86400.0


def status_variant(code: int, draw: float) -> str:
    """A status as an export shows it: the national name, in varied case or without accents, or the code."""
    name = STATUS_NAMES[code]
    if draw < 0.75:
        return name
    if draw < 0.83:
        return name.lower()
    if draw < 0.88:
        return name.upper()
    if draw < 0.95:
        return strip_accents(name)
    return str(code)


# --- Excel report --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExcelStyle:
    """How one Excel file writes its dates."""

    seconds: bool
    returned_date_only: bool
    mixed: bool


def prepare_excel_rows(rows: list[dict], rng: np.random.Generator, style: ExcelStyle) -> None:
    """Fix each row's STT and rendering choices (status/channel text, date cell kind) before dirt is injected,
    so that a duplicated row is a verbatim copy."""
    n = len(rows)
    status_draw, channel_draw, mode_draw = rng.random(n), rng.random(n), rng.random(n)
    for stt, (row, s, c, m) in enumerate(zip(rows, status_draw, channel_draw, mode_draw, strict=True), start=1):
        row["_stt"] = stt
        row["_status_text"] = status_variant(row["status"], s)
        row["_channel_text"] = str(row["channel"]) if c < 0.05 else CHANNEL_NAMES[row["channel"]]
        row["_date_mode"] = ("text" if m < 0.6 else "serial" if m < 0.8 else "date") if style.mixed else "text"


def write_excel_report(path: Path, relative: str, unit: UnitInfo, groups: list[tuple[str, list[dict]]],
                       first_day: date, last_day: date, exported_at: datetime, style: ExcelStyle,
                       province: str, department: str) -> Written:
    """One unit-month report in the one-stop software's layout: title rows, a two-row merged header, the
    column-number row, sector group rows, data, a 'Tổng cộng' row and a signature block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    layout = LAYOUT_B if unit.layout == "B" else LAYOUT_A
    ncol = len(layout)

    def t(text: str) -> str:
        return unicodedata.normalize("NFD", text) if unit.nfd else text

    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                               "strings_to_urls": False, "in_memory": True})
    workbook.set_properties({"title": "Danh sách hồ sơ", "author": "Hệ thống thông tin giải quyết TTHC",
                             "created": exported_at})
    ws = workbook.add_worksheet("DanhSach")
    bold_c = workbook.add_format({"bold": True, "align": "center", "valign": "vcenter"})
    title = workbook.add_format({"bold": True, "align": "center", "font_size": 14})
    italic_c = workbook.add_format({"italic": True, "align": "center"})
    head = workbook.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1, "text_wrap": True,
                                "bg_color": "#DDEBF7"})
    number_row = workbook.add_format({"italic": True, "align": "center", "border": 1})
    cell = workbook.add_format({"border": 1, "valign": "top"})
    date_cell = workbook.add_format({"border": 1, "valign": "top", "num_format": "dd/mm/yyyy hh:mm"})
    group_fmt = workbook.add_format({"bold": True, "border": 1, "bg_color": "#F2F2F2"})
    total_fmt = workbook.add_format({"bold": True, "border": 1})

    half = ncol // 2
    r = 0
    ws.merge_range(r, 0, r, half - 2, t(f"UBND TỈNH {province.upper()}"), bold_c)
    ws.merge_range(r, half, r, ncol - 1, t("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), bold_c)
    r += 1
    ws.merge_range(r, 0, r, half - 2, t(department.upper()), bold_c)
    ws.merge_range(r, half, r, ncol - 1, t("Độc lập - Tự do - Hạnh phúc"), bold_c)
    r += 1
    if unit.layout == "B":
        ws.merge_range(r, 0, r, half - 2, t(unit.name.upper()), bold_c)
        r += 1
    r += 1
    ws.merge_range(r, 0, r, ncol - 1, t("DANH SÁCH HỒ SƠ TIẾP NHẬN VÀ GIẢI QUYẾT"), title)
    r += 1
    ws.merge_range(r, 0, r, ncol - 1, t(f"Từ ngày {first_day:%d/%m/%Y} đến ngày {last_day:%d/%m/%Y}"), italic_c)
    r += 1
    ws.merge_range(r, 0, r, ncol - 1, t(f"Ngày xuất: {exported_at:%d/%m/%Y %H:%M}"), italic_c)
    r += 2

    # two-row header: grouped columns under a merged group cell, the others merged vertically
    c = 0
    while c < ncol:
        group = layout[c][1]
        if group is None:
            ws.merge_range(r, c, r + 1, c, t(layout[c][2]), head)
            c += 1
            continue
        last = c
        while last + 1 < ncol and layout[last + 1][1] == group:
            last += 1
        ws.merge_range(r, c, r, last, t(group), head)
        for k in range(c, last + 1):
            ws.write_string(r + 1, k, t(layout[k][2]), head)
        c = last + 1
    r += 2
    for k in range(ncol):
        ws.write_string(r, k, f"({k + 1})", number_row)
    r += 1

    written = Written(path)
    data_rows: list[dict] = []
    numbers: list[int] = []
    for number, (sector, rows) in enumerate(groups):
        ws.merge_range(r, 0, r, ncol - 1, t(f"{ROMAN[number % len(ROMAN)]}. Lĩnh vực {sector}"), group_fmt)
        r += 1
        for row in rows:
            for k, (name, _, _) in enumerate(layout):
                _write_excel_value(ws, r, k, name, row, style, t, cell, date_cell)
            data_rows.append(row)
            numbers.append(r + 1)
            r += 1
    ws.merge_range(r, 0, r, 1, t("Tổng cộng"), total_fmt)
    ws.write_number(r, 2, len(data_rows), total_fmt)
    r += 2
    sign_left, sign_right = (0, max(half - 2, 1)), (half, ncol - 1)
    place = f"{province}, ngày {exported_at:%d} tháng {exported_at:%m} năm {exported_at:%Y}"
    ws.merge_range(r, sign_right[0], r, sign_right[1], t(place), italic_c)
    r += 1
    ws.merge_range(r, sign_left[0], r, sign_left[1], t("NGƯỜI LẬP BIỂU"), bold_c)
    ws.merge_range(r, sign_right[0], r, sign_right[1], t("THỦ TRƯỞNG ĐƠN VỊ"), bold_c)
    r += 1
    ws.merge_range(r, sign_left[0], r, sign_left[1], t("(Ký, ghi rõ họ tên)"), italic_c)
    ws.merge_range(r, sign_right[0], r, sign_right[1], t("(Ký, ghi rõ họ tên, đóng dấu)"), italic_c)
    r += 4
    ws.merge_range(r, sign_left[0], r, sign_left[1], t(unit.preparer), bold_c)
    ws.merge_range(r, sign_right[0], r, sign_right[1], t(unit.head), bold_c)

    widths = {"stt": 5, "case_id": 26, "procedure_code": 10, "procedure_name": 40, "sector": 16, "unit": 24,
              "channel": 12, "applicant": 22, "phone": 12, "id_number": 14, "address": 36, "status": 18}
    for k, (name, _, _) in enumerate(layout):
        ws.set_column(k, k, widths.get(name, 17))
    workbook.close()

    written.data_rows = len(data_rows)
    _record_dirt(written, relative, data_rows, numbers)
    return written


def _write_excel_value(ws, r: int, k: int, name: str, row: dict, style: ExcelStyle, t, cell, date_cell) -> None:
    if name == "stt":
        ws.write_number(r, k, row["_stt"], cell)
        return
    if name == "status":
        value = row["status"]
        ws.write_string(r, k, t(value.text if isinstance(value, Bad) else row["_status_text"]), cell)
        return
    if name == "channel":
        ws.write_string(r, k, t(row["_channel_text"]), cell)
        return
    value = row.get(name)
    if value is None:
        return
    if isinstance(value, Bad):
        ws.write_string(r, k, t(value.text), cell)
    elif name in DATE_FIELDS:
        mode = row["_date_mode"]
        if mode == "serial":
            ws.write_number(r, k, excel_serial(value), cell)
        elif mode == "date":
            ws.write_datetime(r, k, value, date_cell)
        else:
            date_only = name == "returned_at" and style.returned_date_only
            ws.write_string(r, k, format_text(value, style.seconds, date_only), cell)
    else:
        ws.write_string(r, k, t(str(value)), cell)


# --- national sync JSON ----------------------------------------------------------------------------

def _json_date(value, empty):
    if value is None:
        return empty
    if isinstance(value, Bad):
        return value.text
    return value.strftime("%Y%m%d%H%M%S")


def write_sync_json(path: Path, relative: str, rows: list[dict]) -> Written:
    """A JSON array in the national sync format (MaHoSo … DanhSachHoSoBoSung), dates yyyyMMddHHmmss."""
    objects = []
    for row in rows:
        status = row["status"]
        objects.append({
            "MaHoSo": row["case_id"],
            "MaTTHC": row["procedure_code"],
            "TenTTHC": row["procedure_name"],
            "MaLinhVuc": row["sector_code"],
            "TenLinhVuc": row["sector"],
            "KenhThucHien": row["channel"],
            "NgayTiepNhan": _json_date(row["received_at"], ""),
            "NgayHenTra": _json_date(row["due_at"], ""),
            "NgayKetThucXuLy": _json_date(row["finished_at"], ""),
            "NgayTra": _json_date(row["returned_at"], ""),
            "TrangThaiHoSo": status.text if isinstance(status, Bad) else str(status),
            "DonViXuLy": row["unit"],
            "ChuHoSo": row["applicant"],
            "SoDienThoai": row["phone"],
            "DanhSachHoSoBoSung": [
                {"NgayBoSung": _json_date(a, None), "NgayTiepNhanBoSung": _json_date(b, None),
                 "NgayHenTraMoi": _json_date(c, None)}
                for a, b, c in row["supplements"]
            ],
        })
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(objects, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    written = Written(path, len(rows))
    _record_dirt(written, relative, rows, list(range(1, len(rows) + 1)))
    return written


# --- CSV -----------------------------------------------------------------------------------------

def write_delta_csv(path: Path, relative: str, rows: list[dict]) -> Written:
    """The flat daily delta: ',' separated UTF-8 (no BOM), one header row, dates dd/mm/yyyy HH:MM:SS."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([h for _, h in DELTA_HEADERS])
    for row in rows:
        line = []
        for name, _ in DELTA_HEADERS:
            value = row.get(name)
            if name == "status":
                line.append(value.text if isinstance(value, Bad) else STATUS_NAMES[value])
            elif name == "channel":
                line.append(CHANNEL_NAMES[value])
            elif value is None:
                line.append("")
            elif isinstance(value, Bad):
                line.append(value.text)
            elif name in DATE_FIELDS:
                line.append(format_text(value, seconds=True))
            else:
                line.append(str(value))
        writer.writerow(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    written = Written(path, len(rows))
    _record_dirt(written, relative, rows, list(range(2, len(rows) + 2)))
    return written


def write_ratings_csv(path: Path, ratings: list[tuple[str, datetime, str]], bom: bool, delimiter: str) -> Written:
    """Ratings: Mã hồ sơ, Thời gian đánh giá (dd/mm/yyyy HH:MM:SS), Mức độ hài lòng."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n" if bom else "\n")
    writer.writerow(RATING_HEADERS)
    for case_id, rated_at, rating in ratings:
        writer.writerow([case_id, rated_at.strftime("%d/%m/%Y %H:%M:%S"), rating])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig" if bom else "utf-8"))
    return Written(path, len(ratings))
