"""Every kind of export is known by its content, whatever its extension (DESIGN §8.1 "File kinds"):
HTML tables saved as .xls, Excel 2003 XML, .ods, BIFF .xls, xlsb; text in UTF-8, UTF-16 or
Windows-1258 (declared or not); undecodable text is a finding, never a silent load."""

from __future__ import annotations

import codecs
import json
import zipfile
from datetime import datetime

import pandas as pd
import pytest
from fixtures_exports import (
    assert_accounted,
    assert_no_pii,
    settings_for,
    sync_records,
    to_cp1258,
    write_csv,
    write_report_xlsx,
)
from fixtures_formats import (
    biff_workbook,
    html_export,
    ods_cell,
    ods_document,
    write_zip,
    xlsb_workbook,
    xlsx_cells,
    xlsx_parts,
    xml2003_document,
    xml_cell,
)

from pipeline.ingest import FileRejected, read_export
from pipeline.ingest.sources import detect_encoding, sniff_kind

T = pd.Timestamp


# ----------------------------------------------------------------------------- HTML saved as .xls
def test_html_tables_saved_as_xls_windows_1258(tmp_path):
    path = tmp_path / "xuat_excel.xls"
    path.write_bytes(to_cp1258(html_export()))
    assert sniff_kind(path) == "html"
    result = read_export(path, settings_for(tmp_path))
    assert result.file_format == "html"
    cases = result.cases
    assert cases["case_id"].tolist() == ["007891", "007892", "000123"]  # text cells keep their zeros
    assert cases["procedure_name"].tolist() == ["Cấp giấy phép lái xe", "Đổi giấy phép lái xe", "Đăng ký xe"]
    assert cases["unit"].tolist() == ["Phòng Quản lý vận tải", "Phòng Quản lý vận tải", "Phòng Đăng kiểm"]
    assert cases["received_at"].tolist() == [T("2025-04-02 08:15"), T("2025-04-03 09:30"), T("2025-04-04 14:00")]
    assert cases["due_at"].tolist() == [T("2025-04-06 17:00"), T("2025-04-10 17:00"), T("2025-04-08 17:00")]
    assert cases.loc[0, "returned_at"] == T("2025-04-05 10:00") and cases["returned_at"][1:].isna().all()
    assert cases["status"].tolist() == [10, 4, 5]
    assert cases["source_row"].tolist() == [4, 5, 10_000_003]  # table 2 rows offset like a second sheet
    assert result.period_text == "Từ ngày 01/04/2025 đến ngày 30/04/2025"
    assert "html report, sheet 'table 1': title row 1, header rows 2-3 (2 rows, merged)" in result.layout
    assert result.findings.empty
    assert_no_pii(result)
    assert_accounted(result)


def test_html_declared_charset_that_lies_and_utf16(tmp_path):
    text = html_export()
    lying = tmp_path / "lying.xls"  # declares UTF-8, holds Windows-1258 bytes
    lying.write_bytes(to_cp1258(text.replace("charset=windows-1258", "charset=utf-8")))
    result = read_export(lying, settings_for(tmp_path))
    assert result.cases["unit"].tolist()[2] == "Phòng Đăng kiểm"
    assert result.findings["finding"].tolist() == ["declared charset 'utf-8' does not match the bytes; read as cp1258"]
    utf16 = tmp_path / "utf16.xls"
    utf16.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert read_export(utf16, settings_for(tmp_path)).cases["case_id"].tolist() == ["007891", "007892", "000123"]


