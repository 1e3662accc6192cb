"""The ingest stage: discover → read → check → store, one loop for every caller.

``tthc ingest``, ``tthc validate`` (which checks without storing) and the nightly flow all go through
the same three steps:

1. :func:`plan` — find the files (:mod:`.discover`), hash them, drop contents already ingested, read
   identical copies once, and pack the rest into *groups* of similar size;
2. :func:`process_group` — a pure function of (files, settings): read every file of the group
   (:mod:`.readers`), check the group's rows with the expectation suites in one validation per suite
   (:mod:`.check`; Great Expectations' cost is mostly fixed per run, so checking two hundred small files
   one by one would cost minutes), and store each file (:mod:`.store`) or, when validating, keep its
   results for the report;
3. the caller maps step 2 over the groups — :func:`run_ingest` with a thread pool, the flow with Prefect's
   task runner (threads by default; Dask worker processes need no other change) — and :func:`collect`
   gathers the outcomes; both use :func:`ingest_workers` groups and workers.

A file that cannot be read, checked or stored is rejected with a one-line reason naming it; the other
files go on. A rejected file is recorded in ``ops.file`` and is never marked ingested, so a rejected
copy of an export never hides the real one.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from pipeline.ingest import check, store
from pipeline.ingest.discover import Found, discover_exports, export_time_from_path, file_sha256, preferred
from pipeline.ingest.isolate import close_idle_readers, read_isolated
from pipeline.ingest.readers import FileRejected, ReadResult
from pipeline.ingest.store import FileOutcome, escape_controls, masked_path
from pipeline.memory import release_memory
from pipeline.settings import Settings
from pipeline.validate.suites import prepare_runner_in_background

log = logging.getLogger("pipeline.ingest")

MAX_WORKERS = 4  # groups read and checked at once, at most (each holds up to GROUP_BYTES of exports)
GROUP_BYTES = 64 << 20  # bytes of exports checked together (≈ 300,000 CSV rows): bounds a group's memory
BUSY_BYTES = 2 * GROUP_BYTES  # bytes of exports in work at once in a process; a larger export works alone
HASH_RETRY_SECONDS = (2.0, 10.0)  # reading a file's bytes is retried on transient I/O errors (network shares)


@dataclass(frozen=True)
class Export:
    """One content to read: the file to read it from and identical copies of it elsewhere in the folder."""

    path: Path
    sha: str
    size: int
    copies: tuple[Path, ...] = ()


@dataclass
class ReadExport:
    """An export read but not yet checked."""

    export: Export
    result: ReadResult
    exported_at: datetime

    @property
    def path(self) -> Path:
        return self.export.path

    @property
    def sha(self) -> str:
        return self.export.sha


@dataclass
class CheckedFile:
    """What the checks said of one file (kept when validating without storing, for the report)."""

    path: str
    status: str
    reason: str | None
    results: pd.DataFrame
    quarantine: pd.DataFrame
    read: ReadExport | None = None  # the file as read, kept only when asked (``tthc inspect`` shows it)


@dataclass
class GroupResult:
    """The outcome of every file of a group (and, when validating, the checks behind them)."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    checked: list[CheckedFile] = field(default_factory=list)


@dataclass
class IngestPlan:
    """The groups to read and the files decided without reading them."""

    groups: list[list[Export]]
    outcomes: list[FileOutcome]
    files_seen: int


@dataclass
class IngestResult:
    """The outcome of one pass of the ingest stage."""

    run_id: str
    files_seen: int = 0
    outcomes: list[FileOutcome] = field(default_factory=list)
    checked: list[CheckedFile] = field(default_factory=list)

    def having(self, *statuses: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status in statuses]

    @property
    def rejected_files(self) -> list[FileOutcome]:
        return self.having("rejected")

    @property
    def new_files(self) -> list[FileOutcome]:
        return self.having("loaded", "checked")

    @property
    def rows_loaded(self) -> int:
        return sum(o.rows_loaded for o in self.new_files)

    @property
    def rows_quarantined(self) -> int:
        return sum(o.rows_quarantined for o in self.new_files)

    def one_line(self) -> str:
        """A one-line summary for the terminal and logs."""
        return (
            f"{self.files_seen} file(s) seen: {len(self.new_files)} new, {len(self.having('already_ingested'))} "
            f"already ingested, {len(self.having('duplicate'))} duplicate copies, {len(self.rejected_files)} "
            f"rejected; rows loaded {self.rows_loaded}, quarantined {self.rows_quarantined}"
        )


