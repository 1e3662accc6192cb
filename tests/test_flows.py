"""The nightly Prefect flow end to end (ephemeral Prefect) on a small raw folder.

One module fixture runs the flow once; the tests then run it again (nothing changes), make a step fail
(nothing published, the failure recorded), feed the next day's delta (figures move), and check retries,
the run lock and run history. Prefect's temporary server starts once for the whole module.
"""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path

import duckdb
import pytest
from fixtures_exports import write_csv
from helpers import APPLICANT, AS_OF, CASE_HEADER, FIRST_EXPORT, FLOW_UNIT, PHONE, decoded, flow_case

from pipeline import flows, publish, runtime
from pipeline.cli import main
from pipeline.settings import load_settings

RATINGS = [["Mã hồ sơ", "Thời gian đánh giá", "Mức độ hài lòng"],
           ["TT-0001", "06/03/2025 11:00", "Rất hài lòng"], ["TT-0003", "13/03/2025 11:00", "Không hài lòng"]]
NEXT_DAY_DELTA = [
    flow_case("TT-0004", "25/03/2025 09:00", "01/04/2025 10:00", "31/03/2025 15:00", "Đã trả kết quả"),
    flow_case("TT-0006", "31/03/2025 08:00", "07/04/2025 08:00"),
]


def kpi_rows(warehouse: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select * from mart.kpi_period order by all").fetchall()
    finally:
        con.close()


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def tree_bytes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(settings) -> list[str]:
    names = [p.name for p in settings.warehouse.parent.iterdir()] + [p.name for p in settings.reports_dir.parent.iterdir()]
    return [n for n in names if ".next-" in n or ".old-" in n or ".building-" in n]


@pytest.fixture(scope="module", autouse=True)
def prefect_api():
    """One temporary Prefect API for the module (what ephemeral mode starts), stopped cleanly at the end."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("nightly")
    write_csv(root / "raw" / "2025-03-28" / "ho_so.csv", CASE_HEADER, FIRST_EXPORT, bom=True)
    write_csv(root / "raw" / "2025-03-28" / "danh_gia.csv", RATINGS[0], RATINGS[1:], bom=True)
    (root / "reports").mkdir()
    (root / "reports" / ".gitkeep").write_text("")
    settings = load_settings(raw_dir=root / "raw", warehouse=root / "warehouse" / "tthc.duckdb",
                             reports_dir=root / "reports", as_of=AS_OF)
    first = flows.run_nightly(settings)
    return settings, first


def test_first_run_publishes_everything(world):
    settings, first = world
    assert first.status == "success", first.reason
    assert (first.files_seen, first.files_loaded, first.files_rejected) == (2, 2, 0)
    assert first.rows_loaded == 7 and first.cases == 5
    assert first.headline["period"] == "2025-Q1" and first.headline["resolved_total"] == 3
    assert first.one_line().startswith(f"nightly run {first.run_id}: success — 2 file(s) seen, 2 loaded")

    reports = settings.reports_dir
    assert (reports / "index.html").exists() and (reports / ".gitkeep").exists()
    assert str(reports / "index.html") == first.links[0]
    html = (reports / "warnings" / "index.html").read_text(encoding="utf-8")
    assert "TT-0004" in html and "TT-0005" in html and "còn 3 giờ làm việc" in html
    table = (reports / "warnings" / "warnings.csv").read_bytes().decode("utf-8-sig")
    for text in (html, table):
        assert APPLICANT not in text and PHONE not in text
    assert leftovers(settings) == []

    runs = query(settings.warehouse, "select run_id, status, reason, finished_at, files_loaded, cases from ops.run")
    assert runs == [(first.run_id, "success", None, first.finished_at, 2, 5)]
    history = publish.read_run_history(settings)
    assert [(r["run_id"], r["status"]) for r in history] == [(first.run_id, "success")]


def test_summary_markdown(world):
    _, first = world
    text = publish.summary_markdown(first)
    assert text.startswith(f"# Chạy đêm {first.run_id}: thành công")
    assert "| Tệp xuất | 2 tệp; 2 nạp mới; 0 bị từ chối |" in text
    assert "## Quý 2025-Q1" in text and "Tỷ lệ đúng hạn" in text


def test_second_run_changes_nothing(world, capsys):
    settings, first = world
    before = kpi_rows(settings.warehouse)
    cases_before = query(settings.warehouse, "select * from core.case order by case_id")
    # a run killed half-way left a 'running' row: the next run records it as interrupted
    publish.write_run_row(settings, publish.RunSummary(run_id="20250101T000000-dead00", started_at=first.started_at,
                                                   as_of=first.as_of))
    code = main(["run", "--raw", str(settings.raw_dir), "--warehouse", str(settings.warehouse),
                 "--reports", str(settings.reports_dir), "--as-of", AS_OF])
    assert code == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert ": success — 2 file(s) seen, 0 loaded, 0 rejected" in line
    assert kpi_rows(settings.warehouse) == before
    assert query(settings.warehouse, "select * from core.case order by case_id") == cases_before
    statuses = dict(query(settings.warehouse, "select run_id, status from ops.run"))
    assert statuses[first.run_id] == "success"
    assert statuses["20250101T000000-dead00"] == "failed"
    assert len(statuses) == 3 and "running" not in statuses.values()


def test_failed_step_publishes_nothing_and_is_recorded(world, monkeypatch):
    settings, _ = world
    reports_before = tree_bytes(settings.reports_dir)
    warehouse_before = settings.warehouse.read_bytes()
    kpi_before = kpi_rows(settings.warehouse)
    write_csv(settings.raw_dir / "2025-03-31" / "ho_so.csv", CASE_HEADER, NEXT_DAY_DELTA, bom=True)

    def explode(*_args, **_kwargs):
        raise RuntimeError("renderer exploded\nsecond line")

    monkeypatch.setattr("pipeline.report.render.render_all", explode)
    failed = flows.run_nightly(settings)
    assert failed.status == "failed"
    assert failed.reason == "reports: RuntimeError: renderer exploded"
    assert failed.files_loaded == 1  # the new export is in the raw layer; the next run builds with it
    assert settings.warehouse.read_bytes() == warehouse_before
    assert tree_bytes(settings.reports_dir) == reports_before
    assert kpi_rows(settings.warehouse) == kpi_before
    assert leftovers(settings) == []
    history = {r["run_id"]: r for r in publish.read_run_history(settings)}
    assert history[failed.run_id]["status"] == "failed"
    assert history[failed.run_id]["reason"] == failed.reason
    assert history[failed.run_id]["finished_at"] is not None

    monkeypatch.undo()
    recovered = flows.run_nightly(settings)
    assert recovered.status == "success" and recovered.files_loaded == 0 and recovered.cases == 6
    after = kpi_rows(settings.warehouse)
    assert after != kpi_before  # the next day's delta moved the figures
    q1 = query(settings.warehouse, "select resolved_total, early, open_total from mart.kpi_period where "
               "period_scheme = 'calendar' and period = '2025-Q1' and dimension = 'all'")
    assert q1 == [(4, 2, 2)]  # TT-0004 resolved early (31/03 before its 01/04 appointment), TT-0006 open
    runs = dict(query(settings.warehouse, "select run_id, status from ops.run"))
    assert runs[failed.run_id] == "failed" and runs[recovered.run_id] == "success"
    reasons = dict(query(settings.warehouse, "select run_id, reason from ops.run"))
    assert reasons[failed.run_id] == "reports: RuntimeError: renderer exploded"


def test_failure_at_the_last_rename_puts_the_reports_back(world, monkeypatch):
    import os

    settings, _ = world
    reports_before = tree_bytes(settings.reports_dir)
    warehouse_before = settings.warehouse.read_bytes()
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst) == settings.warehouse:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    summary = flows.run_nightly(settings)
    monkeypatch.undo()
    assert summary.status == "failed"
    assert summary.reason == "publish: OSError: [Errno 28] No space left on device"
    assert tree_bytes(settings.reports_dir) == reports_before
    assert settings.warehouse.read_bytes() == warehouse_before
    assert leftovers(settings) == []


def test_transient_read_error_is_retried_permanent_one_rejects_the_file(world, monkeypatch):
    settings, _ = world
    calls: dict[str, int] = {}
    from pipeline.ingest import stage

    original = stage.file_sha256

    def flaky(path):
        calls[path.name] = calls.get(path.name, 0) + 1
        if path.name == "danh_gia.csv" and calls[path.name] == 1:
            raise OSError(5, "Input/output error (network share)")
        if path.name == "ho_so.csv" and "2025-03-31" in str(path):
            raise PermissionError(13, "Permission denied")
        return original(path)

    monkeypatch.setattr(stage, "file_sha256", flaky)
    monkeypatch.setattr(stage, "HASH_RETRY_SECONDS", (0.0, 0.0))
    summary = flows.run_nightly(settings)
    assert calls["danh_gia.csv"] == 2  # retried once, then read
    assert summary.status == "partial" and summary.files_rejected == 1
    assert "Permission denied" in summary.reason and "2025-03-31" in summary.reason
    assert summary.cases == 6


def test_second_concurrent_run_is_refused(world):
    settings, _ = world
    with open(settings.warehouse.parent / ".nightly.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        refused = flows.run_nightly(settings)
        fcntl.flock(handle, fcntl.LOCK_UN)
    assert refused.status == "failed" and refused.reason == "another nightly run is in progress"
    history = {r["run_id"]: r["status"] for r in publish.read_run_history(settings)}
    assert history[refused.run_id] == "failed"


def test_units_are_e_mailed_after_publishing(world, smtp_server):
    settings, _ = world
    mailing = settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": smtp_server.server_address[1], "smtp_tls": False,
        "unit_emails": f"{FLOW_UNIT}=vantai@sogtvt.example.vn",
    })
    summary = flows.run_nightly(mailing)
    assert summary.status == "success"
    assert summary.notes == ["e-mails: 1 sent, 0 failed, 0 unit(s) without address"]
    [(_, recipients, raw)] = smtp_server.messages
    assert recipients == ["vantai@sogtvt.example.vn"]
    _, _, body, _ = decoded(raw)
    assert "TT-0005" in body and APPLICANT not in body and PHONE not in body


def test_missing_raw_folder_fails_with_reason(tmp_path):
    settings = load_settings(raw_dir=tmp_path / "nothing", warehouse=tmp_path / "w" / "tthc.duckdb",
                             reports_dir=tmp_path / "reports", as_of=AS_OF)
    summary = flows.run_nightly(settings)
    assert summary.status == "failed"
    assert summary.reason.startswith("ingest: FileNotFoundError: raw folder")
    assert not settings.warehouse.exists() and not settings.reports_dir.exists()
    assert [r["status"] for r in publish.read_run_history(settings)] == ["failed"]


def test_prefect_home_is_absolute_in_the_project():
    import os

    home = Path(os.environ["PREFECT_HOME"])
    assert home.is_absolute()
    assert runtime.prefect_home_path(".prefect") == runtime.PROJECT_DIR / ".prefect"
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"


def test_report_swap_follows_a_symlinked_reports_folder(tmp_path):
    """Leadership's web root may be a symlink to the reports: the target's content is swapped, not the link."""
    target = tmp_path / "www" / "tthc"
    target.mkdir(parents=True)
    (target / "index.html").write_text("old")
    (target / ".htaccess").write_text("keep me")
    link = tmp_path / "reports"
    link.symlink_to(target)
    settings = load_settings(reports_dir=link, warehouse=tmp_path / "w" / "tthc.duckdb")
    stage = publish.staging(settings, "run1")
    assert stage.reports.parent == target.parent
    publish.prepare_reports(stage)  # a hard-linked copy of the published folder, dotfiles included
    assert (stage.reports / ".htaccess").read_text() == "keep me"
    new_page = stage.reports / ".index.html.tmp"
    new_page.write_text("new")
    new_page.replace(stage.reports / "index.html")  # pages are replaced, never rewritten in place
    assert (target / "index.html").read_text() == "old"
    settings.warehouse.parent.mkdir(parents=True)
    stage.warehouse.write_bytes(b"warehouse")
    publish.publish(stage)
    assert link.is_symlink() and (link / "index.html").read_text() == "new"
    assert (link / ".htaccess").read_text() == "keep me"
    assert not stage.reports.exists() and settings.warehouse.read_bytes() == b"warehouse"


def test_logs_carry_no_personal_data(world, capfd, caplog):
    settings, _ = world
    write_csv(settings.raw_dir / "2025-03-31" / "bo_sung.csv", CASE_HEADER,
              [flow_case("TT-0007", "31/03/2025 09:00", "07/04/2025 09:00"),
               flow_case("TT-0008", "31/02/2025 09:00", "07/04/2025 09:00")], bom=True)  # a bad row: quarantined and logged
    caplog.set_level("DEBUG")
    code = main(["run", "--raw", str(settings.raw_dir), "--warehouse", str(settings.warehouse),
                 "--reports", str(settings.reports_dir), "--as-of", AS_OF])
    captured = capfd.readouterr()
    assert code == 0
    logs = captured.out + captured.err + caplog.text
    assert "quarantined 1" in logs  # the run and its bad row were logged ...
    assert APPLICANT not in logs and PHONE not in logs  # ... without the applicant
