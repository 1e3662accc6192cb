"""Publish: the run record, the lock that keeps runs apart, and the staged swap of warehouse and reports.

A nightly run builds its warehouse and its reports *beside* the published ones and swaps them in only at
the end, so a failed or killed run leaves the previous night's warehouse and reports exactly as they were:

- the warehouse is built into ``.tthc.duckdb.next-<run>`` beside ``tthc.duckdb``;
- reports are rendered into ``.reports.next-<run>``, which starts as a hard-linked copy of the published
  folder so that unchanged pages need not be rendered again;
- :func:`publish` renames the staged warehouse over the published one (atomic), then exchanges the
  report folders with one ``renameat2(RENAME_EXCHANGE)`` (atomic on Linux): there is no moment in which
  ``reports/`` is missing. The reports are published after the warehouse, so they are never newer than it.

Run history is one Parquet row per run in ``raw_parquet/runs/<run_id>.parquet`` (written as ``running``
at the start and rewritten with the final status at the end); the warehouse's ``ops.run`` is built from
those files. Two runs never overlap (a ``filelock`` beside the warehouse); a run killed half-way is
marked ``failed`` (interrupted) by the next one.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from filelock import FileLock, Timeout

from pipeline import db
from pipeline.formatting import fmt_date, fmt_datetime, fmt_int, fmt_pct
from pipeline.settings import Settings

RUN_COLUMNS = (
    "run_id", "started_at", "finished_at", "status", "reason", "as_of", "files_seen", "files_loaded",
    "files_rejected", "rows_loaded", "rows_quarantined", "cases",
)


def new_run_id() -> str:
    """A sortable run identifier: UTC time plus a short random suffix."""
    return f"{datetime.utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def local_now(settings: Settings) -> datetime:
    """Wall-clock time in the department's time zone, naive (how the warehouse stores times)."""
    return datetime.now(ZoneInfo(settings.timezone)).replace(tzinfo=None, microsecond=0)


@dataclass
class RunSummary:
    """What one nightly run did; the fields named in RUN_COLUMNS are the columns of ``ops.run``."""

    run_id: str
    status: str = "running"  # running | success | partial | failed
    reason: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    as_of: date | None = None
    files_seen: int = 0
    files_loaded: int = 0
    files_rejected: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    cases: int = 0
    headline: dict = field(default_factory=dict)
    links: list = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def run_row(self) -> dict[str, Any]:
        """The row of ``ops.run``."""
        return {name: getattr(self, name) for name in RUN_COLUMNS}

    def one_line(self) -> str:
        """One line for the terminal and the log."""
        head = f"nightly run {self.run_id}: {self.status}"
        if self.status == "failed":
            return f"{head} — {self.reason}"
        text = (
            f"{head} — {self.files_seen} file(s) seen, {self.files_loaded} loaded, {self.files_rejected} rejected; "
            f"rows loaded {self.rows_loaded}, quarantined {self.rows_quarantined}; {self.cases} cases"
        )
        if self.headline:
            text += f"; {self.headline.get('period')}: on time {fmt_pct(self.headline.get('on_time_rate'))}"
        if self.links:
            text += f"; reports in {self.links[0]}"
        return text

    def timings_line(self) -> str:
        """The seconds each step took, in order, as one line."""
        return "step seconds: " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in self.timings.items())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- run history ----------------------------------------------------------------------------------


def runs_dir(settings: Settings) -> Path:
    return settings.raw_parquet_dir / "runs"


def write_run_row(settings: Settings, summary: RunSummary) -> Path:
    """Write (or rewrite) the run's row, typed like ``ops.run``, atomically."""
    folder = runs_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{summary.run_id}.parquet"
    temporary = folder / f".{summary.run_id}.{uuid.uuid4().hex[:6]}.tmp"
    con = db.connect(":memory:")
    try:
        con.execute(
            """
            copy (select
                cast($run_id as varchar) as run_id, cast($started_at as timestamp) as started_at,
                cast($finished_at as timestamp) as finished_at, cast($status as varchar) as status,
                cast($reason as varchar) as reason, cast($as_of as date) as as_of,
                cast($files_seen as integer) as files_seen, cast($files_loaded as integer) as files_loaded,
                cast($files_rejected as integer) as files_rejected, cast($rows_loaded as bigint) as rows_loaded,
                cast($rows_quarantined as bigint) as rows_quarantined, cast($cases as bigint) as cases
            ) to $path (format parquet)
            """,
            {**summary.run_row(), "path": str(temporary)},
        )
    finally:
        con.close()
    os.replace(temporary, target)
    return target


