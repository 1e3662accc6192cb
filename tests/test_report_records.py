"""The scorecard's objectives strip and its directive and PAKN sections, against figures labelled by hand.

The report fixture (tests/report_fixtures.py) holds the directive and PAKN exports of
tests/records_fixtures.py, without their two related cases. Judged at the end of Quý I/2025
(01/04/2025 00:00), from DESIGN §10 and §11 and the task and PAKN list in records_fixtures:

Directives in the quarter (D8 was returned: out of scope). Original deadlines: D5 (12/03, done on its day) and
D9 (10/03, done 07/03) on time; D1 (14/03, done 18/03), D2 (10/03, done 20/03) and D10 (14/03, done 25/03) late;
D7 (02/04) open in time and due within 3 working days; D6 (25/03 17:00, done only on 15/04) open overdue; D3
and D4 without a deadline. On the extended deadlines, D2 (to 21/03) and D10 (to 28/03) are on time. Nine were
assigned in the quarter. The directive objective (strict rate on the extended deadlines) is 4/6: not met.

PAKN in the quarter: received P1, P2, P4, P5a, P5b, P6, P7, P8, P9, P10 (10); handled P4, P5a, P5b, P6, P7 on
time and P10 late; open P1, P2, P8 in time and P9 (received 03/02) overdue. P6 names no unit and its case is not
in the warehouse: unit unknown. Against item 5.3: P4, P5a, P5b, P10 and P9.

Thanh tra Sở (HAND_UNIT) has five hand-written cases (report_fixtures.HAND_CASES: 1 early, 1 on time, 1 late
without apology; no ratings) and leads D10 (on time on its extended deadline); it handles no PAKN.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import case_data
import duckdb
import pytest
from html_dom import Node, number, parse
from records_fixtures import KCHT, LONG_TITLE, TTR, VT, pii_needles
from report_fixtures import HAND_UNIT

from pipeline import db
from pipeline.formatting import fmt_pct_against, slugify
from pipeline.report import render_all

PERIOD = "2025-Q1"
RECORD_MEASURES = ("directive_on_time_rate", "feedback_handled_rate", "feedback_on_time_rate")
CASE_MEASURES = ("on_time_rate", "early_rate", "satisfaction_rate", "apology_rate")


@pytest.fixture(scope="module")
def reports(report_build) -> Path:
    return report_build.reports


@pytest.fixture(scope="module")
def page(reports) -> Path:
    return reports / "scorecards" / "calendar" / f"{PERIOD}.html"


@pytest.fixture(scope="module")
def scorecard(page) -> Node:
    return parse(page)


def tile(root: Node, measure: str) -> Node:
    return root.find("article", cls="tile", data_measure=measure)


def linked(page: Path, reports: Path, a: Node) -> list[dict]:
    """The records (or cases) the viewer lists for a link, and that their number is the link's figure."""
    viewer, fragment = case_data.link_target(page, a.attrs["href"])
    assert viewer == (reports / "cases" / "index.html").resolve()
    rows = case_data.listed(reports, fragment)
    assert number(a.clean_text()) == len(rows), (a.attrs["href"], a.clean_text(), len(rows))
    return rows


