"""Workbook layouts: a unit's report with title rows, the paper-form logbooks (Mẫu 06 and Mẫu 07) kept
in Excel, and a BIFF .xls list with numeric status codes."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import xlsxwriter

from . import Case, Layout

D = datetime  # hand-written expected moments


def _serial(moment: datetime) -> float:
    """Excel 1900-system serial day number."""
    return (moment - datetime(1899, 12, 30)).total_seconds() / 86400


# ----------------------------------------------------------------------------- 1. report with title rows
REPORT_ID = "000.00.19.H42-2503{:02d}-{:04d}"


def _write_report(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Báo cáo")
    bold = wb.add_format({"bold": True})
    stamp = wb.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    ws.merge_range(0, 0, 0, 4, "UBND TỈNH QUẢNG NGÃI", bold)
    ws.merge_range(0, 7, 0, 12, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold)
    ws.merge_range(1, 0, 1, 4, "SỞ GIAO THÔNG VẬN TẢI", bold)
    ws.merge_range(1, 7, 1, 12, "Độc lập - Tự do - Hạnh phúc", bold)
    ws.merge_range(3, 0, 3, 12, "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT HỒ SƠ THỦ TỤC HÀNH CHÍNH", bold)
    ws.merge_range(4, 0, 4, 12, "Từ ngày 01/03/2025 đến ngày 30/04/2025")
    ws.write(5, 0, "Ngày xuất báo cáo: 30/04/2025 18:00")
    vertical = {0: "STT", 1: "Số hồ sơ", 2: "Mã thủ tục", 3: "Tên thủ tục", 4: "Kênh nộp", 9: "Trạng thái",
                10: "Người nộp", 11: "Số điện thoại"}
    for col, text in vertical.items():
        ws.merge_range(7, col, 8, col, text, bold)
    ws.merge_range(7, 5, 7, 8, "Thời gian giải quyết", bold)
    for offset, text in enumerate(["Ngày tiếp nhận", "Ngày hẹn trả", "Ngày kết thúc xử lý", "Ngày trả kết quả"]):
        ws.write(8, 5 + offset, text, bold)
    for col in range(12):
        ws.write(9, col, f"({col + 1})")
    ws.merge_range(10, 0, 10, 11, "I. Phòng Quản lý vận tải, phương tiện và người lái")
    proc = ("1.002804", "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp")
    rows = [
        (1, REPORT_ID.format(3, 1), "Trực tuyến", "03/03/2025 08:00", "07/03/2025 17:00", "05/03/2025 10:00",
         "06/03/2025 09:00", "Đã trả kết quả", "Nguyễn Thị Bí Mật", "0912345678"),
        (2, REPORT_ID.format(4, 2), "Trực tiếp", datetime(2025, 3, 4, 9, 0), "10/03/2025 17:00", "10/03/2025 16:30",
         "11/03/2025 08:00", "Đã trả kết quả (đúng hạn)", "Trần Văn Kín", "0987 654 321"),
        (3, REPORT_ID.format(5, 3), "Bưu chính công ích", _serial(datetime(2025, 3, 5, 14, 0)), "11/03/2025 10:00",
         "11/03/2025 10:05", "", "Đã xử lý xong", "Lê Hoàng Ẩn", ""),
        (4, REPORT_ID.format(21, 4), "Trực tuyến", "21/04/2025 08:00", "05/05/2025 17:00", "", "", "Đang giải quyết",
         "Nguyễn Thị Bí Mật", ""),
    ]
    more = [
        (1, REPORT_ID.format(1, 5), "Trực tiếp", "01/04/2025 08:00", "08/04/2025 17:00", "", "", "Chờ bổ sung",
         "Trần Văn Kín", ""),
        (2, REPORT_ID.format(2, 6), "Trực tiếp", "02/04/2025 08:00", "09/04/2025 17:00", "", "", "Đã trả kết quả",
         "Lê Hoàng Ẩn", ""),
        (3, True, "Trực tiếp", "02/04/2025 08:00", "09/04/2025 17:00", "", "", "Đang xử lý", "", ""),
        (4, REPORT_ID.format(3, 8), "Trực tiếp", "03/04/2025 08:00", "10/04/2025 17:00", "", "", "Trả lại hồ sơ",
         "", ""),
        (5, REPORT_ID.format(14, 9), "Trực tuyến", "14/04/2025", "18/04/2025", "18/04/2025", "", "Đã xử lý xong",
         "", ""),
    ]
    row = 11
    for values in rows:
        _report_row(ws, row, values, proc, stamp)
        row += 1
    ws.write(row, 0, "II. Trung tâm Đăng kiểm")
    row += 1
    for values in more:
        _report_row(ws, row, values, proc, stamp)
        row += 1
    ws.merge_range(row, 0, row, 4, "Tổng cộng: 9 hồ sơ")
    row += 2
    ws.write(row, 1, "NGƯỜI LẬP BIỂU")
    ws.write(row, 8, "Quảng Ngãi, ngày 30 tháng 04 năm 2025")
    ws.write(row + 1, 1, "(Ký, ghi rõ họ tên)")
    ws.write(row + 1, 8, "GIÁM ĐỐC")
    wb.close()


def _report_row(ws, row: int, values: tuple, proc: tuple[str, str], stamp) -> None:
    stt, case_id, channel, received, due, finished, returned, status, name, phone = values
    cells = [stt, case_id, proc[0], proc[1], channel, received, due, finished, returned, status, name, phone]
    for col, value in enumerate(cells):
        if isinstance(value, datetime):
            ws.write_datetime(row, col, value, stamp)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value)
        elif value != "":
            ws.write(row, col, value)


def report_with_title_rows() -> Layout:
    """A unit's monthly report: Quốc hiệu and title rows, a two-row merged header ("Thời gian giải quyết"
    over four dates), a column-number row, group rows, a total row and a signature block; dates as text,
    as a date cell and as an Excel serial number; one case given as dates without times."""
    return Layout(
        name="report_title_rows",
        file_name="bao_cao_giai_quyet_ho_so.xlsx",
        write=_write_report,
        width=12,
        cases=(
            Case(REPORT_ID.format(3, 1), "early", "2025-03",
                 times={"received_at": D(2025, 3, 3, 8, 0), "due_at": D(2025, 3, 7, 17, 0),
                        "end_at": D(2025, 3, 5, 10, 0)}),
            Case(REPORT_ID.format(4, 2), "on_time", "2025-03",
                 times={"received_at": D(2025, 3, 4, 9, 0), "end_at": D(2025, 3, 10, 16, 30)}),
            Case(REPORT_ID.format(5, 3), "late", "2025-03",
                 times={"received_at": D(2025, 3, 5, 14, 0), "due_at": D(2025, 3, 11, 10, 0),
                        "end_at": D(2025, 3, 11, 10, 5)}, values={"status": 9, "channel": 3}),
            Case(REPORT_ID.format(21, 4), "open_in_time", "2025-04"),
            Case(REPORT_ID.format(1, 5), "open_overdue", "2025-04", values={"status": 5}),
            Case(REPORT_ID.format(2, 6), "quarantined", reason="đã giải quyết nhưng thiếu ngày kết thúc"),
            Case("TRUE", "quarantined", reason="not a case code"),
            Case(REPORT_ID.format(3, 8), "quarantined", reason="trạng thái không rõ nghĩa: 'Trả lại hồ sơ'"),
            # dates without times: received at the start of the first session, due at the end of the last;
            # finished on the due day with no time of day: on time, with the finding "time unknown"
            Case(REPORT_ID.format(14, 9), "on_time", "2025-04", time_unknown_finding=True,
                 times={"received_at": D(2025, 4, 14, 7, 0), "due_at": D(2025, 4, 18, 17, 0),
                        "end_at": D(2025, 4, 18, 0, 0)}),
        ),
        fates={
            "STT": ("ignored", None),
            "Số hồ sơ": ("mapped", "case_id"),
            "Thời gian giải quyết / Ngày tiếp nhận": ("mapped", "received_at"),
            "Thời gian giải quyết / Ngày trả kết quả": ("mapped", "returned_at"),
            "Người nộp": ("personal_data_dropped", "applicant_name"),
            "Số điện thoại": ("personal_data_dropped", "applicant_phone"),
        },
    )


# ----------------------------------------------------------------------------- 2. logbook Mẫu 06
def _write_mau06(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Sổ theo dõi")
    bold = wb.add_format({"bold": True})
    day = wb.add_format({"num_format": "dd/mm/yyyy"})
    clock = wb.add_format({"num_format": "hh:mm"})
    ws.merge_range(0, 0, 0, 22, "SỔ THEO DÕI HỒ SƠ", bold)
    ws.merge_range(1, 0, 1, 22, "(Mẫu số 06 ban hành kèm theo Thông tư số 01/2018/TT-VPCP)")
    ws.merge_range(2, 0, 2, 22, "Bộ phận Một cửa - Sở Giao thông vận tải")
    vertical = {0: "TT", 1: "Mã hồ sơ", 2: "Tên thủ tục hành chính", 3: "Số lượng hồ sơ (bộ)",
                4: "Tên cá nhân, tổ chức", 5: "Địa chỉ, số điện thoại", 6: "Cơ quan chủ trì giải quyết",
                7: "Phòng xử lý", 21: "Trạng thái", 22: "Ghi chú"}
    for col, text in vertical.items():
        ws.merge_range(4, col, 5, col, text, bold)
    groups = [(8, 9, "Nhận hồ sơ", ["Ngày", "Giờ"]), (10, 11, "Hẹn trả kết quả", ["Ngày", "Giờ"]),
              (12, 14, "Chuyển hồ sơ đến cơ quan giải quyết", ["Ngày", "Giờ", "Ký nhận"]),
              (15, 17, "Nhận kết quả từ cơ quan giải quyết", ["Ngày", "Giờ", "Ký nhận"]),
              (18, 20, "Trả kết quả", ["Ngày", "Giờ", "Ký nhận"])]
    for first, last, text, subs in groups:
        ws.merge_range(4, first, 4, last, text, bold)
        for offset, sub in enumerate(subs):
            ws.write(5, first + offset, sub, bold)
    proc = "Cấp giấy phép lái xe quốc tế"
    agency, unit = "Sở Giao thông vận tải", "Phòng Quản lý vận tải, phương tiện và người lái"
    # (id, name, address, received day, time, due day, time, returned day, time, status, note)
    rows = [
        ("H42.19-250303-0001", "Nguyễn Thị Bí Mật", "45 Hùng Vương, Quảng Ngãi - 0987 654 321",
         "03/03/2025", "08:15", "07/03/2025", "16:00", "06/03/2025", "10:30", "Đã trả kết quả", ""),
        ("H42.19-250304-0002", "Trần Văn Kín", "", date(2025, 3, 4), "14h35", "10/03/2025", "16h00",
         "10/03/2025", "16h30", "Đã trả kết quả", ""),
        ("H42.19-250305-0003", "Lê Hoàng Ẩn", "", date(2025, 3, 5), time(9, 0), "12/03/2025", 0.6875,
         "12/03/2025", "8 giờ 05", "Đã trả kết quả", ""),
        ("H42.19-250410-0004", "Nguyễn Thị Bí Mật", "", "10/04/2025", "7:30", "17/04/2025", "17:00",
         "17/04/2025", "", "Đã trả kết quả", ""),
        ("H42.19-250414-0005", "Trần Văn Kín", "", "14/04/2025", "10:00", "18/04/2025", "17:00", "", "",
         "Đang xử lý - đã gọi 0912345678", ""),
        None,  # a note row written across the logbook
        ("H42.19-250415-0006", "Lê Hoàng Ẩn", "", "15/04/2025", "08:00", "22/04/2025", "17:00", "", "",
         "Đã trả kết quả", "Đã báo kết quả qua kin.tran@mail.vn"),
        ("H42.19-250422-0007", "Nguyễn Thị Bí Mật", "", "22/04/2025", "", "06/05/2025", "", "", "",
         "Đang xử lý", ""),
    ]
    row, number = 6, 0
    for values in rows:
        if values is None:
            ws.write(row, 1, "Ghi chú: bà Nguyễn Thị Bí Mật (CCCD 079123456789) xin nhận kết quả qua bưu điện")
            row += 1
            continue
        number += 1
        case_id, name, address, r_day, r_time, d_day, d_time, t_day, t_time, status, note = values
        cells = {0: number, 1: case_id, 2: proc, 3: 1, 4: name, 5: address, 6: agency, 7: unit,
                 8: r_day, 9: r_time, 10: d_day, 11: d_time, 12: r_day, 13: "09:00",
                 18: t_day, 19: t_time, 21: status, 22: note}
        for col, value in cells.items():
            if isinstance(value, date):
                ws.write_datetime(row, col, datetime.combine(value, time()), day)
            elif isinstance(value, time):
                ws.write_datetime(row, col, value, clock)
            elif value != "":
                ws.write(row, col, value)
        row += 1
    wb.close()


def logbook_mau06() -> Layout:
    """The paper-form logbook "Sổ theo dõi hồ sơ" (Mẫu số 06, Circular 01/2018/TT-VPCP) kept in Excel:
    group headers over separate "Ngày" and "Giờ" columns; times as text (08:15, 14h35, 8 giờ 05), as a
    time cell and as an Excel day fraction; applicant columns; "Cơ quan chủ trì giải quyết" beside a unit
    column; hand-over columns; a note row; a status column with a phone number in one status text."""
    return Layout(
        name="logbook_mau06",
        file_name="so_theo_doi_ho_so_mau06.xlsx",
        write=_write_mau06,
        width=23,
        cases=(
            # the end time is the return time (§4.1 fallback): the hand-over columns carry no field
            Case("H42.19-250303-0001", "early", "2025-03",
                 times={"received_at": D(2025, 3, 3, 8, 15), "due_at": D(2025, 3, 7, 16, 0),
                        "end_at": D(2025, 3, 6, 10, 30)},
                 values={"end_at_source": "returned_at", "unit": "Phòng Quản lý vận tải, phương tiện và người lái",
                         "agency": "Sở Giao thông vận tải"}),
            Case("H42.19-250304-0002", "late", "2025-03",
                 times={"received_at": D(2025, 3, 4, 14, 35), "due_at": D(2025, 3, 10, 16, 0),
                        "end_at": D(2025, 3, 10, 16, 30)}),
            Case("H42.19-250305-0003", "on_time", "2025-03",
                 times={"received_at": D(2025, 3, 5, 9, 0), "due_at": D(2025, 3, 12, 16, 30),
                        "end_at": D(2025, 3, 12, 8, 5)}),
            Case("H42.19-250410-0004", "on_time", "2025-04", time_unknown_finding=True,
                 times={"received_at": D(2025, 4, 10, 7, 30), "due_at": D(2025, 4, 17, 17, 0),
                        "end_at": D(2025, 4, 17, 0, 0)}),
            Case("H42.19-250414-0005", "open_overdue", "2025-04", values={"status": 4}),
            Case("H42.19-250415-0006", "quarantined", reason="đã giải quyết nhưng thiếu ngày kết thúc"),
            Case("H42.19-250422-0007", "open_in_time", "2025-04",
                 times={"received_at": D(2025, 4, 22, 7, 0), "due_at": D(2025, 5, 6, 17, 0)}),
        ),
        fates={
            "TT": ("ignored", None),
            "Số lượng hồ sơ (bộ)": ("ignored", None),
            "Tên cá nhân, tổ chức": ("personal_data_dropped", "applicant_name"),
            "Địa chỉ, số điện thoại": ("personal_data_dropped", "applicant_address"),
            "Cơ quan chủ trì giải quyết": ("mapped", "agency"),
            "Phòng xử lý": ("mapped", "unit"),
            "Nhận hồ sơ / Ngày": ("mapped", "received_at"),
            "Nhận hồ sơ / Giờ": ("mapped", "received_at"),
            "Hẹn trả kết quả / Ngày": ("mapped", "due_at"),
            "Hẹn trả kết quả / Giờ": ("mapped", "due_at"),
            "Chuyển hồ sơ đến cơ quan giải quyết / Ngày": ("ignored", None),
            "Chuyển hồ sơ đến cơ quan giải quyết / Giờ": ("ignored", None),
            "Nhận kết quả từ cơ quan giải quyết / Ngày": ("ignored", None),
            "Nhận kết quả từ cơ quan giải quyết / Giờ": ("ignored", None),
            "Nhận kết quả từ cơ quan giải quyết / Ký nhận": ("ignored", None),
            "Trả kết quả / Ngày": ("mapped", "returned_at"),
            "Trả kết quả / Giờ": ("mapped", "returned_at"),
            "Trả kết quả / Ký nhận": ("ignored", None),
            "Trạng thái": ("mapped", "status"),
            "Ghi chú": ("ignored", None),
        },
    )


# ----------------------------------------------------------------------------- 8. logbook Mẫu 07, no status
def _write_mau07(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Mẫu 07")
    bold = wb.add_format({"bold": True})
    ws.merge_range(0, 0, 0, 8, "SỔ THEO DÕI HỒ SƠ", bold)
    ws.merge_range(1, 0, 1, 8, "(Mẫu số 07 - Thông tư số 03/2025/TT-VPCP)")
    for col, text in {0: "STT", 1: "Mã hồ sơ", 2: "Tên thủ tục hành chính", 3: "Cá nhân, tổ chức",
                      4: "Cơ quan chủ trì giải quyết", 8: "Ký nhận"}.items():
        ws.merge_range(3, col, 4, col, text, bold)
    ws.merge_range(3, 5, 3, 7, "Ngày, giờ", bold)  # generic group over the fields it dates
    for offset, text in enumerate(["Tiếp nhận", "Hẹn trả", "Trả kết quả"]):
        ws.write(4, 5 + offset, text, bold)
    for col in range(9):
        ws.write(5, col, f"({col + 1})")
    agency = "Trung tâm Đăng kiểm xe cơ giới"
    rows = [
        ("2503030001", "Trần Văn Kín", "03/03/2025 08:00", "07/03/2025 17:00", "ngày 06 tháng 3 năm 2025"),
        ("0025030002", "Lê Hoàng Ẩn", "ngày 10 tháng 3 năm 2025 lúc 8 giờ 30", "14/03/2025 17:00",
         "14 giờ 00, ngày 17/03/2025"),
        ("2504010003", "Nguyễn Thị Bí Mật", "01/04/2025 08:00", "ngày 8 tháng 4 năm 2025", ""),
        ("2504220004", "Trần Văn Kín", "22/04/2025 09:00", "09/05/2025 17:00", ""),
    ]
    for number, (case_id, name, received, due, returned) in enumerate(rows, start=1):
        row = 5 + number
        for col, value in enumerate([number, case_id, "Kiểm định xe cơ giới", name, agency, received, due, returned]):
            if value != "":
                ws.write_string(row, col, value) if isinstance(value, str) else ws.write(row, col, value)
    wb.close()


def logbook_mau07_no_status() -> Layout:
    """The logbook of Mẫu số 07 (Circular 03/2025/TT-VPCP) without a status column and without a unit
    column: a generic "Ngày, giờ" group over "Tiếp nhận", "Hẹn trả", "Trả kết quả"; a column-number row;
    dates spelled out ("ngày 06 tháng 3 năm 2025", with and without a time) and time-first.

    Status without a status column (decided from DESIGN §3/§4): a filled return date is the national
    state 10 "Đã trả kết quả" (the logbook's end time is the return time), otherwise 4 "Đang xử lý";
    the file carries a finding saying so. The agency column is the unit when no unit column exists."""
    agency = "Trung tâm Đăng kiểm xe cơ giới"
    return Layout(
        name="logbook_mau07_no_status",
        file_name="so_theo_doi_mau07.xlsx",
        write=_write_mau07,
        width=9,
        cases=(
            Case("2503030001", "early", "2025-03",
                 times={"received_at": D(2025, 3, 3, 8, 0), "end_at": D(2025, 3, 6, 0, 0)},
                 values={"status": 10, "unit": agency, "agency": None}),
            Case("0025030002", "late", "2025-03",
                 times={"received_at": D(2025, 3, 10, 8, 30), "due_at": D(2025, 3, 14, 17, 0),
                        "end_at": D(2025, 3, 17, 14, 0)}, values={"status": 10}),
            Case("2504010003", "open_overdue", "2025-04",
                 times={"due_at": D(2025, 4, 8, 17, 0)}, values={"status": 4}),
            Case("2504220004", "open_in_time", "2025-04", values={"status": 4}),
        ),
        fates={
            "STT": ("ignored", None),
            "Cá nhân, tổ chức": ("personal_data_dropped", "applicant_name"),
            "Cơ quan chủ trì giải quyết": ("mapped", "unit"),
            "Ngày, giờ / Tiếp nhận": ("mapped", "received_at"),
            "Ngày, giờ / Hẹn trả": ("mapped", "due_at"),
            "Ngày, giờ / Trả kết quả": ("mapped", "returned_at"),
            "Ký nhận": ("ignored", None),
        },
        findings=("no status column",),
    )


# ----------------------------------------------------------------------------- 6. BIFF .xls
def _write_biff(path: Path) -> None:
    import xlwt  # BIFF8 writer (tests only)

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("DS")
    stamp = xlwt.easyxf(num_format_str="dd/mm/yyyy hh:mm")
    header = ["STT", "Mã hồ sơ", "Mã TTHC", "Kênh nộp", "Ngày nhận", "Ngày hẹn trả", "Ngày kết thúc", "Trạng thái",
              "Họ tên"]
    for col, text in enumerate(header):
        ws.write(0, col, text)
    rows = [
        ("H42-B-0001", 2, D(2025, 3, 3, 8, 0), D(2025, 3, 7, 17, 0), D(2025, 3, 7, 17, 0), 10, "Trần Văn Kín"),
        ("H42-B-0002", 1, D(2025, 3, 4, 8, 0), D(2025, 3, 6, 17, 0), D(2025, 3, 7, 9, 0), 9, "Lê Hoàng Ẩn"),
        ("H42-B-0003", 1, D(2025, 4, 1, 8, 0), D(2025, 4, 4, 17, 0), None, 4, "Nguyễn Thị Bí Mật"),
        ("H42-B-0004", 2, D(2025, 4, 2, 8, 0), D(2025, 4, 9, 17, 0), None, 10, ""),
        (2503100005, 3, D(2025, 3, 10, 8, 0), D(2025, 3, 14, 17, 0), D(2025, 3, 12, 15, 0), "10.0", ""),
    ]
    for number, (case_id, channel, received, due, finished, status, name) in enumerate(rows, start=1):
        ws.write(number, 0, number)
        ws.write(number, 1, case_id)
        ws.write(number, 2, "1.002804")
        ws.write(number, 3, channel)
        for col, moment in ((4, received), (5, due), (6, finished)):
            if moment is not None:
                ws.write(number, col, moment, stamp)
        ws.write(number, 7, status)
        if name:
            ws.write(number, 8, name)
    wb.save(str(path))


def biff_status_codes() -> Layout:
    """An old-format BIFF8 .xls list (written with xlwt) whose status and channel are national codes
    written as numbers (10, 9, 4, and "10.0" as text), dates as date cells, one case id as a number."""
    return Layout(
        name="biff_status_codes",
        file_name="danh_sach_ho_so.xls",
        write=_write_biff,
        width=9,
        cases=(
            Case("H42-B-0001", "on_time", "2025-03", values={"status": 10, "channel": 2},
                 times={"end_at": D(2025, 3, 7, 17, 0)}),
            Case("H42-B-0002", "late", "2025-03", values={"status": 9}),
            Case("H42-B-0003", "open_overdue", "2025-04", values={"status": 4}),
            Case("H42-B-0004", "quarantined", reason="đã giải quyết nhưng thiếu ngày kết thúc"),
            Case("2503100005", "early", "2025-03", values={"status": 10, "channel": 3}),
        ),
        fates={
            "Trạng thái": ("mapped", "status"),
            "Kênh nộp": ("mapped", "channel"),
            "Họ tên": ("personal_data_dropped", "applicant_name"),
        },
    )