# --- 1. plan ----------------------------------------------------------------------------------------


def discover(settings: Settings, paths: Iterable[Path] | None = None) -> list[Found]:
    """The files under the given paths (default the raw folder)."""
    paths = list(paths or [settings.raw_dir])
    for path in paths:
        if not Path(path).exists():
            raise FileNotFoundError(f"raw folder {masked_path(Path(path))} does not exist"
                                    if Path(path) == Path(settings.raw_dir) else f"{masked_path(Path(path))}: no such file")
    return discover_exports(paths)


def hash_file(path: Path) -> str:
    """SHA-256 of a file's bytes, retried after HASH_RETRY_SECONDS on transient I/O errors (not on a missing
    or forbidden file); the error that stays names the file as stored and logged (masked, one line)."""
    permanent = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)
    for delay in (*HASH_RETRY_SECONDS, None):
        try:
            return file_sha256(path)
        except OSError as exc:
            if isinstance(exc, permanent) or delay is None:
                raise type(exc)(exc.errno, f"{exc.strerror or exc}: {masked_path(path)}") from None
            log.warning('retrying "%s" in %.0f s: %s', masked_path(path), delay, exc.strerror or type(exc).__name__)
            time.sleep(delay)
    raise AssertionError("unreachable")


def prepare(settings: Settings, paths: Iterable[Path] | None, run_id: str, workers: int = 1,
            store_results: bool = True) -> IngestPlan:
    """Step 1 whole: discover, hash (retried), plan; the files it rejects are recorded for this run."""
    found = discover(settings, paths)
    hashes: dict[Path, str | BaseException] = {}
    for item in found:
        if item.problem is None:
            try:
                hashes[item.path] = hash_file(item.path)
            except OSError as exc:
                hashes[item.path] = exc
    the_plan = plan(settings, found, hashes, workers, store_results)
    if the_plan.groups:  # the checks' suites get ready while the first files are read
        prepare_runner_in_background(settings.expectations_dir)
    the_plan.outcomes = record_plan_rejections(the_plan, settings, run_id, store_results)
    return the_plan


def plan(settings: Settings, found: list[Found], hashes: dict[Path, str | BaseException],
         workers: int = 1, store_results: bool = True) -> IngestPlan:
    """Which contents to read, in groups; files already ingested, copies and unusable files decided now."""
    outcomes: list[FileOutcome] = []
    by_sha: dict[str, list[Path]] = {}
    for item in found:
        digest = hashes.get(item.path)
        if item.problem or isinstance(digest, BaseException) or digest is None:
            reason = item.problem or f"cannot read ({_first_line(digest)})"
            outcomes.append(FileOutcome(item.path, "", "rejected", f"{masked_path(item.path)}: {reason}"))
            continue
        by_sha.setdefault(digest, []).append(item.path)
    done = store.ingested_hashes(settings) if store_results else set()
    exports: list[Export] = []
    for sha, paths in sorted(by_sha.items(), key=lambda kv: str(preferred(kv[1])[0])):
        first, *copies = preferred(paths)
        if sha in done:
            outcomes += [FileOutcome(p, sha, "already_ingested") for p in paths]
            continue
        exports.append(Export(first, sha, first.stat().st_size, tuple(copies)))
    return IngestPlan(group_exports(exports, workers), outcomes, len(found))


def group_exports(exports: list[Export], workers: int = 1, group_bytes: int = GROUP_BYTES) -> list[list[Export]]:
    """Exports packed into groups of about ``group_bytes`` (a large file alone), at least ``workers``
    groups when there are that many files, in a stable order."""
    if not exports:
        return []
    total = sum(e.size for e in exports)
    budget = max(1, min(group_bytes, math.ceil(total / max(1, workers))))
    groups: list[list[Export]] = []
    current: list[Export] = []
    size = 0
    for export in sorted(exports, key=lambda e: str(e.path)):
        if current and size + export.size > budget:
            groups.append(current)
            current, size = [], 0
        current.append(export)
        size += export.size
    groups.append(current)
    return groups


