"""The header model (DESIGN §8.1) and the value rules behind it: headers compose in either order, generic
"Ngày"/"Giờ" sub-headers name a part of their group's field and the parts combine; datetimes in every
written form; case ids checked for shape; ambiguous state wordings quarantined until the status mapping
file maps them for a source; personal data masked in every free text the reader keeps."""

from __future__ import annotations

import shutil
from datetime import datetime, time

import pandas as pd
import pytest
from fixtures_exports import settings_for, write_csv, write_simple_xlsx

from pipeline.ingest import read_export
from pipeline.ingest.headers import load_synonyms, read_column
from pipeline.ingest.personal import MASK, mask_personal_data
from pipeline.ingest.status_map import DEFAULT_STATUS_MAP_FILE, load_status_map
from pipeline.ingest.values import check_case_id, parse_datetimes, parse_times

T = pd.Timestamp


# ----------------------------------------------------------------------------- headers compose
@pytest.mark.parametrize(
    ("parts", "field", "part"),
    [
        (["Nhận hồ sơ", "Ngày"], "received_at", "datetime"),  # group over a generic sub-header
        (["Nhận hồ sơ", "Giờ"], "received_at", "time"),
        (["Ngày", "Tiếp nhận"], "received_at", "datetime"),  # the generic word on top
        (["Hẹn trả kết quả", "Giờ"], "due_at", "time"),  # not the group alone ("Hẹn trả kết quả" = due_at)
        (["Trả kết quả", "Ngày, giờ"], "returned_at", "datetime"),
        (["Trả kết quả", "Ngày/tháng/năm"], "returned_at", "datetime"),
        (["Thời gian", "Hẹn trả"], "due_at", "datetime"),
        (["Yêu cầu bổ sung lần 2", "Giờ"], "supplement_requested_at", "time"),
        (["Giờ tiếp nhận"], "received_at", "time"),  # one header naming the time part
        (["Kết quả", "Ngày trả"], "returned_at", "datetime"),
        (["Thời gian giải quyết", "Ngày tiếp nhận"], "received_at", "datetime"),
        (["Yêu cầu bổ sung", "Ngày nhận"], "supplement_received_at", "datetime"),  # not received_at
    ],
)
def test_group_and_sub_header_compose(parts, field, part):
    reading = read_column(load_synonyms(), parts)
    assert (reading.match.target if reading.match else None, reading.part) == (field, part)


def test_a_generic_sub_header_alone_names_nothing():
    reading = read_column(load_synonyms(), ["Giờ"])
    assert reading.match is None and reading.generic_only


def test_logbook_groups_over_date_and_time_columns_combine(tmp_path):
    """Mẫu 06: "Nhận hồ sơ", "Hẹn trả kết quả", "Trả kết quả" over "Ngày" and "Giờ"; no "Giờ" is lost."""
    top = ["TT", "Mã hồ sơ", "Nhận hồ sơ", "", "Hẹn trả kết quả", "", "Trả kết quả", "", "", "Trạng thái"]
    sub = ["", "", "Ngày", "Giờ", "Ngày", "Giờ", "Ngày", "Giờ", "Ký nhận", ""]
    rows = [
        [1, "A-1", "03/03/2025", "14h35", "07/03/2025", time(16, 0), "06/03/2025", 0.4375, "", "Đã trả kết quả"],
        [2, "A-2", datetime(2025, 3, 4), "8 giờ 05", "10/03/2025", "17:00", "", "", "", "Đang xử lý"],
    ]
    path = write_simple_xlsx(tmp_path / "so.xlsx", {"Sổ": [top, sub, *rows]})
    result = read_export(path, settings_for(tmp_path))
    cases = result.cases.set_index("case_id")
    assert cases.loc["A-1", "received_at"] == T("2025-03-03 14:35")
    assert cases.loc["A-1", "due_at"] == T("2025-03-07 16:00")  # a time cell
    assert cases.loc["A-1", "returned_at"] == T("2025-03-06 10:30")  # an Excel day fraction
    assert cases.loc["A-2", "received_at"] == T("2025-03-04 08:05")
    assert pd.isna(cases.loc["A-1", "time_unknown"])
    fates = result.column_fates.set_index("header")
    assert fates.loc["Nhận hồ sơ / Giờ", ["fate", "field"]].tolist() == ["mapped", "received_at"]
    assert fates.loc["Trả kết quả / Ký nhận", "fate"] == "ignored"
    assert result.header_map["Ngày Nhận hồ sơ"] == "received_at"


