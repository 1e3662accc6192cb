"""The rendered scorecards against the fixture warehouse: every figure, link, format and safety rule.

HTML is parsed with the standard library's ``html.parser`` (no extra dependency).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import case_data
import duckdb
import numpy as np
import openpyxl
import plotly
import plotly.graph_objects as go
import pytest
from html_dom import Node, number, parse
from report_fixtures import HAND_UNIT, SCRIPT_NAME

from pipeline import db
from pipeline.formatting import fmt_datetime, fmt_int, fmt_late, fmt_pct, fmt_pct_against, fmt_pp, slugify
from pipeline.report import render_all
from pipeline.report.render import rules_vi
from pipeline.settings import load_settings

PERIOD = "2025-Q1"
PREVIOUS = "2024-Q4"


# --- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(report_build):
    return report_build.settings, report_build.reports, report_build.written


@pytest.fixture(scope="module")
def reports(built) -> Path:
    return built[1]


@pytest.fixture(scope="module")
def con(built):
    connection = duckdb.connect(str(built[0].warehouse), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def scorecard(reports) -> Node:
    return parse(reports / "scorecards" / "calendar" / f"{PERIOD}.html")


def kpi(con, period=PERIOD, dimension="all", value="all") -> dict:
    frame = con.execute("select * from mart.kpi_period where period_scheme = 'calendar' and period = ? "
                        "and dimension = ? and dimension_value = ?", [period, dimension, value]).df()
    return frame.iloc[0].to_dict()


# --- tests -----------------------------------------------------------------------------------------
def test_pages_written(built, reports):
    _, _, written = built
    expected = [
        "index.html", "assets/plotly.min.js", "assets/scorecard.css",
        "scorecards/calendar/2025-Q1.html", "scorecards/calendar/2024-Q4.html", "scorecards/calendar/2024-Q3.html",
        "bieu06/calendar/2025-Q1.xlsx", "cases/index.html", "cases/calendar/2025-Q1.js", "assets/cases.js",
        f"scorecards/calendar/2025-Q1/{slugify('Văn phòng Sở')}.html",
    ]
    for page in expected:
        assert (reports / page).is_file(), page
        assert (reports / page).resolve() in {p.resolve() for p in written}, page
    assert not list(reports.rglob(".*.tmp"))


def test_objective_tiles_match_the_marts(con, scorecard):
    row = kpi(con)
    previous = kpi(con, PREVIOUS)
    objectives = {r["measure"]: r for r in con.execute(
        "select * from mart.objective where period_scheme = 'calendar' and period = ? and dimension = 'all'", [PERIOD]).df().to_dict("records")}
    for measure in ("on_time_rate", "early_rate", "satisfaction_rate", "apology_rate"):
        tile = scorecard.find("article", cls="tile", data_measure=measure)
        assert tile.find("p", cls="value").clean_text() == fmt_pct_against(row[measure], objectives[measure]["target_value"])
        assert objectives[measure]["target_text"] in tile.find("p", cls="target").clean_text()
        verdict = tile.find("span", cls="verdict").clean_text()
        assert verdict.endswith(objectives[measure]["verdict"]), (measure, verdict)
        assert ("met" if objectives[measure]["met"] else "missed") in tile.classes()
        change = tile.find("p", cls="change").clean_text()
        delta = row[measure] - previous[measure]
        assert change.startswith("▲" if delta > 0 else "▼"), change
        assert fmt_pp(delta) in change and "Quý IV/2024" in change
    on_time = scorecard.find("article", cls="tile", data_measure="on_time_rate")
    numerator, denominator = (number(a.clean_text()) for a in on_time.find_all("a", cls="n"))
    assert (numerator, denominator) == (row["early"] + row["on_time"], row["resolved_total"])
    overdue = scorecard.find("article", cls="tile", data_measure="open_overdue")
    assert number(overdue.find("p", cls="value").clean_text()) == row["open_overdue"]
    summary = scorecard.find("div", cls="summary").clean_text()
    met = sum(1 for o in objectives.values() if o["met"])
    assert f"đạt {met}/{len(objectives)}" in summary


def test_key_figures_use_vietnamese_number_format(con, scorecard):
    row = kpi(con)
    assert row["received_total"] >= 1000
    keyline = scorecard.find("p", cls="keyline").clean_text()
    assert f"Tiếp nhận {fmt_int(row['received_total'])} hồ sơ" in keyline
    assert re.search(r"Tiếp nhận \d\.\d{3} hồ sơ", keyline)
    assert f"Đã giải quyết {fmt_int(row['resolved_total'])}" in keyline


def test_number_formats():
    assert fmt_pct(0.953) == "95,3%"
    assert fmt_int(12345) == "12.345"
    assert fmt_int(1234567) == "1.234.567"
    assert fmt_pct(1.0) == "100,0%"
    assert fmt_pct(0.99996) == "99,9%"  # never shows a missed 100% target as met
    assert fmt_pct(None) == "–"
    assert fmt_pct_against(0.9504, 0.95) == "95,04%"
    assert fmt_pp(0.012) == "▲ 1,2 điểm %"
    assert fmt_pp(-0.0081) == "▼ 0,8 điểm %"
    assert fmt_late(0.5) == "30 phút"
    assert fmt_late(17) == "2,1 ngày (17 giờ)"


def test_bieu06_table_matches_mart(con, scorecard):
    table = scorecard.find("table", cls="bieu06")
    head = table.find("thead")
    groups = [th.clean_text() for th in head.find_all("th", cls="group")]
    assert groups == ["Số hồ sơ tiếp nhận", "Số hồ sơ đã giải quyết", "Số hồ sơ đang giải quyết"]
    assert [th.attrs.get("colspan") for th in head.find_all("th", cls="group")] == ["4", "4", "3"]
    assert [td.clean_text() for td in head.find("tr", cls="colno").find_all("td")] == [f"({n})" for n in range(1, 14)]
    rows = con.execute("select * from mart.bieu06 where period_scheme = 'calendar' and period = ? order by is_total, row_no", [PERIOD]).df()
    assert len(table.find("tbody").find_all("tr")) == int((~rows["is_total"]).sum())
    for r in rows.to_dict("records"):
        sector = "Tổng cộng" if r["is_total"] else r["sector"]
        tr = table.find("tr", data_sector=sector)
        for n in range(3, 14):
            column = next(c for c in rows.columns if c.startswith(f"c{n}_"))
            cell = tr.find("td", data_col=f"c{n}")
            assert number(cell.clean_text()) == r[column], (sector, column)
    total = table.find("tfoot").find("tr", cls="total")
    assert total.find("th").clean_text() == "Tổng cộng"


def test_unit_rows_match_kpi(con, scorecard):
    units = con.execute("select * from mart.kpi_period where period_scheme = 'calendar' and period = ? and dimension = 'unit'", [PERIOD]).df()
    table = scorecard.find("table", cls="units")
    for r in units.to_dict("records"):
        tr = table.find("tr", data_unit=r["dimension_value"])
        for column in ("received_total", "resolved_total", "early", "on_time", "late", "open_overdue"):
            assert number(tr.find("td", data_col=column).clean_text()) == r[column], column
        assert tr.find("td", data_col="on_time_rate").clean_text() == fmt_pct(r["on_time_rate"])
    lates = [number(tr.find("td", data_col="late").clean_text()) for tr in table.find("tbody").find_all("tr")]
    assert lates == sorted(lates, reverse=True)


def test_hand_written_cases_of_one_unit(reports, scorecard):
    """Thanh tra Sở's five March cases, classed by hand (report_fixtures.HAND_CASES): 1 early, 1 on time,
    1 late without apology, 1 open overdue, 1 open in time; 1 online, 1 by post, 3 in person."""
    tr = scorecard.find("table", cls="units").find("tr", data_unit=HAND_UNIT)
    shown = {c: tr.find("td", data_col=c).clean_text() for c in (
        "received_total", "resolved_total", "early", "on_time", "late", "no_apology", "open_overdue",
        "on_time_rate", "early_rate")}
    assert shown == {"received_total": "5", "resolved_total": "3", "early": "1", "on_time": "1", "late": "1",
                     "no_apology": "1", "open_overdue": "1", "on_time_rate": "66,7%", "early_rate": "33,3%"}
    page = reports / "scorecards" / "calendar" / PERIOD / f"{slugify(HAND_UNIT)}.html"
    unit = parse(page)
    assert unit.find("article", cls="tile", data_measure="on_time_rate").find("p", cls="value").clean_text() == "66,7%"
    assert unit.find("article", cls="tile", data_measure="apology_rate").find("p", cls="value").clean_text() == "0,0%"
    keyline = unit.find("p", cls="keyline").clean_text()
    assert "Tiếp nhận 5 hồ sơ (trực tuyến 1, trực tiếp và bưu chính 4, kỳ trước chuyển qua 0)" in keyline
    assert "Đã giải quyết 3 (trước hạn 1, đúng hạn 1, quá hạn 1;" in keyline
    assert "Đang giải quyết 2 (trong hạn 1, quá hạn 1)" in keyline
    late = tr.find("td", data_col="late").find("a")
    listed = case_data.listed(reports, case_data.link_target(reports / "scorecards" / "calendar" / "x.html",
                                                                late.attrs["href"])[1])
    # 17:00–17:05 is after the afternoon session: no working time, shown as the smallest delay, one minute
    assert [(r["case_id"], r["due"], r["end"], r["late"], r["apology"]) for r in listed] == [
        ("TT-0003", "11/03/2025 17:00", "11/03/2025 17:05", "1 phút", "Không")]
    open_cases = case_data.listed(reports, f"scheme=calendar&period={PERIOD}&unit=Thanh%20tra%20S%E1%BB%9F&filter=c11")
    assert {(r["case_id"], r["class_text"], r["due"], r["end"]) for r in open_cases} == {
        ("TT-0004", "Đang giải quyết quá hạn", "12/03/2025 17:00", "–"),
        ("TT-0005", "Đang giải quyết trong hạn", "04/04/2025 17:00", "–")}


def test_packed_columns_round_trip():
    from pipeline.report.caselists import pack

    cases = [([0, 255], "u8"), ([0, 256], "u16"), ([-1, 5], "i32"), ([-(2**31), 2**31 - 1], "i32"),
             ([2**31], "f64"), ([999_999_999_999_999], "f64"), ([], "u8")]
    for values, kind in cases:
        packed = pack(np.array(values, dtype=np.int64))
        assert packed["type"] == kind, values
        assert case_data.unpack(packed) == values


def test_scorecard_identities(scorecard):
    """(3) = (4) + (5) + (6), (7) = (8) + (9) + (10), (11) = (12) + (13), (3) = (7) + (11) on every Biểu 06 row."""
    checked = 0
    for tr in scorecard.find("table", cls="bieu06").find_all("tr"):
        if "data-sector" not in tr.attrs:
            continue
        c = {n: number(tr.find("td", data_col=f"c{n}").clean_text()) for n in range(3, 14)}
        assert c[3] == c[4] + c[5] + c[6] and c[7] == c[8] + c[9] + c[10] and c[11] == c[12] + c[13]
        assert c[3] == c[7] + c[11], tr.attrs["data-sector"]
        checked += 1
    assert checked >= 5


def _check_links(page: Path, root: Node, reports: Path) -> int:
    checked = 0
    for a in root.find_all("a", cls="n"):
        viewer, fragment = case_data.link_target(page, a.attrs["href"])
        assert viewer == (reports / "cases" / "index.html").resolve(), a.attrs["href"]
        figure = number(a.clean_text())
        listed = case_data.listed(reports, fragment)
        assert figure == len(listed), (page.name, a.attrs["href"], figure, len(listed))
        assert "mismatch" not in a.classes()
        checked += 1
    return checked


def test_every_count_links_to_exactly_its_cases(reports, scorecard):
    page = reports / "scorecards" / "calendar" / f"{PERIOD}.html"
    assert _check_links(page, scorecard, reports) > 100
    unit_page = reports / "scorecards" / "calendar" / PERIOD / f"{slugify('Văn phòng Sở')}.html"
    assert _check_links(unit_page, parse(unit_page), reports) > 30
    assert "khớp với danh sách hồ sơ" in scorecard.find("section", id="chat-luong-du-lieu").clean_text()


def test_a_late_count_lists_late_cases_of_its_sector(reports, scorecard):
    cell = scorecard.find("tr", data_sector="Đường bộ").find("td", data_col="c10").find("a")
    _, fragment = case_data.link_target(reports / "scorecards" / "calendar" / f"{PERIOD}.html", cell.attrs["href"])
    assert "sector=%C4%90%C6%B0%E1%BB%9Dng%20b%E1%BB%99" in fragment and fragment.endswith("&filter=c10")
    listed = case_data.listed(reports, fragment)
    assert listed and all(r["sector"] == "Đường bộ" and r["class_text"] == "Quá hạn" for r in listed)
    assert all(r["late"] and r["apology"] in ("Có", "Không") for r in listed)
    assert all(re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", r["received"]) for r in listed)


def test_case_lists_hold_no_personal_data_and_only_period_cases(con, reports):
    viewer = parse(reports / "cases" / "index.html")
    headers = [th.clean_text() for th in viewer.find("table", cls="cases").find("thead").find_all("th")]
    assert headers[:3] == ["STT", "Mã hồ sơ", "Đơn vị"]
    for word in ("Chủ hồ sơ", "Người nộp", "Điện thoại", "Địa chỉ", "CCCD", "Email"):
        assert word not in " ".join(headers)
    data = case_data.load(reports / "cases" / "calendar" / f"{PERIOD}.js")
    assert set(data["columns"]) <= {"id_prefix", "id_number", "id_text", "unit", "sector", "procedure", "channel",
                                    "kind", "received", "due", "end"}
    listed = case_data.rows(data)
    assert len(listed) == data["rows"] == kpi(con)["received_total"]
    codes = {r[0] for r in con.execute(
        "select case_id from mart.case_timeliness where period_scheme = 'calendar' and period = ? "
        "and (is_received_in_period or is_carried_over)",
        [PERIOD]).fetchall()}
    assert {r["case_id"] for r in listed} == codes


def test_script_in_a_procedure_name_is_text(reports):
    pages = list(reports.rglob("*.html"))
    escaped = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "<script>alert(1)" not in text, page
        escaped += "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert escaped >= 2
    scorecard = parse(reports / "scorecards" / "calendar" / f"{PERIOD}.html")
    assert SCRIPT_NAME in scorecard.find("table", cls="procedures").clean_text()


def test_pages_use_no_external_resources(reports):
    for page in reports.rglob("*.html"):
        root = parse(page)
        for node in root.iter():
            for attribute in ("src", "href"):
                value = node.attrs.get(attribute, "")
                assert not value.startswith(("http://", "https://", "//")), (page, value)
                if node.tag in ("script", "link", "img") and value:
                    assert (page.parent / value).resolve().is_file(), (page, value)
        scripts = [s.attrs["src"] for s in root.find_all("script") if "src" in s.attrs]
        if page.parent.name == "calendar" and page.parent.parent.name == "scorecards":
            assert scripts == ["../../assets/plotly.min.js"]
        styles = [link.attrs["href"] for link in root.find_all("link")]
        assert all(s.endswith("assets/scorecard.css") for s in styles)


def test_relative_links_resolve(reports):
    outside = {"validation/index.html", "warnings/index.html"}  # written by other stages
    for page in [reports / "index.html", *reports.glob("scorecards/calendar/*.html")]:
        for a in parse(page).find_all("a"):
            path = urlsplit(a.attrs.get("href", "")).path
            if not path:
                continue
            target = (page.parent / unquote(path)).resolve()
            relative = target.relative_to(reports.resolve()).as_posix()
            assert target.is_file() or relative in outside, (page, a.attrs["href"])


def test_plotly_shipped_once_and_not_inlined(reports):
    shipped = reports / "assets" / "plotly.min.js"
    original = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert shipped.read_bytes() == original.read_bytes()
    for page in reports.rglob("*.html"):
        assert page.stat().st_size < 1_000_000, page
        assert "Copyright 2012" not in page.read_text(encoding="utf-8")


def test_embedded_figures_are_valid_plotly(reports):
    text = (reports / "scorecards" / "calendar" / f"{PERIOD}.html").read_text(encoding="utf-8")
    match = re.search(r"var figures = (\[.*?\]);\n", text, re.S)
    figures = json.loads(match.group(1))
    assert len(figures) == 8  # six of the cases, the directives' and the PAKN trends
    for figure in figures:
        go.Figure(figure)  # raises on any property plotly does not know
        assert figure["layout"]["separators"] == ",."


def test_index_lists_periods_newest_first(con, reports):
    root = parse(reports / "index.html")
    groups = {section.attrs["data-grain"]: [tr.attrs["data-period"] for tr in section.find_all("tr")
                                            if "data-period" in tr.attrs]
              for section in root.find_all("section", cls="index-group")}
    assert list(groups) == [g for g in ("quarter", "half", "year") if g in groups]
    assert groups["quarter"] == ["2025-Q1", "2024-Q4", "2024-Q3"]
    assert groups["year"] == ["2025", "2024"]
    headings = [h.clean_text() for h in root.find_all("h2")]
    assert "Báo cáo theo quý (mới nhất ở trên)" in headings and "Báo cáo theo năm (mới nhất ở trên)" in headings
    assert (reports / "scorecards" / "calendar" / "2025.html").is_file()
    year = parse(reports / "scorecards" / "calendar" / "2025.html").find("header", cls="report-head").clean_text()
    assert "Năm 2025" in year and "Từ ngày 01/01/2025 đến ngày 31/12/2025" in year
    assert "số liệu tính đến hết ngày 31/03/2025" in year
    first = root.find("tr", data_period="2025-Q1")
    assert first.find("a").attrs["href"] == "scorecards/calendar/2025-Q1.html"
    row = kpi(con)
    cell = first.find("td", data_measure="on_time_rate")
    assert cell.find("span", cls="rate").clean_text() == fmt_pct_against(row["on_time_rate"], 1.0)
    assert "Không đạt" in cell.clean_text()
    assert "Đạt" in first.find("td", data_measure="early_rate").clean_text()
    assert "Quý I/2025" in first.clean_text()


# The official cut-off (DESIGN §5, Decree 09/2019): a quarter runs from the 15th of the month before it to the 14th
# of its last month, a half from 15/12 (or 15/06) to 14/06 (or 14/12), the year from 15/12 to 14/12. Written by hand
# for the fixture's periods: cases received 01/07/2024-31/03/2025, as of 31/03/2025.
OFFICIAL_DATES = {
    "2025-Q2": ("Quý II/2025", "Từ ngày 15/03/2025 đến ngày 14/06/2025"),
    "2025-Q1": ("Quý I/2025", "Từ ngày 15/12/2024 đến ngày 14/03/2025"),
    "2024-Q4": ("Quý IV/2024", "Từ ngày 15/09/2024 đến ngày 14/12/2024"),
    "2024-Q3": ("Quý III/2024", "Từ ngày 15/06/2024 đến ngày 14/09/2024"),
    "2025-H1": ("6 tháng đầu năm 2025", "Từ ngày 15/12/2024 đến ngày 14/06/2025"),
    "2024-H2": ("6 tháng cuối năm 2024", "Từ ngày 15/06/2024 đến ngày 14/12/2024"),
    "2025": ("Năm 2025", "Từ ngày 15/12/2024 đến ngày 14/12/2025"),
    "2024": ("Năm 2024", "Từ ngày 15/12/2023 đến ngày 14/12/2024"),
}


@pytest.fixture(scope="module")
def official(report_build, tmp_path_factory) -> Path:
    """The nightly rendering (render_all with the settings' grains) when the settings choose the official scheme."""
    out = tmp_path_factory.mktemp("official") / "reports"
    settings = report_build.settings.model_copy(update={"period_scheme": "official", "reports_dir": out})
    assert settings.scorecard_grain_list == ["quarter", "half", "year"]  # the default scorecard grains
    render_all(settings)
    return out


def test_official_scheme_writes_quarter_half_and_year_scorecards(official):
    written = {p.relative_to(official).as_posix() for p in official.glob("scorecards/**/*.html")}
    assert written == {f"scorecards/official/{label}.html" for label in OFFICIAL_DATES}
    for label, (name, dates) in OFFICIAL_DATES.items():
        head = parse(official / "scorecards" / "official" / f"{label}.html").find(
            "header", cls="report-head").clean_text()
        assert name in head and dates in head, (label, head)
        assert "Nghị định 09/2019/NĐ-CP" in head, label
    for label in ("2025-Q2", "2025-H1", "2025"):  # not over yet on 31/03/2025
        head = parse(official / "scorecards" / "official" / f"{label}.html").find("header", cls="report-head")
        assert "Kỳ báo cáo chưa kết thúc: số liệu tính đến hết ngày 31/03/2025." in head.clean_text(), label


def test_official_index_lists_the_half_year_group(official):
    root = parse(official / "index.html")
    groups = {section.attrs["data-grain"]: section for section in root.find_all("section", cls="index-group")}
    assert list(groups) == ["quarter", "half", "year"]
    periods = {grain: [tr.attrs["data-period"] for tr in section.find_all("tr") if "data-period" in tr.attrs]
               for grain, section in groups.items()}
    assert periods == {"quarter": ["2025-Q2", "2025-Q1", "2024-Q4", "2024-Q3"], "half": ["2025-H1", "2024-H2"],
                       "year": ["2025", "2024"]}
    assert groups["half"].find("h2").clean_text() == "Báo cáo theo 6 tháng (mới nhất ở trên)"
    for label in ("2025-H1", "2024-H2"):
        row = groups["half"].find("tr", data_period=label)
        assert row.find("a").attrs["href"] == f"scorecards/official/{label}.html"
        name, dates = OFFICIAL_DATES[label]
        first, last = dates.removeprefix("Từ ngày ").split(" đến ngày ")
        assert name in row.find("th").clean_text()
        assert row.find("td").clean_text().replace(" ", "") == f"{first}–{last}"


def test_heading_prints_period_data_times_and_rules(con, reports, scorecard, built):
    head = scorecard.find("header", cls="report-head").clean_text()
    assert "UBND TỈNH QUẢNG NGÃI" in head and "SỞ GIAO THÔNG VẬN TẢI" in head
    assert "Quý I/2025" in head
    assert "Từ ngày 01/01/2025 đến ngày 31/03/2025" in head
    assert "theo lịch" in head
    assert "tính đến hết ngày 31/03/2025" in head
    # the latest export (the directive task list and the national PAKN portal's CSV, both named for
    # 30/06/2025: judged as of 31/03/2025 all the same) and when it was loaded
    loaded = fmt_datetime(con.execute("select max(ingested_at) from ops.file").fetchone()[0])
    footer = scorecard.find("footer", cls="page-footer").clean_text()
    assert "Số liệu xuất lúc 30/06/2025 00:00" in footer and f"nạp lúc {loaded}" in footer
    index_head = parse(reports / "index.html").find("header", cls="report-head").clean_text()
    assert "30/06/2025 00:00" in index_head and loaded in index_head
    rules = scorecard.find("section", id="quy-tac").clean_text()
    assert "ngày kết thúc xử lý" in rules and "Trước hạn: kết thúc vào một ngày trước ngày hẹn trả" in rules
    settings = built[0].model_copy(update={"early_rule": "working_hours", "early_working_hours": 4.0})
    assert "ít nhất 4 giờ làm việc" in " ".join(rules_vi(settings)["full"])


def test_data_quality_section(con, reports, scorecard):
    section = parse(reports / "index.html").find("section", id="chat-luong-du-lieu")
    text = section.clean_text()
    reasons = {tr.find_all("td")[0].clean_text(): tr.find_all("td")[1].clean_text()
               for tr in section.find_all("tr") if len(tr.find_all("td")) == 3}
    # the three case rows and PAKN P11, all dated 31/02/2025
    assert reasons == {"Không đọc được ngày tiếp nhận": "4"}
    files = {tr.find_all("th")[0].clean_text(): tr.find_all("td")[0].clean_text()
             for tr in section.find_all("tr") if tr.find_all("th") and tr.find_all("td")}
    # cases, ratings, the rejected note, three directive exports and two PAKN exports
    assert files["Tệp đã nhận"] == "8" and files["Tệp bị từ chối"] == "1"
    assert files["Dòng cách ly"] == "4"
    expectations, passed = con.execute(
        "select count(*), count(*) filter (where success) from ops.validation_result").fetchone()
    assert f"{passed}/{expectations} kiểm tra đạt, {expectations - passed} không đạt" in text
    assert "ghichu_20250331_1755.csv" in text
    assert section.find("a", href="validation/index.html")
    own = scorecard.find("section", id="chat-luong-du-lieu")
    assert own.find("a", href="../../index.html#chat-luong-du-lieu")
    assert own.find("a", href="../../validation/index.html")
    assert "Không đọc được" not in own.clean_text()  # nothing that changes with every load


def test_bieu06_workbook(con, reports):
    book = openpyxl.load_workbook(reports / "bieu06" / "calendar" / f"{PERIOD}.xlsx")
    sheet = book.active
    values = {cell.coordinate: cell.value for row in sheet.iter_rows() for cell in row if cell.value is not None}
    texts = list(values.values())
    assert sheet["A1"].value == "Biểu số 06/VPCP/KSTT"
    assert ("TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH TẠI CƠ QUAN, ĐƠN VỊ TRỰC TIẾP GIẢI QUYẾT "
            "THỦ TỤC HÀNH CHÍNH") in texts
    assert "Kỳ báo cáo: Quý I/2025 (Từ ngày 01/01/2025 đến ngày 31/03/2025)" in texts
    assert any("Sở Giao thông vận tải tỉnh Quảng Ngãi" in str(t) for t in texts)
    header_row = next(c.row for c in sheet["A"] if c.value == "STT")
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert f"A{header_row}:A{header_row + 1}" in merged and f"C{header_row}:F{header_row}" in merged
    assert f"G{header_row}:J{header_row}" in merged and f"K{header_row}:M{header_row}" in merged
    numbers = [sheet.cell(header_row + 2, col).value for col in range(1, 14)]
    assert numbers == [f"({n})" for n in range(1, 14)]
    rows = con.execute("select * from mart.bieu06 where period_scheme = 'calendar' and period = ? order by is_total, row_no", [PERIOD]).df()
    columns = [c for c in rows.columns if re.match(r"c\d+_", c)]
    for offset, r in enumerate(rows.to_dict("records")):
        excel_row = header_row + 3 + offset
        label = sheet.cell(excel_row, 1 if r["is_total"] else 2).value
        assert label == ("Tổng cộng" if r["is_total"] else r["sector"])
        assert [sheet.cell(excel_row, 3 + i).value for i in range(11)] == [int(r[c]) for c in columns]
    assert "NGƯỜI LẬP BIỂU" in texts and "THỦ TRƯỞNG CƠ QUAN" in texts


def test_a_figure_that_disagrees_with_its_cases_is_flagged(report_build, tmp_path):
    warehouse = tmp_path / "w" / "tthc.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(report_build.warehouse, warehouse)
    connection = db.connect(warehouse)
    connection.execute("update mart.bieu06 set c10_late = c10_late + 1 "
                       "where period_scheme = 'calendar' and period = '2025-Q1' and sector = 'Đăng kiểm'")
    connection.close()
    settings = report_build.settings.model_copy(update={"warehouse": warehouse, "reports_dir": tmp_path / "reports"})
    render_all(settings, grains=["quarter"])
    root = parse(tmp_path / "reports" / "scorecards" / "calendar" / "2025-Q1.html")
    cell = root.find("tr", data_sector="Đăng kiểm").find("td", data_col="c10").find("a")
    assert "mismatch" in cell.classes()
    section = root.find("section", id="chat-luong-du-lieu").clean_text()
    assert "1 số liệu không khớp" in section and "Lĩnh vực: Đăng kiểm" in section


def test_missing_warehouse_is_one_clear_error(tmp_path):
    settings = load_settings(warehouse=tmp_path / "none.duckdb", reports_dir=tmp_path / "reports")
    with pytest.raises(FileNotFoundError, match="no warehouse yet"):
        render_all(settings)


def test_quarantine_reasons_are_grouped_in_vietnamese():
    from pipeline.report.data import reason_vi

    assert reason_vi("received_at: cannot read date '32/13/2025 10:00'") == "Không đọc được ngày tiếp nhận"
    assert reason_vi("exact duplicate of row 515 (expect_column_values_to_be_null)") == reason_vi(
        "exact duplicate of row 7 (expect_column_values_to_be_null)")
    assert reason_vi("returned_at before received_at (expect_column_pair_values_a_to_be_greater_than_b)") == (
        "Ngày trả kết quả trước ngày tiếp nhận")
    assert reason_vi("/d/x.csv: no case rows (expect_table_row_count_to_be_between)", "/d/x.csv") == (
        "Tệp không có dòng hồ sơ nào")
    assert reason_vi("Ngày không hợp lệ") == "Ngày không hợp lệ"
    assert reason_vi(None) == "(không ghi lý do)"
