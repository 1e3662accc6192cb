"""Realistic demo exports of a Department of Transport's one-stop desk: a snapshot of bulk exports (Excel per
unit and month, national-sync JSON for one unit, monthly ratings CSV), daily deltas after it, and the
generator's truth (dirty rows, applicant identities used, expected figures) for tests."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
import time as clock_time
import warnings
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pipeline.demo.catalogue import JSON_UNIT, load_catalogue, slugify, unit_infos
from pipeline.demo.directives import directive_truth, simulate_directives, write_directive_exports
from pipeline.demo.feedback import feedback_truth, simulate_feedback, write_feedback_exports
from pipeline.demo.simulate import (
    NAT,
    World,
    changed_between,
    ratings_between,
    simulate_world,
    snapshot,
    two_years_before,
)
from pipeline.demo.writers import (
    DirtyRow,
    ExcelStyle,
    Written,
    inject_dirt,
    prepare_excel_rows,
    write_delta_csv,
    write_excel_report,
    write_ratings_csv,
    write_sync_json,
)
from pipeline.settings import Settings
from pipeline.workcal import WorkCalendar

TRUTH_FILE = "_generator_truth.json"
CASES_TRUTH_FILE = "_generator_cases.csv"
NEXT_DAY_TRUTH_FILE = "_generator_truth_next_day.json"
DIRECTIVES_TRUTH_FILE = "_generator_directives.csv"
FEEDBACK_TRUTH_FILE = "_generator_feedback.csv"
OWNED_FOLDERS = ("excel", "json", "ratings", "delta", "directives", "feedback")
RECORDS_SNAPSHOT_TIME = time(17, 30)  # the directive and PAKN systems' lists are exported at end 17:30
SNAPSHOT_HOUR = time(18, 0)
DAY_END = time(23, 59, 59)
SATISFIED = {"Rất hài lòng", "Hài lòng"}

NOTES = [
    "Bulk files (excel/, json/, ratings/) are one snapshot exported at export_time; their file mtime is set to it.",
    "delta/<day>/ holds every case whose state changed in (previous cut-off, <day> 23:59:59], with its state at "
    "that moment: cases.csv for the Excel units, <json-unit-slug>.json (national sync format) for the JSON unit; "
    "ratings.csv holds the ratings of the same window. The first delta window starts at export_time. A file "
    "that would have no rows is not written (a Sunday usually has no case changes).",
    "Cases of the JSON unit appear only in json/ and delta/*/<json-unit-slug>.json, never in Excel or cases.csv.",
    "Only the JSON unit has cases with two supplement cycles, so Excel and CSV rows carry at most one cycle.",
    "The national sync format has no apology fields: the JSON unit's late cases have no apology in the exports.",
    "NgayHenTraMoi in DanhSachHoSoBoSung is the appointment recomputed after a supplement, not an apology.",
    "One unit's Excel files (layout B, Trung tâm Đăng kiểm xe cơ giới) are written in Unicode NFD.",
    "class_at_end in _generator_cases.csv judges as of end 24:00 (DESIGN §4): a resolved case by its end minus its "
    "supplement pauses (two requests make it late); an open case by end 24:00 minus its completed pauses, or, "
    "while waiting for the applicant, by the pending request time minus earlier pauses (two requests: overdue).",
    "Dirty rows are listed in dirty_rows; a duplicate_row entry names the verbatim copy (row) and its original.",
    "directives/: quarterly task reports (with an extension history sheet) exported 5 days after each quarter, the "
    "flat task list and the extension history at end 17:30. _generator_directives.csv has each task's class in the "
    "month of end, judged at end 24:00 on the original and the extended deadline (empty when not in that month).",
    "feedback/: quarterly PAKN lists exported 5 days after each quarter and the national portal's list at end "
    "17:30; sender identities and complaint texts are in sender_* and complaint_texts (never in the warehouse). "
    "_generator_feedback.csv has each PAKN's class in the month of end; feedback_end_month that month's figures.",
]


@dataclass
class DemoTruth:
    """What the generator wrote and what a correct pipeline should find in it."""

    out_dir: str
    seed: int
    start: date
    end: date
    export_time: datetime
    delta_days: int
    delta_dates: list[date]
    json_unit: str
    dirty_rows: list[DirtyRow] = field(default_factory=list)
    applicant_names: list[str] = field(default_factory=list)
    applicant_phones: list[str] = field(default_factory=list)
    applicant_ids: list[str] = field(default_factory=list)
    sender_names: list[str] = field(default_factory=list)
    sender_phones: list[str] = field(default_factory=list)
    sender_emails: list[str] = field(default_factory=list)
    sender_addresses: list[str] = field(default_factory=list)
    complaint_texts: list[str] = field(default_factory=list)
    feedback_end_month: dict[str, float | None] = field(default_factory=dict)
    counts: dict[str, float] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    elapsed_seconds: float = 0.0

    def summary(self) -> str:
        """One line for the terminal."""
        c = self.counts
        return (f"{int(c.get('cases_total', 0)):,} cases {self.start:%d/%m/%Y}–{self.end:%d/%m/%Y} in "
                f"{len(self.files)} files, online {c.get('online_share', 0):.0%}, late {c.get('late_share', 0):.1%}, "
                f"{len(self.dirty_rows)} dirty rows, {self.elapsed_seconds:.1f} s")

    def to_dict(self) -> dict:
        """The truth as JSON-ready values."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        data["export_time"] = self.export_time.isoformat(sep=" ")
        data["delta_dates"] = [d.isoformat() for d in self.delta_dates]
        data["dirty_rows"] = [asdict(row) for row in self.dirty_rows]
        return data

    def to_json(self) -> str:
        """The truth as JSON text, one top-level key per line."""
        items = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, default=str)}" for k, v in self.to_dict().items()]
        return "{\n" + ",\n".join(items) + "\n}\n"