def read_run_history(settings: Settings) -> list[dict[str, Any]]:
    """Every recorded run, oldest first."""
    folder = runs_dir(settings)
    if not folder.exists() or not any(folder.glob("*.parquet")):
        return []
    con = db.connect(":memory:")
    try:
        frame = con.execute(
            "select * from read_parquet($pattern, union_by_name = true) order by started_at, run_id",
            {"pattern": str(folder / "*.parquet")},
        ).df()
    finally:
        con.close()
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def mark_interrupted_runs(settings: Settings, current_run_id: str) -> list[str]:
    """Runs still 'running' while nobody holds the lock were killed: record them as failed."""
    marked = []
    for row in read_run_history(settings):
        if row["status"] == "running" and row["run_id"] != current_run_id:
            values = {k: row.get(k) for k in RUN_COLUMNS}
            values.update(status="failed", reason="interrupted: the run stopped before recording its result")
            for name in ("files_seen", "files_loaded", "files_rejected", "rows_loaded", "rows_quarantined", "cases"):
                values[name] = int(values[name] or 0)
            write_run_row(settings, RunSummary(**values))
            marked.append(row["run_id"])
    return marked


@contextlib.contextmanager
def run_lock(settings: Settings) -> Iterator[bool]:
    """The exclusive nightly-run lock beside the warehouse; yields False if another run holds it."""
    path = Path(settings.warehouse).parent / ".nightly.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


# --- staging and the swap ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Staging:
    """Where one run builds what it will publish."""

    warehouse: Path
    reports: Path
    published_warehouse: Path
    published_reports: Path


def published_reports(settings: Settings) -> Path:
    """The report folder that is swapped; a symlinked one (e.g. into a web server's root) is followed."""
    reports = Path(settings.reports_dir)
    return reports.resolve() if reports.is_symlink() else reports


def staging(settings: Settings, run_id: str) -> Staging:
    """The staging paths of a run."""
    warehouse = Path(settings.warehouse)
    reports = published_reports(settings)
    return Staging(warehouse.with_name(f".{warehouse.name}.next-{run_id}"),
                   reports.with_name(f".{reports.name}.next-{run_id}"), warehouse, reports)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def clean_stale_staging(settings: Settings) -> None:
    """Leftovers of a killed run: staging warehouses (and their .wal) and staging report folders."""
    warehouse = Path(settings.warehouse)
    reports = published_reports(settings)
    for stale in warehouse.parent.glob(f".{warehouse.name}.*"):
        if ".next-" in stale.name or ".building-" in stale.name:
            _remove(stale)
    if reports.parent.exists():
        for stale in reports.parent.glob(f".{reports.name}.next-*"):
            _remove(stale)


def prepare_reports(stage: Staging) -> None:
    """The staging report folder, as a hard-linked copy of the published one (pages are replaced by rename,
    never rewritten in place, so the published files are never touched)."""
    _remove(stage.reports)
    if stage.published_reports.is_dir():
        shutil.copytree(stage.published_reports, stage.reports, copy_function=_link_or_copy, symlinks=True)
    else:
        stage.reports.mkdir(parents=True)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def publish(stage: Staging) -> None:
    """Swap the staged warehouse in (atomic rename), then the staged reports (atomic exchange)."""
    os.replace(stage.warehouse, stage.published_warehouse)
    final = stage.published_reports
    final.parent.mkdir(parents=True, exist_ok=True)
    if not final.exists():
        os.replace(stage.reports, final)
    elif _exchange(stage.reports, final):
        _remove(stage.reports)  # now holds the previous reports
    else:  # no atomic exchange here: the shortest window, two renames
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:6]}")
        os.replace(final, old)
        os.replace(stage.reports, final)
        _remove(old)


def discard(stage: Staging) -> None:
    """Remove what a run staged and did not publish."""
    _remove(stage.warehouse)
    Path(f"{stage.warehouse}.wal").unlink(missing_ok=True)
    _remove(stage.reports)


