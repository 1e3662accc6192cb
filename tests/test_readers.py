"""The export readers on small hand-made files: every quirk of DESIGN §8, every row accounted for,
personal data never returned."""

from __future__ import annotations

import hashlib
import shutil
import stat
import unicodedata
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures_exports import (
    CSV_HEADER,
    PII_VALUES,
    assert_accounted,
    assert_no_pii,
    csv_rows,
    nfd,
    settings_for,
    sync_records,
    to_cp1258,
    write_csv,
    write_json,
    write_report_xlsx,
    write_simple_xlsx,
    write_three_row_header_xlsx,
)
from pydantic import SecretStr

from pipeline.ingest import FileRejected, ReadResult, detect_kind, read_export
from pipeline.ingest.headers import DEFAULT_SYNONYMS_FILE
from pipeline.ingest.status_map import load_status_map
from pipeline.ingest.values import parse_datetimes


@pytest.fixture
def report(tmp_path: Path) -> tuple[ReadResult, dict]:
    expected = write_report_xlsx(tmp_path / "bao_cao_thang_01.xlsx")
    return read_export(tmp_path / "bao_cao_thang_01.xlsx", settings_for(tmp_path)), expected


# ----------------------------------------------------------------------------- Excel report
def test_excel_report_layout_rows_are_classified(report):
    result, expected = report
    assert (result.kind, result.file_format) == ("cases", "xlsx")
    assert "header rows 8-9 (2 rows, merged)" in result.layout
    assert result.rows_read == expected["rows_read"]
    kinds = dict(zip(result.skipped["source_row"], result.skipped["row_kind"], strict=True))
    assert kinds == {
        10: "column_numbers",
        11: "group",
        12: "group",
        18: "group",
        22: "total",
        23: "blank",
        24: "signature",
        25: "signature",
        26: "blank",
        27: "signature",
    }
    assert result.skipped.set_index("source_row").loc[22, "text"] == "Tổng cộng: 8 hồ sơ"
    assert result.cases["source_row"].tolist() == [13, 14, 19, 20, 21]
    assert_accounted(result)


def test_excel_report_title_lines(report):
    result, _ = report
    assert result.exported_at == datetime(2025, 2, 3, 7, 45, 10)
    assert result.period_text == "Từ ngày 01/01/2025 đến ngày 31/01/2025"


def test_excel_values_codes_and_mixed_dates(report):
    result, _ = report
    cases = result.cases.set_index("source_row")
    assert cases.loc[13, "case_id"] == "007891"  # a text cell keeps its leading zeros
    assert cases.loc[14, "procedure_code"] == "1.000250"  # a numeric cell 1.00025 is written back
    assert cases.loc[13, "received_at"] == pd.Timestamp("2025-01-02 08:15")  # text without seconds
    assert cases.loc[13, "finished_at"] == pd.Timestamp("2025-01-05 10:00:30")  # text with seconds
    assert cases.loc[14, "received_at"] == pd.Timestamp("2025-01-03 09:30")  # Excel serial number
    assert cases.loc[14, "due_at"] == pd.Timestamp("2025-01-10 17:00")  # real date cell
    assert cases.loc[20, "received_at"] == pd.Timestamp("2025-01-07 08:30")  # yyyyMMddHHmmss
    assert cases.loc[20, "due_at"] == pd.Timestamp("2025-01-10 17:00")  # ISO
    assert pd.isna(cases.loc[21, "received_at"])  # missing is not a reader error
    assert cases["channel"].tolist() == [2, 1, 1, 2, 2]
    assert cases["status"].tolist() == [10, 4, 10, 5, 2]
    assert cases.loc[19, "status_text"] == "10" and cases.loc[20, "status_text"] == "Chờ bổ sung"
    assert str(result.cases["received_at"].dtype) == "datetime64[us]"
    assert str(result.cases["status"].dtype) == "Int8" and str(result.cases["channel"].dtype) == "Int8"