# ----------------------------------------------------------------------------- Excel 2003 XML
def test_excel_2003_xml_with_merged_two_row_header_and_datetime_cells(tmp_path):
    rows = (
        "<Row>" + xml_cell("SỔ THEO DÕI HỒ SƠ", across=4) + "</Row>"
        + "<Row ss:Index='3'>" + xml_cell("Mã hồ sơ", down=1) + xml_cell("Thời hạn", across=1)
        + xml_cell("Tình trạng hồ sơ", index=4, down=1) + xml_cell("Ghi chú", down=1) + "</Row>"
        + "<Row>" + xml_cell("Ngày tiếp nhận", index=2) + xml_cell("Ngày hẹn trả") + "</Row>"
        + "<Row>" + xml_cell("007891") + xml_cell(datetime(2025, 4, 2, 8, 15)) + xml_cell(datetime(2025, 4, 6, 17))
        + xml_cell("Đang giải quyết") + "</Row>"
        + "<Row>" + xml_cell(7892) + xml_cell(datetime(2025, 4, 3, 9, 30, 5)) + xml_cell(datetime(2025, 4, 10, 17))
        + xml_cell("Chờ bổ sung") + xml_cell("gọi lại") + "</Row>"
    )
    path = tmp_path / "so_theo_doi.xls"
    path.write_text(xml2003_document({"Sổ theo dõi": rows}), encoding="utf-8")
    assert sniff_kind(path) == "xml2003"
    result = read_export(path, settings_for(tmp_path))
    assert result.file_format == "xml2003"
    cases = result.cases
    assert cases["case_id"].tolist() == ["007891", "7892"]  # a Number cell has no zeros to keep
    assert cases["received_at"].tolist() == [T("2025-04-02 08:15"), T("2025-04-03 09:30:05")]
    assert cases["due_at"].tolist() == [T("2025-04-06 17:00"), T("2025-04-10 17:00")]
    assert cases["status"].tolist() == [4, 5]
    assert cases["source_row"].tolist() == [5, 6]
    assert "header rows 3-4 (2 rows, merged)" in result.layout
    assert_accounted(result)


def test_excel_2003_xml_in_windows_1258(tmp_path):
    rows = (
        "<Row>" + xml_cell("Mã hồ sơ") + xml_cell("Ngày tiếp nhận") + xml_cell("Trạng thái") + xml_cell("Đơn vị xử lý")
        + "</Row><Row>" + xml_cell("A-1") + xml_cell("02/04/2025 08:15") + xml_cell("Đang giải quyết")
        + xml_cell("Phòng Đăng kiểm") + "</Row>"
    )
    path = tmp_path / "x.xml"
    path.write_bytes(to_cp1258(xml2003_document({"S": rows}, encoding="windows-1258")))
    result = read_export(path, settings_for(tmp_path))
    assert result.cases["unit"].tolist() == ["Phòng Đăng kiểm"]
    assert result.cases["status"].tolist() == [4] and result.findings.empty


# ----------------------------------------------------------------------------- ODS
def test_ods_with_spanned_header_and_trailing_repeated_rows(tmp_path):
    covered = "<table:covered-table-cell/>"
    rows = (
        "<table:table-row>" + ods_cell("DANH SÁCH HỒ SƠ", across=5) + covered * 4 + "</table:table-row>"
        + "<table:table-row>" + ods_cell("Mã hồ sơ", down=2) + ods_cell("Tiến độ", across=2) + covered
        + ods_cell("Trạng thái", down=2) + ods_cell("Đơn vị xử lý", down=2) + "</table:table-row>"
        + "<table:table-row>" + covered + ods_cell("Ngày tiếp nhận") + ods_cell("Ngày hẹn trả") + covered * 2
        + "</table:table-row>"
        + "<table:table-row>" + ods_cell("007891") + ods_cell(datetime(2025, 4, 2, 8, 15))
        + ods_cell(datetime(2025, 4, 6, 17)) + ods_cell("Đang giải quyết") + ods_cell("Phòng Đăng kiểm")
        + ods_cell(None, repeat=1019) + "</table:table-row>"
        + "<table:table-row>" + ods_cell("H55-0002") + ods_cell("03/04/2025 09:30")
        + ods_cell(datetime(2025, 4, 10, 17)) + ods_cell("Chờ bổ sung") + ods_cell("Phòng Đăng kiểm")
        + "</table:table-row>"
        # LibreOffice writes the rest of the sheet as one repeated empty row
        + "<table:table-row table:number-rows-repeated='1048570'>" + ods_cell(None, repeat=1024)
        + "</table:table-row>"
    )
    path = tmp_path / "bao_cao.xls"  # an .ods under a wrong name
    path.write_bytes(ods_document({"Hồ sơ": rows}))
    assert sniff_kind(path) == "ods"
    result = read_export(path, settings_for(tmp_path))
    assert result.file_format == "ods"
    cases = result.cases
    assert cases["case_id"].tolist() == ["007891", "H55-0002"]
    assert cases["received_at"].tolist() == [T("2025-04-02 08:15"), T("2025-04-03 09:30")]
    assert cases["due_at"].tolist() == [T("2025-04-06 17:00"), T("2025-04-10 17:00")]
    assert cases["status"].tolist() == [4, 5]
    assert cases["unit"].tolist() == ["Phòng Đăng kiểm"] * 2
    assert cases["source_row"].tolist() == [4, 5]
    assert "header rows 2-3 (2 rows, merged)" in result.layout
    assert_accounted(result)