# --- rows of one snapshot ----------------------------------------------------------------------------

def _objects(values: np.ndarray) -> list:
    """datetime64 values as Python datetimes (None for NaT)."""
    return values.astype("datetime64[s]").astype(object).tolist()


def build_rows(world: World, snap) -> list[dict]:
    """One dict per visible case with the fields an export shows at the snapshot's moment."""
    rows = snap.rows
    f = {name: _objects(values) for name, values in snap.fields.items()}
    received, due = _objects(world.array("received_at")[rows]), _objects(world.array("due_at")[rows])
    text = {name: world.array(name)[rows].tolist() for name in (
        "case_id", "procedure_code", "procedure_name", "sector_code", "sector", "unit", "applicant", "phone",
        "id_number", "address")}
    channel = world.array("channel")[rows].tolist()
    status = snap.status.tolist()
    out = []
    for i in range(len(rows)):
        supplements = []
        if f["sup1_requested_at"][i] is not None:
            supplements.append((f["sup1_requested_at"][i], f["sup1_received_at"][i], f["sup1_new_due_at"][i]))
        if f["sup2_requested_at"][i] is not None:
            supplements.append((f["sup2_requested_at"][i], f["sup2_received_at"][i], f["sup2_new_due_at"][i]))
        row = {name: values[i] for name, values in text.items()}
        row.update(
            channel=channel[i], status=status[i], received_at=received[i], due_at=due[i],
            finished_at=f["finished_at"][i], returned_at=f["returned_at"][i],
            sup_requested_at=f["sup1_requested_at"][i], sup_received_at=f["sup1_received_at"][i],
            apology_at=f["apology_at"][i], new_due_at=f["new_due_at"][i], supplements=supplements,
        )
        out.append(row)
    return out


def _ratings(world: World, positions: np.ndarray) -> list[tuple[str, datetime, str]]:
    return list(zip(world.array("case_id")[positions].tolist(), _objects(world.array("rated_at")[positions]),
                    world.array("rating")[positions].tolist(), strict=True))


_CALENDARS: dict[tuple, WorkCalendar] = {}


def _calendar(settings: Settings, start: date, end: date) -> WorkCalendar:
    """The settings' working calendar covering the demo window (built once per process and settings)."""
    overrides = Path(settings.calendar_overrides_file)
    key = (settings.work_sessions, settings.work_weekdays, settings.holidays_country, str(overrides),
           overrides.stat().st_mtime_ns if overrides.exists() else None, min(2015, start.year - 1),
           max(2035, end.year + 2))
    if key not in _CALENDARS:
        cal = WorkCalendar.from_settings(settings, first_year=key[-2], last_year=key[-1])
        cal.days  # noqa: B018 (build the day table once)
        _CALENDARS[key] = cal
    return _CALENDARS[key]


def _set_mtime(path: Path, moment: datetime) -> None:
    stamp = moment.timestamp()
    os.utime(path, (stamp, stamp))