def test_excel_bad_values_go_to_quarantine(report):
    result, _ = report
    q = result.quarantine
    assert q[["source_row", "field", "raw_value"]].values.tolist() == [
        [15, "received_at", "31/02/2025 08:00"],
        [15, "status", "Đã trả"],
        [16, "status", "Trạng thái lạ"],
        [16, "channel", "Qua fax"],
        [17, "case_id", ""],
    ]
    assert q["reason"].tolist()[0] == "received_at: cannot read date '31/02/2025 08:00'"
    assert q["reason"].tolist()[1].startswith("status: đã giải quyết nhưng thiếu ngày kết thúc")
    assert q["reason"].tolist()[4] == "case_id: missing"
    assert q["case_id"].tolist()[:4] == ["H55.25-0003", "H55.25-0003", "H55.25-0004", "H55.25-0004"]
    assert pd.isna(q["case_id"].tolist()[4])
    assert q["row_values"].tolist()[2].startswith("STT=4; Mã hồ sơ=H55.25-0004; Mã TTHC=1.000251")
    assert q["source_row"].nunique() == 3  # the row with two problems counts once


def test_excel_merged_group_header_and_flat_supplements(report):
    result, _ = report
    assert result.header_map["Yêu cầu bổ sung Ngày nhận"] == "supplement_received_at"
    assert result.header_map["Ngày tiếp nhận"] == "received_at"
    assert result.header_map["Chủ hồ sơ"] == "applicant_name"
    assert result.unmapped_headers == []
    sup = result.supplements
    assert sup[["case_id", "seq", "source_row"]].values.tolist() == [
        ["H55.25-0002", 1, 14],
        ["H55.25-0011", 1, 20],
    ]
    assert sup.loc[0, "requested_at"] == pd.Timestamp("2025-01-04 10:00")
    assert sup.loc[0, "received_at"] == pd.Timestamp("2025-01-07 08:00")
    assert pd.isna(sup.loc[1, "received_at"])


def test_three_row_header_second_supplement_cycle_and_merged_data_cells(tmp_path):
    write_three_row_header_xlsx(tmp_path / "ds.xlsx")
    result = read_export(tmp_path / "ds.xlsx", settings_for(tmp_path))
    assert "header rows 3-5 (3 rows, merged)" in result.layout
    assert result.cases["case_id"].tolist() == ["A-001", "A-003"]
    assert result.cases["sector"].tolist() == ["Đường bộ"] * 2  # merged down over the rows
    assert result.cases["status"].tolist() == [4, 5]
    # "Đã xử lý xong" without an end time is never an open case
    assert result.quarantine[["source_row", "case_id", "field"]].values.tolist() == [[7, "A-002", "status"]]
    assert result.header_map["Bổ sung lần 2 Ngày nhận"] == "supplement_received_at_2"
    sup = result.supplements
    assert sup[["case_id", "seq"]].values.tolist() == [["A-001", 1], ["A-001", 2], ["A-003", 1]]
    assert sup.loc[1, "requested_at"] == pd.Timestamp("2025-03-03 10:00")
    assert_accounted(result)


def test_excel_nfd_text_and_several_sheets(tmp_path):
    header = [nfd(h) for h in ["Mã hồ sơ", "Ngày tiếp nhận", "Hạn xử lý", "Trạng thái", "Phòng xử lý", "Ngày trả"]]
    one = [header, ["A1", "02/01/2025 08:00", "05/01/2025 17:00", nfd("Đang xử lý"), nfd("Phòng Đăng kiểm"), ""]]
    two = [header, ["B1", "03/01/2025 08:00", "06/01/2025 17:00", nfd("Đã trả kết quả"), nfd("Văn phòng"),
                    "06/01/2025 10:00"]]
    write_simple_xlsx(
        tmp_path / "two.xlsx", {"Ghi chú": [["Xuất từ hệ thống một cửa"]], "P1": one, "P2": two}
    )
    result = read_export(tmp_path / "two.xlsx", settings_for(tmp_path))
    assert result.cases["case_id"].tolist() == ["A1", "B1"]
    assert result.cases["unit"].tolist() == ["Phòng Đăng kiểm", "Văn phòng"]
    assert all(unicodedata.is_normalized("NFC", v) for v in result.cases["unit"])
    assert "sheet 'P1': " in result.layout and "sheet 'P2' (source_row = 10,000,000 + row): " in result.layout
    assert result.cases["source_row"].tolist() == [2, 10_000_002]
    assert result.rows_read == 2
    assert_accounted(result)