# ----------------------------------------------------------------------------- BIFF .xls
def test_biff_xls_with_merged_header_and_date_cells(tmp_path):
    rows = [
        ["SỔ THEO DÕI HỒ SƠ", None, None, None, None],
        ["Mã hồ sơ", "Tiến độ", None, "Trạng thái", "Đơn vị xử lý"],
        [None, "Ngày tiếp nhận", "Ngày hẹn trả", None, None],
        ["007891", datetime(2025, 4, 2, 8, 15), datetime(2025, 4, 6, 17), "Đang giải quyết", "Phòng Đăng kiểm"],
        ["H55-0002", datetime(2025, 4, 3, 9, 30), "10/04/2025 17:00", "Chờ bổ sung", "Phòng Đăng kiểm"],
    ]
    merges = [((0, 0), (0, 4)), ((1, 0), (2, 0)), ((1, 1), (1, 2)), ((1, 3), (2, 3)), ((1, 4), (2, 4))]
    path = tmp_path / "so_theo_doi.xlsx"  # BIFF under an .xlsx name
    path.write_bytes(biff_workbook([("Sổ theo dõi", rows, merges)]))
    assert sniff_kind(path) == "xls"
    result = read_export(path, settings_for(tmp_path))
    assert result.file_format == "xls"
    cases = result.cases
    assert cases["case_id"].tolist() == ["007891", "H55-0002"]
    assert cases["received_at"].tolist() == [T("2025-04-02 08:15"), T("2025-04-03 09:30")]
    assert cases["due_at"].tolist() == [T("2025-04-06 17:00"), T("2025-04-10 17:00")]
    assert cases["status"].tolist() == [4, 5]
    assert cases["source_row"].tolist() == [4, 5]
    assert "xls report, sheet 'Sổ theo dõi': title row 1, header rows 2-3 (2 rows, merged)" in result.layout
    assert_accounted(result)


def test_xlsb_is_read_and_a_far_cell_is_rejected_before_loading(tmp_path):
    good = tmp_path / "ok.xlsb"
    good.write_bytes(xlsb_workbook([(0, [(0, 1.0)])]))
    assert sniff_kind(good) == "xlsb"
    far = tmp_path / "far.xlsb"  # python-calamine would try to allocate 512 GB for this sheet
    far.write_bytes(xlsb_workbook([(0, [(0, 1.0)]), (1_048_575, [(16_383, 2.0)])]))
    with pytest.raises(FileRejected) as caught:
        read_export(far, settings_for(tmp_path))
    assert str(caught.value) == (
        "far.xlsb: sheet part 'xl/worksheets/sheet1.bin' has cells up to column XFD (16,384 columns; limit 1,024)"
    )


# ----------------------------------------------------------------------------- sniffing
def test_kind_comes_from_content_not_extension(tmp_path):
    write_report_xlsx(tmp_path / "report.xlsx")
    (tmp_path / "report.csv").write_bytes((tmp_path / "report.xlsx").read_bytes())
    assert sniff_kind(tmp_path / "report.csv") == "xlsx"
    assert read_export(tmp_path / "report.csv", settings_for(tmp_path)).file_format == "xlsx"
    write_csv(tmp_path / "data.xls", ["Mã hồ sơ", "Ngày tiếp nhận", "Trạng thái"], [["A1", "02/01/2025", "Đang xử lý"]])
    assert read_export(tmp_path / "data.xls", settings_for(tmp_path)).file_format == "csv"
    (tmp_path / "tsv.txt").write_text("Mã hồ sơ\tNgày tiếp nhận\tTrạng thái\nA1\t02/01/2025\tĐang xử lý\n", "utf-8")
    assert read_export(tmp_path / "tsv.txt", settings_for(tmp_path)).cases["case_id"].tolist() == ["A1"]
    (tmp_path / "page.xls").write_text("\ufeff  <!-- export -->\n<!DOCTYPE html><html><table></table></html>", "utf-8")
    assert sniff_kind(tmp_path / "page.xls") == "html"
    (tmp_path / "bare.xls").write_text("<table><tr><td>x</td></tr></table>", "utf-8")
    assert sniff_kind(tmp_path / "bare.xls") == "html"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not a spreadsheet, CSV or JSON export (a PDF document)"),
        (bytes(range(256)) * 8, "not a spreadsheet, CSV or JSON export (binary content)"),
        (b"\x1f\x8b\x08\x00\x00\x00", "not a spreadsheet, CSV or JSON export (a gzip archive)"),
        (b'<?xml version="1.0"?><note><to>x</to></note>',
         "not a spreadsheet, CSV or JSON export (an XML document that is not an Excel 2003 spreadsheet)"),
        (None, "not a spreadsheet, CSV or JSON export (a zip archive without a workbook)"),
        (b"<html><body><p>no table here</p></body></html>", "HTML export holds no table"),
        (b"   \r\n\t ", "file is empty"),
    ],
)
def test_anything_else_is_rejected_with_one_line(tmp_path, content, reason):
    path = tmp_path / "export.xls"
    if content is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("word/document.xml", "<w/>")
    else:
        path.write_bytes(content)
    with pytest.raises(FileRejected) as caught:
        read_export(path, settings_for(tmp_path))
    assert str(caught.value) == f"export.xls: {reason}"


