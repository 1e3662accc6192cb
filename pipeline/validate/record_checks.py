"""Row checks of parsed directive and feedback exports with the GX suites ``directives``,
``directive_extensions`` and ``feedback`` (``expectations/*.json``).

Built like the case and rating checks (:mod:`pipeline.validate.rows`), on the same machinery: a batch of
files is validated in one GX run per suite and stage — ``file`` (one summary row per file), ``rows`` (the
prepared rows of every accepted file at once) and ``share`` (the share of each file's rows quarantined) —
and each file gets its own :class:`~pipeline.validate.rows.RowChecks`.

The prepared frames carry the columns the suites check beside the records' own: ``latest_allowed``
(the file's export time plus the suite's tolerance), ``<time>_latest`` (the time, or the end of its day
when the export gave a date only), ``duplicate_of_row`` (an exact copy of an earlier row of the file),
``clock_start_at`` (feedback: receipt, else sending) and ``case_id`` (the record's own id, which findings
name). Nothing here holds a sender's identity: readers have hashed it and dropped the complaint text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.ingest.readers import empty_records
from pipeline.records import DIRECTIVE, DIRECTIVE_EXTENSION, FEEDBACK, Record
from pipeline.settings import Settings
from pipeline.validate.rows import (
    RowChecks,
    _Batch,
    as_ns_times,
    day_end_if_date_only,
    duplicate_of_row,
    latest_allowed,
    stack_files,
)
from pipeline.validate.suites import SuiteRunner, get_runner


@dataclass
class RecordExport:
    """One parsed directive or feedback export, as the checks take it (from a reader's ReadResult)."""

    kind: str  # file kind: directives | directive_extensions | feedback
    records: dict[str, pd.DataFrame]  # record name -> rows (ReadResult.records)
    exported_at: object
    path: object

    def rows(self, record: Record) -> pd.DataFrame:
        """The file's rows of one record (empty, with the record's columns, when it has none)."""
        found = self.records.get(record.name)
        return found if found is not None else empty_records(record)


def check_directives_many(exports: Iterable[RecordExport], settings: Settings) -> list[RowChecks]:
    """Check several directive exports (task lists with their extensions, or extension histories alone)
    in one batch per shape; one :class:`RowChecks` per export, in order."""
    exports = list(exports)
    out: list[RowChecks | None] = [None] * len(exports)
    task_lists = [i for i, e in enumerate(exports) if e.kind != "directive_extensions"]
    histories = [i for i, e in enumerate(exports) if e.kind == "directive_extensions"]
    for positions, suites in ((task_lists, ("directives", "directive_extensions")),
                              (histories, ("directive_extensions",))):
        if positions:
            checked = _check_directive_batch([exports[i] for i in positions], settings, suites)
            for i, checks in zip(positions, checked, strict=True):
                out[i] = checks
    return out  # type: ignore[return-value]


def check_feedback_many(exports: Iterable[RecordExport], settings: Settings) -> list[RowChecks]:
    """Check several feedback (PAKN) exports in one batch; one :class:`RowChecks` per export, in order."""
    exports = list(exports)
    if not exports:
        return []
    runner = get_runner(settings.expectations_dir)
    latest = _latest(exports, runner, "feedback", settings)
    batch = _Batch(runner, [e.path for e in exports], _params(settings), ("feedback",))
    frames = [e.rows(FEEDBACK) for e in exports]
    batch.file_stage("feedback", frames)
    accepted = batch.accepted()
    if accepted:
        feedback = stack_files([frames[i] for i in accepted], accepted)
        frame = prepare_feedback(feedback, latest)
        # findings name the PAKN (case_id); the related case keeps its own name
        original = feedback.rename(columns={"case_id": "related_case_id"}).assign(case_id=feedback["feedback_id"])
        batch.row_stage("feedback", frame, original)
        batch.share_stage("feedback", frame)
    return batch.checks()


def _params(settings: Settings) -> dict:
    return {"max_bad_row_share": float(settings.max_bad_row_share)}


def _latest(exports: list[RecordExport], runner: SuiteRunner, suite: str, settings: Settings) -> np.ndarray:
    """The latest time a record of each file may carry (export time plus the suite's tolerance)."""
    return np.array([latest_allowed(e.exported_at, runner.specs[suite].meta, settings).to_datetime64()
                     for e in exports], dtype="datetime64[ns]")


def _check_directive_batch(exports: list[RecordExport], settings: Settings, suites: tuple[str, ...]) -> list[RowChecks]:
    runner = get_runner(settings.expectations_dir)
    latest = _latest(exports, runner, suites[0], settings)
    batch = _Batch(runner, [e.path for e in exports], _params(settings), suites)
    tasks = [e.rows(DIRECTIVE) for e in exports]
    extensions = [e.rows(DIRECTIVE_EXTENSION) for e in exports]
    if "directives" in suites:
        batch.file_stage("directives", tasks)
    batch.file_stage("directive_extensions", extensions)
    accepted = batch.accepted()
    if accepted:
        task_frame = None
        if "directives" in suites:
            stacked = stack_files([tasks[i] for i in accepted], accepted)
            task_frame = prepare_directives(stacked, latest)
            batch.row_stage("directives", task_frame, stacked)
        found = stack_files([extensions[i] for i in accepted], accepted)
        extension_frame = prepare_extensions(found, latest)
        batch.row_stage("directive_extensions", extension_frame, found, field_prefix="extension.")
        if task_frame is not None:
            batch.share_stage("directives", task_frame)
        batch.share_stage("directive_extensions", extension_frame)
    return batch.checks()


def prepare_directives(tasks: pd.DataFrame, latest: np.ndarray) -> pd.DataFrame:
    """The rows the ``directives`` row stage validates (``tasks`` from ``stack_files``)."""
    file_no = tasks["file_no"].to_numpy()
    columns = {"file_no": file_no, "source_row": tasks["source_row"].to_numpy(dtype=np.int64),
               "case_id": tasks["task_id"].array}
    for column in ("task_id", "status", "deadline_text"):
        columns[column] = tasks[column].array
    for column in ("assigned_at", "deadline", "completed_at"):
        columns[column] = as_ns_times(tasks[column])
    for column in ("deadline", "completed_at"):
        columns[f"{column}_latest"] = day_end_if_date_only(columns[column])
    columns["latest_allowed"] = latest[file_no]
    columns["duplicate_of_row"] = duplicate_of_row(tasks.assign(case_id=tasks["task_id"]))
    return pd.DataFrame(columns, index=tasks.index)


def prepare_extensions(extensions: pd.DataFrame, latest: np.ndarray) -> pd.DataFrame:
    """The rows the ``directive_extensions`` row stage validates."""
    file_no = extensions["file_no"].to_numpy()
    columns = {"file_no": file_no, "source_row": extensions["source_row"].to_numpy(dtype=np.int64),
               "case_id": extensions["task_id"].array, "task_id": extensions["task_id"].array,
               "extension_reason": extensions["extension_reason"].array}
    for column in ("old_deadline", "new_deadline", "extended_at"):
        columns[column] = as_ns_times(extensions[column])
    columns["new_deadline_latest"] = day_end_if_date_only(columns["new_deadline"])
    columns["latest_allowed"] = latest[file_no]
    columns["duplicate_of_row"] = duplicate_of_row(extensions.assign(case_id=extensions["task_id"]))
    return pd.DataFrame(columns, index=extensions.index)


def prepare_feedback(feedback: pd.DataFrame, latest: np.ndarray) -> pd.DataFrame:
    """The rows the ``feedback`` row stage validates."""
    file_no = feedback["file_no"].to_numpy()
    columns = {"file_no": file_no, "source_row": feedback["source_row"].to_numpy(dtype=np.int64),
               "case_id": feedback["feedback_id"].array}
    for column in ("feedback_id", "status", "handling", "reaction"):
        columns[column] = feedback[column].array
    for column in ("sent_at", "received_at", "answered_at", "published_at"):
        columns[column] = as_ns_times(feedback[column])
    for column in ("received_at", "answered_at", "published_at"):
        columns[f"{column}_latest"] = day_end_if_date_only(columns[column])
    received = columns["received_at"]
    columns["clock_start_at"] = np.where(np.isnat(received), columns["sent_at"], received)
    columns["latest_allowed"] = latest[file_no]
    renamed = feedback.rename(columns={"case_id": "related_case_id"})
    columns["duplicate_of_row"] = duplicate_of_row(renamed.assign(case_id=feedback["feedback_id"]))
    return pd.DataFrame(columns, index=feedback.index)
