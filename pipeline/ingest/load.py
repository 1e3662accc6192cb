"""Ingest exports into the Parquet raw layer, then rebuild the DuckDB warehouse from it.

Layout beside the warehouse file (``settings.raw_parquet_dir``), one set of files per ingested
export, named by the export's SHA-256 and never rewritten once its manifest row exists::

    raw_parquet/cases/<sha>.parquet        rows as read (canonical columns, personal data hashed)
    raw_parquet/supplements/<sha>.parquet  supplement cycles
    raw_parquet/ratings/<sha>.parquet      citizen ratings
    raw_parquet/skipped/<sha>.parquet      layout rows skipped (title, header, totals, …)
    raw_parquet/quarantine/<sha>.parquet   rows that could not be trusted, with reasons
    raw_parquet/findings/<sha>.parquet     reported problems that do not reject a row
    raw_parquet/validation/<sha>.parquet   expectation results for the file
    raw_parquet/files/<sha>.parquet        the manifest row, written last (its presence = ingested)

A file whose manifest row exists is skipped (same content, same hash). Each Parquet file is
written to a temporary name and renamed, so a killed run leaves at worst orphans that the next
run overwrites. The DuckDB file is then rebuilt from all Parquet files beside the current one and
swapped in atomically (:func:`pipeline.db.building_warehouse`): analysts' read-only connections
keep the old file open undisturbed and the result never depends on the order files arrived in.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
from tqdm import tqdm

from pipeline import db
from pipeline.ingest.readers import SUPPORTED_SUFFIXES
from pipeline.records import RECORDS, raw_table_ddl
from pipeline.reference import fill_calendar_and_catalogue, fill_periods_and_targets, load_procedures
from pipeline.settings import Settings
from pipeline.workcal import WorkCalendar

CHECK_BATCH_ROWS = 1_000_000  # rows read before a batch is checked (bounds memory; one validation per batch)
_PATH_DATE = re.compile(r"(20\d{2})[-_]?(\d{2})[-_]?(\d{2})(?:[T_ -]?(\d{2})[:h]?(\d{2}))?")


@dataclass
class FileOutcome:
    """What happened to one export file in this run."""

    path: Path
    sha256: str
    status: str  # loaded | rejected | already_ingested
    reason: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_skipped: int = 0
    rows_quarantined: int = 0


@dataclass
class IngestResult:
    """The outcome of ingesting a set of exports and rebuilding the warehouse."""

    run_id: str
    outcomes: list[FileOutcome] = field(default_factory=list)
    table_counts: dict[str, int] = field(default_factory=dict)

    @property
    def rejected_files(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "rejected"]

    @property
    def new_files(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "loaded"]

    def one_line(self) -> str:
        """A one-line summary for the terminal and logs."""
        loaded = self.new_files
        return (
            f"{len(loaded)} new file(s) loaded, {len(self.outcomes) - len(loaded) - len(self.rejected_files)} "
            f"already ingested, {len(self.rejected_files)} rejected; rows loaded {sum(o.rows_loaded for o in loaded)}, "
            f"quarantined {sum(o.rows_quarantined for o in loaded)}; cases in warehouse "
            f"{self.table_counts.get('core.case', 0)}"
        )


def new_run_id() -> str:
    """A sortable run identifier: UTC time plus a short random suffix."""
    return f"{datetime.utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def discover_exports(paths: Iterable[Path]) -> list[Path]:
    """Export files under the given files or folders, at any depth, in a stable order.

    Names starting with '.' or '_' (hidden files, the demo generator's truth file) are ignored.
    """
    found: set[Path] = set()
    for path in paths:
        path = Path(path)
        candidates = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for candidate in candidates:
            relative = candidate.relative_to(path) if path.is_dir() else Path(candidate.name)
            if any(part.startswith((".", "_", "~$")) for part in relative.parts):
                continue
            found.add(candidate)
    return sorted(found)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_time_from_path(path: Path) -> datetime | None:
    """An export time written in the file's name or folders (…/2025-01-14/…, …_20250114_1800…)."""
    for part in reversed(path.parts):
        match = _PATH_DATE.search(part)
        if match:
            year, month, day, hour, minute = match.groups()
            try:
                if hour is None:
                    return datetime(int(year), int(month), int(day), 23, 59, 59)
                return datetime(int(year), int(month), int(day), int(hour), int(minute))
            except ValueError:
                continue
    return None


def ingested_hashes(settings: Settings) -> set[str]:
    """SHA-256 of every export whose manifest row exists."""
    folder = settings.raw_parquet_dir / "files"
    return {p.stem for p in folder.glob("*.parquet")} if folder.exists() else set()


def _write_parquet(frame: pd.DataFrame, target: Path) -> None:
    """Write a frame to Parquet atomically (temporary name, then rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:6]}.tmp")
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, target)


def _manifest_row(path: Path, sha: str, run_id: str, **values) -> pd.DataFrame:
    row = {
        "sha256": sha,
        "file_path": str(path),
        "file_name": path.name,
        "size_bytes": path.stat().st_size,
        "file_format": values.get("file_format"),
        "kind": values.get("kind"),
        "layout": values.get("layout"),
        "exported_at": values.get("exported_at"),
        "period_text": values.get("period_text"),
        "status": values.get("status"),
        "reason": values.get("reason"),
        "rows_read": values.get("rows_read", 0),
        "rows_loaded": values.get("rows_loaded", 0),
        "rows_skipped": values.get("rows_skipped", 0),
        "rows_quarantined": values.get("rows_quarantined", 0),
        "ingested_at": datetime.now().replace(microsecond=0),
        "run_id": run_id,
    }
    frame = pd.DataFrame([row])
    frame["exported_at"] = pd.to_datetime(frame["exported_at"])
    return frame


@dataclass
class ReadExport:
    """An export read but not yet checked."""

    path: Path
    sha: str
    result: object
    exported_at: datetime


def read_one(path: Path, sha: str, settings: Settings, run_id: str) -> ReadExport | FileOutcome:
    """Read one export; a file the readers refuse or cannot read becomes a rejected outcome."""
    from pipeline.ingest.readers import FileRejected, read_export

    if path.suffix.lower() not in SUPPORTED_SUFFIXES | {".txt", ""}:
        return _reject(path, sha, f"{path}: unsupported file type {path.suffix!r}", run_id, settings.raw_parquet_dir)
    try:
        result = read_export(path, settings)
    except FileRejected as exc:
        return _reject(path, sha, str(exc), run_id, settings.raw_parquet_dir)
    except Exception as exc:  # a reader bug or an unreadable file must not stop the other files
        reason = f"{path}: cannot read ({type(exc).__name__}: {exc})".splitlines()[0]
        return _reject(path, sha, reason, run_id, settings.raw_parquet_dir)
    exported_at = result.exported_at or export_time_from_path(path) or datetime.fromtimestamp(path.stat().st_mtime)
    return ReadExport(path, sha, result, exported_at)


def check_batches(reads: list[ReadExport]) -> list[list[ReadExport]]:
    """Read exports grouped into batches of about CHECK_BATCH_ROWS rows (one validation each)."""
    batches: list[list[ReadExport]] = [[]]
    rows = 0
    for read in reads:
        if rows >= CHECK_BATCH_ROWS:
            batches.append([])
            rows = 0
        batches[-1].append(read)
        rows += read.result.rows_read
    return [batch for batch in batches if batch]


def check_and_store(batch: list[ReadExport], settings: Settings, procedures: pd.DataFrame,
                    run_id: str) -> list[FileOutcome]:
    """Check a batch of read exports with the expectation suites (one validation per batch) and store each."""
    from pipeline.validate.rows import (
        CaseExport,
        RatingExport,
        check_cases_many,
        check_ratings_many,
        unchecked,
    )

    cases = [item for item in batch if item.result.kind == "cases"]
    ratings = [item for item in batch if item.result.kind == "ratings"]
    others = [item for item in batch if item.result.kind not in ("cases", "ratings")]
    checks = dict(zip(
        [id(item) for item in cases],
        check_cases_many([CaseExport(i.result.cases, i.result.supplements, i.exported_at, i.path) for i in cases],
                         settings, procedures) if cases else [],
        strict=True,
    ))
    checks.update(zip(
        [id(item) for item in ratings],
        check_ratings_many([RatingExport(i.result.ratings, i.exported_at, i.path) for i in ratings], settings)
        if ratings else [],
        strict=True,
    ))
    for item in others:  # directive and feedback suites come with their marts
        checks[id(item)] = unchecked()
    return [store_export(item, checks[id(item)], settings, run_id) for item in batch]


def ingest_file(path: Path, sha: str, settings: Settings, procedures: pd.DataFrame, run_id: str) -> FileOutcome:
    """Read, check and store one export (one validation for this file alone; prefer batches for many files)."""
    read = read_one(path, sha, settings, run_id)
    if isinstance(read, FileOutcome):
        return read
    return check_and_store([read], settings, procedures, run_id)[0]


def store_export(item: ReadExport, checks, settings: Settings, run_id: str) -> FileOutcome:
    """Write one checked export to the Parquet raw layer (manifest last), or record its rejection."""
    path, sha, result, exported_at = item.path, item.sha, item.result, item.exported_at
    base = settings.raw_parquet_dir
    reader_quarantine = result.quarantine.assign(expectation="reader")
    quarantine = pd.concat([reader_quarantine, checks.quarantine], ignore_index=True)
    quarantined_rows = set(quarantine["source_row"].astype(int))
    records = result.row_records  # a workbook's extension history sheet counts too
    loaded = int((~records["source_row"].astype(int).isin(quarantined_rows)).sum())
    counts = {
        "rows_read": result.rows_read,
        "rows_loaded": loaded,
        "rows_skipped": len(result.skipped),
        "rows_quarantined": len(quarantined_rows),
    }
    if checks.rejected_reason:
        return _reject(path, sha, checks.rejected_reason, run_id, base, result=result, **counts)

    lineage = {"file_sha": sha, "source_file": str(path), "exported_at": pd.Timestamp(exported_at)}
    parts = {
        **{RECORDS[name].part: frame for name, frame in result.records.items()},
        "skipped": result.skipped,
        "quarantine": quarantine,
        "findings": checks.findings,
        "validation": checks.results,
    }
    for name, frame in parts.items():
        _write_parquet(frame.assign(**lineage), base / name / f"{sha}.parquet")
    manifest = _manifest_row(
        path, sha, run_id, file_format=result.file_format, kind=result.kind, layout=result.layout,
        exported_at=exported_at, period_text=result.period_text, status="loaded", **counts,
    )
    _write_parquet(manifest, base / "files" / f"{sha}.parquet")
    return FileOutcome(path, sha, "loaded", None, **counts)


def _reject(path: Path, sha: str, reason: str, run_id: str, base: Path, result=None, **counts) -> FileOutcome:
    """Record a rejected file in the run's rejection list (not in the manifest: it is retried next run)."""
    reason = reason.splitlines()[0] if reason else f"{path}: rejected"
    frame = _manifest_row(
        path, sha, run_id, status="rejected", reason=reason,
        file_format=getattr(result, "file_format", path.suffix.lstrip(".").lower()),
        kind=getattr(result, "kind", None), layout=getattr(result, "layout", None), **counts,
    )
    _write_parquet(frame, base / "rejected" / run_id / f"{sha}.parquet")
    return FileOutcome(path, sha, "rejected", reason, **counts)


def ingest_new_files(
    settings: Settings, paths: list[Path] | None = None, run_id: str | None = None, progress: bool = False
) -> list[FileOutcome]:
    """Ingest every export under the paths (default the raw folder) not ingested before."""
    run_id = run_id or new_run_id()
    files = discover_exports(paths or [settings.raw_dir])
    done = ingested_hashes(settings)
    procedures = load_procedures(settings)
    outcomes: list[FileOutcome] = []
    batch: list[ReadExport] = []
    batch_rows = 0
    for path in tqdm(files, desc="Đọc tệp xuất", unit="tệp", disable=not progress):
        sha = file_sha256(path)
        if sha in done:
            outcomes.append(FileOutcome(path, sha, "already_ingested"))
            continue
        done.add(sha)
        read = read_one(path, sha, settings, run_id)
        if isinstance(read, FileOutcome):
            outcomes.append(read)
            continue
        batch.append(read)
        batch_rows += read.result.rows_read
        if batch_rows >= CHECK_BATCH_ROWS:
            outcomes.extend(check_and_store(batch, settings, procedures, run_id))
            batch, batch_rows = [], 0
    if batch:
        outcomes.extend(check_and_store(batch, settings, procedures, run_id))
    return outcomes


# --- warehouse build ---------------------------------------------------------------------------


def _glob(settings: Settings, part: str) -> str | None:
    folder = settings.raw_parquet_dir / part
    return str(folder / "*.parquet") if folder.exists() and any(folder.glob("*.parquet")) else None


RAW_TABLES = {
    **{record.part: record.table for record in RECORDS.values()},
    "skipped": "raw.skipped_row",
    "files": "ops.file",
    "quarantine": "ops.quarantine",
    "findings": "ops.finding",
    "validation": "ops.validation_result",
    "runs": "ops.run",
}


def _load_raw_layer(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str) -> None:
    """raw.* and ops.* tables (typed by sql/raw/schema.sql) from the Parquet files; rejected files of this run too."""
    for record in RECORDS.values():
        con.execute(raw_table_ddl(record))
    db.run_sql_file(con, "raw/schema")
    for part, table in RAW_TABLES.items():
        pattern = _glob(settings, part)
        if pattern is not None:
            # table names come from the constant mapping above, never from data
            con.execute(f"insert into {table} by name select * from read_parquet($pattern, union_by_name = true)",
                        {"pattern": pattern})
    rejected = _glob(settings, f"rejected/{run_id}")
    if rejected is not None:
        con.execute("insert into ops.file by name select * from read_parquet($pattern, union_by_name = true)",
                    {"pattern": rejected})


def _compute_missing_due(con: duckdb.DuckDBPyConnection, cal: WorkCalendar) -> int:
    """Fill core.case.due_at from the legal limit where the export had none; returns how many."""
    missing = con.execute(
        """
        select c.case_id, c.received_at, p.limit_amount, p.limit_unit
        from core.case as c
        join core.procedure as p using (procedure_code)
        where c.due_at is null and c.received_at is not null
        """
    ).df()
    if missing.empty:
        return 0
    missing["due_at"] = cal.add_limit_many(missing["received_at"], missing["limit_amount"], missing["limit_unit"])
    db.create_table_from_frame(con, "core.computed_due", missing[["case_id", "due_at"]])
    con.execute(
        """
        update core.case as c set due_at = d.due_at, due_at_source = 'computed'
        from core.computed_due as d where c.case_id = d.case_id
        """
    )
    con.execute("drop table core.computed_due")
    return len(missing)


def rating_scale_frame(settings: Settings) -> pd.DataFrame:
    """The rating scale as (rating_key, rating_class); keys compared accent- and case-insensitively in SQL."""
    pairs = [item.split("=", 1) for item in settings.rating_scale.split(",") if "=" in item]
    return pd.DataFrame([(k.strip(), v.strip()) for k, v in pairs], columns=["rating_key", "rating_class"])


def build_warehouse(settings: Settings, run_id: str, progress: bool = False) -> dict[str, int]:
    """Rebuild the DuckDB warehouse from the Parquet raw layer and swap it in; returns table row counts."""
    from pipeline.marts.build import build_marts

    cal = WorkCalendar.from_settings(settings)
    with db.building_warehouse(settings.warehouse) as con:
        db.run_sql_file(con, "core/schema")
        _load_raw_layer(con, settings, run_id)
        db.create_table_from_frame(con, "core.rating_scale", rating_scale_frame(settings))
        fill_calendar_and_catalogue(con, settings, cal)
        db.run_sql_dir(con, "staging", {"end_time_rule": settings.end_time_rule})
        _compute_missing_due(con, cal)
        first_day, last_day, units = _case_span(con, settings)
        fill_periods_and_targets(con, settings, first_day, last_day, units)
        build_marts(con, settings)
        _check_built_warehouse(con, settings)
        db.run_sql_file(con, "core/comments")
        counts = {
            name: con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            for schema, table, name in con.execute(
                "select schema_name, table_name, schema_name || '.' || table_name from duckdb_tables() "
                "where schema_name in ('raw', 'core', 'mart', 'ops')"
            ).fetchall()
        }
    return counts


def _check_built_warehouse(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Run the marts suite (Biểu 06 identities, rate ranges) and the rated-case check; store their results."""
    from pipeline.validate.marts import check_marts, unknown_rated_cases

    results = check_marts(con, settings.expectations_dir).assign(source_file="mart.kpi_period")
    db.insert_frame(con, "ops.validation_result", results)
    findings = unknown_rated_cases(con)
    if len(findings):
        db.insert_frame(con, "ops.finding", findings)


def _case_span(con: duckdb.DuckDBPyConnection, settings: Settings) -> tuple[date, date, list[str]]:
    """(first day with a received case, the as-of date, units) — the span mart.kpi_period covers."""
    first = con.execute("select min(received_at)::date from core.case where in_scope").fetchone()[0]
    as_of = settings.effective_as_of
    units = [r[0] for r in con.execute("select distinct unit from core.case where unit is not null order by 1").fetchall()]
    return (first or as_of), as_of, units


def ingest_and_build(settings: Settings, paths: list[Path] | None = None, progress: bool = False,
                     run_id: str | None = None) -> IngestResult:
    """Ingest new exports and rebuild the warehouse."""
    run_id = run_id or new_run_id()
    outcomes = ingest_new_files(settings, paths, run_id, progress)
    counts = build_warehouse(settings, run_id, progress)
    return IngestResult(run_id, outcomes, counts)