# ----------------------------------------------------------------------------- encodings
def test_json_in_windows_1258_reads_like_csv(tmp_path):
    records = sync_records()[:2]
    path = tmp_path / "dong_bo.json"
    path.write_bytes(to_cp1258(json.dumps(records, ensure_ascii=False)))
    result = read_export(path, settings_for(tmp_path))
    assert result.cases["unit"].tolist() == ["Phòng Quản lý vận tải"] * 2
    assert result.cases["procedure_name"].tolist() == ["Cấp giấy phép lái xe", "Đổi giấy phép lái xe"]
    assert result.findings.empty
    assert detect_encoding(path.read_bytes()) == "cp1258"
    utf16 = tmp_path / "utf16.json"
    utf16.write_bytes(json.dumps(records, ensure_ascii=False).encode("utf-16-le"))  # no BOM
    assert read_export(utf16, settings_for(tmp_path)).cases["unit"].tolist() == ["Phòng Quản lý vận tải"] * 2


def test_undecodable_text_is_a_finding_never_a_silent_load(tmp_path):
    records = sync_records()[:2]
    # byte 0x81 is undefined in Windows-1258: the file cannot be read cleanly
    data = to_cp1258(json.dumps(records, ensure_ascii=False)).replace(b"Pho", b"Ph\x81o", 1)
    path = tmp_path / "hong.json"
    path.write_bytes(data)
    result = read_export(path, settings_for(tmp_path))
    assert result.cases["unit"].tolist() == ["Ph\ufffdòng Quản lý vận tải", "Phòng Quản lý vận tải"]
    assert result.findings["finding"].tolist() == [
        "text holds 1 undecodable character (U+FFFD) after decoding as cp1258",
        "case.unit: 1 value hold U+FFFD replacement characters (undecodable bytes), first at row 1",
    ]
    csv_path = write_csv(tmp_path / "hong.csv", ["Mã hồ sơ", "Ngày tiếp nhận", "Trạng thái", "Đơn vị xử lý"],
                         [["A1", "02/01/2025", "Đang xử lý", "Phòng \ufffd"]])
    assert read_export(csv_path, settings_for(tmp_path)).findings["finding"].tolist() == [
        "case.unit: 1 value hold U+FFFD replacement characters (undecodable bytes), first at row 2"
    ]


