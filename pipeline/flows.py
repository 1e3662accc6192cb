"""The nightly run as a Prefect flow: a thin list of tasks, each calling a stage's plain function.

    discover + hash → ingest groups (mapped) → build warehouse → validation report → scorecards →
    warnings → publish (→ e-mails)

The stages own the work: :mod:`pipeline.ingest.stage` (discover → read → check → store),
:mod:`pipeline.warehouse.build`, :mod:`pipeline.report`, :mod:`pipeline.report.warnings`; the run record, the lock
and the staged publish are :mod:`pipeline.publish`. Ingest groups are mapped with the flow's task runner
(threads; ``DaskTaskRunner`` from prefect-dask works unchanged, each group being a pure function of its
files and the settings). Reading a file's bytes is retried on transient I/O errors (in the stage, per file:
one Prefect task per file would cost more than hashing it).
"""

# No `from __future__ import annotations` here: Prefect validates the flow's parameters from its
# annotations, and a flow loaded from its file path (a served or worker run) cannot resolve strings.
import logging
from pathlib import Path
from typing import Any

from pipeline.runtime import configure_prefect_environment

configure_prefect_environment()

# Prefect is imported only now, with its home and analytics settled.
from prefect import flow, get_run_logger, task, unmapped  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.exceptions import MissingContextError  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

from pipeline import publish, runtime  # noqa: E402
from pipeline.ingest import stage  # noqa: E402
from pipeline.notify import deliveries_line, send_warning_emails  # noqa: E402
from pipeline.report import render  # noqa: E402
from pipeline.report.warnings import load_warnings, write_warning_reports  # noqa: E402
from pipeline.settings import Settings, load_settings  # noqa: E402
from pipeline.validate.report import write_warehouse_validation_report  # noqa: E402
from pipeline.validate.suites import prepare_runner_in_background  # noqa: E402
from pipeline.warehouse.build import build_warehouse  # noqa: E402

FLOW_NAME = "nightly"
DEPLOYMENT_NAME = "tthc-nightly"
ARTIFACT_KEY = "tthc-nightly-summary"
_SUMMARIES: dict[str, publish.RunSummary] = {}  # in-process runs hand their summary to run_nightly here


class NightlyRunFailed(RuntimeError):
    """Raised at the end of a failed run so that Prefect marks the flow run Failed too."""


def _logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("pipeline.flows")


# --- tasks -----------------------------------------------------------------------------------------


@task(name="plan-ingest", cache_policy=NO_CACHE)
def plan_task(settings: Settings, run_id: str) -> stage.IngestPlan:
    return stage.prepare(settings, None, run_id, stage.ingest_workers())


@task(name="ingest-group", cache_policy=NO_CACHE)
def ingest_group_task(group: list, settings: Settings, run_id: str) -> stage.GroupResult:
    return stage.process_group(group, settings, run_id)


@task(name="build-warehouse", cache_policy=NO_CACHE)
def build_task(settings: Settings, run_id: str, target: Path) -> dict[str, int]:
    return build_warehouse(settings, run_id, target)


@task(name="validation-report", cache_policy=NO_CACHE)
def validation_report_task(settings: Settings) -> list[Path]:
    return [write_warehouse_validation_report(settings)]


@task(name="scorecards", cache_policy=NO_CACHE)
def scorecards_task(settings: Settings) -> list[Path]:
    return [Path(p) for p in render.render_all(settings)]


@task(name="warnings", cache_policy=NO_CACHE)
def warnings_task(settings: Settings):
    warnings = load_warnings(settings)
    return write_warning_reports(settings, warnings), warnings


@task(name="e-mail-units", cache_policy=NO_CACHE)
def email_task(settings: Settings, warnings) -> str | None:
    return deliveries_line(send_warning_emails(settings, warnings))


# --- the flow --------------------------------------------------------------------------------------


def ingest(settings: Settings, summary: publish.RunSummary) -> None:
    """Discover, hash and plan (one task), then read, check and store the groups (mapped) and collect them."""
    plan = plan_task(settings, summary.run_id)
    done = ingest_group_task.map(plan.groups, unmapped(settings), unmapped(summary.run_id)).result()
    result = stage.collect(summary.run_id, plan, done, _logger())
    publish.record_ingest(summary, result)
    _logger().info(result.one_line())


@flow(name=FLOW_NAME, task_runner=ThreadPoolTaskRunner(max_workers=stage.ingest_workers()),
      description="Nightly TTHC run: ingest new exports, rebuild the warehouse, validate, publish scorecards "
                  "and warnings.")