def finalise_warehouse(staged: Path, summary: RunSummary) -> None:
    """Put the run's final row into the staged warehouse's ops.run (the 'running' row came from Parquet)."""
    con = db.connect(staged)
    try:
        con.execute("delete from ops.run where run_id = $run_id", {"run_id": summary.run_id})
        con.execute(
            "insert into ops.run by name select $run_id as run_id, $started_at as started_at, "
            "$finished_at as finished_at, $status as status, $reason as reason, $as_of as as_of, "
            "$files_seen as files_seen, $files_loaded as files_loaded, $files_rejected as files_rejected, "
            "$rows_loaded as rows_loaded, $rows_quarantined as rows_quarantined, $cases as cases",
            summary.run_row(),
        )
        con.execute("checkpoint")
    finally:
        con.close()


# --- one run, step by step ----------------------------------------------------------------------------


class StepFailed(RuntimeError):
    """A step of the run failed; the message names the step."""


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message``."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def start_summary(settings: Settings, run_id: str | None = None) -> RunSummary:
    """A new run's summary (status running)."""
    return RunSummary(run_id=run_id or new_run_id(), started_at=local_now(settings), as_of=settings.effective_as_of)


def finish(settings: Settings, summary: RunSummary, status: str, reason: str | None = None) -> None:
    """Record the run's final status and reason in the run history."""
    summary.status, summary.reason, summary.finished_at = status, reason, local_now(settings)
    write_run_row(settings, summary)


def begin(settings: Settings, summary: RunSummary) -> Staging:
    """Under the lock: clean what killed runs left, mark them interrupted, record this run as running."""
    clean_stale_staging(settings)
    mark_interrupted_runs(settings, summary.run_id)
    write_run_row(settings, summary)
    return staging(settings, summary.run_id)


@contextlib.contextmanager
def step(summary: RunSummary, name: str) -> Iterator[None]:
    """Time a step; turn its exception into StepFailed naming the step."""
    started = time.perf_counter()
    try:
        yield
    except StepFailed:
        raise
    except Exception as exc:
        raise StepFailed(f"{name}: {first_line(exc)}") from exc
    finally:
        summary.timings[name] = round(time.perf_counter() - started, 2)


def record_ingest(summary: RunSummary, result) -> None:
    """The ingest stage's counts in the run summary."""
    summary.files_seen = result.files_seen
    summary.files_loaded = len(result.new_files)
    summary.files_rejected = len(result.rejected_files)
    summary.rows_loaded = result.rows_loaded
    summary.rows_quarantined = result.rows_quarantined
    summary.rejected = [o.reason or "rejected" for o in result.rejected_files]


def complete(settings: Settings, stage: Staging, summary: RunSummary) -> None:
    """Final status into the staged warehouse, then publish warehouse and reports, then the run history."""
    summary.headline = headline(stage.warehouse, settings.period_scheme)
    summary.status = "partial" if summary.files_rejected else "success"
    if summary.files_rejected:
        summary.reason = f"{summary.files_rejected} file(s) rejected: {summary.rejected[0]}"
    summary.finished_at = local_now(settings)
    finalise_warehouse(stage.warehouse, summary)
    publish(stage)
    write_run_row(settings, summary)


def fail(settings: Settings, summary: RunSummary, exc: BaseException) -> None:
    """Record a failed run (the step's reason) in the run history."""
    finish(settings, summary, "failed", str(exc) if isinstance(exc, StepFailed) else f"run: {first_line(exc)}")


def note(summary: RunSummary, action) -> None:
    """Run an optional action (e-mails); its one-line result, or its failure, becomes a note of the run."""
    try:
        line = action()
    except Exception as exc:  # an optional action never changes the run's result
        line = f"e-mails not sent: {first_line(exc)}"
    if line:
        summary.notes.append(line)


def links(written: list[Path], staged: Path, final: Path) -> list[str]:
    """Published report paths, the index first."""
    out = []
    for path in written:
        try:
            out.append(str(final / Path(path).relative_to(staged)))
        except ValueError:
            out.append(str(path))
    index = str(final / "index.html")
    return sorted(dict.fromkeys(out), key=lambda p: (p != index, not p.endswith("index.html"), p))


