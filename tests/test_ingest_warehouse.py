"""The loader: lossless per file, incremental, order-independent, safe for analysts and for kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from helpers import case_line, make_settings, write_export

from pipeline.jobs import ingest_and_build
from pipeline.settings import load_settings
from pipeline.warehouse.build import build_warehouse


def current_cases(warehouse: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select case_id, status, received_at, due_at, end_at from core.case order by case_id"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture
def two_exports(tmp_path):
    first = write_export(tmp_path / "raw" / "2025-03-10" / "cases.csv", [
        case_line("H55-0001", "03/03/2025 08:00", "06/03/2025 08:00", "05/03/2025 10:00", "Đã trả kết quả"),
        case_line("H55-0002", "04/03/2025 09:00", "07/03/2025 09:00"),
        case_line("H55-0003", "31/02/2025 09:00", "07/03/2025 09:00"),  # impossible date: quarantined
    ])
    second = write_export(tmp_path / "raw" / "2025-03-11" / "cases.csv", [
        case_line("H55-0002", "04/03/2025 09:00", "07/03/2025 09:00", "07/03/2025 09:05", "Đã trả kết quả"),
    ])
    return first, second


def test_rows_read_equal_loaded_plus_quarantined_plus_skipped(tmp_path, two_exports):
    settings = make_settings(tmp_path)
    result = ingest_and_build(settings)
    assert not result.rejected_files
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    files = con.execute("select file_name, rows_read, rows_loaded, rows_quarantined, rows_skipped from ops.file").fetchall()
    assert len(files) == 2
    for _, read, loaded, quarantined, skipped in files:
        assert read == loaded + quarantined + skipped
    reasons = con.execute("select field, raw_value, reason, source_row from ops.quarantine").fetchall()
    assert any(field == "received_at" and "31/02/2025" in raw for field, raw, _, _ in reasons)
    assert [row[3] for row in reasons if row[0] == "received_at"] == [4]  # line 4 of the file
    con.close()


def test_reexport_updates_current_row_and_keeps_history(tmp_path, two_exports):
    settings = make_settings(tmp_path)
    ingest_and_build(settings)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    status, end_at = con.execute("select status, end_at from core.case where case_id = 'H55-0002'").fetchone()
    assert status == 10 and str(end_at) == "2025-03-07 09:05:00"
    history = con.execute(
        "select status, is_current from core.case_state_history where case_id = 'H55-0002' order by exported_at"
    ).fetchall()
    assert history == [(4, False), (10, True)]
    con.close()


def test_second_run_skips_ingested_files_and_changes_nothing(tmp_path, two_exports):
    settings = make_settings(tmp_path)
    ingest_and_build(settings)
    before = current_cases(settings.warehouse)
    again = ingest_and_build(settings)
    assert {o.status for o in again.outcomes} == {"already_ingested"}
    assert current_cases(settings.warehouse) == before


def test_load_order_does_not_matter(tmp_path, two_exports):
    first, second = two_exports
    forward = make_settings(tmp_path, name="forward")
    ingest_and_build(forward, paths=[first])
    ingest_and_build(forward, paths=[second])
    backward = make_settings(tmp_path, name="backward")
    ingest_and_build(backward, paths=[second])
    ingest_and_build(backward, paths=[first])
    assert current_cases(forward.warehouse) == current_cases(backward.warehouse)


def test_unrecognised_file_is_rejected_and_others_load(tmp_path, two_exports):
    (tmp_path / "raw" / "notes.csv").write_text("Ghi chú,Người ghi\nabc,def\n", encoding="utf-8")
    settings = make_settings(tmp_path)
    result = ingest_and_build(settings)
    assert len(result.rejected_files) == 1
    reason = result.rejected_files[0].reason
    assert "notes.csv" in reason and len(reason.splitlines()) == 1
    assert result.table_counts["core.case"] == 2


def test_read_only_analyst_connection_does_not_block_the_run(tmp_path, two_exports):
    first, second = two_exports
    settings = make_settings(tmp_path)
    ingest_and_build(settings, paths=[first])
    analyst = duckdb.connect(str(settings.warehouse), read_only=True)
    seen_before = analyst.execute("select status from core.case where case_id = 'H55-0002'").fetchone()
    ingest_and_build(settings, paths=[second])  # must not fail while the analyst holds the file open
    # The analyst's open connection still sees a whole, consistent warehouse (the old one) ...
    assert analyst.execute("select status from core.case where case_id = 'H55-0002'").fetchone() == seen_before
    analyst.close()
    # ... and a new connection sees the new one.
    assert dict((c[0], c[1]) for c in current_cases(settings.warehouse))["H55-0002"] == 10


KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pipeline.jobs import ingest_and_build
    from pipeline.settings import load_settings
    s = load_settings(raw_dir=Path(sys.argv[1]), warehouse=Path(sys.argv[2]), as_of="2025-03-31")
    ingest_and_build(s)
    """
)


