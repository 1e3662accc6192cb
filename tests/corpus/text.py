"""Text layouts: a flat vendor CSV, a CSV with date and time in separate columns, the national sync
JSON, an HTML table saved as .xls and an Excel 2003 XML spreadsheet."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

from . import Case, Layout

D = datetime


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


# ----------------------------------------------------------------------------- 3. vendor CSV, time first
VENDOR = "000.00.20.H55-2504{:02d}-{:04d}"


def _write_vendor(path: Path) -> None:
    header = ["Số hồ sơ", "Mã TTHC", "Tên TTHC", "Kênh nộp", "Thời gian tiếp nhận", "Hạn giải quyết",
              "Ngày hoàn thành", "Ngày trả", "Tình trạng hồ sơ", "Người nộp", "Email", "Liên hệ", "Ngày đồng bộ"]
    name = "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp\n(cấp lại do hết hạn)"  # a quoted newline
    rows = [
        [VENDOR.format(3, 1), "1.002804", name, "Trực tuyến", "08:00 03/03/2025", "17:00 07/03/2025",
         "10:00, 07/03/2025", "", "Hoàn thành", "Nguyễn Thị Bí Mật", "bimat@example.vn", "bimat@example.vn",
         "30/04/2025"],
        [VENDOR.format(4, 2), "1.002804", "Đổi giấy phép lái xe", "Trực tiếp", "09:15 04/03/2025",
         "17:00 06/03/2025", "08:00 07/03/2025", "", "Đã giải quyết", "Trần Văn Kín", "", "kin.tran@mail.vn",
         "30/04/2025"],
        ["1e+308", "1.002804", "Đổi giấy phép lái xe", "Trực tiếp", "08:00 05/03/2025", "17:00 12/03/2025", "", "",
         "Đang xử lý", "", "", "", "30/04/2025"],
        ["-1", "1.002804", "Đổi giấy phép lái xe", "Trực tiếp", "08:00 06/03/2025", "17:00 13/03/2025", "", "",
         "Đang xử lý", "", "", "", "30/04/2025"],
        [VENDOR.format(1, 5), "1.002804", "Đổi giấy phép lái xe", "Trực tuyến", "13:30 01/04/2025",
         "17:00 05/05/2025", "", "", "Đang giải quyết", "Lê Hoàng Ẩn", "", "", "30/04/2025"],
        [VENDOR.format(2, 6), "1.002804", "Đổi giấy phép lái xe", "Trực tuyến", "08:00 02/04/2025",
         "17:00 09/04/2025", "", "", "Chờ bổ sung", "", "", "", "30/04/2025"],
        [VENDOR.format(3, 7), "1.002804", "Đổi giấy phép lái xe", "Trực tuyến", "08:00 03/04/2025",
         "17:00 10/04/2025", "", "", "Hủy", "", "", "", "30/04/2025"],
    ]
    _write_csv(path, header, rows)


def vendor_csv_time_first() -> Layout:
    """A flat CSV from a vendor's one-stop system: UTF-8 with BOM, datetimes written time first
    ("08:00 03/03/2025", "10:00, 07/03/2025"), a quoted newline inside a cell, case ids that a
    spreadsheet mangled (1e+308, -1), an unknown column holding e-mail addresses and an unknown
    column of dates."""
    return Layout(
        name="vendor_csv_time_first",
        file_name="export_hoso_vendor.csv",
        write=_write_vendor,
        width=13,
        cases=(
            Case(VENDOR.format(3, 1), "on_time", "2025-03", values={"status": 10},
                 times={"received_at": D(2025, 3, 3, 8, 0), "due_at": D(2025, 3, 7, 17, 0),
                        "end_at": D(2025, 3, 7, 10, 0)}),
            Case(VENDOR.format(4, 2), "late", "2025-03", values={"status": 9},
                 times={"end_at": D(2025, 3, 7, 8, 0)}),
            Case("1e+308", "quarantined", reason="scientific notation"),
            Case("-1", "quarantined", reason="not a case code"),
            Case(VENDOR.format(1, 5), "open_in_time", "2025-04", times={"received_at": D(2025, 4, 1, 13, 30)}),
            Case(VENDOR.format(2, 6), "open_overdue", "2025-04", values={"status": 5}),
            Case(VENDOR.format(3, 7), "quarantined", reason="trạng thái không rõ nghĩa: 'Hủy'"),
        ),
        fates={
            "Số hồ sơ": ("mapped", "case_id"),
            "Thời gian tiếp nhận": ("mapped", "received_at"),
            "Hạn giải quyết": ("mapped", "due_at"),
            "Email": ("personal_data_dropped", "applicant_email"),
            "Liên hệ": ("unmapped", None),
            "Ngày đồng bộ": ("unmapped", None),
        },
        findings=("'Ngày đồng bộ' holds dates but maps to no field",),
    )


# ----------------------------------------------------------------------------- 9. CSV, date and time apart
def _write_split(path: Path) -> None:
    header = ["Mã hồ sơ", "Ngày tiếp nhận", "Giờ tiếp nhận", "Ngày hẹn trả", "Giờ hẹn trả", "Ngày trả kết quả",
              "Giờ trả kết quả", "Trạng thái", "Số CCCD", "Ngày cập nhật"]
    rows = [
        ["HS-2503-0001", "03/14/2025", "08:00", "03/20/2025", "17:00", "03/19/2025", "15:45", "Đã trả kết quả",
         "079123456789", "04/30/2025"],
        ["HS-2503-0002", "03/17/2025", "8h30", "03/21/2025", "10h", "03/21/2025", "10h01", "Đã trả kết quả",
         "212345678", "04/30/2025"],
        ["HS-2504-0003", "04/14/2025", "14 giờ 05", "04/18/2025", "17:00", "", "", "Đang xử lý", "", "04/30/2025"],
        ["HS-2504-0004", "04/23/2025", "", "05/15/2025", "17:00", "", "", "Đang xử lý", "", "04/30/2025"],
        ["HS-2504-0005", "", "09:00", "05/16/2025", "17:00", "", "", "Đang xử lý", "", "04/30/2025"],
    ]
    _write_csv(path, header, rows)


def split_date_time_csv() -> Layout:
    """A CSV with one-row headers naming the date and the time of each field in separate columns
    ("Ngày tiếp nhận" + "Giờ tiếp nhận"), dates written month first (every date column has a value
    whose second part is above 12, which proves it), a time without a date, and a date without a time."""
    return Layout(
        name="split_date_time_csv",
        file_name="ho_so_ngay_gio_rieng.csv",
        write=_write_split,
        width=10,
        cases=(
            Case("HS-2503-0001", "early", "2025-03",
                 times={"received_at": D(2025, 3, 14, 8, 0), "due_at": D(2025, 3, 20, 17, 0),
                        "end_at": D(2025, 3, 19, 15, 45)}),
            Case("HS-2503-0002", "late", "2025-03",
                 times={"received_at": D(2025, 3, 17, 8, 30), "due_at": D(2025, 3, 21, 10, 0),
                        "end_at": D(2025, 3, 21, 10, 1)}),
            Case("HS-2504-0003", "open_overdue", "2025-04", times={"received_at": D(2025, 4, 14, 14, 5)}),
            Case("HS-2504-0004", "open_in_time", "2025-04",
                 times={"received_at": D(2025, 4, 23, 7, 0), "due_at": D(2025, 5, 15, 17, 0)}),
            Case("HS-2504-0005", "quarantined", reason="a time without a date"),
        ),
        fates={
            "Ngày tiếp nhận": ("mapped", "received_at"),
            "Giờ tiếp nhận": ("mapped", "received_at"),
            "Giờ hẹn trả": ("mapped", "due_at"),
            "Giờ trả kết quả": ("mapped", "returned_at"),
            "Số CCCD": ("personal_data_dropped", "applicant_id_number"),
            "Ngày cập nhật": ("unmapped", None),
        },
        findings=("'Ngày cập nhật' holds dates but maps to no field",),
    )


# ----------------------------------------------------------------------------- 7. national sync JSON
NATIONAL = "000.00.19.H42-2503{:02d}-{:04d}"


def _write_national(path: Path) -> None:
    def case(case_id, received, due, finished="", returned="", status=4, cycles=(), name="Trần Văn Kín"):
        return {
            "MaHoSo": case_id, "MaTTHC": "1.002804", "TenTTHC": "Đổi giấy phép lái xe", "MaLinhVuc": "G14",
            "TenLinhVuc": "Giấy phép lái xe", "KenhThucHien": 2, "ChuHoSo": name, "SoDienThoai": "0912345678",
            "NgayTiepNhan": received, "NgayHenTra": due, "NgayKetThucXuLy": finished, "NgayTra": returned,
            "TrangThaiHoSo": status, "DonViXuLy": "Phòng Quản lý vận tải, phương tiện và người lái",
            "DanhSachHoSoBoSung": [
                {"NgayBoSung": r, "NgayTiepNhanBoSung": g, "NgayHenTraMoi": ""} for r, g in cycles
            ],
        }

    records = [
        case(NATIONAL.format(3, 1001), "20250303080000", "20250310170000", "20250311090000", "20250311100000", 10,
             [("20250305100000", "20250307100000")]),
        case(NATIONAL.format(3, 1002), "20250303080000", "20250306170000", "20250306170500", "", 9),
        case(NATIONAL.format(10, 1003), "20250310080000", "20250320170000", "20250314100000", "", 9,
             [("20250311090000", "20250312090000"), ("20250312100000", "20250313090000")]),
        case(NATIONAL.format(15, 1004), "20250415080000", "20250422170000", "", "", 4),
        case(NATIONAL.format(16, 1005), "20250416080000", "20250423170000", "", "", 10),
        case(0, "20250416080000", "20250423170000", "", "", 4),
        case(NATIONAL.format(22, 1007), "20250422000000", "20250508000000", "", "", 2, name="Lê Hoàng Ẩn"),
    ]
    path.write_text(json.dumps({"NgayXuat": "20250430180000", "DanhSachHoSo": records}, ensure_ascii=False),
                    encoding="utf-8")


def national_json() -> Layout:
    """The national sync format (DESIGN §8): MaHoSo … TrangThaiHoSo as codes, supplement cycles in
    DanhSachHoSoBoSung, dates yyyyMMddHHmmss; a midnight time means a date without a time."""
    return Layout(
        name="national_json",
        file_name="dong_bo_quoc_gia_20250430.json",
        write=_write_national,
        width=15,
        cases=(
            # finished 11/03 09:00 minus a 48-hour pause = 09/03 09:00, a day before the due day: early
            Case(NATIONAL.format(3, 1001), "early", "2025-03",
                 times={"received_at": D(2025, 3, 3, 8, 0), "due_at": D(2025, 3, 10, 17, 0),
                        "end_at": D(2025, 3, 11, 9, 0)}),
            Case(NATIONAL.format(3, 1002), "late", "2025-03"),
            Case(NATIONAL.format(10, 1003), "late", "2025-03"),  # two supplement requests (national rule)
            Case(NATIONAL.format(15, 1004), "open_overdue", "2025-04"),
            Case(NATIONAL.format(16, 1005), "quarantined", reason="đã giải quyết nhưng thiếu ngày kết thúc"),
            Case("0", "quarantined", reason="not a case code"),
            Case(NATIONAL.format(22, 1007), "open_in_time", "2025-04",
                 times={"received_at": D(2025, 4, 22, 7, 0), "due_at": D(2025, 5, 8, 17, 0)}),
        ),
        fates={
            "MaHoSo": ("mapped", "case_id"),
            "ChuHoSo": ("personal_data_dropped", "applicant_name"),
            "DanhSachHoSoBoSung": ("mapped", "supplements"),
            "DanhSachHoSoBoSung.NgayBoSung": ("mapped", "supplement_requested_at"),
        },
    )


# ----------------------------------------------------------------------------- 4. HTML table saved as .xls
def _write_html(path: Path) -> None:
    rows = [
        ("1", "H42.19-250303-2001", "Đã trả kết quả", "03/03/2025", "08:00", "07/03/2025", "17:00", "05/03/2025",
         "09:00"),
        ("2", "H42.19-250304-2002", "Đã trả kết quả", "04/03/2025", "08:00", "06/03/2025", "17:00", "07/03/2025",
         "08:00"),
        ("3", "H42.19-250415-2003", "Đang xử lý", "15/04/2025", "08:00", "06/05/2025", "17:00", "", ""),
    ]
    body = "\n".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in rows)
    path.write_text(
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>\n'
        "<table border=1>\n"
        '<tr><th rowspan="2">STT</th><th rowspan="2">Mã hồ sơ</th><th rowspan="2">Trạng thái</th>'
        '<th colspan="2">Nhận hồ sơ</th><th colspan="2">Hẹn trả kết quả</th><th colspan="2">Trả kết quả</th></tr>\n'
        "<tr><th>Ngày</th><th>Giờ</th><th>Ngày</th><th>Giờ</th><th>Ngày</th><th>Giờ</th></tr>\n"
        f"{body}\n</table></body></html>\n",
        encoding="utf-8",
    )


def html_table_xls() -> Layout:
    """An HTML <table> saved with an .xls extension (a web one-stop system's "Excel" export), its header
    in <th> cells with colspan/rowspan: groups over "Ngày" and "Giờ"."""
    return Layout(
        name="html_table_xls",
        file_name="bao_cao_web.xls",
        write=_write_html,
        width=9,
        cases=(
            Case("H42.19-250303-2001", "early", "2025-03", times={"end_at": D(2025, 3, 5, 9, 0)}),
            Case("H42.19-250304-2002", "late", "2025-03"),
            Case("H42.19-250415-2003", "open_in_time", "2025-04"),
        ),
        fates={"Nhận hồ sơ / Giờ": ("mapped", "received_at")},
    )


# ----------------------------------------------------------------------------- 5. Excel 2003 XML
def _write_xml(path: Path) -> None:
    def cell(value: str, kind: str = "String") -> str:
        return f'<Cell><Data ss:Type="{kind}">{value}</Data></Cell>' if value else "<Cell/>"

    header = ["Mã hồ sơ", "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày kết thúc xử lý", "Trạng thái"]
    rows = [
        ("H42.19-250303-3001", "2025-03-03T08:00:00.000", "2025-03-07T17:00:00.000", "2025-03-06T10:00:00.000",
         "Đã xử lý xong"),
        ("H42.19-250304-3002", "2025-03-04T08:00:00.000", "2025-03-06T17:00:00.000", "2025-03-06T17:30:00.000",
         "Đã xử lý xong"),
        ("H42.19-250416-3003", "2025-04-16T08:00:00.000", "2025-04-23T17:00:00.000", "", "Đang xử lý"),
    ]
    lines = ["<Row>" + "".join(cell(h) for h in header) + "</Row>"]
    for case_id, received, due, finished, status in rows:
        lines.append("<Row>" + cell(case_id) + cell(received, "DateTime") + cell(due, "DateTime")
                     + cell(finished, "DateTime") + cell(status) + "</Row>")
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<?mso-application progid="Excel.Sheet"?>\n'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">\n'
        '<Worksheet ss:Name="Hồ sơ"><Table>\n' + "\n".join(lines) + "\n</Table></Worksheet></Workbook>\n",
        encoding="utf-8",
    )


def excel2003_xml() -> Layout:
    """An Excel 2003 XML spreadsheet (SpreadsheetML) saved as .xls, dates as ss:Type="DateTime" cells."""
    return Layout(
        name="excel2003_xml",
        file_name="danh_sach_2003.xls",
        write=_write_xml,
        width=5,
        cases=(
            Case("H42.19-250303-3001", "early", "2025-03", times={"end_at": D(2025, 3, 6, 10, 0)}),
            Case("H42.19-250304-3002", "late", "2025-03"),
            Case("H42.19-250416-3003", "open_overdue", "2025-04"),
        ),
        fates={"Ngày tiếp nhận": ("mapped", "received_at")},
    )