# --- 2. read, check, store one group ----------------------------------------------------------------


def read_one(export: Export, settings: Settings) -> ReadExport | FileOutcome:
    """Read one export in a worker process (a crash, an abort or a memory blow-up of a native parser rejects
    this file only); a file the readers refuse or cannot read becomes a rejected outcome."""
    try:
        result = read_isolated(export.path, settings)
    except FileRejected as exc:
        return FileOutcome(export.path, export.sha, "rejected", _named(export.path, str(exc)))
    except Exception as exc:  # a reader bug or an unreadable file must not stop the other files
        return FileOutcome(export.path, export.sha, "rejected", _named(export.path, f"cannot read ({_first_line(exc)})"))
    exported_at = (result.exported_at or export_time_from_path(export.path)
                   or datetime.fromtimestamp(export.path.stat().st_mtime))
    return ReadExport(export, result, exported_at)


class _BytesInWork:
    """The bytes of exports being read, checked and stored at once in this process: a group waits until it
    fits under BUSY_BYTES, so two big exports are never in memory together (one larger than the limit
    works alone)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0
        self._changed = threading.Condition()

    @contextmanager
    def holding(self, size: int) -> Iterator[None]:
        size = min(size, self.limit)
        with self._changed:
            self._changed.wait_for(lambda: self.used + size <= self.limit)
            self.used += size
        try:
            yield
        finally:
            with self._changed:
                self.used -= size
                self._changed.notify_all()


_IN_WORK = _BytesInWork(BUSY_BYTES)


def process_group(group: list[Export], settings: Settings, run_id: str, store_results: bool = True, *,
                  check_rows: bool = True, keep_reads: bool = False) -> GroupResult:
    """Read, check and store (or, validating, only check) every export of a group; never raises for a file.

    Without storing, ``keep_reads`` keeps each file as read beside its checks and ``check_rows=False``
    skips the expectation suites (the reader's own quarantine still applies): what ``tthc inspect`` shows."""
    with _IN_WORK.holding(sum(export.size for export in group)):
        return _process_group(group, settings, run_id, store_results, check_rows=check_rows, keep_reads=keep_reads)


def _process_group(group: list[Export], settings: Settings, run_id: str, store_results: bool, *,
                   check_rows: bool, keep_reads: bool) -> GroupResult:
    out = GroupResult()
    reads: list[ReadExport] = []
    for export in group:
        read = read_one(export, settings)
        if isinstance(read, FileOutcome):
            out.outcomes.append(record_rejection(read, settings, run_id, store_results))
        else:
            reads.append(read)
    try:
        checks = (check.check_reads([(r.result, r.exported_at, masked_path(r.path)) for r in reads], settings)
                  if check_rows else [check.unchecked() for _ in reads])
    except Exception as exc:  # a check that cannot run rejects the group's files, not the run
        checks = [check.failed(_named(r.path, f"checks could not run ({_first_line(exc)})")) for r in reads]
    for read, checked in zip(reads, checks, strict=True):
        if store_results:
            try:
                outcome = store.store_export(read, checked, settings, run_id)
            except Exception as exc:
                outcome = record_rejection(FileOutcome(read.path, read.sha, "rejected",
                                                        _named(read.path, f"cannot store ({_first_line(exc)})")),
                                            settings, run_id, store_results)
        else:
            outcome = _checked_outcome(read, checked)
            out.checked.append(CheckedFile(masked_path(read.path, read.result.personal_names), outcome.status,
                                           outcome.reason, checked.results, checked.quarantine,
                                           read if keep_reads else None))
        out.outcomes.append(outcome)
    by_path = {o.path: o for o in out.outcomes}
    for export in group:  # identical copies elsewhere in the folder follow their content
        out.outcomes += _copies(export, by_path[export.path])
    del reads, checks
    release_memory()
    return out


def _checked_outcome(read: ReadExport, checked) -> FileOutcome:
    """The outcome of a file validated without storing."""
    result = read.result
    quarantined = set(result.quarantine["source_row"].astype(int)) | set(checked.quarantine["source_row"].astype(int))
    loaded = int((~result.row_records["source_row"].astype(int).isin(quarantined)).sum())
    status = "rejected" if checked.rejected_reason else "checked"
    return FileOutcome(read.path, read.sha, status, checked.rejected_reason, result.rows_read, loaded,
                       len(result.skipped), len(quarantined), result.kind)


def _copies(export: Export, outcome: FileOutcome) -> list[FileOutcome]:
    if outcome.status == "rejected":
        return [FileOutcome(p, export.sha, "rejected", f"{masked_path(p)}: same content as "
                            f"{masked_path(export.path)}, rejected") for p in export.copies]
    return [FileOutcome(p, export.sha, "duplicate", f"same content as {masked_path(export.path)}")
            for p in export.copies]


def record_rejection(outcome: FileOutcome, settings: Settings, run_id: str, store_results: bool = True) -> FileOutcome:
    """Record a rejected file in this run's ops.file rows (when storing); returns the outcome as recorded."""
    if not store_results:
        return outcome
    try:
        return store.reject(outcome.path, outcome.sha256, outcome.reason or "rejected", run_id, settings)
    except Exception:  # recording the rejection failed too: the run summary still names it
        return outcome


def _named(path: Path, reason: object) -> str:
    """A one-line reason that names the file: as the reader named it, else by its (masked) path."""
    text = _first_line(reason) if not isinstance(reason, str) else reason.splitlines()[0] if reason else "rejected"
    if text.startswith((str(path), path.name)):
        return masked_path(Path(text.split(":", 1)[0])) + text[len(text.split(":", 1)[0]):]
    return f"{masked_path(path)}: {text}"


def log_rejections(logger: logging.Logger | logging.LoggerAdapter, outcomes: Iterable[FileOutcome]) -> None:
    """One warning per rejected file, the file quoted as its reason names it (masked path or name, never
    unmasked further): 'rejected "<file>": <why>', control characters escaped."""
    for outcome in outcomes:
        reason, shown = outcome.reason or "rejected", masked_path(outcome.path)
        named = next((p for p in (shown, Path(shown).name) if reason.startswith(f"{p}: ")), None)
        if named is None:  # named with its applicants' names masked too, or not named
            head, found, _ = reason.partition(": ")
            named = head if found else None
        why = reason[len(named) + 2:] if named is not None else reason
        logger.warning('rejected "%s": %s', escape_controls(named or Path(shown).name), escape_controls(why))


def _first_line(exc: object) -> str:
    if isinstance(exc, BaseException):
        text = str(exc).strip()
        return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
    return str(exc).splitlines()[0] if exc else ""


def record_plan_rejections(the_plan: IngestPlan, settings: Settings, run_id: str,
                           store_results: bool = True) -> list[FileOutcome]:
    """The plan's outcomes, with the files it rejected (unreadable, links out of the folder) recorded."""
    return [record_rejection(o, settings, run_id, store_results) if o.status == "rejected" else o
            for o in the_plan.outcomes]


# --- 3. the loop ------------------------------------------------------------------------------------


def ingest_workers() -> int:
    """How many groups are read and checked at once: one per core, at most MAX_WORKERS."""
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def collect(run_id: str, the_plan: IngestPlan, done: Iterable[GroupResult],
            logger: logging.Logger | logging.LoggerAdapter = log) -> IngestResult:
    """The outcome of a pass: the plan's decisions, then every group's in order; rejected files logged. The
    reader workers are stopped: the run's next steps need their memory more."""
    close_idle_readers()
    result = IngestResult(run_id, the_plan.files_seen, list(the_plan.outcomes))
    for group_result in done:
        result.outcomes += group_result.outcomes
        result.checked += group_result.checked
    log_rejections(logger, result.rejected_files)
    return result


def run_ingest(settings: Settings, paths: Iterable[Path] | None, run_id: str, store_results: bool = True,
               workers: int | None = None, *, check_rows: bool = True, keep_reads: bool = False) -> IngestResult:
    """Discover, hash and plan, then read, check and store every group in a thread pool (``check_rows`` and
    ``keep_reads`` as in :func:`process_group`)."""
    workers = workers or ingest_workers()
    the_plan = prepare(settings, paths, run_id, workers, store_results)

    def one(group: list[Export]) -> GroupResult:
        return process_group(group, settings, run_id, store_results, check_rows=check_rows, keep_reads=keep_reads)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return collect(run_id, the_plan, list(pool.map(one, the_plan.groups)))
