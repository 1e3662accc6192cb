"""Store: one checked export written to the immutable Parquet raw layer, or its rejection recorded.

Layout beside the warehouse file (``settings.raw_parquet_dir``), one set of files per ingested export,
named by the export's SHA-256 and never rewritten once its manifest row exists::

    raw_parquet/<record.part>/<sha>.parquet   rows of each record (pipeline.records), personal data hashed
    raw_parquet/skipped/<sha>.parquet         layout rows skipped (title, header, totals, …)
    raw_parquet/quarantine/<sha>.parquet      rows that could not be trusted, with reasons and case ids
    raw_parquet/findings/<sha>.parquet        reported problems that do not reject a row
    raw_parquet/validation/<sha>.parquet      expectation results for the file
    raw_parquet/column_fates/<sha>.parquet    what became of each column of the export
    raw_parquet/files/<sha>.parquet           the manifest row, written last (its presence = ingested)
    raw_parquet/rejected/<run_id>/<sha>.parquet  a file rejected by that run (never marked ingested)

Every file is written to a temporary name and renamed, so a killed run leaves at worst orphans that the
next run overwrites. Free text kept here (status texts, skipped rows, quarantined values, reasons, file
names) is masked of personal data first (:func:`pipeline.ingest.personal.mask_personal_data`).
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from pipeline.ingest.personal import mask_person_names, mask_personal_data
from pipeline.records import RECORDS
from pipeline.settings import Settings

# Free-text columns of the side tables (record tables: every "text" field). A quarantine row's case_id and
# row_values are masked by the reader, row by row: a case id is kept as written (a clerk looks it up) unless
# it is one of its row's own personal values, which a pattern cannot tell (readers._shown_id).
SIDE_TEXT_COLUMNS = {
    "skipped": ("text",), "quarantine": ("raw_value", "reason"),
    "findings": ("raw_value", "finding"), "column_fates": ("header", "note"),
}


@dataclass
class FileOutcome:
    """What happened to one export file in this run (``source`` is the masked path that is stored)."""

    path: Path
    sha256: str
    status: str  # loaded | rejected | already_ingested | duplicate | checked (validated, not stored)
    reason: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_skipped: int = 0
    rows_quarantined: int = 0
    kind: str | None = None


def ingested_hashes(settings: Settings) -> set[str]:
    """SHA-256 of every export whose manifest row exists."""
    folder = settings.raw_parquet_dir / "files"
    return {p.stem for p in folder.glob("*.parquet")} if folder.exists() else set()


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def escape_controls(text: str) -> str:
    """Control characters written as escapes (a newline in a file name would forge a log line)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def masked_path(path: Path, names: frozenset[str] = frozenset()) -> str:
    """The path as stored and logged: personal data in folder and file names masked, and control characters
    written as escapes."""
    return escape_controls(mask_person_names(mask_personal_data(str(path), names)))