# --- the public API --------------------------------------------------------------------------------

def generate_demo_exports(out_dir: Path, settings: Settings, seed: int = 2025, start: date | None = None,
                          end: date | None = None, delta_days: int = 3, progress: bool = False,
                          workers: int | None = None) -> DemoTruth:
    """Write the demo exports into ``out_dir`` and return (and save as ``_generator_truth.json``) their truth.

    Cases are received from ``start`` (default two years before ``end``) to ``end`` (default the settings'
    as-of date); bulk files are a snapshot at ``end - delta_days`` 18:00, followed by ``delta_days`` daily deltas.
    The Excel files are written by ``workers`` processes (default: one per CPU, up to 4, for large runs); the
    output does not depend on it.
    """
    started = clock_time.perf_counter()
    out_dir = Path(out_dir)
    end = end or settings.effective_as_of
    start = start or two_years_before(end)
    if start > end:
        raise ValueError(f"demo window starts after it ends ({start} > {end})")
    if delta_days < 0:
        raise ValueError("delta_days must be 0 or more")
    cal = _calendar(settings, start, end)
    catalogue = load_catalogue(settings)
    world = simulate_world(cal, catalogue, seed, start, end)
    infos = unit_infos(sorted(catalogue["unit"].unique()))
    export_time = datetime.combine(end - timedelta(days=delta_days), SNAPSHOT_HOUR)
    delta_dates = [end - timedelta(days=delta_days - 1 - i) for i in range(delta_days)]

    if (out_dir / TRUTH_FILE).exists():  # a previous demo: replace its exports, touch nothing else
        for name in OWNED_FOLDERS:
            shutil.rmtree(out_dir / name, ignore_errors=True)
        (out_dir / NEXT_DAY_TRUTH_FILE).unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 5150]))
    json_slug = slugify(JSON_UNIT)

    # --- plan the bulk snapshot's files ---
    snap = snapshot(world, export_time)
    bulk_rows = build_rows(world, snap)
    by_file: dict[tuple[str, str], list[dict]] = defaultdict(list)
    json_rows = []
    for row in bulk_rows:
        if row["unit"] == JSON_UNIT:
            json_rows.append(row)
        else:
            by_file[(row["unit"], f"{row['received_at']:%Y-%m}")].append(row)
    rated = ratings_between(world, None, np.datetime64(export_time, "s"))
    ratings_by_month: dict[str, list] = defaultdict(list)
    for item in _ratings(world, rated):
        ratings_by_month[f"{item[1]:%Y-%m}"].append(item)

    # every random choice is made here, in a fixed order; the Excel files are then written in parallel
    excel_tasks = []
    for unit, month in sorted(by_file):
        info = infos[unit]
        relative = f"excel/{info.slug}/{month}.xlsx"
        first_day = date.fromisoformat(f"{month}-01")
        last_day = min((pd.Timestamp(first_day) + pd.offsets.MonthEnd(0)).date(), export_time.date())
        style = ExcelStyle(seconds=bool(rng.random() < 0.3), returned_date_only=bool(rng.random() < 0.25),
                           mixed=bool(rng.random() < 0.3))
        rows = by_file[(unit, month)]
        sectors = sorted({(r["sector_code"], r["sector"]) for r in rows})
        grouped = [[r for r in rows if r["sector_code"] == code] for code, _ in sectors]
        prepare_excel_rows([r for group in grouped for r in group], rng, style)
        groups = [(name, inject_dirt(group, rng, "excel")) for (_, name), group in zip(sectors, grouped, strict=True)]
        excel_tasks.append((out_dir / relative, relative, info, groups, first_day, last_day, export_time, style,
                            settings.province_name, settings.department_name))
    json_relative = f"json/{json_slug}.json"
    json_rows = inject_dirt(json_rows, rng, "json")

    total = len(excel_tasks) + 1 + len(ratings_by_month) + len(delta_dates)
    bar = tqdm(total=total, desc="demo exports", unit="file", disable=not progress)
    written: list[Written] = _write_excel_files(excel_tasks, bar, workers)
    if json_rows:
        written.append(write_sync_json(out_dir / json_relative, json_relative, json_rows))
    bar.update()
    bulk_paths: list[Path] = [w.path for w in written]
    for month in sorted(ratings_by_month):
        path = out_dir / f"ratings/danh_gia_{month}.csv"
        bulk_paths.append(write_ratings_csv(path, ratings_by_month[month], bom=True, delimiter=";").path)
        bar.update()
    for day in delta_dates:
        written += _write_delta_day(out_dir, world, day, _previous_cutoff(day, delta_dates, export_time), rng,
                                    json_slug, dirty=True)
        bar.update()
    bar.close()
    for path in bulk_paths:
        _set_mtime(path, export_time)

    truth = _truth(world, cal, out_dir, seed, start, end, export_time, delta_days, delta_dates, written)
    _records_exports(truth, world, cal, catalogue, settings, out_dir)
    truth.elapsed_seconds = round(clock_time.perf_counter() - started, 2)
    (out_dir / TRUTH_FILE).write_text(truth.to_json(), encoding="utf-8")
    return truth


