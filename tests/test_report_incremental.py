"""A render into a folder that holds an earlier render rewrites only the periods whose inputs changed."""

from __future__ import annotations

import json
import shutil

import pytest

from pipeline import db
from pipeline.report import render_all
from pipeline.report.manifest import MANIFEST

GRAINS = ["quarter", "half", "year"]


def period_files(reports):
    """Scorecards, Biểu 06 workbooks and case-data files of periods, with their modification times."""
    files = [*reports.glob("scorecards/**/*.html"), *reports.glob("bieu06/**/*.xlsx"), *reports.glob("cases/*/*.js")]
    return {p.relative_to(reports).as_posix(): p.stat().st_mtime_ns for p in files}


def period_of(path: str) -> str:
    return path.split("/")[2].removesuffix(".html").removesuffix(".xlsx").removesuffix(".js")


@pytest.fixture
def copy(report_build, tmp_path):
    """A copy of the report warehouse and settings that render into a fresh folder."""
    warehouse = tmp_path / "warehouse" / "tthc.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(report_build.warehouse, warehouse)
    return report_build.settings.model_copy(update={"warehouse": warehouse, "reports_dir": tmp_path / "reports"})


def test_second_render_of_an_unchanged_warehouse_writes_no_period_file(copy):
    first = render_all(copy, grains=GRAINS, units=True)
    reports = copy.reports_dir
    before = period_files(reports)
    assert {period_of(p) for p in before} >= {"2025-Q1", "2024-Q4", "2025"}
    assert {p.relative_to(reports).as_posix() for p in first} >= set(before)

    second = render_all(copy, grains=GRAINS, units=True)
    rewritten = [p.relative_to(reports).as_posix() for p in second]
    assert not [p for p in rewritten if p in before], rewritten
    assert period_files(reports) == before
    assert set(rewritten) == {"index.html", "cases/index.html"}  # always rewritten; assets are unchanged
    manifest = json.loads((reports / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["files"]) == set(before)
    assert manifest["files"]["cases/calendar/2025-Q1.js"]["part"] == "cases"


def test_a_changed_case_rewrites_only_the_periods_that_contain_it(copy):
    render_all(copy, grains=GRAINS)
    reports = copy.reports_dir
    before = period_files(reports)
    rendered = {period_of(p) for p in before}
    con = db.connect(copy.warehouse)
    try:
        # a case received and resolved in February 2025: it belongs to 2025-Q1, 2025-H1 and 2025 only
        case_id = con.execute(
            "select case_id from mart.case_timeliness where period_scheme = 'calendar' and period = '2025-Q1' "
            "and is_received_in_period and is_resolved_in_period and received_at >= '2025-02-01' "
            "and end_at < '2025-03-01' order by case_id limit 1").fetchone()[0]
        con.execute("update mart.case_timeliness set end_at = end_at + interval 1 minute where case_id = $c",
                    {"c": case_id})
    finally:
        con.close()
    written = render_all(copy, grains=GRAINS)
    rewritten = {p.relative_to(reports).as_posix() for p in written} & set(before)
    expected = {"2025-Q1", "2025-H1", "2025"} & rendered
    assert len(expected) >= 2
    assert {period_of(p) for p in rewritten} == expected
    for period in expected:
        assert f"cases/calendar/{period}.js" in rewritten and f"scorecards/calendar/{period}.html" in rewritten
    after = period_files(reports)
    assert {p for p in before if after[p] != before[p]} == rewritten


def test_files_of_periods_and_units_no_longer_shown_are_deleted(copy):
    render_all(copy, grains=GRAINS, units=True)
    reports = copy.reports_dir
    unit_pages = list(reports.glob("scorecards/calendar/2025-Q1/*.html"))
    assert unit_pages
    # files of a period the warehouse no longer has, and case pages of the older one-page-per-list layout
    (reports / "scorecards" / "calendar" / "2019-Q1.html").write_text("old", encoding="utf-8")
    (reports / "bieu06" / "calendar" / "2019-Q1.xlsx").write_bytes(b"old")
    legacy = reports / "cases" / "calendar" / "2025-Q1" / "tat-ca.html"
    legacy.parent.mkdir()
    legacy.write_text("old", encoding="utf-8")
    manifest = json.loads((reports / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"]["cases/calendar/2019-Q1.js"] = {"scheme": "calendar", "period": "2019-Q1", "part": "cases",
                                                      "fingerprint": "x"}
    (reports / "cases" / "calendar" / "2019-Q1.js").write_text("old", encoding="utf-8")
    (reports / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")

    render_all(copy, grains=GRAINS, units=False)
    assert not any(p.exists() for p in unit_pages)
    assert not (reports / "scorecards" / "calendar" / "2025-Q1").exists()
    assert not (reports / "scorecards" / "calendar" / "2019-Q1.html").exists()
    assert not (reports / "bieu06" / "calendar" / "2019-Q1.xlsx").exists()
    assert not (reports / "cases" / "calendar" / "2019-Q1.js").exists()
    assert not legacy.parent.exists()
    assert (reports / "scorecards" / "calendar" / "2025-Q1.html").is_file()
    manifest = json.loads((reports / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["files"]) == set(period_files(reports))


def test_other_grains_are_kept_and_a_changed_setting_rewrites_pages_only(copy):
    render_all(copy, grains=GRAINS)
    reports = copy.reports_dir
    years = period_files(reports)
    render_all(copy, grains=["year"])
    assert period_files(reports) == years  # quarter and half files are kept, nothing rewritten
    renamed = copy.model_copy(update={"department_name": "Sở Xây dựng"})
    written = {p.relative_to(reports).as_posix() for p in render_all(renamed, grains=GRAINS)}
    assert {p for p in written if p.startswith("scorecards/")} == {p for p in years if p.startswith("scorecards/")}
    assert not [p for p in written if p.startswith("cases/calendar/")]  # the case lists do not show it
    assert "Sở Xây dựng".upper() in (reports / "scorecards" / "calendar" / "2025-Q1.html").read_text("utf-8")
