"""Small hand-made export files for the reader tests, written in code into a temporary folder:
a one-stop report workbook (title rows, merged header, column numbers, groups, total, signature),
CSV files in several dialects, national sync JSON and ratings exports."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from pipeline.ingest import ReadResult
from pipeline.settings import Settings

# Applicant identity used in the fixtures; no output frame may contain any of these.
PII_VALUES = ("Nguyễn Thị Bí Mật", "0912345678", "079123456789", "12 Lê Lợi, Quảng Ngãi", "bimat@example.vn")


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings whose warehouse (and so the generated PII salt) lives under tmp_path."""
    return Settings(warehouse=tmp_path / "warehouse" / "tthc.duckdb", **overrides)


def nfd(text: str) -> str:
    """The text decomposed (as some tools export it)."""
    return unicodedata.normalize("NFD", text)


def excel_serial(moment: datetime) -> float:
    """Excel 1900-system serial number of a moment."""
    return (moment - datetime(1899, 12, 30)).total_seconds() / 86400


def write_report_xlsx(path: Path) -> dict[str, Any]:
    """A unit report as one-stop software exports it; returns what the test should find.

    Rows (1-based):  1-2 Quốc hiệu / unit, 4 title, 5 period, 6 export time, 8-9 header (two rows,
    merged), 10 column numbers, 11 group, 12 sub-group, 13-17 cases, 18 group, 19-21 cases,
    22 total, 23 blank, 24-27 signature block.
    """
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Báo cáo")
    bold = wb.add_format({"bold": True})
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    ws.merge_range(0, 0, 0, 4, "UBND TỈNH QUẢNG NGÃI", bold)
    ws.merge_range(0, 7, 0, 12, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold)
    ws.merge_range(1, 0, 1, 4, "SỞ GIAO THÔNG VẬN TẢI", bold)
    ws.merge_range(1, 7, 1, 12, "Độc lập - Tự do - Hạnh phúc", bold)
    ws.merge_range(3, 0, 3, 12, "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT HỒ SƠ TTHC", bold)
    ws.merge_range(4, 0, 4, 12, "Từ ngày 01/01/2025 đến ngày 31/01/2025")
    ws.write(5, 0, "Ngày xuất báo cáo: 03/02/2025 07:45:10")
    # header: rows 8-9 (0-based 7-8)
    vertical = {
        0: "STT",
        1: "Mã hồ sơ",
        2: "Mã TTHC",
        3: "Tên thủ tục hành chính",
        4: "Hình thức nộp",
        9: "Trạng thái",
        12: "Chủ hồ sơ",
        13: "Số điện thoại",
        14: "Số CCCD",
    }
    for col, text in vertical.items():
        ws.merge_range(7, col, 8, col, text, bold)
    ws.merge_range(7, 5, 7, 8, "Thời gian giải quyết", bold)
    for offset, text in enumerate(["Ngày tiếp nhận", "Ngày hẹn trả", "Ngày kết thúc xử lý", "Ngày trả kết quả"]):
        ws.write(8, 5 + offset, text, bold)
    ws.merge_range(7, 10, 7, 11, "Yêu cầu bổ sung", bold)
    ws.write(8, 10, "Ngày yêu cầu", bold)
    ws.write(8, 11, "Ngày nhận", bold)
    for col in range(15):
        ws.write(9, col, f"({col + 1})")
    ws.merge_range(10, 0, 10, 14, "I. Phòng Quản lý vận tải")
    ws.write(11, 0, "1. Lĩnh vực Đường bộ")
    rows = [
        # STT, case, code, name, channel, received, due, finished, returned, status, supp req, supp rec
        (1, "007891", "1.000250", "Cấp giấy phép lái xe", "Trực tuyến", "02/01/2025 08:15", "06/01/2025 17:00",
         "05/01/2025 10:00:30", "06/01/2025 09:00", "Đã trả kết quả", "", ""),
        (2, "H55.25-0002", 1.00025, "Đổi giấy phép lái xe", "Trực tiếp", excel_serial(datetime(2025, 1, 3, 9, 30)),
         datetime(2025, 1, 10, 17, 0), None, None, "Đang xử lý", "04/01/2025 10:00", "07/01/2025 08:00"),
        (3, "H55.25-0003", "1.000251", "Cấp lại giấy phép", "Bưu chính công ích", "31/02/2025 08:00",
         "06/01/2025 17:00", "", "", "Đã trả", "", ""),
        (4, "H55.25-0004", "1.000251", "Cấp lại giấy phép", "Qua fax", "03/01/2025", "08/01/2025 17:00", "", "",
         "Trạng thái lạ", "", ""),
        (5, "", "1.000251", "Cấp lại giấy phép", "Trực tiếp", "03/01/2025 10:00", "08/01/2025 17:00", "", "",
         "Đang xử lý", "", ""),
    ]
    data_row = 12
    for values in rows:
        _write_case(ws, data_row, values, date_fmt)
        data_row += 1
    ws.write(data_row, 0, "II. Phòng Đăng kiểm")
    data_row += 1
    more = [
        (1, "H55.25-0010", "2.000100", "Kiểm định xe", "Trực tiếp", "06/01/2025 14:00:00",
         "09/01/2025 17:00", "09/01/2025 16:59", "10/01/2025 08:00", "10", "", ""),
        (2, "H55.25-0011", "2.000100", "Kiểm định xe", "2", "20250107083000", "2025-01-10 17:00", "", "",
         "Chờ bổ sung", "08/01/2025 09:00", ""),
        (3, "H55.25-0012", "2.000100", "Kiểm định xe", "Trực tuyến", "", "10/01/2025 17:00", "", "",
         "Được tiếp nhận", "", ""),
    ]
    for values in more:
        _write_case(ws, data_row, values, date_fmt)
        data_row += 1
    ws.merge_range(data_row, 0, data_row, 4, "Tổng cộng: 8 hồ sơ")
    total_row = data_row
    data_row += 2
    ws.write(data_row, 1, "NGƯỜI LẬP BIỂU")
    ws.write(data_row, 9, "Quảng Ngãi, ngày 03 tháng 02 năm 2025")
    ws.write(data_row + 1, 1, "(Ký, ghi rõ họ tên)")
    ws.write(data_row + 1, 9, "THỦ TRƯỞNG ĐƠN VỊ")
    ws.write(data_row + 3, 1, "Trần Văn Lập")
    ws.write(data_row + 3, 9, "Lê Văn Trưởng")
    wb.close()
    return {
        "header_rows": (8, 9),
        "data_first": 13,
        "total_row": total_row + 1,
        "rows_read": data_row + 4 - 9,  # last written row (1-based data_row + 4) minus the header's 9
    }


