"""Small hand-made directive and PAKN exports, written in code into a raw folder, in the layouts real
systems use: the executive-management software's task report (Excel: Quốc hiệu, title, period, export
time, two-row header, column numbers, group rows, total, signature, and an extension history sheet), its
flat task list (CSV), the PAKN system's Excel list and the national portal's CSV. The expected figures are
written by hand in the tests (tests/test_records_marts.py), from DESIGN §10 and §11.

Tasks (lead unit KCHT = Phòng Quản lý kết cấu hạ tầng giao thông, VT = Phòng Quản lý vận tải):
  D1 KCHT assigned 03/03, due 14/03, completed 18/03 10:00 (late: counts in the headline rate only)
  D2 KCHT assigned 03/03, due 10/03, extended on 09/03 to 21/03, completed 20/03 15:00
  D3 VT   assigned 05/03, deadline 01/01/1970 (no deadline), open
  D4 VT   assigned 06/03, deadline "quý IV/2025" (no deadline), open
  D5 VT   assigned 04/03, due 12/03, completed "12/03/2025" (date only: on time)
  D6 KCHT assigned 10/03, due 25/03 17:00, open at March end, completed 15/04 10:00
  D7 VT   assigned 17/03, due 02/04, completed 02/04 16:00
  D8 VT   assigned 11/03, returned to the province ("Từ chối nhiệm vụ"): out of scope
  D9 VT   assigned 20/02, due 10/03, completed 07/03 10:00
  D10 TTr (Thanh tra Sở) assigned 04/03, due 14/03 in the report of 07/03, 28/03 in the list of 30/06
      (a later deadline without an extension row), completed 25/03
PAKN (received; handled; published):
  P1 VT   31/03 17:30; answered 22/04 15:00 (15th working day, 07/04 a holiday); 23/04
  P2 VT   31/03 17:30; answered 23/04 08:30 (16th working day); 23/04
  P3 VT   02/04 09:00; refused 08/04 09:00 (3 working days)
  P4 VT   03/03 09:00; answered 10/03; 11/03; the sender is not satisfied
  P5a VT  04/03 10:00; answered 12/03 11:00; 13/03; the same sender complains again (P5b) about case C2
  P5b VT  20/03 09:00; answered 25/03 10:00; 26/03; flagged as a repeated complaint
  P6 (no unit: the related case C1's unit, VT) 05/03 09:00; answered 14/03 16:00; 17/03
  P7 KCHT 10/03 09:00; more information requested 14/03 10:00
  P8 KCHT 25/03 14:00; open at March end; answered 10/04 09:00; 11/04
  P9 KCHT 03/02 09:00; open until answered 20/05 09:00 (late); 21/05
  P10 VT  06/03 08:00; answered 13/03 10:00; published 19/03 (4 working days later: late)
  P11 an impossible receipt date (31/02/2025): quarantined
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import xlsxwriter

KCHT = "Phòng Quản lý kết cấu hạ tầng giao thông"
VT = "Phòng Quản lý vận tải"
TTR = "Thanh tra Sở"
LONG_TITLE = ("Kiểm tra, rà soát hệ thống biển báo, đèn tín hiệu giao thông trên Quốc lộ 1 đoạn qua thành phố "
              "Quảng Ngãi và đề xuất phương án xử lý các điểm đen tai nạn giao thông")
CASE_C1, CASE_C2 = "000.00.20.H55-250106-0001", "000.00.20.H55-250303-0002"

# Sender identities and complaint texts planted in the PAKN exports: none may reach the warehouse.
SENDERS = {
    "X": ("Huỳnh Thị Kín Đáo", "0905111222", "kin.dao@example.vn", "12 Đường Bí Mật, phường Nghĩa Chánh"),
    "Y": ("Lê Văn Riêng Tư", "0913444555", "rieng.tu@example.vn", "thôn Ẩn Danh, xã Tịnh Hà"),
    "Z": ("Phạm Thị Giấu Tên", "0987666777", "giau.ten@example.vn", "45 Hẻm Kín, phường Trần Phú"),
}
COMPLAINT = "Tôi rất bức xúc vì hồ sơ bị chậm mà không ai giải thích (mã riêng CONFIDENTIAL-{key})"


def pii_needles() -> list[str]:
    """Every planted sender value and the distinctive part of each complaint text."""
    needles = [v for values in SENDERS.values() for v in values]
    return needles + ["CONFIDENTIAL-", "bức xúc vì hồ sơ bị chậm"]


def _title_rows(ws, bold, width: int, title: str, period: str, exported: str) -> None:
    ws.merge_range(0, 0, 0, 3, "UBND TỈNH QUẢNG NGÃI", bold)
    ws.merge_range(0, 5, 0, width - 1, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold)
    ws.merge_range(1, 0, 1, 3, "SỞ GIAO THÔNG VẬN TẢI", bold)
    ws.merge_range(1, 5, 1, width - 1, "Độc lập - Tự do - Hạnh phúc", bold)
    ws.merge_range(3, 0, 3, width - 1, title, bold)
    ws.merge_range(4, 0, 4, width - 1, period)
    ws.merge_range(5, 0, 5, width - 1, f"Ngày xuất: {exported}")


def _header(ws, bold, row: int, columns: list[tuple[str | None, str]]) -> None:
    """A two-row header: grouped columns under a merged group cell, the others merged vertically."""
    c = 0
    while c < len(columns):
        group = columns[c][0]
        if group is None:
            ws.merge_range(row, c, row + 1, c, columns[c][1], bold)
            c += 1
            continue
        last = c
        while last + 1 < len(columns) and columns[last + 1][0] == group:
            last += 1
        ws.merge_range(row, c, row, last, group, bold)
        for k in range(c, last + 1):
            ws.write_string(row + 1, k, columns[k][1], bold)
        c = last + 1
    for k in range(len(columns)):
        ws.write_string(row + 2, k, f"({k + 1})")


def _signature(ws, bold, row: int, width: int) -> None:
    ws.merge_range(row, 5, row, width - 1, "Quảng Ngãi, ngày 05 tháng 4 năm 2025")
    ws.merge_range(row + 1, 0, row + 1, 3, "NGƯỜI LẬP BIỂU", bold)
    ws.merge_range(row + 1, 5, row + 1, width - 1, "CHÁNH VĂN PHÒNG", bold)


TASK_COLUMNS = [
    (None, "STT"), (None, "Số hiệu nhiệm vụ"), (None, "Trích yếu"), (None, "Văn bản chỉ đạo"),
    (None, "Lãnh đạo chỉ đạo"), (None, "Ngày giao"), (None, "Đơn vị chủ trì"), (None, "Đơn vị phối hợp"),
    ("Thời hạn", "Hạn xử lý"), ("Thời hạn", "Ngày hoàn thành"), (None, "Trạng thái"),
    ("Gia hạn", "Hạn cũ"), ("Gia hạn", "Hạn mới"), ("Gia hạn", "Lý do"),
]


def _task_report(path: Path, exported: str, groups: list[tuple[str, list[list]]], history: list[list] | None) -> None:
    wb = xlsxwriter.Workbook(str(path))
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet("Nhiệm vụ")
    width = len(TASK_COLUMNS)
    _title_rows(ws, bold, width, "BÁO CÁO TÌNH HÌNH THỰC HIỆN NHIỆM VỤ DO UBND TỈNH GIAO",
                "Từ ngày 01/01/2025 đến ngày 31/03/2025", exported)
    _header(ws, bold, 7, TASK_COLUMNS)
    r, stt = 10, 0
    for number, (unit, rows) in enumerate(groups, start=1):
        ws.merge_range(r, 0, r, width - 1, f"{'I' * number}. {unit}", bold)
        r += 1
        for values in rows:
            stt += 1
            ws.write_number(r, 0, stt)
            for k, value in enumerate(values, start=1):
                if value:
                    ws.write_string(r, k, value)
            r += 1
    ws.write_string(r, 0, "Tổng cộng", bold)
    ws.write_number(r, 1, stt, bold)
    _signature(ws, bold, r + 2, width)
    if history is not None:
        sheet = wb.add_worksheet("Lịch sử gia hạn")
        for k, text in enumerate(["STT", "Số hiệu nhiệm vụ", "Trích yếu", "Lần gia hạn", "Hạn cũ", "Hạn mới",
                                  "Lý do gia hạn", "Ngày gia hạn"]):
            sheet.write_string(0, k, text, bold)
        for i, values in enumerate(history, start=1):
            sheet.write_number(i, 0, i)
            for k, value in enumerate(values, start=1):
                sheet.write_string(i, k, value)
    wb.close()


def write_directive_exports(raw: Path) -> None:
    """The task report of 07/03/2025, the quarterly report of 05/04/2025 (with its extension history sheet)
    and the flat task list of 30/06/2025."""
    folder = raw / "nhiem_vu"
    folder.mkdir(parents=True, exist_ok=True)
    leader = "Phó Chủ tịch UBND tỉnh Võ Thanh Hải"
    _task_report(folder / "bao_cao_nhiem_vu_thang_3.xlsx", "07/03/2025 16:00", [
        (KCHT, [["D1", LONG_TITLE, "1234/UBND-KTN", leader, "03/03/2025", KCHT, "Công an tỉnh; Sở Xây dựng",
                 "14/03/2025", "", "Đang thực hiện trong hạn", "", "", ""],
                ["D2", "Báo cáo tình hình triển khai dự án đường ven biển", "1250/UBND-KTN", leader, "03/03/2025",
                 KCHT, "", "10/03/2025", "", "Đang thực hiện", "", "", ""]]),
        (VT, [["D5", "Rà soát tuyến vận tải khách cố định liên tỉnh", "1301/UBND-KTN", leader, "04/03/2025", VT, "",
               "12/03/2025", "", "Đang thực hiện", "", "", ""],
              ["D9", "Góp ý dự thảo quy định quản lý bến xe", "801/UBND-KTN", leader, "20/02/2025 14:00", VT, "",
               "10/03/2025", "07/03/2025 10:00", "Đã hoàn thành", "", "", ""]]),
        (TTR, [["D10", "Thanh tra công tác đào tạo lái xe", "1266/UBND-NC", leader, "04/03/2025", TTR, "",
                "14/03/2025", "", "Đang thực hiện", "", "", ""]]),
    ], None)
    _task_report(folder / "bao_cao_nhiem_vu_quy_I_2025.xlsx", "05/04/2025 08:00", [
        (KCHT, [["D1", LONG_TITLE, "1234/UBND-KTN", leader, "03/03/2025", KCHT, "Công an tỉnh; Sở Xây dựng",
                 "14/03/2025", "18/03/2025 10:00", "Đã hoàn thành quá hạn", "", "", ""],
                ["D2", "Báo cáo tình hình triển khai dự án đường ven biển", "1250/UBND-KTN", leader, "03/03/2025",
                 KCHT, "", "21/03/2025", "20/03/2025 15:00", "Đã hoàn thành trong hạn", "10/03/2025", "21/03/2025",
                 "Chờ số liệu của các huyện"],
                ["D6", "Đề xuất sửa chữa cầu Trà Khúc", "1410/UBND-KTN", leader, "10/03/2025", KCHT, "",
                 "25/03/2025 17:00", "", "Đang thực hiện quá hạn", "", "", ""]]),
        (VT, [["D5", "Rà soát tuyến vận tải khách cố định liên tỉnh", "1301/UBND-KTN", leader, "04/03/2025", VT, "",
               "12/03/2025", "12/03/2025", "Đã hoàn thành", "", "", ""],
              ["D7", "Báo cáo công tác phòng chống ùn tắc dịp lễ", "1502/UBND-KTN", leader, "17/03/2025", VT, "",
               "02/04/2025", "", "Đang thực hiện", "", "", ""],
              ["D8", "Quản lý bến thủy nội địa trên sông Trà Bồng", "1455/UBND-KTN", leader, "11/03/2025", VT, "",
               "31/03/2025", "", "Từ chối nhiệm vụ", "", "", ""],
              ["D9", "Góp ý dự thảo quy định quản lý bến xe", "801/UBND-KTN", leader, "20/02/2025 14:00", VT, "",
               "10/03/2025", "07/03/2025 10:00", "Đã hoàn thành", "", "", ""]]),
    ], [["D2", "Báo cáo tình hình triển khai dự án đường ven biển", "1", "10/03/2025", "21/03/2025",
         "Chờ số liệu của các huyện", "09/03/2025"]])
    lines = [
        ["ID", "Tên nhiệm vụ", "Ngày tạo", "Người giao việc", "Đơn vị chủ trì", "Đơn vị phối hợp",
         "Thời hạn hoàn thành", "Tình trạng", "Ngày hoàn thành"],
        ["D1", LONG_TITLE[:100] + "...", "03/03/2025", leader, KCHT, "Công an tỉnh; Sở Xây dựng", "14/03/2025",
         "Hoàn thành quá hạn", "18/03/2025 10:00"],
        ["D3", "Tổng hợp kiến nghị của cử tri về giao thông nông thôn", "05/03/2025", leader, VT, "",
         "01/01/1970", "Đang thực hiện", ""],
        ["D4", "Xây dựng kế hoạch chuyển đổi số ngành giao thông", "06/03/2025", leader, VT, "", "quý IV/2025",
         "Đang thực hiện", ""],
        ["D6", "Đề xuất sửa chữa cầu Trà Khúc", "10/03/2025", leader, KCHT, "", "25/03/2025 17:00",
         "Hoàn thành quá hạn", "15/04/2025 10:00"],
        ["D7", "Báo cáo công tác phòng chống ùn tắc dịp lễ", "17/03/2025", leader, VT, "", "02/04/2025",
         "Hoàn thành đúng hạn", "02/04/2025 16:00"],
        ["D10", "Thanh tra công tác đào tạo lái xe", "04/03/2025", leader, TTR, "", "28/03/2025",
         "Đã hoàn thành", "25/03/2025 11:00"],
    ]
    _write_csv(folder / "giao_viec_2025-06-30.csv", lines, bom=True)


PAKN_COLUMNS = [
    (None, "STT"), (None, "Mã PAKN"), (None, "Tiêu đề"), ("Thông tin người gửi", "Người gửi"),
    ("Thông tin người gửi", "Số điện thoại"), ("Thông tin người gửi", "Email"), ("Thông tin người gửi", "Địa chỉ"),
    (None, "Nội dung phản ánh"), (None, "Mã hồ sơ liên quan"), (None, "Lĩnh vực"), (None, "Đơn vị xử lý"),
    (None, "Ngày gửi"), (None, "Ngày tiếp nhận"), (None, "Trạng thái"), (None, "Hình thức xử lý"),
    (None, "Ngày trả lời"), (None, "Ngày công khai"), (None, "Đánh giá của người gửi"), (None, "Lượt thích"),
    (None, "Lượt không thích"), (None, "Phản ánh lặp lại"),
]


def _sender(key: str) -> list[str]:
    name, phone, email, address = SENDERS[key]
    return [name, phone, email, address, COMPLAINT.format(key=key)]


def write_feedback_exports(raw: Path) -> None:
    """The PAKN system's list exported 05/04/2025 (Excel) and the national portal's CSV of 30/06/2025."""
    folder = raw / "pakn"
    folder.mkdir(parents=True, exist_ok=True)
    name_x = SENDERS["X"][0]
    rows = [  # id, title, sender…, case, category, unit, sent, received, status, handling, answered, published,
              # reaction, likes, dislikes, repeated
        ["P4", f"Phản ánh của bà {name_x} về việc chậm trả kết quả", *_sender("X"), "", "Đường bộ", VT,
         "02/03/2025 21:10", "03/03/2025 09:00", "Đã công khai", "Trả lời", "10/03/2025", "11/03/2025",
         "Không hài lòng", "0", "2", ""],
        ["P5a", "Chậm cấp đổi giấy phép lái xe", *_sender("Y"), CASE_C2, "Đào tạo, sát hạch lái xe", VT,
         "04/03/2025 10:00", "04/03/2025 10:00", "Đã công khai", "Trả lời", "12/03/2025 11:00", "13/03/2025",
         "Chưa đánh giá", "1", "1", "Không"],
        ["P5b", "Tiếp tục phản ánh chậm cấp đổi giấy phép lái xe", *_sender("Y"), CASE_C2,
         "Đào tạo, sát hạch lái xe", VT, "20/03/2025 08:30", "20/03/2025 09:00", "Đã công khai", "Trả lời",
         "25/03/2025 10:00", "26/03/2025", "Chưa đánh giá", "0", "0", "Có"],
        ["P6", "Hỏi về thời hạn cấp phù hiệu xe", *_sender("Z"), CASE_C1, "Đường bộ", "", "05/03/2025 09:00",
         "05/03/2025 09:00", "Đã công khai", "Trả lời", "14/03/2025 16:00", "17/03/2025", "Hài lòng", "3", "0", ""],
        ["P7", "Đề nghị sửa chữa mặt đường ĐT 622", *_sender("Z"), "", "Kết cấu hạ tầng", KCHT, "09/03/2025 20:00",
         "10/03/2025 09:00", "Yêu cầu bổ sung thông tin", "Yêu cầu bổ sung thông tin", "14/03/2025 10:00", "",
         "", "", "", ""],
        ["P8", "Phản ánh hư hỏng cầu tạm", *_sender("Z"), "", "Kết cấu hạ tầng", KCHT, "25/03/2025 14:00",
         "25/03/2025 14:00", "Đang xử lý", "", "", "", "", "", "", ""],
        ["P9", "Phản ánh về thu phí bến xe", *_sender("Y"), "", "Kết cấu hạ tầng", KCHT, "03/02/2025 09:00",
         "03/02/2025 09:00", "Đang xử lý", "", "", "", "", "", "", ""],
        ["P10", "Hỏi về thủ tục đăng ký phương tiện thủy", *_sender("X"), "", "Đường thủy nội địa", VT,
         "06/03/2025 08:00", "06/03/2025 08:00", "Đã công khai", "Trả lời", "13/03/2025 10:00", "19/03/2025",
         "Hài lòng", "1", "0", ""],
    ]
    wb = xlsxwriter.Workbook(str(folder / "danh_sach_pakn_quy_I.xlsx"))
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet("PAKN")
    width = len(PAKN_COLUMNS)
    _title_rows(ws, bold, width, "DANH SÁCH PHẢN ÁNH, KIẾN NGHỊ VỀ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
                "Từ ngày 01/01/2025 đến ngày 31/03/2025", "05/04/2025 08:00")
    _header(ws, bold, 7, PAKN_COLUMNS)
    for i, values in enumerate(rows, start=1):
        ws.write_number(9 + i, 0, i)
        for k, value in enumerate(values, start=1):
            if value:
                ws.write_string(9 + i, k, value)
    ws.write_string(10 + len(rows), 0, "Tổng cộng", bold)
    _signature(ws, bold, 12 + len(rows), width)
    wb.close()

    header = ["Mã phản ánh", "Tiêu đề", "Họ tên người gửi", "Điện thoại", "Thư điện tử", "Địa chỉ người gửi",
              "Nội dung", "Cơ quan xử lý", "Ngày gửi", "Ngày tiếp nhận", "Tình trạng", "Ngày trả lời",
              "Ngày công khai", "Hài lòng", "Không hài lòng", "Mã hồ sơ"]

    def line(key, pid, title, unit, sent, received, status, answered, published):
        name, phone, email, address, text = _sender(key)
        return [pid, title, name, phone, email, address, text, unit, sent, received, status, answered, published,
                "", "", ""]

    lines = [header,
             line("X", "P1", "Chậm trả giấy phép kinh doanh vận tải", VT, "31/03/2025 17:30", "31/03/2025 17:30",
                  "Đã công khai", "22/04/2025 15:00", "23/04/2025 08:00"),
             line("Y", "P2", "Chậm cấp phù hiệu xe", VT, "31/03/2025 17:30", "31/03/2025 17:30", "Đã công khai",
                  "23/04/2025 08:30", "23/04/2025 10:00"),
             line("Z", "P3", "Phản ánh về giá cước taxi", VT, "02/04/2025 09:00", "02/04/2025 09:00",
                  "Từ chối tiếp nhận", "08/04/2025 09:00", ""),
             line("Z", "P8", "Phản ánh hư hỏng cầu tạm", KCHT, "25/03/2025 14:00", "25/03/2025 14:00",
                  "Đã công khai", "10/04/2025 09:00", "11/04/2025"),
             line("Y", "P9", "Phản ánh về thu phí bến xe", KCHT, "03/02/2025 09:00", "03/02/2025 09:00",
                  "Đã công khai", "20/05/2025 09:00", "21/05/2025"),
             line("X", "P11", "Phản ánh thái độ cán bộ một cửa", VT, "28/02/2025 09:00", "31/02/2025 08:00",
                  "Đang xử lý", "", "")]
    _write_csv(folder / "pakn_cong_quoc_gia_2025-06-30.csv", lines, bom=False)


def write_case_export(raw: Path) -> None:
    """Two cases (the PAKN's related cases) received in January and March 2025."""
    lines = [["Mã hồ sơ", "Mã TTHC", "Tên thủ tục", "Lĩnh vực", "Đơn vị xử lý", "Hình thức nộp", "Ngày tiếp nhận",
              "Ngày hẹn trả", "Ngày kết thúc xử lý", "Trạng thái"],
             [CASE_C1, "1.000250", "Cấp phù hiệu xe ô tô kinh doanh vận tải", "Đường bộ", VT, "Trực tuyến",
              "06/01/2025 08:00", "08/01/2025 08:00", "07/01/2025 10:00", "Đã trả kết quả"],
             [CASE_C2, "1.002835", "Cấp đổi giấy phép lái xe", "Đào tạo, sát hạch lái xe", VT, "Trực tiếp",
              "03/03/2025 08:00", "10/03/2025 08:00", "11/03/2025 10:00", "Đã trả kết quả"]]
    _write_csv(raw / "ho_so" / "ho_so_2025-06-30.csv", lines, bom=False)


def _write_csv(path: Path, lines: list[list[str]], bom: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig" if bom else "utf-8"))


def write_all(raw: Path) -> datetime:
    """Every fixture export under ``raw``; returns the as-of moment the tests judge at (30/06/2025)."""
    write_case_export(raw)
    write_directive_exports(raw)
    write_feedback_exports(raw)
    return datetime(2025, 6, 30)