def test_killed_ingest_loses_nothing_and_next_run_completes(tmp_path):
    raw = tmp_path / "raw"
    for day in range(1, 41):
        lines = [case_line(f"H55-{day:02d}{i:03d}", "03/02/2025 08:00", "10/02/2025 08:00",
                           "05/02/2025 10:00", "Đã trả kết quả") for i in range(200)]
        write_export(raw / f"batch_{day:02d}" / "cases.csv", lines)
    warehouse = tmp_path / "killed" / "tthc.duckdb"
    process = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(raw), str(warehouse)])
    parquet = warehouse.parent / "raw_parquet" / "files"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(parquet.glob("*.parquet"))) < 5:
        time.sleep(0.05)
    stored_at_kill = len(list(parquet.glob("*.parquet")))
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    # the kill landed mid-ingest: some exports were stored, not all, and no warehouse was built
    assert stored_at_kill >= 5 and len(list(parquet.glob("*.parquet"))) < 40
    assert not warehouse.exists()
    settings = load_settings(raw_dir=raw, warehouse=warehouse, as_of="2025-03-31")
    ingest_and_build(settings)
    clean = load_settings(raw_dir=raw, warehouse=tmp_path / "clean" / "tthc.duckdb", as_of="2025-03-31")
    ingest_and_build(clean)
    assert current_cases(warehouse) == current_cases(clean.warehouse)
    assert len(current_cases(warehouse)) == 40 * 200
    assert not list(warehouse.parent.glob(".tthc.duckdb.building-*"))


def test_rebuild_from_parquet_alone_gives_same_warehouse(tmp_path, two_exports):
    settings = make_settings(tmp_path)
    ingest_and_build(settings)
    before = current_cases(settings.warehouse)
    settings.warehouse.unlink()
    build_warehouse(settings, "rebuild")
    assert current_cases(settings.warehouse) == before


def test_an_identical_backup_copy_never_hides_the_export(tmp_path):
    """`cases.csv.bak` beside `cases.csv` (same bytes): the export is read under its own name, the copy is
    reported as a duplicate, and neither is 'already ingested' before the export itself was loaded."""
    settings = make_settings(tmp_path)
    export = write_export(tmp_path / "raw" / "2025-03-10" / "cases.csv", [
        case_line("H55-0001", "03/03/2025 08:00", "06/03/2025 08:00", "05/03/2025 10:00", "Đã trả kết quả")])
    backup = export.with_name("cases.csv.bak")
    backup.write_bytes(export.read_bytes())
    early = export.with_name("a_copy.csv")  # sorts before the export: still not the one read
    early.write_bytes(export.read_bytes())
    first = ingest_and_build(settings)
    statuses = {o.path.name: o.status for o in first.outcomes}
    assert statuses == {"cases.csv": "loaded", "cases.csv.bak": "duplicate", "a_copy.csv": "duplicate"}
    assert [c[0] for c in current_cases(settings.warehouse)] == ["H55-0001"]
    again = ingest_and_build(settings)
    assert {o.status for o in again.outcomes} == {"already_ingested"}


