"""The warning list: per unit, most urgent first, Vietnamese, no personal data; HTML and CSV outputs.

The warehouse is built by the real SQL from the five open cases of ``marts_fixtures.add_warning_cases``
(hours left and warning kinds derived there by hand)."""

from __future__ import annotations

import csv
from datetime import datetime

import pytest
from marts_fixtures import NO_UNIT, UNIT_A, UNIT_B, WARNING_AS_OF, Warehouse, add_warning_cases

from pipeline.cli import main
from pipeline.report.warnings import format_time_left, load_warnings, print_warnings, write_warning_reports


@pytest.fixture
def settings(tmp_path):
    return add_warning_cases(Warehouse.under(tmp_path, WARNING_AS_OF)).save_as_settings_warehouse()


@pytest.mark.parametrize(("hours", "overdue", "text"), [
    (3.5, False, "còn 3,5 giờ làm việc"),
    (12, False, "còn 12 giờ làm việc (1,5 ngày)"),
    (0.25, False, "còn 15 phút làm việc"),
    (-12, True, "quá hạn 12 giờ làm việc (1,5 ngày)"),
    (-1.5, True, "quá hạn 1,5 giờ làm việc"),
    (0, True, "vừa quá hạn"),
    (-1234.5, True, "quá hạn 1.234,5 giờ làm việc (154,3 ngày)"),
    (None, None, "–"),
])
def test_time_left_in_vietnamese(hours, overdue, text):
    assert format_time_left(hours, 8.0, overdue) == text


def test_grouped_per_unit_by_urgency_one_entry_per_case(settings):
    warnings = load_warnings(settings)
    assert [u.unit for u in warnings.units] == [NO_UNIT, UNIT_B, UNIT_A]
    unit_a = warnings.unit(UNIT_A)
    assert [c.case_id for c in unit_a.cases] == ["H55-0007", "H55-0012", "H55-0015"]
    assert [c.rank for c in unit_a.cases] == [1, 2, 3]
    first = unit_a.cases[0]
    assert first.kinds == ["overdue", "apology_missing"]
    assert first.time_left == "quá hạn 60 giờ làm việc (7,5 ngày)"
    assert unit_a.counts == {"overdue": 1, "apology_missing": 1, "apology_due": 1, "due_soon": 2}
    assert warnings.as_of_text == "24:00 ngày 31/03/2025"


def test_narrower_window_drops_due_soon_only(settings):
    warnings = load_warnings(settings, within_hours=4)
    unit_a = warnings.unit(UNIT_A)
    assert [c.case_id for c in unit_a.cases] == ["H55-0007", "H55-0012", "H55-0015"]
    assert unit_a.cases[2].kinds == ["apology_due"]  # still due for an apology, no longer "due soon"
    assert unit_a.counts["due_soon"] == 1


def test_print_warnings(settings, capsys):
    assert print_warnings(settings, within_hours=8) == 0
    out = capsys.readouterr().out
    assert "CẢNH BÁO HỒ SƠ THỦ TỤC HÀNH CHÍNH" in out
    assert f"== {UNIT_A}: 3 hồ sơ (1 quá hạn, 1 chưa xin lỗi, 1 cần xin lỗi, 2 sắp đến hạn)" in out
    assert out.index("H55-0007") < out.index("H55-0012") < out.index("H55-0015")
    assert "còn 3,5 giờ làm việc" in out
    assert "quá hạn 1,5 giờ làm việc" in out


def test_cli_warnings(settings, capsys):
    code = main(["warnings", "--warehouse", str(settings.warehouse), "--within-hours", "8"])
    assert code == 0
    assert "H55-0012" in capsys.readouterr().out


def test_cli_warnings_without_warehouse(tmp_path, capsys):
    code = main(["warnings", "--warehouse", str(tmp_path / "none.duckdb")])
    assert code != 0
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no warehouse" in err