# ----------------------------------------------------------------------------- CSV
def test_csv_bom_semicolon_codes_stay_text(tmp_path):
    path = write_csv(tmp_path / "ds.csv", CSV_HEADER, csv_rows(), delimiter=";", bom=True)
    result = read_export(path, settings_for(tmp_path))
    assert result.file_format == "csv" and "utf-8-sig" in result.layout and "';'" in result.layout
    assert result.cases["case_id"].tolist() == ["007891", "007892"]
    assert result.cases["procedure_code"].tolist() == ["1.000250", "1.000251"]
    assert result.cases["sector_code"].tolist() == ["001", "001"]
    assert result.cases["channel"].tolist() == [2, 2]
    assert result.cases["status"].tolist() == [10, 2]
    assert result.cases["source_row"].tolist() == [2, 3]
    assert result.quarantine[["source_row", "field", "raw_value", "reason", "case_id"]].values.tolist() == [
        [4, "due_at", "abc", "due_at: cannot read date 'abc'", "007893"]
    ]
    assert result.quarantine.loc[0, "row_values"] == (
        "STT=3; Mã hồ sơ=007893; Mã TTHC=1.000251; Mã lĩnh vực=002; Lĩnh vực=Đăng kiểm; Đơn vị xử lý=Phòng Đăng kiểm; "
        "Hình thức nộp=BCCI; Ngày tiếp nhận=03/01/2025 14:00; Ngày hẹn trả=abc; Trạng thái=Đang xử lý"
    )  # the applicant's phone (a personal-data column) is not among them
    assert_accounted(result)
    assert_no_pii(result)


def test_csv_comma_without_bom_and_export_time_from_file_name(tmp_path):
    path = write_csv(tmp_path / "hoso_20250114_0830.csv", CSV_HEADER, csv_rows())
    result = read_export(path, settings_for(tmp_path))
    assert "(utf-8, ',')" in result.layout
    assert result.exported_at == datetime(2025, 1, 14, 8, 30)
    assert result.period_text is None
    assert result.cases.loc[1, "received_at"] == pd.Timestamp("2025-01-03 08:00")
    assert pd.isna(result.cases.loc[1, "due_at"])
    assert_accounted(result)


def test_csv_nfd_headers_and_values(tmp_path):
    rows = [[nfd(v) for v in row] for row in csv_rows()]
    path = write_csv(tmp_path / "nfd.csv", [nfd(h) for h in CSV_HEADER], rows, delimiter="\t")
    result = read_export(path, settings_for(tmp_path))
    assert result.header_map[unicodedata.normalize("NFC", "Đơn vị xử lý")] == "unit"
    assert result.cases["unit"].tolist() == ["Phòng Quản lý vận tải"] * 2
    assert result.cases["status_text"].tolist() == ["Đã trả kết quả", "Mới tiếp nhận"]
    assert_no_pii(result)


def test_csv_title_lines_above_header(tmp_path):
    above = [
        "SỞ GIAO THÔNG VẬN TẢI",
        "DANH SÁCH HỒ SƠ",
        "Từ ngày 01/01/2025 đến ngày 31/01/2025",
        "Thời điểm xuất: 14:05 15/01/2025",
        "",
    ]
    path = write_csv(tmp_path / "ds.csv", CSV_HEADER, csv_rows(), above=above)
    result = read_export(path, settings_for(tmp_path))
    assert result.cases["source_row"].tolist() == [7, 8]  # physical lines; the header is line 6
    assert result.exported_at == datetime(2025, 1, 15, 14, 5)
    assert result.period_text == "Từ ngày 01/01/2025 đến ngày 31/01/2025"
    assert "header line 6" in result.layout
    assert result.rows_read == 3
    assert_accounted(result)


