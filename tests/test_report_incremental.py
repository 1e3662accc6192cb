"""A render into a folder that holds an earlier render rewrites only the periods whose inputs changed."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta

import case_data
import pytest
from report_fixtures import build_report_warehouse, make_cases

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


def test_a_changed_case_rewrites_only_the_periods_that_contain_it(report_build, tmp_path):
    """The next night's export corrects one case received and finished in February 2025; the warehouse is
    rebuilt by the pipeline and rendered into a copy of the published folder."""
    cases = make_cases()
    row = next(c for c in cases if c["Ngày tiếp nhận"][3:10] == "02/2025" and c["Ngày kết thúc xử lý"][3:10] == "02/2025"
               and c["Trạng thái"] == "Đã trả kết quả" and not c["Ngày yêu cầu bổ sung"])
    finished = datetime.strptime(row["Ngày kết thúc xử lý"], "%d/%m/%Y %H:%M")
    row["Ngày kết thúc xử lý"] = (finished - timedelta(minutes=30)).strftime("%d/%m/%Y %H:%M")
    settings = build_report_warehouse(tmp_path / "next", cases)
    reports = settings.reports_dir
    shutil.copytree(report_build.reports, reports)
    before = period_files(reports)
    assert {period_of(p) for p in before} >= {"2025-Q1", "2025-H1", "2025", "2024-Q4", "2024-H2", "2024"}

    written = render_all(settings, units=True)
    rewritten = {p.relative_to(reports).as_posix() for p in written} & set(before)
    # a case received and finished in February 2025 belongs to 2025-Q1, 2025-H1 and 2025 only
    assert {period_of(p) for p in rewritten} == {"2025-Q1", "2025-H1", "2025"}
    for period in ("2025-Q1", "2025-H1", "2025"):
        assert {f"cases/calendar/{period}.js", f"scorecards/calendar/{period}.html",
                f"bieu06/calendar/{period}.xlsx"} <= rewritten
    after = period_files(reports)
    assert {p for p in before if after[p] != before[p]} == rewritten
    listed = case_data.listed(reports, "scheme=calendar&period=2025-Q1&filter=c7")
    assert row["Ngày kết thúc xử lý"] in {r["end"] for r in listed if r["case_id"] == row["Mã hồ sơ"]}


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
