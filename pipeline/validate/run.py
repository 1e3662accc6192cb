"""``tthc validate``: read every export under the raw folder, check it, print one line per file and
write the validation report. Nothing is loaded into the warehouse.

Files are checked in batches (:func:`pipeline.validate.rows.check_cases_many`): GX's cost is mostly
fixed per run, so two hundred small monthly exports cost about as much as one large one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from pipeline.settings import Settings
from pipeline.validate.report import summarise_quarantine, write_validation_report
from pipeline.validate.rows import CaseExport, RatingExport, RowChecks, check_cases_many, check_ratings_many

BATCH_ROWS = 1_000_000  # rows read before a batch is checked (bounds memory; GX runs once per batch)


@dataclass
class ValidationRun:
    """Results of validating a set of files, ready for the report."""

    results: list[pd.DataFrame] = field(default_factory=list)
    quarantine: list[pd.DataFrame] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)

    @property
    def rejected(self) -> list[dict]:
        return [f for f in self.files if f["status"] == "rejected"]

    def write_report(self, reports_dir: Path, expectations_dir: Path | None = None) -> Path:
        results = pd.concat(self.results, ignore_index=True) if self.results else None
        quarantine = pd.concat(self.quarantine, ignore_index=True) if self.quarantine else None
        return write_validation_report(results, summarise_quarantine(quarantine), reports_dir,
                                       files=pd.DataFrame(self.files), expectations_dir=expectations_dir)


@dataclass
class _Pending:
    path: Path
    result: object  # the reader's ReadResult
    export: CaseExport | RatingExport


def validate_files(
    paths: Iterable[Path],
    settings: Settings,
    read_export: Callable,
    export_time_from_path: Callable[[Path], datetime | None] = lambda path: None,
    procedures: pd.DataFrame | None = None,
    echo: Callable[[str], None] = print,
    batch_rows: int = BATCH_ROWS,
) -> ValidationRun:
    """Read and check each file; a file that cannot be read is rejected, the others go on."""
    if procedures is None:
        from pipeline.reference import load_procedures

        procedures = load_procedures(settings)
    run = ValidationRun()
    pending: list[_Pending] = []
    rows = 0
    for path in paths:
        path = Path(path)
        try:
            result = read_export(path, settings)
        except Exception as exc:  # a reader's rejection or bug must not stop the other files
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            reason = reason if str(path) in reason else f"{path}: {reason}"
            run.files.append({"source_file": str(path), "status": "rejected", "reason": reason})
            echo(f"rejected  {reason}")
            continue
        exported_at = (result.exported_at or export_time_from_path(path)
                       or datetime.fromtimestamp(path.stat().st_mtime))
        if result.kind == "cases":
            export = CaseExport(result.cases, result.supplements, exported_at, path)
            rows += len(result.cases)
        else:
            export = RatingExport(result.ratings, exported_at, path)
            rows += len(result.ratings)
        pending.append(_Pending(path, result, export))
        if rows >= batch_rows:
            _check(pending, settings, procedures, run, echo)
            pending, rows = [], 0
    _check(pending, settings, procedures, run, echo)
    return run


def _check(pending: list[_Pending], settings: Settings, procedures: pd.DataFrame, run: ValidationRun,
           echo: Callable[[str], None]) -> None:
    """Check a batch of read files and record each one's outcome, in reading order."""
    cases = [p for p in pending if isinstance(p.export, CaseExport)]
    ratings = [p for p in pending if isinstance(p.export, RatingExport)]
    checked: dict[int, RowChecks] = {}
    for group, checks in ((cases, check_cases_many([p.export for p in cases], settings, procedures)),
                          (ratings, check_ratings_many([p.export for p in ratings], settings))):
        checked.update({id(p): c for p, c in zip(group, checks, strict=True)})
    for item in pending:
        checks = checked[id(item)]
        path, result = item.path, item.result
        records = result.cases if result.kind == "cases" else result.ratings
        parts = [checks.quarantine]
        reader_quarantine = getattr(result, "quarantine", None)
        if reader_quarantine is not None and len(reader_quarantine):
            parts.insert(0, reader_quarantine.assign(expectation="reader"))
        quarantine = pd.concat(parts, ignore_index=True).assign(source_file=str(path))
        quarantined_rows = int(quarantine["source_row"].dropna().nunique())
        run.results.append(checks.results.assign(source_file=str(path)))
        run.quarantine.append(quarantine)
        rows = int(getattr(result, "rows_read", None) or len(records))
        run.files.append({
            "source_file": str(path), "status": "rejected" if checks.rejected_reason else "ok",
            "reason": checks.rejected_reason, "rows_read": rows, "rows_quarantined": quarantined_rows,
            "findings": len(checks.findings),
        })
        if checks.rejected_reason:
            echo(f"rejected  {checks.rejected_reason}")
        else:
            echo(f"ok        {path}: {rows} rows, {quarantined_rows} quarantined, {len(checks.findings)} findings")


def validate_command(settings: Settings) -> int:
    """``tthc validate``: 0 when every file passes, 3 when a file was rejected."""
    from pipeline.ingest.load import SUPPORTED_SUFFIXES, discover_exports, export_time_from_path
    from pipeline.ingest.readers import read_export

    files = discover_exports([settings.raw_dir])
    readable = [p for p in files if p.suffix.lower() in SUPPORTED_SUFFIXES]
    run = validate_files(readable, settings, read_export, export_time_from_path)
    for path in files:
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            reason = f"{path}: unsupported file type {path.suffix!r}"
            run.files.append({"source_file": str(path), "status": "rejected", "reason": reason})
            print(f"rejected  {reason}")
    report = run.write_report(settings.reports_dir, settings.expectations_dir)
    print(f"{len(files)} file(s) checked, {len(run.rejected)} rejected; validation report: {report}")
    return 3 if run.rejected else 0