def _records_exports(truth: DemoTruth, world: World, cal: WorkCalendar, catalogue: pd.DataFrame, settings: Settings,
                     out_dir: Path) -> None:
    """Write the directive and PAKN exports of the demo and add their truth (counts, per-record CSVs, senders)."""
    snapshot = datetime.combine(truth.end, RECORDS_SNAPSHOT_TIME)
    units = sorted(catalogue["unit"].unique())
    rng = np.random.default_rng(np.random.SeedSequence([truth.seed, 7003]))
    tasks = simulate_directives(cal, units, truth.seed, truth.start, truth.end, snapshot)
    files = write_directive_exports(out_dir, tasks, truth.start, snapshot, settings.province_name,
                                    settings.department_name, rng)
    items = simulate_feedback(cal, world.cases, units, truth.seed, truth.start, truth.end, snapshot)
    files.update(write_feedback_exports(out_dir, items, truth.start, snapshot, settings.province_name,
                                        settings.department_name))
    for relative in files:
        _set_mtime(out_dir / relative, snapshot)
    directive_counts, task_rows = directive_truth(tasks, truth.end, snapshot)
    feedback_counts, pakn_rows, extra = feedback_truth(items, cal, truth.end, settings)
    pd.DataFrame(task_rows).to_csv(out_dir / DIRECTIVES_TRUTH_FILE, index=False, encoding="utf-8", lineterminator="\n")
    pd.DataFrame(pakn_rows).to_csv(out_dir / FEEDBACK_TRUTH_FILE, index=False, encoding="utf-8", lineterminator="\n")
    truth.counts.update(directive_counts)
    truth.counts.update(feedback_counts)
    truth.files = dict(sorted({**truth.files, **files}.items()))
    truth.feedback_end_month = extra.pop("end_month")
    for name, values in extra.items():
        setattr(truth, name, values)


def write_next_day_delta(out_dir: Path, settings: Settings, seed: int, end: date) -> Path:
    """Write the delta export of day ``end + 1`` (the next nightly run's input) without dirt; return its folder.

    Uses the window (start, delta_days) recorded in ``out_dir/_generator_truth.json`` when present, so the next
    day continues the same simulated world.
    """
    out_dir = Path(out_dir)
    start, delta_days = two_years_before(end), 3
    truth_path = out_dir / TRUTH_FILE
    if truth_path.exists():
        recorded = json.loads(truth_path.read_text(encoding="utf-8"))
        if recorded.get("end") == end.isoformat():
            start, delta_days = date.fromisoformat(recorded["start"]), int(recorded["delta_days"])
    cal = _calendar(settings, start, end)
    world = simulate_world(cal, load_catalogue(settings), seed, start, end)
    day = end + timedelta(days=1)
    after = datetime.combine(end, DAY_END) if delta_days > 0 else datetime.combine(end, SNAPSHOT_HOUR)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 5151]))
    results = _write_delta_day(out_dir, world, day, after, rng, slugify(JSON_UNIT), dirty=False)
    cut = np.datetime64(datetime.combine(day, DAY_END), "s")
    changed = changed_between(world, np.datetime64(after, "s"), cut)
    cases = world.cases.iloc[changed]
    new = cases["received_at"].to_numpy() > np.datetime64(after, "s")
    summary = {
        "day": day.isoformat(), "window_after": after.isoformat(sep=" "),
        "files": {str(r.path.relative_to(out_dir)): r.data_rows for r in results},
        "changed_cases": int(len(changed)), "new_cases": int(new.sum()),
        "changed_case_ids": cases["case_id"].tolist(),
        "ratings": int(len(ratings_between(world, np.datetime64(after, "s"), cut))),
        "applicant_names": sorted(set(cases["applicant"])), "applicant_phones": sorted(set(cases["phone"])),
    }
    (out_dir / NEXT_DAY_TRUTH_FILE).write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n",
                                               encoding="utf-8")
    return out_dir / "delta" / day.isoformat()