def _write_parquet(frame: pd.DataFrame, target: Path) -> None:
    """Write a frame to Parquet atomically (temporary name, then rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:6]}.tmp")
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, target)


def _masked(frame: pd.DataFrame, columns: tuple[str, ...], names: frozenset[str]) -> pd.DataFrame:
    """The frame with personal data masked in its free-text columns (each distinct value once)."""
    present = [c for c in columns if c in frame.columns and len(frame)]
    if not present:
        return frame
    frame = frame.copy()
    for column in present:
        values = frame[column]
        distinct = {v: mask_personal_data(v, names) for v in values.dropna().unique().tolist() if isinstance(v, str)}
        if any(k != v for k, v in distinct.items()):
            frame[column] = values.map(lambda v, d=distinct: d.get(v, v) if isinstance(v, str) else v).astype(
                values.dtype)
    return frame


def manifest_row(path: Path, sha: str, run_id: str, names: frozenset[str] = frozenset(), **values) -> pd.DataFrame:
    """The ops.file row of an export."""
    shown = masked_path(path, names)
    row = {
        "sha256": sha,
        "file_path": shown,
        "file_name": Path(shown).name,
        "size_bytes": path.stat().st_size if path.exists() else None,
        "file_format": values.get("file_format"),
        "kind": values.get("kind"),
        "layout": mask_personal_data(values["layout"], names) if values.get("layout") else None,
        "exported_at": values.get("exported_at"),
        "period_text": values.get("period_text"),
        "status": values.get("status"),
        "reason": mask_personal_data(values["reason"], names) if values.get("reason") else None,
        "rows_read": values.get("rows_read", 0),
        "rows_loaded": values.get("rows_loaded", 0),
        "rows_skipped": values.get("rows_skipped", 0),
        "rows_quarantined": values.get("rows_quarantined", 0),
        "ingested_at": datetime.now().replace(microsecond=0),
        "run_id": run_id,
    }
    frame = pd.DataFrame([row])
    frame["exported_at"] = pd.to_datetime(frame["exported_at"])
    frame["size_bytes"] = frame["size_bytes"].astype("Int64")
    return frame


def store_export(read, checks, settings: Settings, run_id: str) -> FileOutcome:
    """Write one checked export (a ReadResult and its RowChecks) to the raw layer, manifest last; or
    record its rejection when the checks rejected it."""
    result = read.result
    path, sha, exported_at, names = read.path, read.sha, read.exported_at, result.personal_names
    quarantine = pd.concat([result.quarantine.assign(expectation="reader"), checks.quarantine], ignore_index=True)
    quarantined_rows = set(quarantine["source_row"].astype(int))
    records = result.row_records  # a workbook's extension history sheet counts too
    counts = {
        "rows_read": result.rows_read,
        "rows_loaded": int((~records["source_row"].astype(int).isin(quarantined_rows)).sum()),
        "rows_skipped": len(result.skipped),
        "rows_quarantined": len(quarantined_rows),
    }
    if checks.rejected_reason:
        return reject(path, sha, checks.rejected_reason, run_id, settings, result=result, **counts)
    base = settings.raw_parquet_dir
    lineage = {"file_sha": sha, "source_file": masked_path(path, names), "exported_at": pd.Timestamp(exported_at)}
    parts = {
        **{RECORDS[name].part: _masked(frame, RECORDS[name].names_of("text"), names)
           for name, frame in result.records.items()},
        "skipped": result.skipped,
        "quarantine": quarantine,
        "findings": pd.concat([result.findings.assign(expectation="reader"), checks.findings], ignore_index=True),
        "validation": checks.results,
        "column_fates": result.column_fates,
    }
    for part, frame in parts.items():
        frame = _masked(frame, SIDE_TEXT_COLUMNS.get(part, ()), names)
        _write_parquet(frame.assign(**lineage), base / part / f"{sha}.parquet")
    manifest = manifest_row(
        path, sha, run_id, names, file_format=result.file_format, kind=result.kind, layout=result.layout,
        exported_at=exported_at, period_text=result.period_text, status="loaded", **counts,
    )
    _write_parquet(manifest, base / "files" / f"{sha}.parquet")
    return FileOutcome(path, sha, "loaded", None, kind=result.kind, **counts)


def reject(path: Path, sha: str, reason: str, run_id: str, settings: Settings, result=None, **counts) -> FileOutcome:
    """Record a rejected file for this run's ops.file (not in the manifest: it is read again next run);
    ``result`` is the ReadResult when the file was read and its checks rejected it."""
    names = result.personal_names if result is not None else frozenset()
    reason = (reason.splitlines() or [f"{path.name}: rejected"])[0]
    described = ({"file_format": result.file_format, "kind": result.kind, "layout": result.layout}
                 if result is not None else {"file_format": path.suffix.lstrip(".").lower() or None})
    frame = manifest_row(path, sha or "-", run_id, names, status="rejected", reason=reason, **described, **counts)
    key = sha or uuid.uuid5(uuid.NAMESPACE_URL, str(path)).hex
    _write_parquet(frame, settings.raw_parquet_dir / "rejected" / run_id / f"{key}.parquet")
    return FileOutcome(path, sha, "rejected", mask_personal_data(reason, names), kind=described.get("kind"), **counts)
