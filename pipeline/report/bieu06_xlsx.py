"""Biểu số 06/VPCP/KSTT (Circular 01/2020/TT-VPCP) as an Excel workbook, in the official layout.

Title block, the reporting period with its exact dates, the grouped two-row header over the
13 numbered columns, the "(1) … (13)" row, one row per sector, the Tổng cộng row, and the
signature places. Printed landscape on one A4 page wide, header rows repeated.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import xlsxwriter

from pipeline.formatting import fmt_date_words, is_missing, spreadsheet_safe

FORM_LABEL = "Biểu số 06/VPCP/KSTT"
TITLE = ("TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH TẠI CƠ QUAN, ĐƠN VỊ TRỰC TIẾP GIẢI QUYẾT "
         "THỦ TỤC HÀNH CHÍNH")
GROUPS = (
    (2, 5, "Số hồ sơ nhận giải quyết"),
    (6, 9, "Kết quả giải quyết: số hồ sơ đã giải quyết"),
    (10, 12, "Số hồ sơ đang giải quyết"),
)
SUBHEADERS = (
    "Tổng số", "Trong đó: số mới tiếp nhận trực tuyến", "Số mới tiếp nhận trực tiếp và qua dịch vụ bưu chính",
    "Số kỳ trước chuyển qua", "Tổng số", "Trả trước hạn", "Trả đúng hạn", "Trả quá hạn", "Tổng số", "Trong hạn",
    "Quá hạn",
)
FIELDS = (
    "c3_received_total", "c4_received_online", "c5_received_offline", "c6_carried_over", "c7_resolved_total",
    "c8_early", "c9_on_time", "c10_late", "c11_open_total", "c12_open_in_time", "c13_open_overdue",
)
HEADER_ROW = 8  # 0-based row of the first header row


def write_bieu06(path: Path, rows: list[dict], *, department: str, province: str, period_name: str,
                 dates_text: str, today: date | None = None) -> Path:
    """Write the form for one period; ``rows`` are mart.bieu06 rows (sectors, then the total row)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    # Text is never turned into formulas, numbers or links; every text cell also passes spreadsheet_safe.
    book = xlsxwriter.Workbook(str(temporary), {"in_memory": True, "strings_to_formulas": False,
                                                "strings_to_numbers": False, "strings_to_urls": False})
    book.set_properties({"title": f"{FORM_LABEL} – {period_name}", "author": department,
                         "company": f"UBND tỉnh {province}", "comments": "Sinh tự động từ kho dữ liệu TTHC"})
    sheet = SafeSheet(book.add_worksheet("Biểu 06"))
    base = {"font_name": "Times New Roman", "font_size": 12, "valign": "vcenter"}

    def fmt(**extra):
        return book.add_format({**base, **extra})

    bold_center = fmt(bold=True, align="center")
    center = fmt(align="center")
    italic_center = fmt(italic=True, align="center")
    left = fmt(align="left")
    bold_left = fmt(bold=True, align="left")
    title = fmt(bold=True, align="center", text_wrap=True, font_size=13)
    header = fmt(bold=True, align="center", text_wrap=True, border=1, font_size=11)
    number_row = fmt(italic=True, align="center", border=1, font_size=10)
    cell = fmt(border=1, num_format="#,##0", align="right")
    text_cell = fmt(border=1, text_wrap=True)
    stt = fmt(border=1, align="center")
    total_text = fmt(border=1, bold=True, align="center")
    total_cell = fmt(border=1, bold=True, num_format="#,##0", align="right")

    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 34)
    sheet.set_column(2, 12, 11.5)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.set_margins(left=0.5, right=0.4, top=0.6, bottom=0.6)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(HEADER_ROW, HEADER_ROW + 2)
    sheet.hide_gridlines(2)

    agency = f"{department} tỉnh {province}"
    sheet.merge_range(0, 0, 0, 3, FORM_LABEL, bold_left)
    sheet.merge_range(1, 0, 1, 3, "Ban hành kèm theo Thông tư số 01/2020/TT-VPCP", left)
    sheet.merge_range(2, 0, 2, 3, "Ngày nhận báo cáo (BC):", left)
    sheet.merge_range(0, 9, 0, 12, f"Đơn vị báo cáo: {agency}", left)
    sheet.merge_range(1, 9, 1, 12, f"Đơn vị nhận báo cáo: UBND tỉnh {province}", left)
    sheet.merge_range(2, 9, 2, 12, "Đơn vị tính: Số hồ sơ TTHC", left)
    sheet.set_row(4, 36)
    sheet.merge_range(4, 0, 4, 12, TITLE, title)
    sheet.merge_range(5, 0, 5, 12, f"Kỳ báo cáo: {period_name} ({dates_text})", italic_center)
    sheet.merge_range(6, 0, 6, 12, f"Cơ quan, đơn vị: {agency.upper()}", bold_center)

    top, second, numbers = HEADER_ROW, HEADER_ROW + 1, HEADER_ROW + 2
    sheet.set_row(top, 32)
    sheet.set_row(second, 62)
    sheet.merge_range(top, 0, second, 0, "STT", header)
    sheet.merge_range(top, 1, second, 1, "Lĩnh vực, công việc giải quyết theo cấp", header)
    for first_col, last_col, text in GROUPS:
        sheet.merge_range(top, first_col, top, last_col, text, header)
    for offset, text in enumerate(SUBHEADERS):
        sheet.write(second, 2 + offset, text, header)
    for col in range(13):
        sheet.write(numbers, col, f"({col + 1})", number_row)

    row_index = numbers + 1
    sector_rows = [r for r in rows if not r.get("is_total")]
    total_rows = [r for r in rows if r.get("is_total")]
    for n, row in enumerate(sector_rows, start=1):
        row_no = row.get("row_no")
        sheet.write(row_index, 0, n if is_missing(row_no) else int(row_no), stt)
        sheet.write_string(row_index, 1, "" if is_missing(row.get("sector")) else str(row["sector"]), text_cell)
        for offset, field in enumerate(FIELDS):
            _write_count(sheet, row_index, 2 + offset, row.get(field), cell)
        row_index += 1
    for row in total_rows[:1]:
        sheet.merge_range(row_index, 0, row_index, 1, "Tổng cộng", total_text)
        for offset, field in enumerate(FIELDS):
            _write_count(sheet, row_index, 2 + offset, row.get(field), total_cell)
        row_index += 1

    row_index += 1
    day = today or date.today()
    sheet.merge_range(row_index, 8, row_index, 12,
                      f"{province}, {fmt_date_words(day)}", italic_center)
    row_index += 1
    sheet.merge_range(row_index, 0, row_index, 4, "NGƯỜI LẬP BIỂU", bold_center)
    sheet.merge_range(row_index, 8, row_index, 12, "THỦ TRƯỞNG CƠ QUAN", bold_center)
    row_index += 1
    sheet.merge_range(row_index, 0, row_index, 4, "(Ký, ghi rõ họ tên)", italic_center)
    sheet.merge_range(row_index, 8, row_index, 12, "(Ký, ghi rõ họ tên, đóng dấu)", italic_center)
    sheet.write(row_index + 5, 0, "", center)
    book.close()
    os.replace(temporary, path)
    return path


class SafeSheet:
    """A worksheet whose every text cell is written as a string made safe by :func:`spreadsheet_safe`."""

    def __init__(self, sheet):
        self._sheet = sheet

    def __getattr__(self, name):
        return getattr(self._sheet, name)

    def write(self, row: int, col: int, value: object, style=None) -> None:
        if isinstance(value, str):
            self.write_string(row, col, value, style)
        else:
            self._sheet.write(row, col, value, style)

    def write_string(self, row: int, col: int, value: str, style=None) -> None:
        self._sheet.write_string(row, col, spreadsheet_safe(value), style)

    def merge_range(self, first_row: int, first_col: int, last_row: int, last_col: int, value: str, style) -> None:
        self._sheet.merge_range(first_row, first_col, last_row, last_col, "", style)
        self.write_string(first_row, first_col, value, style)


def _write_count(sheet, row: int, col: int, value: object, style) -> None:
    if is_missing(value):
        sheet.write_blank(row, col, None, style)
    else:
        sheet.write_number(row, col, int(value), style)