# --- the objectives strip ----------------------------------------------------------------------------
def test_strip_counts_the_directive_and_pakn_objectives(report_build, reports, page, scorecard):
    tiles = scorecard.find("div", cls="tiles").find_all("article", cls="tile")
    assert [t.attrs["data-measure"] for t in tiles] == [*CASE_MEASURES, *RECORD_MEASURES, "open_overdue"]
    assert [t.attrs["data-kind"] for t in tiles] == ["case"] * 4 + ["directive", "feedback", "feedback", "case"]
    expected = {  # value, verdict, linked numerator and denominator, and which records they list
        "directive_on_time_rate": ("66,7%", "Không đạt", (4, 6), ({"D2", "D5", "D9", "D10"},
                                                                 {"D1", "D2", "D5", "D6", "D9", "D10"})),
        "feedback_handled_rate": ("90,0%", "Không đạt", (9, 10), None),
        "feedback_on_time_rate": ("83,3%", "Không đạt", (5, 6), ({"P4", "P5a", "P5b", "P6", "P7"},
                                                               {"P4", "P5a", "P5b", "P6", "P7", "P10"})),
    }
    for measure, (value, verdict, counts, ids) in expected.items():
        shown = tile(scorecard, measure)
        assert shown.find("p", cls="value").clean_text() == value
        assert shown.find("p", cls="target").clean_text() == "Mục tiêu: ≥ 100%"
        assert shown.find("span", cls="verdict").clean_text() == f"✗ {verdict}"
        assert "missed" in shown.classes()
        # Quý IV/2024 had no directive and no PAKN
        assert shown.find("p", cls="change").clean_text() == "Chưa có số liệu kỳ trước"
        links = shown.find("p", cls="detail").find_all("a", cls="n")
        assert tuple(number(a.clean_text()) for a in links) == counts
        listed = [{r["id"] for r in linked(page, reports, a)} for a in links]
        if ids:
            assert tuple(listed) == ids
    assert "theo hạn đã gia hạn" in tile(scorecard, "directive_on_time_rate").find("p", cls="detail").clean_text()
    con = duckdb.connect(str(report_build.warehouse), read_only=True)
    try:
        case_met = sum(bool(con.execute(
            "select met from mart.objective where period_scheme = 'calendar' and period = ? and dimension = 'all' "
            "and measure = ?", [PERIOD, m]).fetchone()[0]) for m in CASE_MEASURES)
    finally:
        con.close()
    summary = scorecard.find("div", cls="summary")
    assert summary.find("h2").clean_text() == f"Mục tiêu chất lượng: đạt {case_met}/7"
    missed = summary.find("p", cls="missed").clean_text()
    for title in ("Ý kiến chỉ đạo của UBND tỉnh hoàn thành đúng hạn",
                  "Phản ánh, kiến nghị được xử lý, không để quá hạn", "Phản ánh, kiến nghị xử lý đúng hạn"):
        assert title in missed
    assert not summary.find_all("p", cls="nodata")
    assert "Mục tiêu năm 2025 (nguồn: Mục tiêu chất lượng năm 2025 (Quảng Ngãi, 06/02/2025)" in summary.clean_text()


def test_hand_unit_meets_two_of_seven(reports):
    """Thanh tra Sở: on time 2/3 (missed), early 1/3 (met), no ratings, its late case without apology (missed),
    D10 on time on its extended deadline (met), no PAKN: đạt 2/7, three objectives without data."""
    root = parse(reports / "scorecards" / "calendar" / PERIOD / f"{slugify(HAND_UNIT)}.html")
    shown = {m: (tile(root, m).find("p", cls="value").clean_text(), tile(root, m).find("span", cls="verdict").clean_text())
             for m in (*CASE_MEASURES, *RECORD_MEASURES)}
    assert shown == {
        "on_time_rate": ("66,7%", "✗ Không đạt"), "early_rate": ("33,3%", "✓ Đạt"),
        "satisfaction_rate": ("Chưa có số liệu", "– Chưa có số liệu"), "apology_rate": ("0,0%", "✗ Không đạt"),
        "directive_on_time_rate": ("100,0%", "✓ Đạt"),
        "feedback_handled_rate": ("Chưa có số liệu", "– Chưa có số liệu"),
        "feedback_on_time_rate": ("Chưa có số liệu", "– Chưa có số liệu"),
    }
    assert {m for m in shown if "nodata" in tile(root, m).classes()} == {
        "satisfaction_rate", "feedback_handled_rate", "feedback_on_time_rate"}
    summary = root.find("div", cls="summary")
    assert summary.find("h2").clean_text() == "Mục tiêu chất lượng: đạt 2/7"
    assert summary.find("p", cls="missed").clean_text() == (
        "Chưa đạt: Giải quyết đúng hạn và trước hạn; Xin lỗi và hẹn lại khi quá hạn.")
    assert summary.find("p", cls="nodata").clean_text() == (
        "Chưa có số liệu: Người dân, doanh nghiệp hài lòng; Phản ánh, kiến nghị được xử lý, không để quá hạn; "
        "Phản ánh, kiến nghị xử lý đúng hạn.")
    assert tile(root, "feedback_handled_rate").find("p", cls="note").clean_text() == (
        "Kỳ này không có phản ánh, kiến nghị nào.")
    assert "Đơn vị không có phản ánh, kiến nghị nào trong kỳ." in root.find("section", id="pakn").clean_text()
    directive = root.find("section", id="nhiem-vu")
    assert not directive.find_all("table", cls="directive-units")  # the unit table is the department's
    row = directive.find("tr", data_row="completed_on_time")
    assert [td.clean_text() for td in row.find_all("td")] == ["0", "1"]  # late on 14/03, on time on 28/03


