"""Reading directive and PAKN exports: the declarations drive the reader (file kinds, dependent and companion
records, code tables), deadlines that are not dates are kept as words, personal data and complaint texts are
dropped, titles are masked, and every row read is accounted for."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from fixtures_exports import settings_for, write_csv
from records_fixtures import COMPLAINT, SENDERS, write_directive_exports, write_feedback_exports

from pipeline.ingest.headers import DEFAULT_SYNONYMS_FILE, detect_kind, load_synonyms
from pipeline.ingest.readers import read_export
from pipeline.records import FAMILIES, FILE_KINDS, RECORDS, raw_table_ddl


def test_synonym_sections_name_only_family_fields_and_every_field_has_names():
    data = tomllib.loads(DEFAULT_SYNONYMS_FILE.read_text(encoding="utf-8"))
    for family in ("directive", "feedback"):
        section = data[FAMILIES[family].section]
        assert set(section) == set(FAMILIES[family].sources), family
        assert all(spec.get("names") for spec in section.values())
    syn = load_synonyms()
    for record in ("directive", "feedback"):
        for field in RECORDS[record].fields:
            if field.type == "state":  # every coded field of a record has its code table
                assert syn.code_table(record, field.name) is not None, field.name
    assert "free_text" in data["pii"]


def test_raw_tables_follow_the_declarations():
    ddl = raw_table_ddl(RECORDS["directive_extension"])
    assert ddl.startswith("create table raw.directive_extension_row (task_id varchar, extension_seq integer,")
    assert "title varchar" in raw_table_ddl(RECORDS["feedback"]) and "sender_hash varchar" in raw_table_ddl(RECORDS["feedback"])


@pytest.mark.parametrize("headers, kind", [
    (["Số hiệu nhiệm vụ", "Trích yếu", "Ngày giao", "Đơn vị chủ trì", "Hạn xử lý", "Trạng thái"], "directives"),
    (["ID", "Tên nhiệm vụ", "Ngày tạo", "Thời hạn hoàn thành", "Tình trạng"], "directives"),
    (["Mã nhiệm vụ", "Lần gia hạn", "Hạn cũ", "Hạn mới", "Lý do gia hạn"], "directive_extensions"),
    (["Mã PAKN", "Tiêu đề", "Người gửi", "Ngày gửi", "Ngày tiếp nhận", "Trạng thái", "Ngày trả lời"], "feedback"),
    (["Mã phản ánh", "Nội dung", "Ngày gửi", "Tình trạng"], "feedback"),
    (["Mã hồ sơ", "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái"], "cases"),
])
def test_file_kinds(headers, kind):
    assert detect_kind(headers) == kind


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    raw = tmp_path_factory.mktemp("records_readers")
    write_directive_exports(raw)
    write_feedback_exports(raw)
    return raw


def test_task_report_with_its_extension_history_sheet(exports, tmp_path):
    result = read_export(exports / "nhiem_vu" / "bao_cao_nhiem_vu_quy_I_2025.xlsx", settings_for(tmp_path))
    assert result.kind == "directives" and FILE_KINDS["directives"].companions == ("directive_extensions",)
    tasks, extensions = result.rows("directive"), result.rows("directive_extension")
    assert tasks["task_id"].tolist() == ["D1", "D2", "D6", "D5", "D7", "D8", "D9"]
    assert tasks.set_index("task_id").loc["D8", "status"] == 5  # "Từ chối nhiệm vụ"
    # D2's extension from the task list's columns (its row) and from the history sheet (a row of sheet 2)
    assert extensions["task_id"].tolist() == ["D2", "D2"]
    assert extensions["source_row"].tolist() == [13, 10_000_002]
    assert extensions["extension_seq"].tolist()[1] == 1 and pd.isna(extensions["extension_seq"].iloc[0])
    assert "sheet 'Lịch sử gia hạn'" in result.layout
    # every row read is a record, quarantined or a layout row
    assert result.rows_read == len(result.row_records) + len(result.quarantine) + len(result.skipped)
    assert result.exported_at.strftime("%d/%m/%Y %H:%M") == "05/04/2025 08:00"


def test_deadlines_that_are_not_dates_are_kept_as_words(exports, tmp_path):
    result = read_export(exports / "nhiem_vu" / "giao_viec_2025-06-30.csv", settings_for(tmp_path))
    tasks = result.primary.set_index("task_id")
    assert result.quarantine.empty
    assert pd.isna(tasks.loc["D3", "deadline"]) and tasks.loc["D3", "deadline_text"] == "01/01/1970"
    assert pd.isna(tasks.loc["D4", "deadline"]) and tasks.loc["D4", "deadline_text"] == "quý IV/2025"
    assert tasks.loc["D1", "title"].endswith("...") and tasks.loc["D1", "status"] == 3


def test_feedback_list_drops_senders_and_complaints(exports, tmp_path):
    result = read_export(exports / "pakn" / "danh_sach_pakn_quy_I.xlsx", settings_for(tmp_path))
    assert result.kind == "feedback"
    assert {result.header_map[h] for h in ("Người gửi", "Số điện thoại", "Email", "Địa chỉ", "Nội dung phản ánh")} == {
        "applicant_name", "applicant_phone", "applicant_email", "applicant_address", "free_text"}
    rows = result.primary.set_index("feedback_id")
    assert list(result.primary.columns) == list(RECORDS["feedback"].columns)
    text = result.primary.astype(str).to_string() + result.skipped.to_string()
    for values in SENDERS.values():
        assert not any(v in text for v in values)
    assert COMPLAINT.format(key="X")[:30] not in text
    assert rows.loc["P4", "title"] == "Phản ánh của bà [đã ẩn] về việc chậm trả kết quả"
    assert (rows.loc["P4", "reaction"], rows.loc["P4", "dislikes"]) == (2, 2)
    assert (rows.loc["P7", "handling"], rows.loc["P7", "status"]) == (3, 6)
    assert bool(rows.loc["P5b", "repeated"]) and not bool(rows.loc["P5a", "repeated"])
    assert rows.loc["P5a", "sender_hash"] == rows.loc["P5b", "sender_hash"] != rows.loc["P6", "sender_hash"]


def test_unknown_wording_of_a_coded_field_is_quarantined(tmp_path):
    path = write_csv(tmp_path / "pakn.csv", ["Mã PAKN", "Ngày tiếp nhận", "Trạng thái", "Đánh giá của người gửi"],
                     [["A1", "03/03/2025 09:00", "Đã trả lời", "Rất tệ"], ["A2", "03/03/2025 09:00", "Đang xử lý", ""]])
    result = read_export(Path(path), settings_for(tmp_path))
    assert result.quarantine[["source_row", "field", "raw_value", "reason"]].values.tolist() == [
        [2, "reaction", "Rất tệ", "reaction: unknown reaction 'Rất tệ'"]]
    assert result.primary["feedback_id"].tolist() == ["A2"]