def _write_case(ws: Any, r: int, values: tuple, date_fmt: Any) -> None:
    stt, case, code, name, channel, received, due, finished, returned, status, s_req, s_rec = values
    ws.write_number(r, 0, stt)
    if case:
        ws.write_string(r, 1, case)
    if isinstance(code, float):
        ws.write_number(r, 2, code)
    else:
        ws.write_string(r, 2, code)
    ws.write_string(r, 3, name)
    ws.write_string(r, 4, channel)
    for col, value in ((5, received), (6, due), (7, finished), (8, returned), (10, s_req), (11, s_rec)):
        if isinstance(value, datetime):
            ws.write_datetime(r, col, value, date_fmt)
        elif isinstance(value, float):
            ws.write_number(r, col, value)
        elif value:
            ws.write_string(r, col, value)
    ws.write_string(r, 9, status)
    ws.write_string(r, 12, PII_VALUES[0])
    ws.write_string(r, 13, PII_VALUES[1])
    ws.write_string(r, 14, PII_VALUES[2])


def write_three_row_header_xlsx(path: Path) -> None:
    """A report whose header spans three merged rows, with a second supplement cycle."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write(0, 0, "DANH SÁCH HỒ SƠ")
    # rows 3-5 (0-based 2-4)
    ws.merge_range(2, 0, 4, 0, "TT")
    ws.merge_range(2, 1, 2, 2, "Thông tin hồ sơ")
    ws.merge_range(3, 1, 4, 1, "Số hồ sơ")
    ws.merge_range(3, 2, 4, 2, "Lĩnh vực")
    ws.merge_range(2, 3, 2, 8, "Tiến độ")
    ws.merge_range(3, 3, 3, 4, "Tiếp nhận")
    ws.write(4, 3, "Ngày nhận")
    ws.write(4, 4, "Hẹn trả")
    ws.merge_range(3, 5, 3, 6, "Bổ sung lần 1")
    ws.write(4, 5, "Ngày yêu cầu")
    ws.write(4, 6, "Ngày nhận")
    ws.merge_range(3, 7, 3, 8, "Bổ sung lần 2")
    ws.write(4, 7, "Ngày yêu cầu")
    ws.write(4, 8, "Ngày nhận")
    ws.merge_range(2, 9, 4, 9, "Tình trạng hồ sơ")
    ws.merge_range(5, 2, 7, 2, "Đường bộ")  # sector merged down over three cases
    cases = [
        ("1", "A-001", "01/03/2025 08:00", "05/03/2025 17:00", "02/03/2025 09:00", "03/03/2025 09:00",
         "03/03/2025 10:00", "04/03/2025 08:00", "Đang giải quyết"),
        ("2", "A-002", "02/03/2025 08:00", "06/03/2025 17:00", "", "", "", "", "Đã xử lý xong"),
        ("3", "A-003", "03/03/2025 08:00", "07/03/2025 17:00", "04/03/2025 08:00", "", "", "", "Yêu cầu bổ sung"),
    ]
    for i, (stt, case, rec, due, r1, g1, r2, g2, status) in enumerate(cases):
        r = 5 + i
        ws.write(r, 0, stt)
        ws.write(r, 1, case)
        for col, value in ((3, rec), (4, due), (5, r1), (6, g1), (7, r2), (8, g2), (9, status)):
            if value:
                ws.write(r, col, value)
    wb.close()


def write_csv(
    path: Path,
    header: list[str],
    rows: list[list[Any]],
    *,
    delimiter: str = ",",
    bom: bool = False,
    encoding: str = "utf-8",
    above: list[str] | None = None,
) -> Path:
    """A CSV export (its folder created): optional lines above the header, then header and rows."""
    buffer = io.StringIO()
    for line in above or []:
        buffer.write(line + "\n")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_json(path: Path, payload: Any, *, lines: bool = False) -> Path:
    """A JSON export (or JSON Lines when `lines`)."""
    if lines:
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in payload) + "\n", encoding="utf-8")
    else:
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def sync_records() -> list[dict[str, Any]]:
    """Cases in the national sync format, one with two supplement cycles, one with a bad date."""
    return [
        {
            "MaHoSo": "000.00.20.H55-250101-0001",
            "MaTTHC": "1.000250",
            "TenTTHC": "Cấp giấy phép lái xe",
            "MaLinhVuc": "001",
            "TenLinhVuc": "Đường bộ",
            "KenhThucHien": 2,
            "NgayTiepNhan": "20250102081500",
            "NgayHenTra": "20250106170000",
            "NgayKetThucXuLy": "20250105100000",
            "NgayTra": "20250106090000",
            "TrangThaiHoSo": 10,
            "DonViXuLy": "Phòng Quản lý vận tải",
            "ChuHoSo": {"HoTen": PII_VALUES[0], "SoDinhDanh": PII_VALUES[2]},
            "SoDienThoai": PII_VALUES[1],
            "DanhSachHoSoBoSung": [
                {"NgayBoSung": "20250103080000", "NgayTiepNhanBoSung": "20250104080000", "NgayHenTraMoi": "20250107170000"},
                {"NgayBoSung": "20250104100000", "NgayTiepNhanBoSung": "", "NgayHenTraMoi": None},
            ],
        },
        {
            "MaHoSo": "000.00.20.H55-250101-0002",
            "MaTTHC": "1.000251",
            "TenTTHC": "Đổi giấy phép lái xe",
            "MaLinhVuc": "001",
            "TenLinhVuc": "Đường bộ",
            "KenhThucHien": "1",
            "NgayTiepNhan": "20250103090000",
            "NgayHenTra": "20250110170000",
            "NgayKetThucXuLy": "",
            "NgayTra": "",
            "TrangThaiHoSo": "4",
            "DonViXuLy": "Phòng Quản lý vận tải",
            "DanhSachHoSoBoSung": [],
        },
        {
            "MaHoSo": "000.00.20.H55-250101-0003",
            "MaTTHC": "1.000251",
            "TenTTHC": "Đổi giấy phép lái xe",
            "MaLinhVuc": "001",
            "TenLinhVuc": "Đường bộ",
            "KenhThucHien": 3,
            "NgayTiepNhan": "20250231090000",
            "NgayHenTra": "20250110170000",
            "TrangThaiHoSo": 2,
            "DonViXuLy": "Phòng Quản lý vận tải",
            "DanhSachHoSoBoSung": [{"NgayBoSung": "abc"}],
        },
    ]


def to_cp1258(text: str) -> bytes:
    """Text in Windows-1258 as Vietnamese Windows software writes it: letters with circumflex, breve
    or horn precomposed, tone marks as combining characters."""
    out = b""
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        shape = "".join(m for m in decomposed[1:] if m in "\u0302\u0306\u031b")
        tone = "".join(m for m in decomposed[1:] if m not in "\u0302\u0306\u031b")
        out += (unicodedata.normalize("NFC", decomposed[0] + shape) + tone).encode("cp1258")
    return out


def write_simple_xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """A workbook with one plain table per sheet (first row = header), written with openpyxl."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


