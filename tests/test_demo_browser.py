"""``tthc demo`` shows all objectives on the first screen: the latest quarter's scorecard of a real (reduced) demo
build, in headless Chromium with the network off (tests/offline_browser.py, the ``browser`` fixture in conftest).

The demo exports come from the project's generator (pipeline.demo.generate_demo_exports, the default seed of
``tthc demo``) for 01/01/2025-30/06/2025 instead of two years, so that Quý II/2025 has a quarter before it (its
tiles print the change against Quý I/2025, as in the full demo) while the build stays short. Then the real
ingest and build (pipeline.jobs.ingest_and_build) and the nightly rendering (render_all with the settings' grains).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from html_dom import parse
from offline_browser import OfflinePage

from pipeline.demo import generate_demo_exports
from pipeline.jobs import ingest_and_build
from pipeline.report import render_all
from pipeline.settings import load_settings

START, END = date(2025, 1, 1), date(2025, 6, 30)
LATEST_QUARTER = "2025-Q2"
# The objectives of 2025 in pipeline/config/targets.toml (cases, directives, PAKN), then the overdue-cases alert.
TILES = [("on_time_rate", "case"), ("early_rate", "case"), ("satisfaction_rate", "case"), ("apology_rate", "case"),
         ("directive_on_time_rate", "directive"), ("feedback_handled_rate", "feedback"),
         ("feedback_on_time_rate", "feedback"), ("open_overdue", "case")]
NOUNS = {"directive": "nhiệm vụ", "feedback": "PAKN"}


@pytest.fixture(scope="module")
def demo_reports(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo-browser")
    settings = load_settings(raw_dir=root / "raw", warehouse=root / "warehouse" / "tthc.duckdb",
                             reports_dir=root / "reports", as_of=END)
    generate_demo_exports(settings.raw_dir / "demo", settings, start=START, end=END)
    result = ingest_and_build(settings)
    assert not result.rejected_files, [o.reason for o in result.rejected_files]
    render_all(settings)
    return settings.reports_dir


def test_the_latest_quarter_heads_the_index_and_its_record_counts_link_to_their_kind(demo_reports):
    section = parse(demo_reports / "index.html").find("section", cls="index-group", data_grain="quarter")
    assert [tr.attrs["data-period"] for tr in section.find_all("tr") if "data-period" in tr.attrs] == [
        LATEST_QUARTER, "2025-Q1"]
    root = parse(demo_reports / "scorecards" / "calendar" / f"{LATEST_QUARTER}.html")
    for section_id, kind in (("nhiem-vu", "directive"), ("pakn", "feedback")):
        hrefs = [a.attrs["href"] for a in root.find("section", id=section_id).find_all("a")
                 if "cases/index.html" in a.attrs.get("href", "")]
        assert len(hrefs) >= 5, section_id
        assert all(f"#kind={kind}&scheme=calendar&period={LATEST_QUARTER}" in h for h in hrefs), section_id


def test_demo_scorecard_shows_every_objective_on_the_first_screen(demo_reports, browser):
    """A leader's laptop (1366×768): every objective tile, cases, directives and PAKN, is wholly visible without
    scrolling; the directive and PAKN counts of the tiles open exactly their records in the list viewer."""
    scorecard = demo_reports / "scorecards" / "calendar" / f"{LATEST_QUARTER}.html"
    view = OfflinePage(browser, width=1366, height=768)
    try:
        view.page.goto(scorecard.as_uri(), wait_until="load")
        tiles = view.page.locator("#muc-tieu .tile")
        assert [(tiles.nth(i).get_attribute("data-measure"), tiles.nth(i).get_attribute("data-kind"))
                for i in range(tiles.count())] == TILES
        for i in range(tiles.count()):
            box = tiles.nth(i).bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= 768, (TILES[i], box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= 1366, (TILES[i], box)
        summary = view.page.locator("#muc-tieu .summary h2")
        assert summary.inner_text().startswith("Mục tiêu chất lượng: đạt ") and summary.inner_text().endswith("/7")
        assert view.page.evaluate("window.scrollY") == 0

        links = [(kind, a.get_attribute("href"), a.inner_text())
                 for kind in NOUNS
                 for a in view.page.locator(f"#muc-tieu .tile[data-kind='{kind}'] p.detail a.n").all()]
        assert {kind for kind, _, _ in links} == set(NOUNS) and len(links) >= 4
        for kind, href, text in links:
            assert href.startswith(f"../../cases/index.html#kind={kind}&scheme=calendar&period={LATEST_QUARTER}")
            figure = int(text.replace(".", ""))
            view.page.goto(scorecard.as_uri(), wait_until="load")
            view.page.locator(f"#muc-tieu .tile[data-kind='{kind}'] p.detail a.n[href='{href}']").first.click()
            view.page.wait_for_function("document.querySelector('#caption').className.startsWith('cap cap-')")
            assert int(view.page.locator("#cap-count").inner_text().replace(".", "")) == figure, href
            assert view.page.locator("#cap-noun").inner_text() == NOUNS[kind]
            assert view.page.locator("table.cases tbody tr").count() == min(figure, 500), href
        assert view.dialogs == []
        assert view.errors == []
        assert view.blocked == []
    finally:
        view.close()
