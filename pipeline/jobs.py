"""The jobs a user starts, as plain functions over the stages (the CLI and tests call these; the nightly
flow maps the same stage functions with Prefect): ingest and build, validate without storing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.ingest.stage import IngestResult, run_ingest
from pipeline.ingest.store import masked_path
from pipeline.publish import new_run_id
from pipeline.settings import Settings
from pipeline.validate.report import summarise_quarantine, write_validation_report
from pipeline.warehouse.build import build_warehouse


@dataclass
class IngestAndBuild:
    """The ingest stage's outcome and the rebuilt warehouse's table sizes."""

    ingest: IngestResult
    table_counts: dict[str, int] = field(default_factory=dict)

    @property
    def outcomes(self):
        return self.ingest.outcomes

    @property
    def rejected_files(self):
        return self.ingest.rejected_files

    @property
    def new_files(self):
        return self.ingest.new_files

    def one_line(self) -> str:
        return f"{self.ingest.one_line()}; cases in warehouse {self.table_counts.get('core.case', 0)}"


def ingest_and_build(settings: Settings, paths: list[Path] | None = None, run_id: str | None = None) -> IngestAndBuild:
    """Ingest the exports not ingested before, then rebuild the warehouse from the raw layer."""
    result = run_ingest(settings, paths, run_id or new_run_id())
    return IngestAndBuild(result, build_warehouse(settings, result.run_id))


def validate(settings: Settings, paths: list[Path] | None = None) -> tuple[IngestResult, Path]:
    """Read and check every export without storing anything; write the validation report."""
    result = run_ingest(settings, paths, new_run_id(), store_results=False)
    results = [c.results.assign(source_file=c.path) for c in result.checked]
    quarantine = [c.quarantine.assign(source_file=c.path) for c in result.checked if len(c.quarantine)]
    files = pd.DataFrame([{"source_file": masked_path(o.path),
                           "status": o.status, "reason": o.reason, "rows_read": o.rows_read,
                           "rows_quarantined": o.rows_quarantined} for o in result.outcomes])
    report = write_validation_report(
        pd.concat(results, ignore_index=True) if results else None,
        summarise_quarantine(pd.concat(quarantine, ignore_index=True) if quarantine else None),
        Path(settings.reports_dir), files=files, expectations_dir=settings.expectations_dir)
    return result, report