def test_csv_ragged_multiline_blank_and_repeated_header(tmp_path):
    header = ",".join(["Mã hồ sơ", "Ngày tiếp nhận", "Trạng thái", "Đơn vị xử lý"])
    lines = [
        header,
        'A1,02/01/2025 08:00,Đang xử lý,"Phòng\nĐăng kiểm"',  # lines 2-3
        "",  # line 4
        "A2,03/01/2025 08:00,Đang xử lý,P,extra,fields",  # line 5
        header,  # line 6: header repeated (page break)
        "A3,04/01/2025 08:00,Đã tiếp nhận,P",  # line 7
    ]
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_export(path, settings_for(tmp_path))
    assert result.cases["source_row"].tolist() == [2, 7]
    assert result.cases.loc[0, "unit"] == "Phòng Đăng kiểm"
    assert result.quarantine[["source_row", "field"]].values.tolist() == [[5, "row"]]
    assert dict(zip(result.skipped["source_row"], result.skipped["row_kind"], strict=True)) == {
        4: "blank",
        6: "header",
    }
    assert_accounted(result)


@pytest.mark.parametrize("encoding", ["cp1258", "utf-16"])
def test_csv_other_encodings(tmp_path, encoding):
    text = "\n".join(
        [
            "Mã hồ sơ;Ngày tiếp nhận;Trạng thái;Đơn vị xử lý;Ngày trả kết quả",
            "A1;02/01/2025 08:15;Đã trả kết quả;Phòng Đăng kiểm;03/01/2025 10:00",
        ]
    )
    path = tmp_path / f"{encoding}.csv"
    path.write_bytes(to_cp1258(text) if encoding == "cp1258" else text.encode("utf-16"))
    result = read_export(path, settings_for(tmp_path))
    assert result.cases["unit"].tolist() == ["Phòng Đăng kiểm"]
    assert result.cases["status"].tolist() == [10]


def test_ratings_csv(tmp_path):
    path = write_csv(
        tmp_path / "danh_gia.csv",
        ["Mã hồ sơ", "Thời gian đánh giá", "Mức độ hài lòng", "Người đánh giá", "Số điện thoại"],
        [
            ["007891", "05/01/2025 10:00", nfd("Rất hài lòng"), PII_VALUES[0], PII_VALUES[1]],
            ["007892", "31/13/2025", "Hài lòng", PII_VALUES[0], ""],
            ["007893", "", "Không hài lòng", "", ""],
        ],
        delimiter=";",
        bom=True,
    )
    result = read_export(path, settings_for(tmp_path))
    assert result.kind == "ratings" and result.cases.empty
    assert result.ratings.values.tolist()[0] == [
        "007891",
        pd.Timestamp("2025-01-05 10:00"),
        "Rất hài lòng",
        2,
    ]
    assert result.ratings["rating"].tolist() == ["Rất hài lòng", "Không hài lòng"]
    assert result.quarantine[["source_row", "field", "raw_value"]].values.tolist() == [
        [3, "rated_at", "31/13/2025"]
    ]
    assert_accounted(result)
    assert_no_pii(result)


# ----------------------------------------------------------------------------- JSON
def test_json_sync_with_supplements(tmp_path):
    payload = {
        "NgayXuat": "20250203074500",
        "TuNgay": "20250101",
        "DenNgay": "20250131",
        "data": sync_records(),
    }
    result = read_export(write_json(tmp_path / "sync.json", payload), settings_for(tmp_path))
    assert (result.kind, result.file_format) == ("cases", "json")
    assert result.exported_at == datetime(2025, 2, 3, 7, 45)
    assert result.period_text == "Từ ngày 01/01/2025 đến ngày 31/01/2025"
    cases = result.cases
    assert cases["case_id"].tolist() == ["000.00.20.H55-250101-0001", "000.00.20.H55-250101-0002"]
    assert cases["sector_code"].tolist() == ["001", "001"]
    assert cases["channel"].tolist() == [2, 1] and cases["status"].tolist() == [10, 4]
    assert cases.loc[0, "finished_at"] == pd.Timestamp("2025-01-05 10:00")
    sup = result.supplements
    assert sup[["case_id", "seq"]].values.tolist() == [
        ["000.00.20.H55-250101-0001", 1],
        ["000.00.20.H55-250101-0001", 2],
    ]
    assert sup.loc[0, "new_due_at"] == pd.Timestamp("2025-01-07 17:00")
    assert sup.loc[1, "requested_at"] == pd.Timestamp("2025-01-04 10:00") and pd.isna(
        sup.loc[1, "received_at"]
    )
    assert sorted(result.quarantine["field"]) == ["received_at", "supplement_requested_at"]
    assert set(result.quarantine["source_row"]) == {3}
    assert cases.loc[0, "applicant_hash"] and pd.isna(cases.loc[1, "applicant_hash"])
    assert_accounted(result)
    assert_no_pii(result)


