"""The ``tthc`` command line (also ``python -m pipeline``).

Every command exits 0 on success and non-zero with a one-line reason on failure.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import logging
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from pipeline.settings import Settings, load_settings

DESCRIPTION = """\
Thống kê tiến độ giải quyết thủ tục hành chính (TTHC).
Reads the one-stop desk's exports, loads them into a DuckDB warehouse, checks them,
computes early / on-time / late rates against the quality objectives, and publishes
Vietnamese scorecards.

Quick use:
  tthc demo                         make demo exports and run the whole nightly job on them
  tthc run                          the nightly job on the exports in data/raw/
  tthc kpi --period 2025-Q1         the figures of a quarter
  tthc warnings                     open cases at risk of running late, per unit
"""


class CommandError(Exception):
    """A failure to report to the user as one line."""


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-03-31") from exc


def _parse_assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or name.strip() not in Settings.model_fields:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE with a known setting name (see 'tthc settings')")
    return name.strip(), value


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("common options")
    group.add_argument("--warehouse", type=Path, help="DuckDB warehouse file (default data/warehouse/tthc.duckdb)")
    group.add_argument("--raw", dest="raw_dir", type=Path, help="folder of exports to read (default data/raw)")
    group.add_argument("--reports", dest="reports_dir", type=Path, help="folder for reports (default reports)")
    group.add_argument("--as-of", dest="as_of", type=_parse_date, help="judge as of this date (default today)")
    group.add_argument(
        "--set", dest="assignments", action="append", type=_parse_assignment, default=[], metavar="NAME=VALUE",
        help="override any setting, e.g. --set early_rule=working_hours (repeatable)",
    )
    return common


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from defaults, environment, --set assignments and the specific flags."""
    overrides: dict[str, object] = dict(args.assignments)
    for name in ("warehouse", "raw_dir", "reports_dir", "as_of"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return load_settings(**overrides)


# --- commands ----------------------------------------------------------------------------------


def cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    """Print every setting with its current value."""
    for name in Settings.model_fields:
        print(f"{name} = {getattr(settings, name)}")
    return 0


def cmd_demo_data(args: argparse.Namespace, settings: Settings) -> int:
    """Write realistic demo exports."""
    from pipeline.demo import generate_demo_exports

    truth = generate_demo_exports(
        Path(args.out), settings, seed=args.seed, start=args.start, end=args.end or settings.as_of, progress=True
    )
    print(f"Demo exports written to {args.out}: {truth.summary()}")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Make the demo exports into the raw folder and run the nightly flow on them."""
    from pipeline.demo import generate_demo_exports

    demo_dir = settings.raw_dir / "demo"
    if not (demo_dir / "_generator_truth.json").exists() or args.regenerate:
        truth = generate_demo_exports(demo_dir, settings, seed=args.seed, end=settings.as_of, progress=True)
        print(f"Demo exports written to {demo_dir}: {truth.summary()}")
    else:
        print(f"Demo exports already in {demo_dir} (use --regenerate to write them again)")
    return cmd_run(args, settings)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """The nightly flow."""
    from pipeline.flows import run_nightly

    summary = run_nightly(settings)
    if summary.timings:
        print(summary.timings_line())
    print(summary.one_line())
    return 0 if summary.status != "failed" else 1


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest exports and rebuild the warehouse (no reports)."""
    from pipeline.jobs import ingest_and_build

    result = ingest_and_build(settings, paths=[Path(p) for p in args.paths] or None)
    for outcome in result.rejected_files:
        print(f"rejected  {outcome.reason}")
    print(result.one_line())
    return 0 if not result.rejected_files else 3


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    """Validate exports (read and check, nothing stored) and write the validation report."""
    from pipeline.jobs import validate

    result, report = validate(settings, paths=[Path(p) for p in args.paths] or None)
    for outcome in result.outcomes:
        if outcome.status in ("checked", "rejected"):
            label = "rejected " if outcome.status == "rejected" else "ok       "
            detail = outcome.reason if outcome.status == "rejected" else (
                f"{outcome.path}: {outcome.rows_loaded} rows ok, {outcome.rows_quarantined} quarantined")
            print(f"{label} {detail}")
    print(f"{result.one_line()}; report: {report}")
    return 3 if result.rejected_files else 0


def cmd_inspect(args: argparse.Namespace, settings: Settings) -> int:
    """Show how each export is read; non-zero when one would be rejected."""
    from pipeline.ingest.inspect import inspect_exports

    return inspect_exports([Path(p) for p in args.files], settings, rows=args.rows, validate=not args.no_validate)


def cmd_kpi(args: argparse.Namespace, settings: Settings) -> int:
    """Print the measures of one period."""
    from pipeline.report.kpi import print_kpi

    return print_kpi(settings, period=args.period, scheme=args.scheme or settings.period_scheme, by=args.by,
                     output_format=args.format, kind=args.kind)


def cmd_warnings(args: argparse.Namespace, settings: Settings) -> int:
    """Print open cases at risk or overdue, per unit."""
    from pipeline.report.warnings import print_warnings

    return print_warnings(settings, within_hours=args.within_hours or settings.warning_within_hours)


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Render the scorecards from the current warehouse."""
    from pipeline.report.render import render_all

    written = render_all(settings, grains=args.grain, units=args.units)
    print(f"{len(written)} report pages written to {settings.reports_dir}")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the nightly deployment on its schedule."""
    from pipeline.flows import serve_nightly

    serve_nightly(settings)
    return 0


# --- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="tthc", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        return command

    demo = add("demo", cmd_demo, "make realistic demo exports in data/raw/demo and run the nightly job on them")
    demo.add_argument("--seed", type=int, default=2025, help="random seed of the demo data (default 2025)")
    demo.add_argument("--regenerate", action="store_true", help="write the demo exports again even if present")

    demo_data = add("demo-data", cmd_demo_data, "write realistic demo exports (Excel, JSON, CSV) to a folder")
    demo_data.add_argument("--out", required=True, help="folder to write the exports to")
    demo_data.add_argument("--seed", type=int, default=2025, help="random seed (same seed, same files)")
    demo_data.add_argument("--start", type=_parse_date, help="first day of receipts (default two years before --end)")
    demo_data.add_argument("--end", type=_parse_date, help="last day (default the as-of date, i.e. today)")

    add("run", cmd_run, "the nightly job: ingest new exports, validate, rebuild measures, publish reports")

    ingest = add("ingest", cmd_ingest, "load exports into the warehouse without publishing reports")
    ingest.add_argument("paths", nargs="*", help="files or folders to ingest (default: the raw folder)")

    validate = add("validate", cmd_validate,
                   "check the exports against the expectation suites (nothing is stored); non-zero if a file is rejected")
    validate.add_argument("paths", nargs="*", help="files or folders to check (default: the raw folder)")

    inspect = add("inspect", cmd_inspect,
                  "show how each export is read: kind, layout, every column's fate, first rows, what is quarantined")
    inspect.add_argument("files", nargs="+", help="export files to inspect")
    inspect.add_argument("--rows", type=int, default=5, help="how many parsed rows to show (default 5)")
    inspect.add_argument("--no-validate", action="store_true", help="skip the expectation checks of the rows")

    kpi = add("kpi", cmd_kpi, "print the measures of one period")
    kpi.add_argument("--period", required=True, help="2025-01, 2025-Q1, 2025-H1 or 2025")
    kpi.add_argument("--scheme", choices=["calendar", "official"], help="period scheme (default from settings)")
    kpi.add_argument("--by", choices=["unit", "sector", "procedure", "channel"], help="break down by a dimension")
    kpi.add_argument("--format", choices=["table", "json", "csv"], default="table", help="output format")
    kpi.add_argument("--kind", choices=["case", "directive", "feedback"], default="case",
                     help="cases (default), directive tasks of the province, or feedback and complaints (PAKN)")

    warnings = add("warnings", cmd_warnings, "list open cases at risk of running late or overdue, per unit")
    warnings.add_argument("--within-hours", type=float, help="warn about cases due within this many working hours")

    report = add("report", cmd_report, "render the HTML scorecards from the current warehouse")
    report.add_argument("--grain", action="append", choices=["month", "quarter", "half", "year"],
                        help="which periods get a scorecard (default quarters; repeatable)")
    report.add_argument("--units", action="store_true", help="also a scorecard per unit")

    add("serve", cmd_serve, "serve the nightly Prefect deployment on its schedule (needs a Prefect server)")
    add("settings", cmd_settings, "print every setting and its current value")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
        return args.handler(args, settings)
    except KeyboardInterrupt:
        print("tthc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of the output stopped early (| head): not a failure
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("pipeline"):
            print(f"tthc {args.command}: not built yet ({exc.name} is missing)", file=sys.stderr)
            return 2
        print(f"tthc {args.command}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # one line for the user; the traceback is not for leadership's terminal
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"tthc {args.command}: {message}", file=sys.stderr)
        return 1


def entry() -> None:
    """The ``tthc`` console script and ``python -m pipeline``: run the command, run the exit handlers (reader
    processes stopped, Prefect's queues flushed), then end the process without tearing the interpreter down:
    every file and connection is closed by then, and unloading Prefect, Great Expectations and pandas took
    about two seconds of every nightly run."""
    code = main()
    logging.shutdown()
    atexit._run_exitfuncs()  # the exit handlers os._exit would skip
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    os._exit(code)