# ----------------------------------------------------------------------------- limits
def test_long_cells_quarantine_their_row_and_huge_ones_reject_the_file(tmp_path):
    settings = settings_for(tmp_path, max_cell_chars=100)
    header = ["Mã hồ sơ", "Ngày tiếp nhận", "Trạng thái", "Ghi chú"]
    path = write_csv(tmp_path / "dai.csv", header, [["A1", "02/01/2025", "Đang xử lý", "x" * 101],
                                                    ["A2", "02/01/2025", "Đang xử lý", "x" * 100]])
    result = read_export(path, settings)
    assert result.cases["case_id"].tolist() == ["A2"]
    assert result.quarantine[["source_row", "reason"]].values.tolist() == [[2, "row: a cell holds 101 characters (limit 100)"]]
    huge = write_csv(tmp_path / "huge.csv", header, [["A1", "02/01/2025", "Đang xử lý", "x" * 3300]])
    with pytest.raises(FileRejected) as caught:
        read_export(huge, settings)
    assert str(caught.value) == "huge.csv: line 2 is longer than 3,200 bytes (a field holds at most 100 characters)"
    parts = xlsx_parts(xlsx_cells([header, ["A1", "02/01/2025", "Đang xử lý", "y" * 150]]))
    result = read_export(write_zip(tmp_path / "dai.xlsx", parts), settings)
    assert result.quarantine["reason"].tolist() == ["row: a cell holds 150 characters (limit 100)"]
    parts = xlsx_parts(xlsx_cells([header]), shared=["z" * 5000])
    with pytest.raises(FileRejected) as caught:
        read_export(write_zip(tmp_path / "sst.xlsx", parts), settings)
    assert str(caught.value) == (
        "sst.xlsx: the shared strings holds a text of more than 3,200 bytes (a cell holds at most 100 characters)"
    )


def test_sheet_extent_is_read_from_cells_not_from_the_claimed_dimension(tmp_path):
    header = ["Mã hồ sơ", "Ngày tiếp nhận", "Trạng thái"]
    claims = xlsx_parts(xlsx_cells([header, ["A1", "02/01/2025", "Đang xử lý"]]), dimension="A1:XFD1048576")
    assert read_export(write_zip(tmp_path / "claims.xlsx", claims), settings_for(tmp_path)).rows_read == 1
    far_row = xlsx_cells([header]) + '<row r="2100000"><c r="A2100000"><v>1</v></c></row>'
    with pytest.raises(FileRejected) as caught:
        read_export(write_zip(tmp_path / "deep.xlsx", xlsx_parts(far_row)), settings_for(tmp_path))
    assert str(caught.value) == "deep.xlsx: sheet 'Hồ sơ' has cells down to row 2,100,000 (limit 2,000,000 rows)"
    area = xlsx_cells([header]) + '<row r="40000"><c r="AMJ40000"><v>1</v></c></row>'
    with pytest.raises(FileRejected) as caught:
        read_export(write_zip(tmp_path / "area.xlsx", xlsx_parts(area)), settings_for(tmp_path))
    assert str(caught.value) == (
        "area.xlsx: sheet 'Hồ sơ' spans 40,000 rows × 1,024 columns = 40,960,000 cells (limit 30,000,000)"
    )
    styled_only = xlsx_cells([header, ["A1", "02/01/2025", "Đang xử lý"]]) + '<row r="1048576"><c r="XFD1048576" s="1"/></row>'
    assert read_export(write_zip(tmp_path / "styled.xlsx", xlsx_parts(styled_only)), settings_for(tmp_path)).rows_read == 1


def test_too_large_files_are_rejected_unread(tmp_path):
    path = write_csv(tmp_path / "big.csv", ["Mã hồ sơ", "Ngày tiếp nhận", "Trạng thái"], [["A1", "02/01/2025", "x"]] * 200)
    with pytest.raises(FileRejected) as caught:
        read_export(path, settings_for(tmp_path, max_file_bytes=1000))
    assert str(caught.value) == f"big.csv: {path.stat().st_size:,} bytes is larger than the limit (1,000 bytes)"
    with pytest.raises(FileRejected) as caught:
        read_export(path, settings_for(tmp_path, max_rows=10))
    assert str(caught.value) == "big.csv: holds more than 10 rows (the limit)"


def test_a_csv_starting_with_a_bracket_is_still_a_csv(tmp_path):
    path = tmp_path / "ngoac.csv"
    path.write_text("[Mã hồ sơ],Ngày tiếp nhận,Trạng thái\nA1,02/01/2025,Đang xử lý\n", encoding="utf-8")
    assert sniff_kind(path) == "json"
    result = read_export(path, settings_for(tmp_path))
    assert result.file_format == "csv" and result.cases["case_id"].tolist() == ["A1"]
    (tmp_path / "broken.json").write_text('[{"MaHoSo": "1", ', encoding="utf-8")
    with pytest.raises(FileRejected) as caught:
        read_export(tmp_path / "broken.json", settings_for(tmp_path))
    assert str(caught.value).startswith("broken.json: not valid JSON (")