def test_no_warnings(tmp_path, capsys):
    house = Warehouse.under(tmp_path, WARNING_AS_OF)
    house.case("DONE-1", "2025-03-24 08:00", "2025-03-28 08:00", finished="2025-03-26 10:00")
    settings = house.save_as_settings_warehouse()
    assert print_warnings(settings, 8) == 0
    assert "Không có hồ sơ nào cần cảnh báo." in capsys.readouterr().out
    index, table = write_warning_reports(settings)
    assert "Không có hồ sơ nào cần cảnh báo." in index.read_text(encoding="utf-8")
    assert table.read_bytes().startswith(b"\xef\xbb\xbf")


def test_html_and_csv(settings):
    index, table = write_warning_reports(settings)
    assert index == settings.reports_dir / "warnings" / "index.html"
    html = index.read_text(encoding="utf-8")
    assert '<html lang="vi">' in html
    assert '<section id="phong-quan-ly-van-tai">' in html and f"<h2>{UNIT_A}</h2>" in html
    assert "&lt;công trình&gt; &amp; đấu nối" in html  # autoescaped
    assert "<công trình>" not in html
    assert "http://" not in html and "https://" not in html  # offline: nothing fetched
    assert "còn 3,5 giờ làm việc" in html

    raw = table.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with a BOM
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert len(rows) == 5
    assert [(r["Đơn vị"], r["Mã hồ sơ"]) for r in rows] == [
        (NO_UNIT, "X-1"), (UNIT_B, "HT-000123"), (UNIT_A, "H55-0007"), (UNIT_A, "H55-0012"), (UNIT_A, "H55-0015")]
    by_case = {r["Mã hồ sơ"]: r for r in rows}
    assert by_case["H55-0007"]["Cảnh báo"] == "Quá hạn; Chưa có văn bản xin lỗi, hẹn lại"
    assert by_case["H55-0012"]["Giờ làm việc còn lại"] == "3.50"
    assert by_case["H55-0012"]["Thời gian còn lại"] == "còn 3,5 giờ làm việc"
    assert by_case["H55-0012"]["Hạn giải quyết"] == "01/04/2025 10:30"


def test_wider_window_recomputes_from_core(tmp_path):
    """A window wider than the warehouse was built with is recomputed with the marts' SQL, read-only."""
    house = Warehouse.under(tmp_path, WARNING_AS_OF)
    house.case("SOON-1", "2025-03-24 08:00", "2025-04-01 10:00")   # 3 working hours after 31/03 24:00
    house.case("LATER-1", "2025-03-24 08:00", "2025-04-02 10:00")  # 11 working hours
    house.case("LATE-1", "2025-03-10 08:00", "2025-03-20 08:00")
    settings = house.save_as_settings_warehouse()
    before = settings.warehouse.read_bytes()

    narrow = load_warnings(settings, within_hours=8)
    ids = {c.case_id for u in narrow.units for c in u.cases}
    assert {"SOON-1", "LATE-1"} <= ids and "LATER-1" not in ids
    wide = load_warnings(settings, within_hours=16)
    later = next(c for u in wide.units for c in u.cases if c.case_id == "LATER-1")
    assert later.kinds == ["due_soon"] and later.time_left == "còn 11 giờ làm việc (1,4 ngày)"
    assert settings.warehouse.read_bytes() == before


def test_units_in_vietnamese_alphabetical_order():
    from pipeline.report.warnings import vi_sort_key

    names = ["Văn phòng Sở", "Thanh tra Sở", "Đội kiểm tra", "Ban quản lý dự án", "Ăn uống", "Dịch vụ", "An toàn"]
    assert sorted(names, key=vi_sort_key) == [
        "An toàn", "Ăn uống", "Ban quản lý dự án", "Dịch vụ", "Đội kiểm tra", "Thanh tra Sở", "Văn phòng Sở",
    ]


def test_within_hours_must_be_positive(settings):
    with pytest.raises(ValueError):
        load_warnings(settings, within_hours=-1)


def test_reports_dont_depend_on_datetime_objects(settings):
    warnings = load_warnings(settings)
    assert isinstance(warnings.units[0].cases[0].due_at, datetime)