def test_links_out_of_the_raw_folder_are_not_followed(tmp_path):
    settings = make_settings(tmp_path)
    write_export(tmp_path / "raw" / "2025-03-10" / "cases.csv", [
        case_line("H55-0001", "03/03/2025 08:00", "06/03/2025 08:00", "05/03/2025 10:00", "Đã trả kết quả")])
    outside = write_export(tmp_path / "elsewhere" / "secret.csv", [
        case_line("H55-9999", "03/03/2025 08:00", "06/03/2025 08:00")])
    (tmp_path / "raw" / "linked.csv").symlink_to(outside)
    (tmp_path / "raw" / "linked_folder").symlink_to(outside.parent, target_is_directory=True)
    result = ingest_and_build(settings)
    reasons = sorted(o.reason for o in result.rejected_files)
    assert len(reasons) == 2 and all("outside the raw folder" in r for r in reasons)
    assert [c[0] for c in current_cases(settings.warehouse)] == ["H55-0001"]


def test_rejected_files_are_quoted_in_the_log(tmp_path, two_exports, caplog):
    """The rejection log line quotes the file, so a ': ' in its name cannot be taken for the reason, and
    escapes control characters (a terminal escape or a newline in a name cannot forge or hide a log line)."""
    (tmp_path / "raw" / "ghi chú: tháng 3.csv").write_text("Ghi chú,Người ghi\nabc,def\n", encoding="utf-8")
    (tmp_path / "raw" / "x\x1b[2Jy.csv").write_text("Ghi chú,Người ghi\nghi,jkl\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="pipeline.ingest"):
        result = ingest_and_build(make_settings(tmp_path))
    assert len(result.rejected_files) == 2
    lines = sorted(r.getMessage() for r in caplog.records if r.getMessage().startswith("rejected"))
    why = "header not recognised; missing fields: case_id, received_at, status or due_at"
    assert lines == [f'rejected "ghi chú: tháng 3.csv": {why}', f'rejected "x\\x1b[2Jy.csv": {why}']


def test_a_rejected_file_is_recorded_read_again_and_loads_once_fixed(tmp_path, two_exports):
    """A rejected export is in ops.file with its reason, is never marked ingested (the next run reads it
    again and rejects it again), and loads once a corrected copy replaces it."""
    settings = make_settings(tmp_path)
    path = tmp_path / "raw" / "2025-03-12" / "cases.csv"
    path.parent.mkdir(parents=True)
    path.write_text("Mã hồ sơ,Ghi chú\nH55-0009,gọi lại\n", encoding="utf-8")  # no date column: not an export

    def outcome(result):
        return next((o.status, o.reason) for o in result.outcomes if o.path == path)

    def recorded():
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        try:
            return con.execute("select status, reason, run_id from ops.file where file_path like '%2025-03-12%'"
                               ).fetchall()
        finally:
            con.close()

    why = "header not recognised; missing fields: received_at, status or due_at"
    for _ in range(2):
        run = ingest_and_build(settings)
        assert outcome(run) == ("rejected", f"cases.csv: {why}")
        assert recorded() == [("rejected", f"cases.csv: {why}", run.ingest.run_id)]
        assert "H55-0009" not in [c[0] for c in current_cases(settings.warehouse)]
    write_export(path, [case_line("H55-0009", "10/03/2025 08:00", "14/03/2025 08:00")])
    fixed = ingest_and_build(settings)
    assert outcome(fixed) == ("loaded", None)
    assert recorded() == [("loaded", None, fixed.ingest.run_id)]
    assert "H55-0009" in [c[0] for c in current_cases(settings.warehouse)]
