"""The analysts' path (DESIGN §9): the warehouse opens in the DuckDB 1.x CLI they can install, and the
README's Python recipe shows the new night's data while older connections are still open."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import case_line, make_settings, write_export

from pipeline.jobs import ingest_and_build

README = Path(__file__).resolve().parents[1] / "README.md"


def duckdb_cli() -> str:
    """The ``duckdb`` CLI of the ``duckdb-cli`` package (installed with the test extras)."""
    found = shutil.which("duckdb", path=str(Path(sys.executable).parent)) or shutil.which("duckdb")
    if found is None:
        pytest.fail("the duckdb-cli package's CLI is not installed (pip install -e '.[test]')")
    return found


@pytest.fixture
def warehouse(tmp_path):
    settings = make_settings(tmp_path)
    write_export(tmp_path / "raw" / "2025-03-10" / "cases.csv", [
        case_line("H55-0001", "03/03/2025 08:00", "06/03/2025 08:00", "05/03/2025 10:00", "Đã trả kết quả"),
        case_line("H55-0002", "04/03/2025 09:00", "07/03/2025 09:00"),
    ])
    ingest_and_build(settings)
    return settings


def test_the_duckdb_1x_cli_reads_the_warehouse(warehouse):
    version = subprocess.run([duckdb_cli(), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1."), version
    done = subprocess.run(
        [duckdb_cli(), "-readonly", "-csv", str(warehouse.warehouse),
         "select period, received_total, resolved_total from mart.kpi_period "
         "where dimension = 'all' and period_scheme = 'calendar' and period = '2025-Q1'"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["period,received_total,resolved_total", "2025-Q1,2,1"]


def python_recipe() -> str:
    """The README's recipe for seeing the new night's data from Python (the fenced block after its marker)."""
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- analyst-python-recipe -->")
    block = text[text.index("```python", start) + len("```python"):text.index("```", text.index("```python", start) + 9)]
    return block


def test_the_readme_recipe_sees_the_new_night_while_old_connections_stay_open(warehouse, tmp_path):
    recipe = python_recipe().replace('"data/warehouse/tthc.duckdb"', repr(str(warehouse.warehouse)))
    namespace: dict = {}
    exec(compile(recipe, "README recipe", "exec"), namespace)  # defines open_warehouse()
    namespace["con"].close()
    open_warehouse = namespace["open_warehouse"]
    before = open_warehouse()
    stale = duckdb.connect(str(warehouse.warehouse), read_only=True)  # another connection left open in the process
    count = "select count(*) from core.case"
    assert before.execute(count).fetchone()[0] == 2

    write_export(tmp_path / "raw" / "2025-03-11" / "cases.csv", [
        case_line("H55-0003", "10/03/2025 08:00", "13/03/2025 08:00")])
    ingest_and_build(warehouse)  # the nightly swap: a new file renamed over the old one

    after = open_warehouse()
    assert after.execute(count).fetchone()[0] == 3  # the recipe sees the new night ...
    assert before.execute(count).fetchone()[0] == 2  # ... while the old connections keep theirs
    assert stale.execute(count).fetchone()[0] == 2
    naive = duckdb.connect(str(warehouse.warehouse), read_only=True)  # why the README warns against this
    assert naive.execute(count).fetchone()[0] == 2
    for con in (before, after, stale, naive):
        con.close()