def test_agency_is_not_the_unit_when_a_unit_column_exists(tmp_path):
    header = ["Mã hồ sơ", "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái", "Cơ quan chủ trì giải quyết"]
    row = ["A-1", "03/03/2025 08:00", "07/03/2025 17:00", "Đang xử lý", "Sở Giao thông vận tải"]
    alone = read_export(write_csv(tmp_path / "a.csv", header, [row]), settings_for(tmp_path))
    assert alone.cases["unit"].tolist() == ["Sở Giao thông vận tải"]
    assert alone.cases["agency"].isna().all()
    fate = alone.column_fates.set_index("header").loc["Cơ quan chủ trì giải quyết"]
    assert [fate["fate"], fate["field"]] == ["mapped", "unit"]
    both = read_export(write_csv(tmp_path / "b.csv", [*header, "Phòng xử lý"], [[*row, "Phòng Đăng kiểm"]]),
                       settings_for(tmp_path))
    assert both.cases["unit"].tolist() == ["Phòng Đăng kiểm"]
    assert both.cases["agency"].tolist() == ["Sở Giao thông vận tải"]
    fate = both.column_fates.set_index("header").loc["Cơ quan chủ trì giải quyết"]
    assert [fate["fate"], fate["field"]] == ["mapped", "agency"]


def test_a_second_column_of_a_field_is_ignored_with_its_reason(tmp_path):
    header = ["Mã hồ sơ", "Ngày tiếp nhận", "Ngày nhận", "Ngày hẹn trả", "Trạng thái", "Ghi chú"]
    row = ["A-1", "03/03/2025 08:00", "04/03/2025 08:00", "07/03/2025 17:00", "Đang xử lý", "gọi lại"]
    result = read_export(write_csv(tmp_path / "a.csv", header, [row]), settings_for(tmp_path))
    fates = result.column_fates.set_index("header")
    assert fates.loc["Ngày nhận", "fate"] == "ignored"
    assert "column 2 'Ngày tiếp nhận'" in fates.loc["Ngày nhận", "note"]
    assert fates.loc["Ghi chú", "fate"] == "ignored"
    assert result.cases["received_at"].tolist() == [T("2025-03-03 08:00")]


# ----------------------------------------------------------------------------- values
def test_datetime_text_in_every_written_form():
    texts = {
        "05/04/2025 14:35": T("2025-04-05 14:35"),
        "05/04/2025 14:35:20": T("2025-04-05 14:35:20"),
        "14:35 05/04/2025": T("2025-04-05 14:35"),
        "14:35, 05/04/2025": T("2025-04-05 14:35"),
        "14h35 05/04/2025": T("2025-04-05 14:35"),
        "2025-04-05T14:35:00": T("2025-04-05 14:35"),
        "20250405143500": T("2025-04-05 14:35"),
        "ngày 05 tháng 4 năm 2025": T("2025-04-05"),
        "Ngày 5 tháng 04 năm 2025 lúc 8 giờ 05": T("2025-04-05 08:05"),
        "14 giờ 35 phút, ngày 05 tháng 04 năm 2025": T("2025-04-05 14:35"),
    }
    parsed = parse_datetimes(pd.Series(list(texts), dtype="str"))
    assert dict(zip(texts, parsed.values.tolist(), strict=True)) == texts
    assert not parsed.bad.any()


def test_day_comes_before_month_unless_the_column_proves_otherwise():
    day_first = parse_datetimes(pd.Series(["04/05/2025", "13/05/2025"], dtype="str")).values.tolist()
    assert day_first == [T("2025-05-04"), T("2025-05-13")]
    month_first = parse_datetimes(pd.Series(["04/05/2025", "04/25/2025 08:00"], dtype="str")).values.tolist()
    assert month_first == [T("2025-04-05"), T("2025-04-25 08:00")]
    # a value that fits neither reading of a day-first column is unreadable, not guessed
    mixed = parse_datetimes(pd.Series(["13/05/2025", "05/25/2025"], dtype="str"))
    assert mixed.bad.tolist() == [False, True]


def test_times_of_day_in_every_written_form():
    values = ["14:35", "14h35", "14 giờ 35", "14g35", "14 giờ 35 phút", "2:35 CH", 0.6076388889, time(14, 35),
              "14:35:00"]
    parsed = parse_times(pd.Series(values, dtype=object))
    assert (parsed.micros // 60_000_000).tolist() == [14 * 60 + 35] * len(values)
    broken = parse_times(pd.Series(["25:00", "abc", None, ""], dtype=object))
    assert broken.bad.tolist() == [True, True, False, False]
    assert broken.raw == {0: "25:00", 1: "abc"}


# ----------------------------------------------------------------------------- case ids
@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("000.00.19.H42-250101-0001", "000.00.19.H42-250101-0001"),
        ("H42.19-250101-0001", "H42.19-250101-0001"),
        ("007891", "007891"),
        ("2501010001", "2501010001"),
        ("123456.0", "123456"),  # a whole number Excel wrote as a float
        ("TRUE", None),
        ("FALSE", None),
        ("-1", None),
        ("0", None),
        ("000", None),
        ("1e+308", None),
        ("2.50101E+09", None),
        ("nan", None),
        ("#N/A", None),
        ("Hồ sơ của ông Nam", None),
        ("ABC", None),
    ],
)
def test_case_ids_are_checked_for_shape(text, kept):
    found, reason = check_case_id(text)
    assert found == kept
    assert (reason is None) == (kept is not None)


