"""PAKN senders' identities and complaint texts planted in the exports never reach the warehouse (any table
or view, any column, any schema), the Parquet raw layer, the published reports or the nightly run's logs."""

from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb
import pytest
from records_fixtures import SENDERS, pii_needles, write_all

from pipeline.cli import main
from pipeline.settings import load_settings


@pytest.fixture(scope="module", autouse=True)
def prefect_api():
    """A temporary Prefect API for the nightly run of this module."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    root = tmp_path_factory.mktemp("records_pii")
    write_all(root / "raw")
    settings = load_settings(raw_dir=root / "raw", warehouse=root / "warehouse" / "tthc.duckdb",
                             reports_dir=root / "reports", as_of="2025-06-30")
    return settings


@pytest.fixture(scope="module")
def run_logs(nightly):
    """The nightly run's logs (stdout, stderr and every log record at DEBUG)."""
    import logging

    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["run", "--raw", str(nightly.raw_dir), "--warehouse", str(nightly.warehouse),
                         "--reports", str(nightly.reports_dir), "--as-of", "2025-06-30"])
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    assert code == 0, out.getvalue() + err.getvalue()
    return out.getvalue() + err.getvalue() + "\n".join(records)


def test_the_exports_do_carry_the_planted_data(nightly):
    texts = "".join(p.read_text(encoding="utf-8-sig") for p in nightly.raw_dir.rglob("*.csv"))
    assert SENDERS["X"][0] in texts and SENDERS["Y"][1] in texts and "CONFIDENTIAL-" in texts


def test_no_sender_data_in_any_table_or_view(nightly, run_logs):
    con = duckdb.connect(str(nightly.warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from core.feedback").fetchone()[0] == 11  # the PAKN are there ...
        con.execute("create temp table needle (value varchar)")
        con.executemany("insert into needle values (?)", [[n] for n in pii_needles()])
        relations = con.execute(
            "select schema_name, table_name from duckdb_tables() where not temporary "
            "union all select schema_name, view_name from duckdb_views() where not internal and not temporary"
        ).fetchall()
        assert len(relations) > 20
        for schema, name in relations:
            columns = [c[0] for c in con.execute(
                "select column_name from duckdb_columns() where schema_name = ? and table_name = ?", [schema, name]
            ).fetchall()]
            for column in columns:
                # relation and column names come from the catalogue, never from data
                hits = con.execute(
                    f'select needle.value from "{schema}"."{name}" as t join needle '
                    f'on contains(cast(t."{column}" as varchar), needle.value) limit 1'
                ).fetchall()
                assert hits == [], f"{hits[0][0]!r} found in {schema}.{name}.{column}"  # ... their senders not
    finally:
        con.close()


def test_no_sender_data_in_the_parquet_layer(nightly, run_logs):
    con = duckdb.connect()
    folders = sorted({p.parent for p in nightly.raw_parquet_dir.rglob("*.parquet")})
    assert any(f.name == "feedback" for f in folders)
    for folder in folders:
        rows = con.execute("select * from read_parquet(?, union_by_name = true)", [str(folder / "*.parquet")]).fetchall()
        blob = "\n".join("|".join(str(v) for v in row) for row in rows)
        for needle in pii_needles():
            assert needle not in blob, f"{needle!r} in {folder.name}"


def test_no_sender_data_in_reports_or_logs(nightly, run_logs):
    assert "loaded" in run_logs  # the run was logged ...
    for needle in pii_needles():
        assert needle not in run_logs, needle  # ... without the senders
    texts = []
    for path in nightly.reports_dir.rglob("*"):
        if path.suffix in (".xlsx",):
            with zipfile.ZipFile(path) as archive:
                texts += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
        elif path.is_file():
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    assert texts
    for needle in pii_needles():
        assert not any(needle in text for text in texts), needle


def test_published_titles_are_masked(nightly, run_logs):
    con = duckdb.connect(str(nightly.warehouse), read_only=True)
    try:
        title = con.execute("select title from core.feedback where feedback_id = 'P4'").fetchone()[0]
    finally:
        con.close()
    assert title == "Phản ánh của bà [đã ẩn] về việc chậm trả kết quả"


def test_reading_alone_drops_the_complaint_text(nightly):
    from pipeline.ingest.readers import read_export

    path = next(Path(nightly.raw_dir).rglob("pakn_cong_quoc_gia_*.csv"))
    result = read_export(path, nightly)
    assert result.header_map["Nội dung"] == "free_text" and result.header_map["Họ tên người gửi"] == "applicant_name"
    assert "free_text" not in result.primary.columns
    frame_text = result.primary.astype(str).to_string()
    for needle in pii_needles():
        assert needle not in frame_text