CSV_HEADER = [
    "STT", "Mã hồ sơ", "Mã TTHC", "Mã lĩnh vực", "Lĩnh vực", "Đơn vị xử lý", "Hình thức nộp", "Ngày tiếp nhận",
    "Ngày hẹn trả", "Ngày kết thúc xử lý", "Ngày trả kết quả", "Trạng thái", "Chủ hồ sơ", "Số điện thoại",
]


def csv_rows() -> list[list[str]]:
    """Three flat case rows matching CSV_HEADER (the third with an unreadable due date)."""
    return [
        ["1", "007891", "1.000250", "001", "Đường bộ", "Phòng Quản lý vận tải", "Trực tuyến", "02/01/2025 08:15",
         "06/01/2025 17:00", "05/01/2025 10:00:30", "06/01/2025 09:00", "Đã trả kết quả", PII_VALUES[0], PII_VALUES[1]],
        ["2", "007892", "1.000251", "001", "Đường bộ", "Phòng Quản lý vận tải", "Qua mạng", "2025-01-03 08:00:00",
         "", "", "", "Mới tiếp nhận", PII_VALUES[0], ""],
        ["3", "007893", "1.000251", "002", "Đăng kiểm", "Phòng Đăng kiểm", "BCCI", "03/01/2025 14:00", "abc",
         "", "", "Đang xử lý", "", PII_VALUES[1]],
    ]


