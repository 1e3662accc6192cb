"""The rendered scorecard in a real browser: headless Chromium via Playwright, network off
(tests/offline_browser.py; the ``browser`` fixture is in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from offline_browser import OfflinePage

ARTIFACTS = Path(__file__).parent / "artifacts"
CHART_IDS = ["chart-monthly", "chart-satisfaction", "chart-units", "chart-sectors", "chart-late", "chart-channels",
             "chart-directives", "chart-feedback"]


@pytest.fixture(scope="module")
def reports(report_build) -> Path:
    return report_build.reports


def test_scorecard_draws_every_chart_offline_without_errors(reports, browser):
    scorecard = reports / "scorecards" / "calendar" / "2025-Q1.html"
    view = OfflinePage(browser)
    try:
        view.page.goto(scorecard.as_uri(), wait_until="load")
        view.page.wait_for_function(
            "ids => ids.every(id => document.querySelector('#' + id + ' .main-svg'))", arg=CHART_IDS, timeout=20_000)
        for chart_id in CHART_IDS:
            chart = view.page.locator(f"#{chart_id}")
            assert chart.locator(".plot-container").count() == 1, chart_id
            assert chart.locator(".main-svg").count() >= 1, chart_id
            box = chart.bounding_box()
            assert box and box["width"] > 300 and box["height"] > 150, (chart_id, box)
        # bars are drawn, not just empty axes
        assert view.page.locator("#chart-monthly .bars path").count() >= 3
        # the procedure name with <script> is shown as text and never ran
        assert view.dialogs == []
        assert "<script>alert(1)</script>" in view.page.locator("table.procedures").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        view.page.screenshot(path=str(ARTIFACTS / "scorecard.png"), full_page=True)
        view.page.screenshot(path=str(ARTIFACTS / "scorecard-first-screen.png"), full_page=False)
        assert view.errors == []
        assert view.blocked == []
    finally:
        view.close()


def test_every_objective_is_on_the_first_screen_and_the_first_printed_page(reports, browser):
    """A leader's laptop (1366×768): the summary and every objective tile are visible without scrolling and
    none is cut; printed (A4 portrait, 188 mm × 271 mm inside the margins, about 710 × 1024 CSS pixels) they
    all fit on the first page, in black and white."""
    scorecard = reports / "scorecards" / "calendar" / "2025-Q1.html"
    view = OfflinePage(browser, width=1366, height=768)
    try:
        view.page.goto(scorecard.as_uri(), wait_until="load")
        tiles = view.page.locator("#muc-tieu .tile")
        assert tiles.count() == 8  # seven objectives of 2025 and the overdue cases
        for i in range(tiles.count()):
            box = tiles.nth(i).bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= 768, (i, box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= 1366, (i, box)
        assert view.page.locator("#muc-tieu .summary h2").bounding_box()["y"] < 768
        ARTIFACTS.mkdir(exist_ok=True)
        view.page.screenshot(path=str(ARTIFACTS / "scorecard-first-screen-1366x768.png"))
        view.page.set_viewport_size({"width": 710, "height": 1024})
        view.page.emulate_media(media="print")
        view.page.add_style_tag(content="html { filter: grayscale(1); }")
        bottoms = view.page.evaluate(
            "Array.from(document.querySelectorAll('#muc-tieu .tile')).map(t => t.getBoundingClientRect().bottom + "
            "window.scrollY)")
        assert max(bottoms) <= 1024, bottoms
        view.page.screenshot(path=str(ARTIFACTS / "scorecard-first-page-print-bw.png"))
        assert view.errors == []
        assert view.blocked == []
    finally:
        view.close()


def test_charts_fit_an_a4_page_when_printing(reports, browser):
    scorecard = reports / "scorecards" / "calendar" / "2025-Q1.html"
    view = OfflinePage(browser, width=1600)
    try:
        view.page.goto(scorecard.as_uri(), wait_until="load")
        view.page.wait_for_selector("#chart-channels .main-svg")
        wide = view.page.evaluate("document.querySelector('#chart-units .main-svg').getAttribute('width')")
        assert float(wide) > 700  # wider than A4 on a wide screen
        view.page.emulate_media(media="print")
        view.page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        widths = view.page.evaluate(
            "Array.from(document.querySelectorAll('.chart .main-svg:first-of-type')).map(s => +s.getAttribute('width'))")
        assert widths and max(widths) <= 700, widths
        assert view.page.locator("nav.toc").is_hidden()
        pdf = view.page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 50_000
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "scorecard.pdf").write_bytes(pdf)
        assert view.errors == []
        assert view.blocked == []
    finally:
        view.close()


def test_a_count_opens_exactly_its_cases(reports, browser):
    scorecard = reports / "scorecards" / "calendar" / "2025-Q1.html"
    view = OfflinePage(browser)
    try:
        view.page.goto(scorecard.as_uri(), wait_until="load")
        late_cell = view.page.locator("table.bieu06 tbody tr").first.locator("td[data-col='c10'] a")
        figure = int(late_cell.inner_text().replace(".", ""))
        assert figure > 0
        late_cell.click()
        view.page.wait_for_selector("#caption.cap-c10")
        assert "/cases/index.html#scheme=calendar&period=2025-Q1&sector=" in view.page.url
        assert view.page.url.endswith("&filter=c10")
        rows = view.page.locator("table.cases tbody tr")
        assert rows.count() == figure
        assert int(view.page.locator("#cap-count").inner_text().replace(".", "")) == figure
        assert view.page.locator("#cap-label").inner_text() == "Đã giải quyết quá hạn"
        assert all(text == "Quá hạn" for text in rows.locator("td.k-late").all_inner_texts())
        assert rows.locator("td.k-late").count() == figure
        assert view.page.locator("#filters a.current").inner_text().startswith("Đã giải quyết quá hạn (")
        # another filter of the same slice, without reloading the page
        view.page.locator("#filters a", has_text="Đã giải quyết trong kỳ (").click()
        view.page.wait_for_selector("#caption.cap-c7")
        resolved = int(view.page.locator("#cap-count").inner_text().replace(".", ""))
        assert resolved >= figure and rows.count() == min(resolved, 500)
        # the department's received count: more cases than one page holds
        view.page.goto(scorecard.as_uri(), wait_until="load")
        received_link = view.page.locator("p.keyline a.n").first
        received = int(received_link.inner_text().replace(".", ""))
        received_link.click()
        view.page.wait_for_selector("#caption.cap-c3")
        assert int(view.page.locator("#cap-count").inner_text().replace(".", "")) == received
        assert rows.count() == min(received, 500)
        view.page.select_option("#page-size", "0")
        assert rows.count() == received
        assert rows.last.locator("td.stt").inner_text() == f"{received:,}".replace(",", ".")
        ARTIFACTS.mkdir(exist_ok=True)
        pdf = view.page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF")
        (ARTIFACTS / "case-list.pdf").write_bytes(pdf)
        assert view.dialogs == []
        assert view.errors == []
        assert view.blocked == []
    finally:
        view.close()


def test_a_directive_count_and_a_pakn_count_open_exactly_their_records(reports, browser):
    """Hand-labelled (tests/test_report_records.py): on the extended deadlines D2, D5, D9 and D10 were completed on
    time in Quý I/2025; P9 is the one PAKN open past its limit at the quarter's end."""
    scorecard = reports / "scorecards" / "calendar" / "2025-Q1.html"
    view = OfflinePage(browser)
    try:
        view.page.goto(scorecard.as_uri(), wait_until="load")
        cell = view.page.locator(
            "table.directive-figures tr[data-row='completed_on_time'] td[data-basis='extended'] a")
        figure = int(cell.inner_text())
        assert figure == 4
        cell.click()
        view.page.wait_for_selector("#caption.cap-ontime_e")
        assert "/cases/index.html#kind=directive&scheme=calendar&period=2025-Q1&filter=ontime_e" in view.page.url
        rows = view.page.locator("table.cases tbody tr")
        assert rows.count() == figure
        assert int(view.page.locator("#cap-count").inner_text()) == figure
        assert view.page.locator("#cap-noun").inner_text() == "nhiệm vụ"
        headers = view.page.locator("table.cases thead th").all_inner_texts()
        assert headers[:4] == ["STT", "Số hiệu", "Trích yếu", "Đơn vị chủ trì"]
        assert sorted(rows.locator("td.code").all_inner_texts()) == ["D10", "D2", "D5", "D9"]
        assert view.page.locator("#filters a.current").inner_text().startswith("Hoàn thành đúng hạn, theo hạn đã gia")
        # another filter of the same list, without reloading
        view.page.locator("#filters a", has_text="Không có hạn").click()
        view.page.wait_for_selector("#caption.cap-nodl")
        assert sorted(rows.locator("td.code").all_inner_texts()) == ["D3", "D4"]

        view.page.goto(scorecard.as_uri(), wait_until="load")
        pakn = view.page.locator("table.feedback-figures tr[data-row='open_overdue'] a")
        assert int(pakn.inner_text()) == 1
        pakn.click()
        view.page.wait_for_selector("#caption.cap-ood")
        assert "#kind=feedback&scheme=calendar&period=2025-Q1&filter=ood" in view.page.url
        assert rows.count() == 1
        assert rows.first.locator("td.code").inner_text() == "P9"
        assert rows.first.locator("td.k-late").inner_text() == "Đang xử lý quá hạn"
        assert view.page.locator("#cap-label").inner_text() == "Đang xử lý, đã quá hạn"
        # the same viewer back on a case list shows the cases' columns again
        view.page.evaluate("window.location.hash = '#scheme=calendar&period=2025-Q1&filter=c13'")
        view.page.wait_for_selector("#caption.cap-c13")
        assert view.page.locator("table.cases thead th").all_inner_texts()[:3] == ["STT", "Mã hồ sơ", "Đơn vị"]
        assert view.page.locator("#cap-noun").inner_text() == "hồ sơ"
        assert view.dialogs == []
        assert view.errors == []
        assert view.blocked == []
    finally:
        view.close()