def headline(warehouse: Path, scheme: str) -> dict[str, Any]:
    """The latest quarter's figures for the whole department (mart.kpi_period, dimension 'all')."""
    con = db.connect(warehouse, read_only=True)
    try:
        row = con.execute(
            """
            select period, period_scheme, received_total, resolved_total, early, on_time, late, open_total,
                   open_overdue, on_time_rate, early_rate, late_rate, ratings, satisfaction_rate, score_766_progress
            from mart.kpi_period
            where dimension = 'all' and period_scheme = $scheme and period like '%-Q%'
            order by period desc
            limit 1
            """,
            {"scheme": scheme},
        ).fetchone()
        names = [d[0] for d in con.description]
    finally:
        con.close()
    if row is None:
        return {}
    return {k: (float(v) if hasattr(v, "as_integer_ratio") and not isinstance(v, int | bool) else v)
            for k, v in zip(names, row, strict=True)}


STATUS_VI = {"success": "thành công", "partial": "thành công một phần (có tệp bị từ chối)", "failed": "thất bại",
             "running": "đang chạy"}


def summary_markdown(summary: RunSummary) -> str:
    """The run summary as Markdown (the Prefect artifact), in Vietnamese."""
    lines = [f"# Chạy đêm {summary.run_id}: {STATUS_VI.get(summary.status, summary.status)}", "", "| | |", "|---|---|",
             f"| Trạng thái | `{summary.status}` |"]
    if summary.reason:
        lines.append(f"| Lý do | {summary.reason.replace('|', '/')} |")
    lines += [
        f"| Bắt đầu – kết thúc | {fmt_datetime(summary.started_at, seconds=True)} – "
        f"{fmt_datetime(summary.finished_at, seconds=True)} |"
        if summary.finished_at and summary.started_at else "| Bắt đầu | – |",
        f"| Số liệu tính đến | hết ngày {fmt_date(summary.as_of)} |" if summary.as_of else "| Số liệu tính đến | – |",
        f"| Tệp xuất | {summary.files_seen} tệp; {summary.files_loaded} nạp mới; {summary.files_rejected} bị từ chối |",
        f"| Dòng | {fmt_int(summary.rows_loaded)} dòng nạp; {fmt_int(summary.rows_quarantined)} dòng cách ly |",
        f"| Hồ sơ trong kho | {fmt_int(summary.cases)} |",
    ]
    h = summary.headline
    if h:
        lines += [
            "", f"## Quý {h.get('period')} – toàn Sở (kỳ {h.get('period_scheme')})", "", "| Chỉ tiêu | Giá trị |",
            "|---|---|",
            f"| Hồ sơ tiếp nhận | {fmt_int(h.get('received_total'))} |",
            f"| Đã giải quyết | {fmt_int(h.get('resolved_total'))} (trước hạn {fmt_int(h.get('early'))}, "
            f"đúng hạn {fmt_int(h.get('on_time'))}, quá hạn {fmt_int(h.get('late'))}) |",
            f"| Tỷ lệ đúng hạn (trước hạn + đúng hạn) | {fmt_pct(h.get('on_time_rate'))} |",
            f"| Tỷ lệ trước hạn | {fmt_pct(h.get('early_rate'))} |",
            f"| Tỷ lệ quá hạn | {fmt_pct(h.get('late_rate'))} |",
            f"| Đang giải quyết / trong đó quá hạn | {fmt_int(h.get('open_total'))} / {fmt_int(h.get('open_overdue'))} |",
            f"| Tỷ lệ hài lòng | {fmt_pct(h.get('satisfaction_rate'))} ({fmt_int(h.get('ratings'))} đánh giá) |",
        ]
    for title, items, limit in (("Tệp bị từ chối", summary.rejected, 50), ("Báo cáo", summary.links, 60),
                                ("Ghi chú", summary.notes, 50)):
        if items:
            lines += ["", f"## {title}", ""] + [f"- {item}" for item in items[:limit]]
    if summary.timings:
        lines += ["", "## Thời gian từng bước (giây)", "", "| bước | giây |", "|---|---|"]
        lines += [f"| {name} | {seconds:.1f} |" for name, seconds in summary.timings.items()]
    return "\n".join(lines) + "\n"