def nightly(settings: Settings | None = None, overrides: dict[str, Any] | None = None,
            run_id: str | None = None) -> publish.RunSummary:
    """The nightly run. ``settings`` (in-process runs) or ``overrides`` (deployments; defaults and
    ``TTHC_*`` environment variables otherwise)."""
    settings = settings or load_settings(**(overrides or {}))
    prepare_runner_in_background(settings.expectations_dir)  # the suites, ready by the time the checks run
    summary = publish.start_summary(settings, run_id)
    log = _logger()
    with publish.run_lock(settings) as locked:
        if not locked:
            publish.finish(settings, summary, "failed", "another nightly run is in progress")
        else:
            staged, warnings = publish.begin(settings, summary), None
            staged_settings = settings.model_copy(update={"warehouse": staged.warehouse,
                                                          "reports_dir": staged.reports})
            try:
                with publish.step(summary, "ingest"):
                    ingest(settings, summary)
                with publish.step(summary, "build warehouse"):
                    summary.cases = int(build_task(settings, summary.run_id, staged.warehouse).get("core.case", 0))
                with publish.step(summary, "reports"):
                    publish.prepare_reports(staged)
                    written = validation_report_task(staged_settings) + scorecards_task(staged_settings)
                    paths, warnings = warnings_task(staged_settings)
                    summary.links = publish.links(written + paths, staged.reports, staged.published_reports)
                with publish.step(summary, "publish"):
                    publish.complete(settings, staged, summary)
            except Exception as exc:  # a failed step: the previous warehouse and reports stay in place
                publish.fail(settings, summary, exc)
                log.error("nightly run %s failed at %s; the previous warehouse and reports are left in place",
                          summary.run_id, summary.reason)
            finally:
                publish.discard(staged)
            if summary.status != "failed" and warnings is not None and settings.smtp_host:
                publish.note(summary, lambda: email_task(settings, warnings))
    log.info(summary.one_line())
    log.info(summary.timings_line())
    _SUMMARIES[summary.run_id] = summary
    try:
        create_markdown_artifact(markdown=publish.summary_markdown(summary), key=ARTIFACT_KEY,
                                 description=f"Nightly run {summary.run_id}: {summary.status}")
    except Exception as exc:  # the artifact is a convenience; the run's outputs are already published
        log.warning("run summary artifact not created: %s", publish.first_line(exc))
    if summary.status == "failed":
        raise NightlyRunFailed(summary.one_line())
    return summary


def run_nightly(settings: Settings) -> publish.RunSummary:
    """Run the ``nightly`` flow with a Prefect API of this process (unless ``PREFECT_API_URL`` is set)."""
    run_id = publish.new_run_id()
    try:
        with runtime.local_api() as startup_seconds:
            nightly(settings=settings, run_id=run_id, return_state=True)
    except Exception as exc:  # Prefect itself could not run the flow (e.g. its API did not start)
        startup_seconds = None
        if run_id not in _SUMMARIES:
            summary = publish.start_summary(settings, run_id)
            publish.finish(settings, summary, "failed", f"prefect: {publish.first_line(exc)}")
            return summary
    summary = _SUMMARIES.pop(run_id, None)
    if summary is None:
        summary = publish.start_summary(settings, run_id)
        publish.finish(settings, summary, "failed", "prefect: the flow ended without a summary")
    if startup_seconds:
        summary.timings = {"prefect start-up": round(startup_seconds, 2), **summary.timings}
    return summary


# --- the schedule ----------------------------------------------------------------------------------


def serve_nightly(settings: Settings) -> None:
    """``tthc serve``: serve the ``nightly`` deployment on its schedule from a running Prefect server."""
    from prefect.types.entrypoint import EntrypointType

    url = runtime.check_prefect_server()
    logging.getLogger("pipeline.flows").info("serving %s/%s on %s", FLOW_NAME, DEPLOYMENT_NAME, url)
    nightly.serve(
        name=DEPLOYMENT_NAME, schedules=[runtime.build_schedule(settings.schedule_cron)],
        parameters={"overrides": runtime.deployment_overrides(settings)},
        description="Chạy đêm: nạp tệp xuất mới, dựng lại kho dữ liệu, kiểm tra, công bố bảng điểm và cảnh báo.",
        tags=["tthc"], limit=1, pause_on_shutdown=False,
        # runs import pipeline.flows from the installed package, whatever the working directory
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
