"""A render into a folder that holds an earlier render rewrites only the periods whose inputs changed."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta

import case_data
import pytest
from records_fixtures import KCHT, VT
from report_fixtures import build_report_warehouse, fixture_settings, make_cases, write_exports

from pipeline.report import render_all
from pipeline.report.manifest import MANIFEST

GRAINS = ["quarter", "half", "year"]


def period_files(reports):
    """Scorecards, Biểu 06 workbooks and case-data files of periods, with their modification times."""
    files = [*reports.glob("scorecards/**/*.html"), *reports.glob("bieu06/**/*.xlsx"), *reports.glob("cases/*/*.js")]
    return {p.relative_to(reports).as_posix(): p.stat().st_mtime_ns for p in files}


def period_of(path: str) -> str:
    name = path.split("/")[2].removesuffix(".html").removesuffix(".xlsx").removesuffix(".js")
    return name.removesuffix(".directive").removesuffix(".feedback")


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


def _extra_task_list(raw):
    """A later task list showing D5 (VT, assigned 04/03/2025, done 12/03/2025) with a longer title."""
    path = raw / "nhiem_vu" / "giao_viec_2025-07-01.csv"
    lines = [["ID", "Tên nhiệm vụ", "Ngày tạo", "Đơn vị chủ trì", "Thời hạn hoàn thành", "Tình trạng", "Ngày hoàn thành"],
             ["D5", "Rà soát tuyến vận tải khách cố định liên tỉnh và đề xuất điều chỉnh quy hoạch tuyến", "04/03/2025",
              VT, "12/03/2025", "Đã hoàn thành", "12/03/2025"]]
    path.write_text("\n".join(",".join(f'"{c}"' for c in line) for line in lines) + "\n", encoding="utf-8-sig")
    return "kind=directive", "D5", "Rà soát tuyến vận tải khách cố định liên tỉnh và đề xuất điều chỉnh quy hoạch tuyến"


def _extra_pakn(raw):
    """A PAKN received 10/03/2025 and answered on time on 12/03/2025 (national portal CSV)."""
    path = raw / "pakn" / "pakn_cong_quoc_gia_2025-07-01.csv"
    lines = [["Mã phản ánh", "Tiêu đề", "Cơ quan xử lý", "Ngày gửi", "Ngày tiếp nhận", "Tình trạng", "Ngày trả lời",
              "Ngày công khai"],
             ["P12", "Hỏi về lệ phí cấp phép thi công", KCHT, "10/03/2025 09:00", "10/03/2025 09:00", "Đã công khai",
              "12/03/2025 10:00", "12/03/2025 15:00"]]
    path.write_text("\n".join(",".join(f'"{c}"' for c in line) for line in lines) + "\n", encoding="utf-8")
    return "kind=feedback", "P12", "Hỏi về lệ phí cấp phép thi công"


@pytest.mark.parametrize(("extra", "kind"), [(_extra_task_list, "directive"), (_extra_pakn, "feedback")])
def test_a_changed_directive_or_pakn_rewrites_the_periods_that_hold_it(report_build, tmp_path, extra, kind):
    """The next night brings one more export: a longer title of task D5, or a new PAKN P12, both of March 2025.
    The warehouse is rebuilt by the pipeline and rendered into a copy of the published folder: the periods that
    hold the record (2025-Q1, 2025-H1, 2025) get new pages and a new data file of that kind, nothing else."""
    from pipeline.jobs import ingest_and_build

    settings = fixture_settings(tmp_path / "next")
    write_exports(settings.raw_dir)
    fragment, record_id, title = extra(settings.raw_dir)
    result = ingest_and_build(settings)
    assert [o.path.name for o in result.rejected_files] == ["ghichu_20250331_1755.csv"]  # the fixture's note
    reports = settings.reports_dir
    shutil.copytree(report_build.reports, reports)
    before = period_files(reports)

    written = render_all(settings, units=True)
    rewritten = {p.relative_to(reports).as_posix() for p in written} & set(before)
    changed = {"2025-Q1", "2025-H1", "2025"}
    assert {period_of(p) for p in rewritten} == changed
    other = "feedback" if kind == "directive" else "directive"
    for period in changed:
        assert {f"cases/calendar/{period}.{kind}.js", f"scorecards/calendar/{period}.html"} <= rewritten
        assert f"cases/calendar/{period}.{other}.js" not in rewritten
        assert f"cases/calendar/{period}.js" not in rewritten  # the cases did not change
    after = period_files(reports)
    assert {p for p in before if after[p] != before[p]} == rewritten
    listed = case_data.listed(reports, f"{fragment}&scheme=calendar&period=2025-Q1")
    titles = {list(r["cells"].values())[1] for r in listed if r["id"] == record_id}  # the second column: the title
    assert titles == {title}