def test_rejected_case_ids_are_quarantined_with_their_reason(tmp_path):
    header = ["Mã hồ sơ", "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái"]
    rows = [[v, "03/03/2025 08:00", "07/03/2025 17:00", "Đang xử lý"] for v in ("TRUE", "1e+308", "A-1", "123.0")]
    result = read_export(write_csv(tmp_path / "a.csv", header, rows), settings_for(tmp_path))
    assert result.cases["case_id"].tolist() == ["A-1", "123"]
    q = result.quarantine
    assert q["raw_value"].tolist() == ["TRUE", "1e+308"]
    assert q["reason"].str.startswith("case_id: not a case code").all()
    assert q["case_id"].isna().all()


# ----------------------------------------------------------------------------- states
def test_ambiguous_wording_is_quarantined_until_mapped_for_its_source(tmp_path):
    header = ["Mã hồ sơ", "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày kết thúc xử lý", "Trạng thái"]
    rows = [["A-1", "03/03/2025 08:00", "07/03/2025 17:00", "05/03/2025 10:00", "Trả lại hồ sơ"],
            ["A-2", "03/03/2025 08:00", "07/03/2025 17:00", "", "Đang giải quyết"]]
    path = write_csv(tmp_path / "mot_cua_huyen_a.csv", header, rows)
    result = read_export(path, settings_for(tmp_path))
    assert result.cases["case_id"].tolist() == ["A-2"]
    assert result.quarantine["reason"].tolist() == [
        "status: trạng thái không rõ nghĩa: 'Trả lại hồ sơ'; thêm vào tệp ánh xạ trạng thái (status_map.toml) "
        "nghĩa của nó cho nguồn này"
    ]
    assert result.quarantine["case_id"].tolist() == ["A-1"]
    custom = tmp_path / "status_map.toml"
    shutil.copy(DEFAULT_STATUS_MAP_FILE, custom)
    with custom.open("a", encoding="utf-8") as handle:
        handle.write('\n[[sources]]\nname = "Một cửa huyện A"\nfiles = ["*huyen_a*"]\n'
                     '[sources.status_names]\n8 = ["Trả lại hồ sơ"]\n')
    mapped = read_export(path, settings_for(tmp_path, status_map_file=custom))
    assert mapped.cases["status"].tolist() == [8, 4] and mapped.quarantine.empty
    other = write_csv(tmp_path / "mot_cua_huyen_b.csv", header, rows)
    assert read_export(other, settings_for(tmp_path, status_map_file=custom)).cases["case_id"].tolist() == ["A-2"]


def test_status_map_file_is_versioned_and_knows_the_common_wordings():
    statuses = load_status_map()
    assert statuses.version >= 1
    wordings = {"Đang giải quyết": 4, "Chờ bổ sung": 5, "Đã giải quyết": 9, "Hoàn thành": 10,
                "Đã trả kết quả (trước hạn)": 10, "10": 10, "10.0": 10}
    assert {text: statuses.status.lookup(text) for text in wordings} == wordings
    for text in ("Trả lại hồ sơ", "Trả lại", "Hủy"):
        assert statuses.status.lookup(text) is None and statuses.status.is_ambiguous(text)


# ----------------------------------------------------------------------------- personal data
def test_mask_personal_data():
    assert mask_personal_data("Đang xử lý - đã gọi 0912345678") == f"Đang xử lý - đã gọi {MASK}"
    assert MASK in mask_personal_data("+84 912.345.678") and "912" not in mask_personal_data("+84 912.345.678")
    assert mask_personal_data("ĐT (0255) 3822 123") == f"ĐT {MASK}"
    assert mask_personal_data("CCCD 079123456789, CMND 212345678") == f"CCCD {MASK}, CMND {MASK}"
    assert mask_personal_data("gửi bimat@example.vn") == f"gửi {MASK}"
    assert mask_personal_data("bà Nguyễn Thị Hoa đã nhận") == f"bà {MASK} đã nhận"
    assert mask_personal_data("chủ hồ sơ nguyễn văn an", ["Nguyễn Văn An"]) == f"chủ hồ sơ {MASK}"
    for kept in ("000.00.19.H42-250101-0001", "2501010001", "05/04/2025 14:35", "20250405143500", "1.000250",
                 "Tổng cộng: 8 hồ sơ"):
        assert mask_personal_data(kept) == kept


PLANTED = ("0912345678", "Phạm Thị Riêng", "079123456789", "rieng@example.vn", "0987654321", "0905 111 222")