def _write_excel_files(tasks: list[tuple], bar: tqdm, workers: int | None) -> list[Written]:
    """Write the Excel reports; large runs are split over worker processes (fresh interpreters running
    ``pipeline.demo._excel_worker``). Results come back in task order; a failed worker's share is redone here."""
    sizes = [sum(len(group) for _, group in task[3]) for task in tasks]
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if sum(sizes) > 20_000 else 1
    results: list[Written | None] = [None] * len(tasks)
    if workers > 1 and len(tasks) > 1:
        shares: list[list[int]] = [[] for _ in range(workers)]
        loads = [0] * workers
        for i in sorted(range(len(tasks)), key=lambda i: -sizes[i]):  # biggest first, to the least loaded
            k = loads.index(min(loads))
            shares[k].append(i)
            loads[k] += sizes[i]
        with tempfile.TemporaryDirectory(prefix="tthc-demo-") as scratch:
            env = dict(os.environ)
            root = str(Path(__file__).resolve().parents[2])
            env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
            running = []
            for k, share in enumerate(s for s in shares if s):
                tasks_path, results_path = Path(scratch) / f"tasks{k}.pkl", Path(scratch) / f"results{k}.pkl"
                with open(tasks_path, "wb") as handle:
                    pickle.dump([tasks[i] for i in share], handle, protocol=pickle.HIGHEST_PROTOCOL)
                errors = open(Path(scratch) / f"errors{k}.txt", "wb")  # noqa: SIM115 (closed below)
                process = subprocess.Popen(
                    [sys.executable, "-m", "pipeline.demo._excel_worker", str(tasks_path), str(results_path)],
                    stdout=subprocess.PIPE, stderr=errors, text=True, env=env)
                reader = threading.Thread(target=_follow, args=(process, bar), daemon=True)
                reader.start()
                running.append((share, process, reader, results_path, errors))
            for share, process, reader, results_path, errors in running:
                process.wait()
                reader.join()
                errors.close()
                if process.returncode == 0 and results_path.exists():
                    with open(results_path, "rb") as handle:
                        for i, result in zip(share, pickle.load(handle), strict=True):
                            results[i] = result
                else:
                    last = Path(errors.name).read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
                    warnings.warn(f"demo Excel worker failed ({last[0]}); writing its files here", stacklevel=2)
    for i, task in enumerate(tasks):
        if results[i] is None:
            results[i] = write_excel_report(*task)
            bar.update()
    return results


def _follow(process: subprocess.Popen, bar: tqdm) -> None:
    for _ in process.stdout:
        bar.update()


# --- deltas ------------------------------------------------------------------------------------------

def _previous_cutoff(day: date, delta_dates: list[date], export_time: datetime) -> datetime:
    position = delta_dates.index(day)
    return export_time if position == 0 else datetime.combine(delta_dates[position - 1], DAY_END)


def _write_delta_day(out_dir: Path, world: World, day: date, after: datetime, rng: np.random.Generator,
                     json_slug: str, dirty: bool) -> list[Written]:
    """delta/<day>/cases.csv, <json-slug>.json and ratings.csv: changes in (after, day 23:59:59]."""
    cutoff = datetime.combine(day, DAY_END)
    t_after, t_cut = np.datetime64(after, "s"), np.datetime64(cutoff, "s")
    rows = build_rows(world, snapshot(world, cutoff, rows=changed_between(world, t_after, t_cut)))
    folder = out_dir / "delta" / day.isoformat()
    excel_rows = [r for r in rows if r["unit"] != JSON_UNIT]
    json_rows = [r for r in rows if r["unit"] == JSON_UNIT]
    if dirty:
        excel_rows, json_rows = inject_dirt(excel_rows, rng, "csv"), inject_dirt(json_rows, rng, "json")
    base = f"delta/{day.isoformat()}"
    results = []  # a day without changes (a Sunday) exports nothing
    if excel_rows:
        results.append(write_delta_csv(folder / "cases.csv", f"{base}/cases.csv", excel_rows))
    if json_rows:
        results.append(write_sync_json(folder / f"{json_slug}.json", f"{base}/{json_slug}.json", json_rows))
    ratings = _ratings(world, ratings_between(world, t_after, t_cut))
    if ratings:
        results.append(write_ratings_csv(folder / "ratings.csv", ratings, bom=False, delimiter=","))
    for result in results:
        _set_mtime(result.path, cutoff)
    return results


