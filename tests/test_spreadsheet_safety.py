"""No cell of a CSV or XLSX the product writes starts a spreadsheet formula (OWASP "CSV injection").

Hostile unit, procedure and sector names are planted where they reach warnings.csv, Biểu 06 and
``tthc kpi --format csv``; the files are read back with the csv module and openpyxl.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from datetime import date

import openpyxl
import pytest
from helpers import starts_formula
from marts_fixtures import WARNING_AS_OF, Warehouse

from pipeline import db
from pipeline.formatting import spreadsheet_safe
from pipeline.report.bieu06_xlsx import write_bieu06
from pipeline.report.kpi import write_kpi
from pipeline.report.warnings import write_warning_reports

PAYLOADS = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(1)", "\tTab", "\rCR"]


def test_the_rule():
    for payload in PAYLOADS:
        assert spreadsheet_safe(payload) == "'" + payload
    assert spreadsheet_safe("Phòng Quản lý vận tải") == "Phòng Quản lý vận tải"
    assert spreadsheet_safe(-2) == -2
    assert spreadsheet_safe(-1.5) == -1.5
    assert spreadsheet_safe("-60.00") == "-60.00"  # a number written as text in a numeric column
    assert spreadsheet_safe("") == ""
    assert spreadsheet_safe(None) is None


def test_warnings_csv(tmp_path):
    """Hostile unit, case code, procedure code and name in the export rows, through the real SQL to warnings.csv."""
    house = Warehouse.under(tmp_path, WARNING_AS_OF)
    for n, payload in enumerate(PAYLOADS):  # overdue since 20/03: 60 working hours late at 31/03 24:00
        house.case(f"+C-{n}", "2025-03-03 08:00", "2025-03-20 11:00", procedure=payload, procedure_name=payload,
                   unit=payload)
    settings = house.save_as_settings_warehouse()
    _, table = write_warning_reports(settings)
    read = list(csv.reader(io.StringIO(table.read_bytes().decode("utf-8-sig"), newline="")))
    header, body = read[0], read[1:]
    assert len(body) == len(PAYLOADS)
    hours = header.index("Giờ làm việc còn lại")
    for row in body:
        for column, cell in enumerate(row):
            if column == hours:
                assert float(cell) < 0  # a negative number, as a number
                continue
            assert not starts_formula(cell), (header[column], cell)
    units = {row[header.index("Đơn vị")] for row in body}
    assert units == {"'" + p for p in PAYLOADS}
    assert {row[header.index("Mã hồ sơ")] for row in body} == {f"'+C-{n}" for n in range(len(PAYLOADS))}


def test_bieu06_workbook(tmp_path):
    counts = {"c3_received_total": 5, "c4_received_online": 2, "c5_received_offline": 1, "c6_carried_over": 2,
              "c7_resolved_total": 4, "c8_early": 1, "c9_on_time": 2, "c10_late": 1, "c11_open_total": 1,
              "c12_open_in_time": 1, "c13_open_overdue": 0}
    rows = [{"row_no": n + 1, "sector": payload, "is_total": False, **counts} for n, payload in enumerate(PAYLOADS)]
    rows.append({"row_no": None, "sector": "Tổng cộng", "is_total": True,
                 **{k: v * len(PAYLOADS) for k, v in counts.items()}})
    path = write_bieu06(tmp_path / "b.xlsx", rows, department="=Sở", province="@Tỉnh", period_name="+Quý",
                        dates_text="-Từ ngày", today=date(2025, 4, 1))
    book = openpyxl.load_workbook(path)
    sheet = book.active
    texts = []
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
            assert not starts_formula(cell.value), (cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                texts.append(cell.value)
    for payload in PAYLOADS:  # xlsxwriter stores a carriage return as _x000D_, which openpyxl leaves as is
        assert "'" + payload in [t.replace("_x000D_", "\r") for t in texts], payload
    numbers = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, int)]
    assert 5 * len(PAYLOADS) in numbers  # counts stay numbers


def test_kpi_csv(report_build, tmp_path):
    warehouse = tmp_path / "tthc.duckdb"
    shutil.copyfile(report_build.warehouse, warehouse)
    con = db.connect(warehouse)
    units = [r[0] for r in con.execute("select distinct dimension_value from mart.kpi_period "
                                       "where dimension = 'unit' order by 1").fetchall()]
    for unit, payload in zip(units, PAYLOADS, strict=False):
        con.execute("update mart.kpi_period set dimension_value = $p where dimension = 'unit' "
                    "and dimension_value = $u", {"p": payload, "u": unit})
    con.close()
    out = io.StringIO()
    con = db.connect_existing(warehouse)
    try:
        write_kpi(con, "2025-Q1", "calendar", "unit", "csv", out)
    finally:
        con.close()
    read = list(csv.reader(io.StringIO(out.getvalue())))
    values = [row[read[0].index("dimension_value")] for row in read[1:]]
    assert {"'" + p for p in PAYLOADS[: len(units)]} <= set(values)
    for row in read[1:]:
        for cell in row:
            if starts_formula(cell) and not re.fullmatch(r"-\d+(\.\d+)?(e-?\d+)?", cell):
                pytest.fail(f"formula-like cell {cell!r}")