def test_a_quarter_without_directives_or_pakn_says_so(reports):
    root = parse(reports / "scorecards" / "calendar" / "2024-Q4.html")
    for measure in RECORD_MEASURES:
        shown = tile(root, measure)
        assert "nodata" in shown.classes()
        assert shown.find("p", cls="value").clean_text() == "Chưa có số liệu"
        assert not shown.find_all("a")
    summary = root.find("div", cls="summary").clean_text()
    assert re.search(r"Mục tiêu chất lượng: đạt \d/7", summary)
    assert "Chưa có số liệu: Ý kiến chỉ đạo của UBND tỉnh hoàn thành đúng hạn;" in summary
    assert "Chưa có số liệu nhiệm vụ do UBND tỉnh giao trong kỳ." in root.find("section", id="nhiem-vu").clean_text()
    assert "Chưa có số liệu phản ánh, kiến nghị trong kỳ." in root.find("section", id="pakn").clean_text()


# --- the directives section --------------------------------------------------------------------------
def test_directive_figures_on_both_deadline_bases(reports, page, scorecard):
    section = scorecard.find("section", id="nhiem-vu")
    table = section.find("table", cls="directive-figures")
    head = [th.clean_text() for th in table.find("thead").find_all("th")]
    assert head == ["Chỉ tiêu", "Theo hạn ban đầu", "Theo hạn đã gia hạn (nếu có)(dùng cho mục tiêu)"]
    rows = {tr.attrs["data-row"]: [td.clean_text() for td in tr.find_all("td")]
            for tr in table.find("tbody").find_all("tr")}
    assert rows == {
        "assigned_total": ["9"], "due_total": ["6", "6"], "completed_on_time": ["2", "4"],
        "completed_late": ["3", "1"], "open_in_time": ["1", "1"], "due_soon": ["1", "1"], "open_overdue": ["1", "1"],
        "no_deadline": ["2"], "suspended": ["0"], "with_extension": ["2"],
        "headline_rate": ["83,3%", "83,3%"], "strict_rate": ["33,3%", "66,7%"],
    }
    labels = {tr.attrs["data-row"]: tr.find("th").clean_text() for tr in table.find("tbody").find_all("tr")}
    assert labels["headline_rate"].startswith("Tỷ lệ hoàn thành (cách tính của Văn phòng Chính phủ)")
    assert labels["strict_rate"].startswith("Tỷ lệ hoàn thành đúng hạn")
    assert "hạn đã gia hạn (nếu có)" in section.find("p", cls="lead-note").clean_text()
    expected = {  # (row, basis) -> the tasks listed
        ("completed_late", "original"): {"D1", "D2", "D10"}, ("completed_late", "extended"): {"D1"},
        ("open_overdue", "extended"): {"D6"}, ("due_soon", "original"): {"D7"}, ("no_deadline", "both"): {"D3", "D4"},
        ("with_extension", "both"): {"D2", "D10"},
        ("assigned_total", "both"): {"D1", "D2", "D3", "D4", "D5", "D6", "D7", "D9", "D10"},
    }
    for (row, basis), ids in expected.items():
        a = table.find("tr", data_row=row).find("td", data_basis=basis).find("a")
        assert {r["id"] for r in linked(page, reports, a)} == ids, (row, basis)


def test_directive_unit_table(reports, page, scorecard):
    table = scorecard.find("section", id="nhiem-vu").find("table", cls="directive-units")
    columns = ("assigned_total", "due_total", "completed_on_time", "completed_late", "open_in_time", "open_overdue",
               "no_deadline", "headline_rate", "strict_rate")
    rows = {tr.attrs["data-unit"]: [tr.find("td", data_col=c).clean_text() for c in columns]
            + [tr.find("span", cls="verdict").clean_text()] for tr in table.find("tbody").find_all("tr")}
    assert list(rows) == [KCHT, VT, TTR]  # most late or overdue first
    assert rows == {
        KCHT: ["3", "3", "1", "1", "0", "1", "0", "66,7%", "33,3%", "✗ Không đạt"],
        VT: ["5", "2", "2", "0", "1", "0", "2", "100,0%", "100,0%", "✓ Đạt"],
        TTR: ["1", "1", "1", "0", "0", "0", "0", "100,0%", "100,0%", "✓ Đạt"],
    }
    assert "hạn đã gia hạn (nếu có)" in table.find("caption").clean_text()
    overdue = table.find("tr", data_unit=KCHT).find("td", data_col="open_overdue").find("a")
    listed = linked(page, reports, overdue)
    assert [(r["id"], r["cells"]["Hạn ban đầu"], r["cells"]["Kết quả theo hạn đã gia hạn"]) for r in listed] == [
        ("D6", "25/03/2025 17:00", "Đang thực hiện quá hạn")]
    # the unit with its own scorecard links to it
    assert table.find("tr", data_unit=TTR).find("th").find("a").attrs["href"] == f"{PERIOD}/{slugify(TTR)}.html"


