"""The nightly run as a Prefect flow: ingest → rebuild the warehouse → validation report → scorecards →
warnings (→ e-mails), with run history, a run-summary artifact and a schedule.

Every step is a plain function of :mod:`pipeline` wrapped in a thin Prefect task; the flow adds
parallel ingestion (a thread pool), retries on the one step that can fail transiently (reading an
export's bytes, e.g. from a network share), logs, and the summary artifact.

Nothing is published until every step has succeeded:

- the warehouse is built into a staging file beside the current one (``.tthc.duckdb.next-<run>``);
- reports are rendered into a staging folder beside ``reports_dir`` (``.reports.next-<run>``);
- only then is the run's final row written into the staging warehouse's ``ops.run``, the report
  folder swapped in, and the warehouse renamed over the current one (atomic).

A failed step marks the run ``failed`` with the step and its reason and leaves the previous warehouse
and reports exactly as they were. Run history is one Parquet row per run in
``raw_parquet/runs/<run_id>.parquet`` (written as ``running`` at the start and rewritten with the final
status at the end, even for a failed run); the warehouse's ``ops.run`` is built from those files, so it
shows every finished run's final status, this run's included. Two runs never overlap (a lock file
beside the warehouse); a run killed half-way is marked ``failed`` (interrupted) by the next one.

Prefect's state stays in the project's ``.prefect/`` whatever the working directory (``PREFECT_HOME``
is set before Prefect is imported) and nothing is sent anywhere (analytics off). ``run_nightly`` runs
the flow in Prefect's ephemeral mode (a temporary local API server, a few seconds to start);
``serve_nightly`` serves it on its cron schedule from a real Prefect server (``PREFECT_API_URL``).
"""

# No `from __future__ import annotations` here: Prefect validates the flow's parameters from its
# annotations, and a flow loaded from its file path (a served or worker run) cannot resolve strings.
import contextlib
import logging
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

PROJECT_DIR = Path(__file__).resolve().parent.parent
FLOW_NAME = "nightly"
DEPLOYMENT_NAME = "tthc-nightly"
SCHEDULE_TIMEZONE = "Asia/Ho_Chi_Minh"
ARTIFACT_KEY = "tthc-nightly-summary"
INGEST_WORKERS = max(1, min(4, os.cpu_count() or 1))
SECRET_SETTINGS = ("pii_salt", "smtp_password")


def prefect_home_path(prefect_home: Path | str) -> Path:
    """Prefect's home as an absolute path; a relative one is taken from the project folder."""
    path = Path(prefect_home).expanduser()
    if path.is_absolute():
        return path
    base = PROJECT_DIR if (PROJECT_DIR / "pyproject.toml").exists() else Path.cwd()
    return (base / path).resolve()


def configure_prefect_environment(prefect_home: Path | str | None = None) -> None:
    """Set ``PREFECT_HOME`` (unless already set) and turn analytics off; call before importing prefect."""
    if not os.environ.get("PREFECT_HOME"):
        if prefect_home is None:
            prefect_home = os.environ.get("TTHC_PREFECT_HOME") or ".prefect"
        os.environ["PREFECT_HOME"] = str(prefect_home_path(prefect_home))
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    # the ephemeral server's first start (database migrations) can take longer than Prefect's 20 s
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


configure_prefect_environment()

# Prefect is imported only now, with its home and analytics settled.
from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.exceptions import MissingContextError  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

from pipeline import db  # noqa: E402
from pipeline.ingest import load  # noqa: E402
from pipeline.settings import Settings, load_settings  # noqa: E402

# --- the run summary ----------------------------------------------------------------------------


