"""The one module that opens DuckDB connections and runs the project's SQL files.

SQL lives in ``pipeline/warehouse/sql/<layer>/<model>.sql``; values from data are always bound as parameters
(``$name``), never formatted into the text. The nightly build writes a new warehouse file beside
the current one and swaps it in atomically (:func:`building_warehouse`), so analysts' read-only
connections never block the run and never see a half-built state, and a killed run leaves the
previous warehouse untouched.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).parent / "warehouse" / "sql"


def connect(path: Path | str, read_only: bool = False, storage_version: str | None = None,
            memory_mb: int | None = None) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse file (``:memory:`` for an in-memory database); a new file is written in
    ``storage_version`` (e.g. ``v1.0.0``) when given; DuckDB keeps within ``memory_mb`` when given, spilling
    to ``<file>.tmp`` beside the warehouse."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    config = {"storage_compatibility_version": storage_version} if storage_version else {}
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    if memory_mb:  # set, not configured: a connection with a different configuration could not share the file
        con.execute(f"set memory_limit = '{int(memory_mb)}MB'")
        if str(path) != ":memory:":
            con.execute("set temp_directory = $folder", {"folder": f"{path}.tmp"})
    con.execute("set TimeZone = 'Asia/Ho_Chi_Minh'")
    con.execute("set enable_progress_bar = false")  # it would be drawn into the nightly run's logs
    return con


def connect_existing(path: Path | str, memory_mb: int | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to an existing warehouse; a one-line error if there is none yet."""
    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: no warehouse yet; run 'tthc run' or 'tthc demo' first")
    return connect(path, read_only=True, memory_mb=memory_mb)


def sql_text(model: str) -> str:
    """The text of ``pipeline/sql/<model>.sql`` (model like ``marts/kpi_period``)."""
    return (SQL_DIR / f"{model}.sql").read_text(encoding="utf-8")


def split_statements(text: str) -> list[str]:
    """The statements of a SQL file, split on semicolons that end a line."""
    statements, current = [], []
    for line in text.splitlines():
        current.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(current).strip()
            if _has_code(statement):
                statements.append(statement)
            current = []
    tail = "\n".join(current).strip()
    if _has_code(tail):
        statements.append(tail)
    return statements


def _has_code(statement: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in statement.splitlines())


def run_sql_file(con: duckdb.DuckDBPyConnection, model: str, params: dict | None = None) -> None:
    """Run every statement of a SQL file, binding only the parameters each statement names."""
    for statement in split_statements(sql_text(model)):
        used = {k: v for k, v in (params or {}).items() if f"${k}" in statement}
        con.execute(statement, used or None)


def run_sql_dir(con: duckdb.DuckDBPyConnection, layer: str, params: dict | None = None) -> list[str]:
    """Run the SQL files of one layer folder in name order; returns the models run."""
    models = sorted(p.stem for p in (SQL_DIR / layer).glob("*.sql"))
    for model in models:
        run_sql_file(con, f"{layer}/{model}", params)
    return [f"{layer}/{m}" for m in models]


@contextmanager
def building_warehouse(target: Path, storage_version: str | None = None,
                       memory_mb: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a fresh warehouse file beside ``target`` (in ``storage_version``), swapped in
    atomically on success.

    On any exception the half-built file is deleted and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.building-*"):  # left by a killed build (and its spill)
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
    building = target.parent / f".{target.name}.building-{uuid.uuid4().hex[:8]}"
    con = connect(building, storage_version=storage_version, memory_mb=memory_mb)
    try:
        yield con
        con.execute("checkpoint")
        con.close()
        os.replace(building, target)
    except BaseException:
        con.close()
        building.unlink(missing_ok=True)
        Path(f"{building}.wal").unlink(missing_ok=True)
        raise


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, frame) -> Iterator[str]:
    """A DataFrame registered under a fresh view name for the length of the block."""
    view = f"_frame_{uuid.uuid4().hex[:8]}"
    con.register(view, frame)
    try:
        yield view
    finally:
        con.unregister(view)


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame) -> int:
    """Insert a DataFrame into a table by column name; ``table`` is a constant from code, never data."""
    with _registered(con, frame) as view:
        con.execute(f"insert into {table} by name select * from {view}")
    return len(frame)


def create_table_from_frame(con: duckdb.DuckDBPyConnection, table: str, frame) -> int:
    """Create (or replace) a table holding a DataFrame; ``table`` is a constant from code, never data."""
    with _registered(con, frame) as view:
        con.execute(f"create or replace table {table} as select * from {view}")
    return len(frame)