def test_directive_list_shows_titles_as_stored_and_both_deadlines(reports):
    listed = case_data.listed(reports, f"kind=directive&scheme=calendar&period={PERIOD}")
    by_id = {r["id"]: r["cells"] for r in listed}
    assert set(by_id) == {"D1", "D2", "D3", "D4", "D5", "D6", "D7", "D9", "D10"}
    assert by_id["D1"]["Trích yếu"] == LONG_TITLE
    assert by_id["D1"]["Đơn vị phối hợp"] == "Công an tỉnh; Sở Xây dựng"
    assert (by_id["D2"]["Hạn ban đầu"], by_id["D2"]["Hạn đã gia hạn"], by_id["D2"]["Ngày hoàn thành"]) == (
        "10/03/2025", "21/03/2025", "20/03/2025 15:00")
    assert (by_id["D2"]["Kết quả theo hạn ban đầu"], by_id["D2"]["Kết quả theo hạn đã gia hạn"]) == (
        "Hoàn thành quá hạn", "Hoàn thành đúng hạn")
    assert by_id["D4"]["Hạn ban đầu"] == "Không có hạn (quý IV/2025)"
    assert by_id["D6"]["Ngày hoàn thành"] == ""  # completed on 15/04, after the quarter
    assert "Sắp đến hạn" in by_id["D7"]["Ghi chú"]
    assert "Kỳ trước chuyển qua" not in by_id["D9"]["Ghi chú"]  # assigned 20/02, in the quarter


# --- the PAKN section --------------------------------------------------------------------------------
def test_feedback_figures_and_index_items(reports, page, scorecard):
    section = scorecard.find("section", id="pakn")
    figures = {tr.attrs["data-row"]: tr.find("td").clean_text()
               for tr in section.find("table", cls="feedback-figures").find_all("tr")}
    assert figures == {"received_total": "10", "handled_total": "6", "handled_on_time": "5", "handled_late": "1",
                       "open_total": "4", "open_in_time": "3", "open_overdue": "1"}
    rates = {tr.attrs["data-row"]: (tr.find("td", data_col="value").clean_text(),
                                    tr.find("td", data_col="score").clean_text())
             for tr in section.find("table", cls="feedback-rates").find("tbody").find_all("tr")}
    assert rates == {
        "handled_rate": ("90,0%", "✗ Không đạt"), "on_time_rate": ("83,3%", "✗ Không đạt"),
        "rate_5_2": ("80,0%", "4,80/6 điểm"), "rate_5_3": ("50,0%", "3,00/6 điểm5 PAKN tính là không hài lòng"),
    }  # the 5.3 cell: the score, then on its own line the PAKN counted against it
    expected = {"handled_late": {"P10"}, "open_overdue": {"P9"}, "open_in_time": {"P1", "P2", "P8"},
                "received_total": {"P1", "P2", "P4", "P5a", "P5b", "P6", "P7", "P8", "P9", "P10"}}
    table = section.find("table", cls="feedback-figures")
    for row, ids in expected.items():
        assert {r["id"] for r in linked(page, reports, table.find("tr", data_row=row).find("a"))} == ids, row
    unsatisfied = section.find("table", cls="feedback-rates").find("tr", data_row="rate_5_3").find("a")
    assert {r["id"] for r in linked(page, reports, unsatisfied)} == {"P4", "P5a", "P5b", "P9", "P10"}


def test_feedback_unit_table(scorecard):
    table = scorecard.find("section", id="pakn").find("table", cls="feedback-units")
    columns = ("received_total", "handled_on_time", "handled_late", "open_in_time", "open_overdue", "handled_rate",
               "on_time_rate", "score_5_2", "score_5_3")
    rows = {tr.attrs["data-unit"]: [tr.find("td", data_col=c).clean_text() for c in columns]
            for tr in table.find("tbody").find_all("tr")}
    assert list(rows) == [KCHT, VT, "(không xác định)"]
    assert rows == {
        KCHT: ["3", "1", "0", "1", "1", "66,7% ✗ Không đạt", "100,0% ✓ Đạt", "4,00", "4,00"],
        VT: ["6", "3", "1", "2", "0", "100,0% ✓ Đạt", "75,0% ✗ Không đạt", "5,00", "2,00"],
        "(không xác định)": ["1", "1", "0", "0", "0", "100,0% ✓ Đạt", "100,0% ✓ Đạt", "6,00", "6,00"],
    }
    assert table.find("tr", data_unit="(không xác định)").find("th").clean_text() == "Không rõ"