@dataclass
class RunSummary:
    """What one nightly run did; its first twelve fields are the columns of ``ops.run``."""

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

    RUN_COLUMNS = (
        "run_id", "started_at", "finished_at", "status", "reason", "as_of", "files_seen", "files_loaded",
        "files_rejected", "rows_loaded", "rows_quarantined", "cases",
    )

    def run_row(self) -> dict[str, Any]:
        """The row of ``ops.run``."""
        return {name: getattr(self, name) for name in self.RUN_COLUMNS}

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
            rate = self.headline.get("on_time_rate")
            shown = "n/a" if rate is None else f"{rate * 100:.1f}%"
            text += f"; {self.headline.get('period')}: on time {shown}"
        if self.links:
            text += f"; reports in {self.links[0]}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_SUMMARIES: dict[str, RunSummary] = {}  # in-process runs hand their summary to run_nightly here


class NightlyRunFailed(RuntimeError):
    """Raised at the end of a failed run so that Prefect marks the flow run Failed too."""


class StepFailed(RuntimeError):
    """A step of the run failed; the message names the step."""


def _now(settings: Settings) -> datetime:
    """Local wall-clock time in the department's time zone, naive (how the warehouse stores times)."""
    return datetime.now(ZoneInfo(settings.timezone)).replace(tzinfo=None, microsecond=0)


def _logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("pipeline.flows")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


# --- run history (raw_parquet/runs/<run_id>.parquet) ---------------------------------------------


def runs_dir(settings: Settings) -> Path:
    return settings.raw_parquet_dir / "runs"


def write_run_row(settings: Settings, summary: RunSummary) -> Path:
    """Write (or rewrite) the run's row, typed like ``ops.run``, atomically."""
    folder = runs_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{summary.run_id}.parquet"
    temporary = folder / f".{summary.run_id}.{uuid.uuid4().hex[:6]}.tmp"
    row = summary.run_row()
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
            {**row, "path": str(temporary)},
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


def _mark_interrupted_runs(settings: Settings, current_run_id: str) -> list[str]:
    """Runs still 'running' while nobody holds the lock were killed: record them as failed."""
    marked = []
    for row in read_run_history(settings):
        if row["status"] == "running" and row["run_id"] != current_run_id:
            values = {k: row.get(k) for k in RunSummary.RUN_COLUMNS}
            values.update(status="failed", reason="interrupted: the run stopped before recording its result")
            for name in ("files_seen", "files_loaded", "files_rejected", "rows_loaded", "rows_quarantined", "cases"):
                values[name] = int(values[name] or 0)
            write_run_row(settings, RunSummary(**values))
            marked.append(row["run_id"])
    return marked


@contextlib.contextmanager
def _run_lock(settings: Settings) -> Iterator[bool]:
    """An exclusive lock beside the warehouse; yields False if another run holds it."""
    path = Path(settings.warehouse).parent / ".nightly.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield True
        return
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- staging paths and publishing ---------------------------------------------------------------


def staging_warehouse(settings: Settings, run_id: str) -> Path:
    wh = Path(settings.warehouse)
    return wh.with_name(f".{wh.name}.next-{run_id}")


def published_reports(settings: Settings) -> Path:
    """The report folder that is swapped; a symlinked one (e.g. into a web server's root) is followed."""
    reports = Path(settings.reports_dir)
    return reports.resolve() if reports.is_symlink() else reports


def staging_reports(settings: Settings, run_id: str) -> Path:
    reports = published_reports(settings)
    return reports.with_name(f".{reports.name}.next-{run_id}")