def test_no_personal_data_survives_in_any_output_frame(tmp_path):
    header = ["Mã hồ sơ", "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày trả kết quả", "Trạng thái", "Chủ hồ sơ",
              "Liên hệ khác"]
    rows = [
        ["A-1", "03/03/2025 08:00", "07/03/2025 17:00", "", "Đang xử lý - đã gọi 0912345678", "Phạm Thị Riêng",
         "rieng@example.vn"],
        ["Ghi chú: bà Phạm Thị Riêng, CCCD 079123456789, nhận thay", "", "", "", "", "", ""],  # a note row
        ["A-2", "0987654321", "07/03/2025 17:00", "", "Đang xử lý", "Phạm Thị Riêng", "rieng@example.vn"],
        ["A-3", "03/03/2025 08:00", "07/03/2025 17:00", "", "Đã trả kết quả", "Phạm Thị Riêng",
         "Phạm Thị Riêng 0905 111 222"],
    ]
    result = read_export(write_csv(tmp_path / "a.csv", header, rows), settings_for(tmp_path))
    assert result.cases["case_id"].tolist() == ["A-1"]
    assert result.cases["status_text"].tolist() == [f"Đang xử lý - đã gọi {MASK}"]
    assert set(result.quarantine["case_id"]) == {"A-2", "A-3"}  # a phone in a date cell; resolved, no end
    assert len(result.skipped) == 1
    assert result.column_fates.set_index("header").loc["Liên hệ khác", "fate"] == "unmapped"
    texts = []
    for frame in (result.cases, result.supplements, result.ratings, result.quarantine, result.skipped,
                  result.column_fates, result.findings):
        texts += [str(v) for v in frame.astype(object).to_numpy().ravel()]
    joined = "\n".join(texts)
    assert [value for value in PLANTED if value in joined] == []
    assert MASK in joined


# ----------------------------------------------------------------------------- tthc inspect
def test_inspect_shows_fates_parsed_rows_and_quarantine(tmp_path):
    from io import StringIO

    from pipeline.ingest.inspect import inspect_exports

    header = ["STT", "Mã hồ sơ", "Ngày tiếp nhận", "Giờ tiếp nhận", "Ngày hẹn trả", "Trạng thái", "Chủ hồ sơ",
              "Ngày đồng bộ"]
    rows = [["1", "A-1", "03/03/2025", "14h35", "07/03/2025 17:00", "Đang xử lý", "Phạm Thị Riêng", "30/04/2025"],
            ["2", "A-2", "03/03/2025", "08:00", "07/03/2025 17:00", "Hủy", "Phạm Thị Riêng", "30/04/2025"]]
    (tmp_path / "raw").mkdir()
    good = write_csv(tmp_path / "raw" / "hs_20250430_1800.csv", header, rows)
    broken = tmp_path / "raw" / "other.csv"
    broken.write_text("Cột A,Cột B\n1,2\n", encoding="utf-8")
    out = StringIO()
    assert inspect_exports([good], settings_for(tmp_path), out=out) == 0
    text = out.getvalue()
    assert "export time: 30/04/2025 18:00 (from file name)" in text
    assert "Giờ tiếp nhận" in text and "time of day of received_at" in text
    assert "03/03/2025 14:35" in text  # the date and the time column combined
    assert "trạng thái không rõ nghĩa: 'Hủy'" in text
    assert "'Ngày đồng bộ' holds dates but maps to no field" in text
    assert "Phạm Thị Riêng" not in text
    out = StringIO()
    assert inspect_exports([tmp_path / "raw"], settings_for(tmp_path), out=out) == 1
    assert "rejected: other.csv: header not recognised" in out.getvalue()


def test_inspect_rejects_a_file_whose_checks_cannot_run(tmp_path, monkeypatch):
    """A check that raises rejects the file with a one-line reason naming it; the command does not crash."""
    from io import StringIO

    from pipeline.ingest import check
    from pipeline.ingest.inspect import inspect_exports

    def broken_checks(items, settings):
        raise RuntimeError("suite file unreadable\nsecond line of the error")

    monkeypatch.setattr(check, "check_reads", broken_checks)
    header = ["STT", "Mã hồ sơ", "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái"]
    good = write_csv(tmp_path / "hs_20250430_1800.csv", header,
                     [["1", "A-1", "03/03/2025 08:00", "07/03/2025 17:00", "Đang xử lý"]])
    out = StringIO()
    assert inspect_exports([good], settings_for(tmp_path), out=out) == 1
    text = out.getvalue()
    assert "kind: cases" in text  # how the file was read is still shown
    rejected = [line for line in text.splitlines() if line.startswith("rejected: ")]
    assert rejected == [f"rejected: {good}: checks could not run (RuntimeError: suite file unreadable)"], text