def test_pakn_list_has_no_sender_and_masked_titles(reports):
    listed = case_data.listed(reports, f"kind=feedback&scheme=calendar&period={PERIOD}")
    by_id = {r["id"]: r["cells"] for r in listed}
    assert by_id["P4"]["Tiêu đề"] == "Phản ánh của bà [đã ẩn] về việc chậm trả kết quả"
    assert by_id["P7"]["Hình thức xử lý"] == "Yêu cầu bổ sung thông tin"
    assert by_id["P5b"]["Hồ sơ liên quan"] == "000.00.20.H55-250303-0002 (không có trong kho dữ liệu)"
    assert "Phản ánh lặp lại" in by_id["P5b"]["Ghi chú"]
    assert by_id["P9"]["Kết quả cuối kỳ"] == "Đang xử lý quá hạn"
    columns = case_data.viewer_columns(reports, "feedback")
    for word in ("Người gửi", "Điện thoại", "Email", "Địa chỉ", "Nội dung"):
        assert not any(word in c for c in columns), word
    texts = [p.read_text(encoding="utf-8") for p in (reports / "cases").rglob("*") if p.is_file()]
    texts += [p.read_text(encoding="utf-8") for p in reports.rglob("*.html")]
    for needle in pii_needles():
        assert not any(needle in text for text in texts), needle


def test_focus_names_overdue_tasks_and_pakn(reports, page, scorecard):
    focus = scorecard.find("div", cls="focus")
    points = {li.clean_text(): li for li in focus.find_all("li")}
    task = next(li for text, li in points.items() if "nhiệm vụ do UBND tỉnh giao đang thực hiện quá hạn" in text)
    assert [r["id"] for r in linked(page, reports, task.find("a"))] == ["D6"]
    pakn = next(li for text, li in points.items() if "phản ánh, kiến nghị đang xử lý đã quá 15 ngày làm việc" in text)
    assert [r["id"] for r in linked(page, reports, pakn.find("a"))] == ["P9"]


def test_every_count_of_the_new_sections_links_to_exactly_its_records(reports, page, scorecard):
    checked = 0
    for section in ("nhiem-vu", "pakn"):
        for a in scorecard.find("section", id=section).find_all("a", cls="n"):
            linked(page, reports, a)
            assert "mismatch" not in a.classes()
            checked += 1
    assert checked >= 60
    unit = reports / "scorecards" / "calendar" / PERIOD / f"{slugify(KCHT)}.html"
    root = parse(unit)
    unit_links = [a for s in ("nhiem-vu", "pakn") for a in root.find("section", id=s).find_all("a", cls="n")]
    assert len(unit_links) >= 15
    for a in unit_links:
        assert all(r["unit"] == KCHT for r in linked(unit, reports, a))


def test_index_counts_objectives_met(reports, scorecard):
    root = parse(reports / "index.html")
    first = root.find("tr", data_period=PERIOD)
    summary = scorecard.find("div", cls="summary").find("h2").clean_text()
    assert first.find("td", data_col="objectives_met").clean_text() == summary.rsplit(" ", 1)[1]
    cell = first.find("td", data_measure="directive_on_time_rate")
    assert cell.find("span", cls="rate").clean_text() == fmt_pct_against(4 / 6, 1.0)
    assert "Không đạt" in cell.clean_text()
    older = root.find("tr", data_period="2024-Q4").find("td", data_measure="feedback_handled_rate")
    assert "Chưa có số liệu" in older.clean_text()


def test_a_directive_figure_that_disagrees_with_its_tasks_is_flagged(report_build, tmp_path):
    warehouse = tmp_path / "w" / "tthc.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(report_build.warehouse, warehouse)
    connection = db.connect(warehouse)
    connection.execute("update mart.directive_kpi_period set open_overdue = open_overdue + 1 "
                       "where period_scheme = 'calendar' and period = '2025-Q1' and dimension = 'all' "
                       "and deadline_basis = 'extended'")
    connection.close()
    settings = report_build.settings.model_copy(update={"warehouse": warehouse, "reports_dir": tmp_path / "reports"})
    render_all(settings, grains=["quarter"])
    root = parse(tmp_path / "reports" / "scorecards" / "calendar" / "2025-Q1.html")
    cell = root.find("table", cls="directive-figures").find("tr", data_row="open_overdue").find(
        "td", data_basis="extended").find("a")
    assert cell.clean_text() == "2" and "mismatch" in cell.classes()
    section = root.find("section", id="chat-luong-du-lieu").clean_text()
    assert "2 số liệu không khớp" in section  # the figure in the table and in "Cần chỉ đạo"
    assert "Danh sách nhiệm vụ do UBND tỉnh giao – Đang thực hiện quá hạn, theo hạn đã gia hạn (nếu có)" in section