def _old_reports(settings: Settings, run_id: str) -> Path:
    reports = published_reports(settings)
    return reports.with_name(f".{reports.name}.old-{run_id}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _clean_stale_staging(settings: Settings) -> None:
    """Leftovers of a killed run: staging warehouses and report folders; a half-swapped report folder is restored."""
    wh = Path(settings.warehouse)
    reports = published_reports(settings)
    for stale in wh.parent.glob(f"*.{wh.name}.next-*"):  # staging files and their .building-/.wal files
        _remove(stale)
    if reports.parent.exists():
        for stale in reports.parent.glob(f".{reports.name}.next-*"):
            _remove(stale)
        for old in sorted(reports.parent.glob(f".{reports.name}.old-*")):
            if not reports.exists():
                os.replace(old, reports)
            else:
                _remove(old)


def _swap_reports(staged: Path, final: Path, run_id: str, settings: Settings) -> Path | None:
    """Move the staged report folder in place of the published one (two renames), keeping dotfiles.

    Returns where the previous folder was moved (delete it once the warehouse is swapped too, or put it
    back with :func:`_restore_reports`); None when there was none.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    if not final.exists():
        os.replace(staged, final)
        return None
    for keep in final.iterdir():
        if keep.name.startswith(".") and not (staged / keep.name).exists():
            if keep.is_dir():
                shutil.copytree(keep, staged / keep.name)
            else:
                shutil.copy2(keep, staged / keep.name)
    old = _old_reports(settings, run_id)
    os.replace(final, old)
    try:
        os.replace(staged, final)
    except BaseException:
        os.replace(old, final)
        raise
    return old


def _restore_reports(old: Path | None, final: Path, discard: Path) -> None:
    """Undo :func:`_swap_reports`: the new folder goes to ``discard``, the previous one comes back."""
    if final.exists():
        os.replace(final, discard)
    if old is not None:
        os.replace(old, final)


def _finalise_warehouse(staged: Path, summary: RunSummary) -> None:
    """Put the run's final row into the staging warehouse's ops.run (the 'running' row came from Parquet)."""
    con = db.connect(staged)
    try:
        con.execute("delete from ops.run where run_id = $run_id", {"run_id": summary.run_id})
        row = summary.run_row()
        columns = ", ".join(row)
        values = ", ".join(f"${name}" for name in row)
        con.execute(f"insert into ops.run ({columns}) values ({values})", row)
        con.execute("checkpoint")
    finally:
        con.close()


def _headline(staged: Path, settings: Settings) -> dict[str, Any]:
    """The latest quarter's figures for the whole department (mart.kpi_period, dimension 'all')."""
    con = db.connect(staged, read_only=True)
    try:
        frame = con.execute(
            """
            select period, period_scheme, received_total, resolved_total, early, on_time, late, open_total,
                   open_overdue, on_time_rate, early_rate, late_rate, ratings, satisfaction_rate, score_766_progress
            from mart.kpi_period
            where dimension = 'all' and period_scheme = $scheme and period like '%-Q%'
            order by period desc
            limit 1
            """,
            {"scheme": settings.period_scheme},
        ).df()
    finally:
        con.close()
    if frame.empty:
        return {}
    row = frame.astype(object).where(frame.notna(), None).iloc[0].to_dict()
    return {k: _plain(v) for k, v in row.items()}


def _plain(value: Any) -> Any:
    """numpy / Decimal numbers as plain int or float (the summary is logged and shown as JSON)."""
    if value is None or isinstance(value, str | bool):
        return value
    if hasattr(value, "__index__"):
        return int(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


# --- the steps as plain functions ---------------------------------------------------------------


def _prepare_salt(settings: Settings) -> None:
    """Create the applicant-hash salt once, before files are read in parallel threads."""
    try:
        from pipeline.ingest.values import pii_salt
    except ImportError:
        return
    pii_salt(settings)


def read_export_hash(path: Path) -> str:
    """SHA-256 of an export's bytes (the I/O that can fail transiently on a network share)."""
    return load.file_sha256(path)


def read_one(path: Path, sha: str, settings: Settings, run_id: str):
    """Parse one export (a broken file becomes a rejected outcome, not an exception)."""
    return load.read_one(path, sha, settings, run_id)


def rebuild_warehouse(settings: Settings, run_id: str) -> dict[str, int]:
    """Rebuild the warehouse (staging path in ``settings``) from the Parquet raw layer."""
    return load.build_warehouse(settings, run_id)


def write_validation(settings: Settings) -> list[Path]:
    """The validation report (pipeline.validate.report) from the warehouse's ops tables: the checks of
    every file, its quarantined rows and findings, and the files rejected by this run."""
    from pipeline.validate.report import summarise_quarantine, write_validation_report

    con = db.connect(settings.warehouse, read_only=True)
    try:
        results = con.execute("select * from ops.validation_result").df()
        quarantine = con.execute("select * from ops.quarantine").df()
        files = con.execute(
            """
            select f.file_path as source_file, f.status, f.reason, f.rows_read, f.rows_quarantined,
                   coalesce(n.findings, 0) as findings
            from ops.file as f
            left join (select file_sha, count(*) as findings from ops.finding group by file_sha) as n
                on n.file_sha = f.sha256
            order by f.file_path
            """
        ).df()
    finally:
        con.close()
    written = write_validation_report(results, summarise_quarantine(quarantine), Path(settings.reports_dir),
                                      files=files, expectations_dir=settings.expectations_dir)
    return [Path(written)]


def publish_scorecards(settings: Settings) -> list[Path]:
    """The HTML scorecards (pipeline.report.render)."""
    from pipeline.report.render import render_all

    return [Path(p) for p in render_all(settings)]


def publish_warnings(settings: Settings):
    """The warning list as HTML and CSV; returns (paths, the list) for the e-mails."""
    from pipeline.warnings import load_warnings, write_warning_reports

    warnings = load_warnings(settings)
    return write_warning_reports(settings, warnings), warnings


def send_emails(settings: Settings, warnings) -> str | None:
    """E-mail each unit its warnings, when an SMTP host is set; a one-line summary or None."""
    if not settings.smtp_host:
        return None
    from pipeline.notify import deliveries_line, send_warning_emails

    return deliveries_line(send_warning_emails(settings, warnings))


# --- Prefect tasks (thin wrappers) ---------------------------------------------------------------


def _retry_on_transient_io(task, task_run, state) -> bool:
    """Retry reading a file on I/O errors that can pass (network share, NFS), not on missing files."""
    exc = state.data
    permanent = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)
    return isinstance(exc, OSError) and not isinstance(exc, permanent)


@task(name="read-export", retries=3, retry_delay_seconds=[2, 10, 30], retry_condition_fn=_retry_on_transient_io,
      cache_policy=NO_CACHE)
def read_export_task(path: Path) -> str:
    return read_export_hash(path)


@task(name="parse-export", cache_policy=NO_CACHE)
def parse_export_task(path: Path, sha: str, settings: Settings, run_id: str):
    read = read_one(path, sha, settings, run_id)
    if isinstance(read, load.FileOutcome):
        _logger().warning("rejected %s: %s", path, read.reason)
    return read


@task(name="check-and-store", cache_policy=NO_CACHE)
def check_and_store_task(batch, settings: Settings, procedures, run_id: str) -> list[load.FileOutcome]:
    outcomes = load.check_and_store(batch, settings, procedures, run_id)
    log = _logger()
    for outcome in outcomes:
        if outcome.status == "rejected":
            log.warning("rejected %s: %s", outcome.path, outcome.reason)
        else:
            log.info("%s %s: %d rows loaded, %d quarantined", outcome.status, outcome.path, outcome.rows_loaded,
                     outcome.rows_quarantined)
    return outcomes


@task(name="build-warehouse", cache_policy=NO_CACHE)
def build_warehouse_task(settings: Settings, run_id: str) -> dict[str, int]:
    return rebuild_warehouse(settings, run_id)


@task(name="validation-report", cache_policy=NO_CACHE)
def validation_report_task(settings: Settings) -> list[Path]:
    return write_validation(settings)


@task(name="scorecards", cache_policy=NO_CACHE)
def scorecards_task(settings: Settings) -> list[Path]:
    return publish_scorecards(settings)


@task(name="warnings", cache_policy=NO_CACHE)
def warnings_task(settings: Settings):
    paths, warnings = publish_warnings(settings)
    counts = ", ".join(f"{n} {kind}" for kind, n in warnings.counts.items() if n) or "none"
    _logger().info("warnings: %d case(s) in %d unit(s) (%s)", warnings.total, len(warnings.units), counts)
    return paths, warnings


@task(name="e-mail-units", cache_policy=NO_CACHE)
def email_task(settings: Settings, warnings) -> str | None:
    return send_emails(settings, warnings)


# --- the run ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _step(summary: RunSummary, name: str) -> Iterator[None]:
    """Time a step; turn its exception into StepFailed naming the step."""
    log = _logger()
    log.info("step %s …", name)
    started = time.perf_counter()
    try:
        yield
    except StepFailed:
        raise
    except Exception as exc:
        raise StepFailed(f"{name}: {_first_line(exc)}") from exc
    finally:
        summary.timings[name] = round(time.perf_counter() - started, 2)


def _ingest(settings: Settings, summary: RunSummary) -> None:
    """Read every export not ingested before, in parallel; files already ingested are skipped."""
    log = _logger()
    if not Path(settings.raw_dir).exists():
        raise FileNotFoundError(f"raw folder {settings.raw_dir} does not exist")
    files = load.discover_exports([settings.raw_dir])
    summary.files_seen = len(files)
    done = load.ingested_hashes(settings)
    hashes = {path: read_export_task.submit(path) for path in files}
    procedures = None
    seen: set[str] = set()
    pending = {}
    outcomes: list[load.FileOutcome] = []
    for path, future in hashes.items():
        try:
            sha = future.result()
        except Exception as exc:  # unreadable even after the retries: this file only is rejected
            reason = f"{path}: cannot read ({_first_line(exc)})"
            outcomes.append(load.FileOutcome(path, "", "rejected", reason))
            log.warning("rejected %s", reason)
            continue
        if sha in done or sha in seen:
            outcomes.append(load.FileOutcome(path, sha, "already_ingested"))
            continue
        seen.add(sha)
        if procedures is None:
            from pipeline.reference import load_procedures

            _prepare_salt(settings)
            procedures = load_procedures(settings)
        pending[path] = parse_export_task.submit(path, sha, settings, summary.run_id)
    reads = []
    for future in pending.values():
        read = future.result()
        (outcomes.append(read) if isinstance(read, load.FileOutcome) else reads.append(read))
    # every parsed export is checked in batches: one Great Expectations validation per batch, not per file
    for batch in load.check_batches(reads):
        outcomes += check_and_store_task(batch, settings, procedures, summary.run_id)
    loaded = [o for o in outcomes if o.status == "loaded"]
    rejected = [o for o in outcomes if o.status == "rejected"]
    summary.files_loaded = len(loaded)
    summary.files_rejected = len(rejected)
    summary.rows_loaded = sum(o.rows_loaded for o in loaded)
    summary.rows_quarantined = sum(o.rows_quarantined for o in loaded)
    summary.rejected = [o.reason or str(o.path) for o in rejected]
    log.info(
        "%d file(s) seen: %d new loaded, %d already ingested, %d rejected; rows loaded %d, quarantined %d",
        len(files), len(loaded), len(outcomes) - len(loaded) - len(rejected), len(rejected), summary.rows_loaded,
        summary.rows_quarantined,
    )


def execute_nightly(settings: Settings, run_id: str | None = None) -> RunSummary:
    """The whole nightly run; never raises for a failed step (the summary says failed, with the reason)."""
    log = _logger()
    run_id = run_id or load.new_run_id()
    summary = RunSummary(run_id=run_id, started_at=_now(settings), as_of=settings.effective_as_of)
    log.info("nightly run %s: raw %s → warehouse %s, reports %s, as of %s", run_id, settings.raw_dir,
             settings.warehouse, settings.reports_dir, summary.as_of)
    with _run_lock(settings) as locked:
        if not locked:
            summary.status, summary.reason = "failed", "another nightly run is in progress"
            summary.finished_at = _now(settings)
            write_run_row(settings, summary)
            log.error(summary.one_line())
            return summary
        _clean_stale_staging(settings)
        for interrupted in _mark_interrupted_runs(settings, run_id):
            log.warning("run %s had been interrupted; recorded as failed", interrupted)
        write_run_row(settings, summary)
        staged_wh = staging_warehouse(settings, run_id)
        staged_reports = staging_reports(settings, run_id)
        staged = settings.model_copy(update={"warehouse": staged_wh, "reports_dir": staged_reports})
        warnings = None
        try:
            with _step(summary, "ingest"):
                _ingest(settings, summary)
            with _step(summary, "build warehouse"):
                counts = build_warehouse_task(staged, run_id)
                summary.cases = int(counts.get("core.case", 0))
            written: list[Path] = []
            with _step(summary, "validation report"):
                staged_reports.mkdir(parents=True)
                written += validation_report_task(staged)
            with _step(summary, "scorecards"):
                written += scorecards_task(staged)
            with _step(summary, "warnings"):
                paths, warnings = warnings_task(staged)
                written += paths
            with _step(summary, "publish"):
                summary.headline = _headline(staged_wh, settings)
                summary.links = _links(written, staged_reports, Path(settings.reports_dir))
                summary.status = "partial" if summary.files_rejected else "success"
                if summary.files_rejected:
                    summary.reason = f"{summary.files_rejected} file(s) rejected: {summary.rejected[0]}"
                summary.finished_at = _now(settings)
                _finalise_warehouse(staged_wh, summary)
                final_reports = published_reports(settings)
                old_reports = _swap_reports(staged_reports, final_reports, run_id, settings)
                try:
                    os.replace(staged_wh, settings.warehouse)
                except BaseException:
                    _restore_reports(old_reports, final_reports, staged_reports)
                    raise
                if old_reports is not None:
                    shutil.rmtree(old_reports, ignore_errors=True)
        except Exception as exc:  # a failed step (StepFailed names it) or a failure between steps
            summary.status = "failed"
            summary.reason = str(exc) if isinstance(exc, StepFailed) else f"run: {_first_line(exc)}"
            summary.finished_at = _now(settings)
            log.error("nightly run %s failed at %s; the previous warehouse and reports are left in place",
                      run_id, summary.reason)
        finally:
            _remove(staged_wh)
            Path(f"{staged_wh}.wal").unlink(missing_ok=True)
            _remove(staged_reports)
        write_run_row(settings, summary)
    if summary.status != "failed" and warnings is not None and settings.smtp_host:
        try:
            line = email_task(settings, warnings)
        except Exception as exc:  # e-mail never changes the run's result
            line = f"e-mails not sent: {_first_line(exc)}"
        if line:
            summary.notes.append(line)
            log.info(line)
    log.info(summary.one_line())
    return summary


def _links(written: list[Path], staged: Path, final: Path) -> list[str]:
    """Published report paths, the index first."""
    links = []
    for path in written:
        try:
            links.append(str(final / Path(path).relative_to(staged)))
        except ValueError:
            links.append(str(path))
    index = str(final / "index.html")
    links.sort(key=lambda p: (p != index, not p.endswith("index.html"), p))
    return links


# --- the artifact -------------------------------------------------------------------------------


def _pct(value: Any) -> str:
    from pipeline.report.formatting import fmt_pct

    return fmt_pct(value)


def _int(value: Any) -> str:
    from pipeline.report.formatting import fmt_int

    return fmt_int(value)


STATUS_VI = {"success": "thành công", "partial": "thành công một phần (có tệp bị từ chối)", "failed": "thất bại",
             "running": "đang chạy"}


def summary_markdown(summary: RunSummary) -> str:
    """The run summary as Markdown (the Prefect artifact)."""
    lines = [
        f"# Chạy đêm {summary.run_id}: {STATUS_VI.get(summary.status, summary.status)}",
        "",
        "| | |",
        "|---|---|",
        f"| Trạng thái | `{summary.status}` |",
    ]
    if summary.reason:
        lines.append(f"| Lý do | {summary.reason.replace('|', '/')} |")
    lines += [
        f"| Bắt đầu – kết thúc | {summary.started_at:%d/%m/%Y %H:%M:%S} – "
        f"{summary.finished_at:%d/%m/%Y %H:%M:%S} |" if summary.finished_at else "| Bắt đầu | – |",
        f"| Số liệu tính đến | hết ngày {summary.as_of:%d/%m/%Y} |" if summary.as_of else "| Số liệu tính đến | – |",
        f"| Tệp xuất | {summary.files_seen} tệp; {summary.files_loaded} nạp mới; {summary.files_rejected} bị từ chối |",
        f"| Dòng | {_int(summary.rows_loaded)} dòng nạp; {_int(summary.rows_quarantined)} dòng cách ly |",
        f"| Hồ sơ trong kho | {_int(summary.cases)} |",
    ]
    h = summary.headline
    if h:
        lines += [
            "",
            f"## Quý {h.get('period')} – toàn Sở (kỳ {h.get('period_scheme')})",
            "",
            "| Chỉ tiêu | Giá trị |",
            "|---|---|",
            f"| Hồ sơ tiếp nhận | {_int(h.get('received_total'))} |",
            f"| Đã giải quyết | {_int(h.get('resolved_total'))} (trước hạn {_int(h.get('early'))}, "
            f"đúng hạn {_int(h.get('on_time'))}, quá hạn {_int(h.get('late'))}) |",
            f"| Tỷ lệ đúng hạn (trước hạn + đúng hạn) | {_pct(h.get('on_time_rate'))} |",
            f"| Tỷ lệ trước hạn | {_pct(h.get('early_rate'))} |",
            f"| Tỷ lệ quá hạn | {_pct(h.get('late_rate'))} |",
            f"| Đang giải quyết / trong đó quá hạn | {_int(h.get('open_total'))} / {_int(h.get('open_overdue'))} |",
            f"| Tỷ lệ hài lòng | {_pct(h.get('satisfaction_rate'))} ({_int(h.get('ratings'))} đánh giá) |",
        ]
    if summary.rejected:
        lines += ["", "## Tệp bị từ chối", ""] + [f"- {reason}" for reason in summary.rejected[:50]]
    if summary.links:
        lines += ["", "## Báo cáo", ""] + [f"- `{link}`" for link in summary.links[:60]]
    if summary.notes:
        lines += ["", "## Ghi chú", ""] + [f"- {note}" for note in summary.notes]
    if summary.timings:
        lines += ["", "## Thời gian từng bước (giây)", "", "| bước | giây |", "|---|---|"]
        lines += [f"| {name} | {seconds:.1f} |" for name, seconds in summary.timings.items()]
    return "\n".join(lines) + "\n"


# --- the flow -----------------------------------------------------------------------------------


@flow(name=FLOW_NAME, task_runner=ThreadPoolTaskRunner(max_workers=INGEST_WORKERS),
      description="Nightly TTHC run: ingest new exports, rebuild the warehouse, validate, publish scorecards "
                  "and warnings.")
def nightly(settings: Settings | None = None, overrides: dict[str, Any] | None = None,
            run_id: str | None = None) -> RunSummary:
    """The nightly run. ``settings`` (in-process runs) or ``overrides`` (deployments; defaults and
    ``TTHC_*`` environment variables otherwise)."""
    settings = settings or load_settings(**(overrides or {}))
    summary = execute_nightly(settings, run_id)
    _SUMMARIES[summary.run_id] = summary
    try:
        create_markdown_artifact(markdown=summary_markdown(summary), key=ARTIFACT_KEY,
                                 description=f"Nightly run {summary.run_id}: {summary.status}")
    except Exception as exc:  # the artifact is a convenience; the run's outputs are already published
        _logger().warning("run summary artifact not created: %s", _first_line(exc))
    if summary.status == "failed":
        raise NightlyRunFailed(summary.one_line())
    return summary


def _check_prefect_home(settings: Settings) -> None:
    """Prefect's home is fixed when Prefect is imported; say so if the settings asked for another one."""
    if settings.prefect_home == Settings.model_fields["prefect_home"].default:
        return
    wanted = prefect_home_path(settings.prefect_home)
    current = Path(os.environ.get("PREFECT_HOME", wanted))
    if current.resolve() != wanted.resolve():
        _logger().warning("prefect_home=%s is not used: Prefect already runs with PREFECT_HOME=%s "
                          "(set TTHC_PREFECT_HOME or PREFECT_HOME in the environment instead)", wanted, current)


def run_nightly(settings: Settings) -> RunSummary:
    """Run the ``nightly`` flow (ephemeral Prefect unless ``PREFECT_API_URL`` is set); its summary."""
    _check_prefect_home(settings)
    run_id = load.new_run_id()
    try:
        nightly(settings=settings, run_id=run_id, return_state=True)
    except Exception as exc:  # Prefect itself could not run the flow (e.g. its API did not start)
        summary = _SUMMARIES.pop(run_id, None)
        if summary is not None:
            return summary
        summary = RunSummary(run_id=run_id, status="failed", reason=f"prefect: {_first_line(exc)}",
                             started_at=_now(settings), finished_at=_now(settings), as_of=settings.effective_as_of)
        with contextlib.suppress(Exception):
            write_run_row(settings, summary)
        return summary
    summary = _SUMMARIES.pop(run_id, None)
    if summary is None:
        summary = RunSummary(run_id=run_id, status="failed", reason="prefect: the flow ended without a summary",
                             started_at=_now(settings), finished_at=_now(settings), as_of=settings.effective_as_of)
        write_run_row(settings, summary)
    return summary


# --- the schedule -------------------------------------------------------------------------------


def deployment_overrides(settings: Settings) -> dict[str, Any]:
    """The settings a served deployment's runs use: every non-secret value, paths made absolute.

    Secrets (``pii_salt``, ``smtp_password``) are not stored in Prefect; runs read them from the
    environment of the serving process.
    """
    values = settings.model_dump(mode="json", exclude=set(SECRET_SETTINGS))
    for name, value in list(values.items()):
        if isinstance(getattr(settings, name), Path):
            values[name] = str(Path(value).expanduser().resolve())
    return values


def _api_url() -> str | None:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def check_prefect_server(timeout: float = 5.0) -> str:
    """The API URL of a reachable Prefect server, else a one-line error."""
    import httpx

    url = _api_url()
    if not url:
        raise RuntimeError(
            "no Prefect server: schedules need one (ephemeral mode cannot run them); run 'prefect server start' "
            "and set PREFECT_API_URL=http://127.0.0.1:4200/api, or use cron/systemd with 'tthc run' (see README)"
        )
    try:
        response = httpx.get(f"{url.rstrip('/')}/health", timeout=timeout)
        response.raise_for_status()
    except Exception as exc:
        raise RuntimeError(f"Prefect server at {url} is not reachable ({_first_line(exc)}); "
                           "start it with 'prefect server start'") from None
    return url


def build_schedule(settings: Settings):
    """The cron schedule of the deployment, in Asia/Ho_Chi_Minh."""
    from prefect.schedules import Cron

    return Cron(settings.schedule_cron, timezone=SCHEDULE_TIMEZONE)


def serve_nightly(settings: Settings) -> None:
    """``tthc serve``: serve the ``nightly`` deployment on ``settings.schedule_cron`` (Asia/Ho_Chi_Minh).

    Needs a running Prefect server (``PREFECT_API_URL``); blocks until interrupted. Runs of the
    deployment use this process's settings (see :func:`deployment_overrides`).
    """
    from prefect.types.entrypoint import EntrypointType

    url = check_prefect_server()
    schedule = build_schedule(settings)
    logging.getLogger("pipeline.flows").info("serving %s/%s on %s", FLOW_NAME, DEPLOYMENT_NAME, url)
    nightly.serve(
        name=DEPLOYMENT_NAME,
        schedules=[schedule],
        parameters={"overrides": deployment_overrides(settings)},
        description="Chạy đêm: nạp tệp xuất mới, dựng lại kho dữ liệu, kiểm tra, công bố bảng điểm và cảnh báo.",
        tags=["tthc"],
        limit=1,
        pause_on_shutdown=False,
        # runs import pipeline.flows from the installed package, whatever the working directory
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