def test_the_viewer_says_when_a_link_is_wrong(reports, browser):
    view = OfflinePage(browser)
    try:
        viewer = (reports / "cases" / "index.html").as_uri()
        view.page.goto(viewer + "#scheme=calendar&period=1999-Q1&filter=c10", wait_until="load")
        view.page.wait_for_function("document.querySelector('#cap-label').textContent.includes('Không tìm thấy')")
        assert view.page.locator("table.cases tbody tr").count() == 0
        view.page.goto(viewer + "#scheme=calendar&period=../../x", wait_until="load")
        view.page.wait_for_function("document.querySelector('#cap-label').textContent.includes('không hợp lệ')")
        assert view.blocked == []
        assert view.dialogs == []
    finally:
        view.close()


def test_index_and_unit_scorecard_open_offline(reports, browser):
    view = OfflinePage(browser)
    try:
        view.page.goto((reports / "index.html").as_uri(), wait_until="load")
        first = view.page.locator("table.periods tbody tr[data-period]").first
        assert first.get_attribute("data-period") == "2025-Q1"
        first.locator("th a").click()
        view.page.wait_for_selector("#chart-monthly .main-svg")
        unit_link = view.page.locator("#don-vi table.units tbody th a").first
        unit_link.click()
        view.page.wait_for_selector("#chart-monthly .main-svg")
        assert view.page.locator("#chart-units").count() == 0
        assert view.page.locator(".tile[data-measure='on_time_rate'] .value").inner_text().endswith("%")
        assert view.errors == []
        assert view.blocked == []
    finally:
        view.close()