def test_json_lines(tmp_path):
    path = write_json(tmp_path / "sync.jsonl", sync_records(), lines=True)
    path.write_text(path.read_text(encoding="utf-8") + "{broken\n", encoding="utf-8")
    result = read_export(path, settings_for(tmp_path))
    assert result.layout.startswith("json lines")
    assert result.rows_read == 4
    assert result.quarantine.query("source_row == 4")["reason"].tolist() == ["record: invalid JSON line"]
    assert_accounted(result)


def test_json_content_in_a_txt_file_is_sniffed(tmp_path):
    path = tmp_path / "export.txt"
    write_json(path, sync_records()[:1])
    result = read_export(path, settings_for(tmp_path))
    assert result.file_format == "json" and len(result.cases) == 1


def test_json_ratings_and_empty_sync_file(tmp_path):
    ratings = [{"MaHoSo": "X1", "ThoiGianDanhGia": "20250105100000", "MucDoHaiLong": "Hài lòng"}]
    result = read_export(write_json(tmp_path / "r.json", ratings), settings_for(tmp_path))
    assert result.kind == "ratings" and result.ratings["case_id"].tolist() == ["X1"]
    empty = read_export(write_json(tmp_path / "delta.json", []), settings_for(tmp_path))
    assert (empty.kind, empty.rows_read, len(empty.cases)) == ("cases", 0, 0)


# ----------------------------------------------------------------------------- personal data
def test_pii_never_returned_and_hash_is_stable_across_formats(tmp_path):
    settings = settings_for(tmp_path)
    write_report_xlsx(tmp_path / "r.xlsx")
    excel = read_export(tmp_path / "r.xlsx", settings)
    sync = read_export(write_json(tmp_path / "s.json", sync_records()), settings)
    for result in (excel, sync):
        assert_no_pii(result)
        assert result.cases["applicant_hash"].dropna().str.fullmatch(r"[0-9a-f]{64}").all()
    # the same id number (Số CCCD in Excel, ChuHoSo.SoDinhDanh in JSON) gives the same hash
    assert excel.cases.loc[0, "applicant_hash"] == sync.cases.loc[0, "applicant_hash"]


def test_pii_salt_file_is_private_and_setting_wins(tmp_path):
    write_report_xlsx(tmp_path / "r.xlsx")
    first = read_export(tmp_path / "r.xlsx", settings_for(tmp_path))
    salt_file = tmp_path / "warehouse" / ".pii_salt"
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600
    again = read_export(tmp_path / "r.xlsx", settings_for(tmp_path))
    assert first.cases["applicant_hash"].tolist() == again.cases["applicant_hash"].tolist()
    salted = read_export(tmp_path / "r.xlsx", settings_for(tmp_path, pii_salt=SecretStr("bí mật")))
    expected = hashlib.sha256(("bí mật" + "id:" + PII_VALUES[2]).encode()).hexdigest()
    assert salted.cases.loc[0, "applicant_hash"] == expected