# --- what a reader returned -----------------------------------------------------------------------

FRAMES = ("cases", "supplements", "ratings", "quarantine", "skipped")


def loaded(result: ReadResult) -> pd.DataFrame:
    return result.cases if result.kind == "cases" else result.ratings


def assert_accounted(result: ReadResult) -> None:
    """rows_read == loaded + quarantined rows + skipped, and no row is in two of them."""
    kept = set(loaded(result)["source_row"])
    quarantined = set(result.quarantine["source_row"])
    skipped = set(result.skipped["source_row"])
    assert result.rows_read == len(loaded(result)) + len(quarantined) + len(result.skipped)
    assert not kept & quarantined and not kept & skipped and not quarantined & skipped
    assert len(kept) == len(loaded(result)) and len(skipped) == len(result.skipped)


def all_text(result: ReadResult) -> str:
    """Every value and column name of every output frame, as one text."""
    parts = []
    for name in FRAMES:
        frame = getattr(result, name)
        parts += list(frame.columns) + [str(v) for v in frame.astype(object).to_numpy().ravel()]
    return "\n".join(parts)


def assert_no_pii(result: ReadResult) -> None:
    text = all_text(result)
    for value in PII_VALUES:
        assert value not in text
    assert not [
        c
        for name in FRAMES
        for c in getattr(result, name).columns
        if c.startswith("applicant_") and c != "applicant_hash"
    ]