# --- truth -------------------------------------------------------------------------------------------

def _truth(world: World, cal: WorkCalendar, out_dir: Path, seed: int, start: date, end: date,
           export_time: datetime, delta_days: int, delta_dates: list[date], written: list[Written]) -> DemoTruth:
    """Expected figures as of ``end`` 24:00, the dirty rows, the identities used; also _generator_cases.csv."""
    cut = np.datetime64(datetime.combine(end, DAY_END), "s")
    period_end = np.datetime64(datetime.combine(end + timedelta(days=1), time()), "s")
    snap = snapshot(world, cut)
    cases = world.cases.iloc[snap.rows].reset_index(drop=True)
    status = snap.status
    resolved = np.isin(status, [7, 8, 9, 10])
    due = cases["due_at"].to_numpy()
    # an open case is judged at the period end minus its completed pauses, or, while waiting for the
    # applicant, at the pending request time minus the pauses before it (DESIGN §4.2, §4.9)
    f = snap.fields
    zero = np.timedelta64(0, "s")
    pause1 = np.where(np.isnat(f["sup1_received_at"]), zero, f["sup1_received_at"] - f["sup1_requested_at"])
    pause2 = np.where(np.isnat(f["sup2_received_at"]), zero, f["sup2_received_at"] - f["sup2_requested_at"])
    pending1 = ~np.isnat(f["sup1_requested_at"]) & np.isnat(f["sup1_received_at"])
    pending2 = ~np.isnat(f["sup2_requested_at"]) & np.isnat(f["sup2_received_at"])
    requests = (~np.isnat(f["sup1_requested_at"])).astype(int) + (~np.isnat(f["sup2_requested_at"])).astype(int)
    compared_open = np.where(pending1, f["sup1_requested_at"],
                             np.where(pending2, f["sup2_requested_at"] - pause1, period_end - pause1 - pause2))
    open_in_time = ~resolved & (compared_open <= due) & (requests <= 1)
    outcome = cases["outcome"].to_numpy()
    class_at_end = np.where(resolved, outcome, np.where(open_in_time, "open_in_time", "open_overdue"))
    received = cases["received_at"].to_numpy()
    channel = cases["channel"].to_numpy()
    first_q = received < np.datetime64(start + timedelta(days=91), "s")
    last_q = received >= np.datetime64(end - timedelta(days=90), "s")

    late_time = resolved & (cases["adjusted_end_at"].to_numpy() > due) & ~cases["in_json_unit"].to_numpy()
    apology = snap.fields["apology_at"]
    with_apology = late_time & ~np.isnat(apology)
    lead = cal.working_index(due) - cal.working_index(np.where(np.isnat(apology), due, apology))
    timely_apology = with_apology & (lead >= cal.minutes_per_day)
    rated_at = cases["rated_at"].to_numpy()
    rated = rated_at <= cut
    ratings = cases["rating"].to_numpy()[rated]
    data_rows = sum(w.data_rows for w in written if not w.path.name.startswith("ratings"))
    dirty = [d for w in written for d in w.dirty]
    n = len(cases)

    def share(part, whole) -> float:
        return round(float(part) / float(whole), 4) if whole else 0.0

    counts = {
        "cases_total": n,
        "cases_in_bulk_snapshot": int((received <= np.datetime64(export_time, "s")).sum()),
        "cases_json_unit": int(cases["in_json_unit"].sum()),
        "channel_in_person": int((channel == 1).sum()), "channel_online": int((channel == 2).sum()),
        "channel_postal": int((channel == 3).sum()), "online_share": share((channel == 2).sum(), n),
        "online_share_first_quarter": share((channel[first_q] == 2).sum(), first_q.sum()),
        "online_share_last_quarter": share((channel[last_q] == 2).sum(), last_q.sum()),
        "resolved": int(resolved.sum()),
        "early": int((class_at_end == "early").sum()), "on_time": int((class_at_end == "on_time").sum()),
        "late": int((class_at_end == "late").sum()),
        "late_share": share((class_at_end == "late").sum(), resolved.sum()),
        "early_share": share((class_at_end == "early").sum(), resolved.sum()),
        "late_by_minutes": int((resolved & (class_at_end == "late") & (cases["adjusted_end_at"].to_numpy() > due)
                                & (cases["adjusted_end_at"].to_numpy() <= due + np.timedelta64(30, "m"))).sum()),
        "withdrawn": int((status == 7).sum()), "stopped": int((status == 8).sum()),
        "status_9": int((status == 9).sum()), "status_10": int((status == 10).sum()),
        "open_total": int((~resolved).sum()), "open_in_time": int((class_at_end == "open_in_time").sum()),
        "open_overdue": int((class_at_end == "open_overdue").sum()),
        "open_pending_supplement": int((status == 5).sum()),
        "supplement_cases": int((cases["supplements"].to_numpy() >= 1).sum()),
        "two_supplement_cases": int((cases["supplements"].to_numpy() >= 2).sum()),
        "supplement_share": share((cases["supplements"].to_numpy() >= 1).sum(), n),
        "late_excel_units": int(late_time.sum()), "late_with_apology": int(with_apology.sum()),
        "apology_share": share(with_apology.sum(), late_time.sum()),
        "apology_timely": int(timely_apology.sum()),
        "ratings": int(rated.sum()), "satisfied": int(np.isin(ratings, list(SATISFIED)).sum()),
        "satisfaction_rate": share(np.isin(ratings, list(SATISFIED)).sum(), rated.sum()),
        "rating_coverage": share(rated.sum(), resolved.sum()),
        "case_data_rows": data_rows, "dirty_rows": len(dirty), "dirty_share": share(len(dirty), data_rows),
    }
    for kind in ("missing_received", "end_before_receipt", "unknown_status", "bad_date", "duplicate_row"):
        counts[f"dirty_{kind}"] = sum(1 for d in dirty if d.kind == kind)

    def iso(values: np.ndarray) -> np.ndarray:
        text = np.char.replace(np.datetime_as_string(values.astype("datetime64[s]"), unit="s"), "T", " ")
        return np.where(np.isnat(values), "", text)

    # cases received after the snapshot (always in working time) first appear in their day's delta
    first_export = np.where(received <= np.datetime64(export_time, "s"), "bulk",
                            np.datetime_as_string(received.astype("datetime64[D]")))
    per_case = pd.DataFrame({
        "case_id": cases["case_id"], "source": np.where(cases["in_json_unit"], "json", "excel"),
        "first_export": first_export, "unit": cases["unit"], "sector_code": cases["sector_code"],
        "procedure_code": cases["procedure_code"], "channel": channel,
        "received_at": iso(received), "due_at": iso(due), "finished_at": iso(snap.fields["finished_at"]),
        "returned_at": iso(snap.fields["returned_at"]), "status_at_end": status, "class_at_end": class_at_end,
        "supplements_at_end": (~np.isnat(snap.fields["sup1_requested_at"])).astype(int)
        + (~np.isnat(snap.fields["sup2_requested_at"])).astype(int),
        "paused_minutes": np.where(resolved, cases["paused_seconds"].to_numpy() // 60, 0),
        "adjusted_end_at": iso(np.where(resolved, cases["adjusted_end_at"].to_numpy(), NAT)),
        "apology_at": iso(apology), "new_due_at": iso(snap.fields["new_due_at"]),
        "rated_at": iso(np.where(rated, rated_at, NAT)),
        "rating": np.where(rated, cases["rating"].to_numpy(), None),
    })
    per_case.to_csv(out_dir / CASES_TRUTH_FILE, index=False, encoding="utf-8", lineterminator="\n")

    files = {str(w.path.relative_to(out_dir)): w.data_rows for w in written}
    for path in sorted(out_dir.glob("ratings/*.csv")):
        files[str(path.relative_to(out_dir))] = sum(1 for _ in path.open(encoding="utf-8-sig")) - 1
    return DemoTruth(
        out_dir=str(out_dir), seed=seed, start=start, end=end, export_time=export_time, delta_days=delta_days,
        delta_dates=delta_dates, json_unit=JSON_UNIT, dirty_rows=dirty,
        applicant_names=sorted(set(cases["applicant"])), applicant_phones=sorted(set(cases["phone"])),
        applicant_ids=sorted(set(cases["id_number"])), counts=counts, files=dict(sorted(files.items())),
        notes=NOTES,
    )