# ----------------------------------------------------------------------------- rejected files
def test_rejected_files_have_one_line_reasons(tmp_path):
    settings = settings_for(tmp_path)
    (tmp_path / "corrupt.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "blank.csv").write_bytes(b"\xef\xbb\xbf\n  \n")
    write_simple_xlsx(tmp_path / "nothing.xlsx", {"Sheet": []})
    write_csv(tmp_path / "other.csv", ["Số", "Tên", "Ghi chú"], [["1", "x", "y"]])
    write_csv(tmp_path / "half.csv", ["Mã hồ sơ", "Tên thủ tục"], [["1", "x"]])
    write_json(tmp_path / "numbers.json", [1, 2, 3])
    messages = {}
    for name in (
        "corrupt.xlsx",
        "empty.csv",
        "blank.csv",
        "nothing.xlsx",
        "other.csv",
        "half.csv",
        "numbers.json",
    ):
        with pytest.raises(FileRejected) as caught:
            read_export(tmp_path / name, settings)
        messages[name] = str(caught.value)
        assert "\n" not in messages[name] and messages[name].startswith(name + ": ")
    assert "cannot open as a workbook" in messages["corrupt.xlsx"]
    assert messages["empty.csv"] == "empty.csv: file is empty"
    assert messages["blank.csv"] == "blank.csv: file is empty"
    assert messages["nothing.xlsx"] == "nothing.xlsx: workbook is empty"
    assert (
        messages["other.csv"]
        == "other.csv: header not recognised; missing fields: case_id, received_at, status or due_at"
    )
    assert (
        messages["half.csv"]
        == "half.csv: header not recognised; missing fields: received_at, status or due_at"
    )


# ----------------------------------------------------------------------------- headers and values
def test_detect_kind_and_loose_header_matching():
    assert detect_kind(["Mã hồ sơ", "Ngày tiếp nhận", "Trạng thái"]) == "cases"
    assert detect_kind(["MA_HO_SO", "NGAY TIEP NHAN", "Han xu ly"]) == "cases"
    assert detect_kind([nfd("Số hồ sơ"), "Ngày nhận", "Ngày hẹn trả"]) == "cases"
    assert detect_kind(["MaHoSo", "MucDoHaiLong", "ThoiGianDanhGia"]) == "ratings"
    assert detect_kind(["Mã hồ sơ", "Ghi chú"]) is None


def test_user_adds_a_synonym_without_code(tmp_path):
    custom = tmp_path / "synonyms.toml"
    shutil.copy(DEFAULT_SYNONYMS_FILE, custom)
    text = custom.read_text(encoding="utf-8").replace('"Mã biên nhận",', '"Mã biên nhận", "Số phiếu hẹn",', 1)
    custom.write_text(text, encoding="utf-8")
    path = write_csv(
        tmp_path / "x.csv", ["Số phiếu hẹn", "Ngày tiếp nhận", "Trạng thái"], [["P1", "02/01/2025", "4"]]
    )
    with pytest.raises(FileRejected):
        read_export(path, settings_for(tmp_path))
    result = read_export(path, settings_for(tmp_path, header_synonyms_file=custom))
    assert result.cases["case_id"].tolist() == ["P1"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Đã trả kết quả", 10),
        ("ĐÃ TRẢ", 10),
        ("Hoàn thành", 10),
        ("da tra ket qua", 10),
        (nfd("Đã trả"), 10),
        ("Đã trả kết quả (trước hạn)", 10),
        ("Đang xử lý", 4),
        ("Đang xử lý - quá hạn", 4),
        ("Chờ bổ sung", 5),
        ("Yêu cầu bổ sung", 5),
        ("Rút hồ sơ", 7),
        ("Công dân rút hồ sơ", 7),
        ("Dừng xử lý", 8),
        ("Từ chối", 8),
        ("Đã xử lý xong", 9),
        ("Mới đăng ký", 1),
        ("Được tiếp nhận", 2),
        ("Đã tiếp nhận", 2),
        ("Không được tiếp nhận", 3),
        ("6", 6),
        ("10.0", 10),
        ("Chờ phê duyệt lại", None),
        ("Đã trả lại hồ sơ", None),
    ],
)
def test_status_names(text, code):
    assert load_status_map().status.lookup(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Trực tiếp", 1),
        ("Trực tuyến", 2),
        ("Qua mạng", 2),
        ("Dịch vụ công trực tuyến", 2),
        ("Bưu chính", 3),
        ("Bưu chính công ích", 3),
        ("BCCI", 3),
        ("2", 2),
        ("Fax", None),
    ],
)
def test_channel_names(text, code):
    assert load_status_map().channel.lookup(text) == code


