"""``tthc inspect FILE…`` (DESIGN §9): how each export is read, before the nightly run reads it.

For each file: its kind and format, where the title, header, data, total and signature rows are, every
column's fate (mapped to a field, personal data dropped, ignored and why, not recognised with a masked
sample), the export time and where it was read, the first rows as parsed, the rows that would be
quarantined (by the reader and by the row checks the nightly run applies) and the findings; or the
one-line reason the file would be rejected. Nothing is written anywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import pandas as pd

from pipeline.ingest import stage
from pipeline.ingest.discover import export_time_from_path
from pipeline.ingest.store import masked_path
from pipeline.records import FILE_KINDS, RECORDS
from pipeline.settings import Settings


def _table(frame: pd.DataFrame, out: TextIO, indent: str = "  ", limit: int = 60) -> None:
    """A small frame as aligned text columns (cells cut at `limit` characters)."""
    if frame.empty:
        out.write(f"{indent}(none)\n")
        return
    cells = [[str(c) for c in frame.columns]] + [
        ["" if pd.isna(v) else (f"{v:%d/%m/%Y %H:%M}" if isinstance(v, pd.Timestamp) else str(v))[:limit]
         for v in row]
        for row in frame.astype(object).itertuples(index=False)
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    for row in cells:
        out.write(indent + "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip() + "\n")


def _parsed_columns(kind: str, kept: pd.DataFrame) -> list[str]:
    """The columns of the first rows as parsed: the primary record's key, its status, the times any row
    fills and, for cases, which of them had no time of day."""
    record = RECORDS[FILE_KINDS[kind].primary]
    times = [c for c in record.names_of("time") if c in kept.columns and kept[c].notna().any()]
    return [c for c in (record.columns[0], "status", *times, "time_unknown") if c in record.columns]


def _describe(checked: stage.CheckedFile, out: TextIO, rows: int) -> None:
    """How one file was read and what its checks decided (the ingest stage's own read and check steps)."""
    read = checked.read
    result, exported_at = read.result, read.exported_at
    source = result.exported_at_source
    if result.exported_at is None:
        source = ("the folder or file path" if export_time_from_path(read.path) is not None
                  else "the file's modification time")
    out.write(f"kind: {result.kind} ({result.file_format})\n")
    out.write(f"layout: {result.layout}\n")
    out.write(f"export time: {exported_at:%d/%m/%Y %H:%M} (from {source})\n" if exported_at
              else "export time: not in the file (the file's modification time will be used)\n")
    if result.period_text:
        out.write(f"period: {result.period_text}\n")

    fates = result.column_fates
    out.write(f"columns ({fates['column_index'].nunique()}):\n")
    shown = fates.rename(columns={"column_index": "#"})
    if shown["sheet"].isna().all() or shown["sheet"].nunique() == 1:
        shown = shown.drop(columns="sheet")
    _table(shown, out, limit=90)

    found = checked.quarantine[["source_row", "field", "raw_value", "reason"]]
    quarantine = pd.concat([result.quarantine.drop(columns=["row_values"]), found], ignore_index=True)
    quarantine = quarantine.sort_values("source_row", kind="stable")
    primary = result.primary
    kept = primary[~primary["source_row"].isin(quarantine["source_row"])]
    out.write(f"rows: {result.rows_read} read, {len(kept)} would be loaded, "
              f"{quarantine['source_row'].nunique()} quarantined, {len(result.skipped)} layout rows skipped\n")
    out.write(f"first rows as parsed ({min(rows, len(kept))} of {len(kept)}; a date without a time shows 00:00 "
              "and is listed in time_unknown):\n")
    _table(kept[["source_row", *_parsed_columns(result.kind, kept)]].head(rows), out)
    out.write(f"would be quarantined ({len(quarantine)} lines):\n")
    _table(quarantine.head(50), out, limit=120)
    if len(quarantine) > 50:
        out.write(f"  … {len(quarantine) - 50} more\n")
    if len(result.findings):
        out.write("findings:\n")
        for finding in result.findings["finding"]:
            out.write(f"  - {finding}\n")
    if checked.reason:
        out.write(f"rejected: {checked.reason}\n")


def inspect_exports(paths: Sequence[Path], settings: Settings, *, rows: int = 5, validate: bool = True,
                    out: TextIO | None = None) -> int:
    """``tthc inspect FILE…``: every export under the given files and folders through the ingest stage
    (discover → read → check, nothing stored), then how each was read; the exit code is 1 when any file
    would be rejected (a check that cannot run rejects its file with a one-line reason)."""
    out = out or sys.stdout
    try:
        result = stage.run_ingest(settings, [Path(p) for p in paths], "inspect", store_results=False,
                                  check_rows=validate, keep_reads=True)
    except FileNotFoundError as exc:  # a path given that does not exist
        out.write(f"rejected: {exc}\n")
        return 1
    if not result.files_seen:
        out.write("no export files found\n")
        return 1
    described = {c.read.path: c for c in result.checked if c.read is not None}
    for number, outcome in enumerate(sorted(result.outcomes, key=lambda o: o.path)):
        if number:
            out.write("\n")
        out.write(f"== {masked_path(outcome.path)}\n")
        if outcome.path in described:
            _describe(described[outcome.path], out, rows)
        elif outcome.status == "duplicate":
            out.write(f"{outcome.reason} (read once, shown there)\n")
        else:
            out.write(f"rejected: {outcome.reason}\n")
    return 1 if result.rejected_files else 0