def test_date_parsing_formats_and_problems():
    texts = [
        "02/01/2025 08:15",
        "2/1/2025 8:15:00",
        "02/01/2025",
        "20250102081500",
        "2025-01-02T08:15:00",
        "08:15 02/01/2025",
        "02-01-2025 8h15",
        "2025-01-02T01:15:00Z",
        "01/01/0001 00:00",
        "",
        "-",
        "31/02/2025",
        "abc",
        "01/02/2205",
    ]
    parsed = parse_datetimes(pd.Series(texts, dtype="str"))
    values = parsed.values.tolist()
    assert (
        values[:8]
        == [pd.Timestamp("2025-01-02 08:15")] * 2
        + [pd.Timestamp("2025-01-02")]
        + [pd.Timestamp("2025-01-02 08:15")] * 5
    )
    assert pd.isna(values[8]) and not parsed.bad[8]  # .NET "no date" is empty, not an error
    assert parsed.bad.tolist() == [False] * 11 + [True] * 3
    assert parsed.reasons[11] == "cannot read date" and parsed.reasons[13] == "date out of range"
    assert parsed.raw == {11: "31/02/2025", 12: "abc", 13: "01/02/2205"}
    more = ["02/01/25 08:15", "/Date(1735780500000+0700)/", "1735780500", "02/01/2025 8:15 CH", "29/02/23"]
    parsed = parse_datetimes(pd.Series(more, dtype="str"))
    assert parsed.values.tolist()[:3] == [pd.Timestamp("2025-01-02 08:15")] * 3  # 2-digit year, .NET, Unix
    assert parsed.values.tolist()[3] == pd.Timestamp("2025-01-02 20:15")  # CH = chiều (p.m.)
    assert parsed.bad.tolist() == [False, False, False, False, True]  # 29/02/2023 does not exist
    cells = pd.Series([45659.34375, datetime(2025, 1, 2, 8, 15), 20250102081500, None, np.nan], dtype=object)
    parsed = parse_datetimes(cells)
    assert parsed.values.tolist()[:3] == [pd.Timestamp("2025-01-02 08:15")] * 3
    assert not parsed.bad.any()


def test_a_large_csv_reads_fast(tmp_path):
    rows = 100_000
    frame = pd.DataFrame(
        {
            "Mã hồ sơ": [f"H55-{i:07d}" for i in range(rows)],
            "Ngày tiếp nhận": pd.date_range("2025-01-01", periods=rows, freq="min").strftime(
                "%d/%m/%Y %H:%M"
            ),
            "Ngày hẹn trả": "10/03/2025 17:00",
            "Trạng thái": np.where(np.arange(rows) % 3, "Đã trả kết quả", "Đang xử lý"),
            "Ngày trả kết quả": np.where(np.arange(rows) % 3, "11/03/2025 09:00", ""),
            "Chủ hồ sơ": [f"Người {i}" for i in range(rows)],
        }
    )
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    result = read_export(path, settings_for(tmp_path))  # its speed is measured by `make bench`, not here
    assert len(result.cases) == rows and result.quarantine.empty


def test_total_row_with_a_date_and_two_cell_group_are_not_cases(tmp_path):
    header = ["STT", "Mã hồ sơ", "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái"]
    rows = [
        ["I.", "Phòng Quản lý vận tải", "", "", ""],  # a group row in two cells, before any case
        ["1", "A1", "02/01/2025 08:00", "05/01/2025 17:00", "Đang xử lý"],
        ["", "Tổng cộng", "31/01/2025", "", "1 hồ sơ"],
    ]
    result = read_export(write_csv(tmp_path / "t.csv", header, rows), settings_for(tmp_path))
    assert result.cases["case_id"].tolist() == ["A1"]
    assert dict(zip(result.skipped["source_row"], result.skipped["row_kind"], strict=True)) == {
        2: "group",
        4: "total",
    }
    assert_accounted(result)
