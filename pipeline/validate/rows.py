"""Row checks of one export's parsed records with the GX suites in ``expectations/``.

The loader calls :func:`check_cases` (cases and their supplement cycles) or :func:`check_ratings` for
every file a reader parsed. The frame given to GX is *prepared* first, with vectorised pandas:
times as ``datetime64[ns]`` (GX compares those without a Python loop), the rows indexed by
``source_row``, and a few derived columns the suites check:

- ``procedure_known``: the procedure code is in the catalogue (rule 7: a missing due time is
  computed from the legal limit, so it must be known);
- ``duplicate_of_row``: for an exact copy of an earlier row of the file, that row's number;
- ``legal_due_at`` / ``legal_due_day_end``: receipt time plus the procedure's legal limit on the
  working calendar, and the start of the day after it (the latest acceptable appointment);
- ``case_received_at`` (supplements): the receipt time of the case the supplement belongs to;
- ``rating_key`` (ratings): the rating text compared accent- and case-insensitively;
- ``row_quarantined`` (share stage): whether the row was quarantined.

Row-level failures become quarantine rows (``reject_row``: excluded) or findings (``finding``:
reported), each naming the expectation, the field and the value as exported. Nothing here holds
applicant data: readers have already hashed it, and ``applicant_hash`` is never shown.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.settings import Settings
from pipeline.validate.suites import (
    ExpectationSpec,
    Outcome,
    SuiteRunner,
    get_runner,
    not_evaluated,
    results_frame,
)
from pipeline.workcal import WorkCalendar

QUARANTINE_COLUMNS = ["source_row", "field", "raw_value", "reason", "expectation"]
FINDING_COLUMNS = ["source_row", "case_id", "field", "raw_value", "finding", "expectation"]
CASE_TIMES = ("received_at", "due_at", "finished_at", "returned_at", "apology_at", "new_due_at")
SUPPLEMENT_TIMES = ("requested_at", "received_at", "new_due_at")
SUPPLEMENT_COLUMNS = ["case_id", "seq", "requested_at", "received_at", "new_due_at", "source_row"]
DUPLICATE_KEY = "not_exact_duplicate"
_NS_MIN, _NS_MAX = np.datetime64("1678-01-01", "us"), np.datetime64("2262-01-01", "us")


@dataclass
class RowChecks:
    """What the checks of one file decided."""

    quarantine: pd.DataFrame  # source_row, field, raw_value, reason, expectation — rows to exclude
    findings: pd.DataFrame  # source_row, case_id, field, raw_value, finding, expectation — reported only
    results: pd.DataFrame  # suite, expectation, column, success, element_count, unexpected_count, severity
    rejected_reason: str | None = None  # the whole file is rejected (one line naming the file)


# --- public API --------------------------------------------------------------------------------


def check_cases(
    cases: pd.DataFrame,
    supplements: pd.DataFrame | None,
    exported_at,
    path,
    settings: Settings,
    procedures: pd.DataFrame | None = None,
) -> RowChecks:
    """Check a file's case rows and supplement cycles against the ``cases`` and ``supplements`` suites."""
    runner = get_runner(settings.expectations_dir)
    calendar = calendar_for(settings)
    if procedures is None:
        from pipeline.reference import load_procedures

        procedures = load_procedures(settings)
    if supplements is None:
        supplements = pd.DataFrame(columns=SUPPLEMENT_COLUMNS)
    case_suite = runner.specs["cases"]
    params = {
        "latest_allowed": latest_allowed(exported_at, case_suite.meta, settings),
        "calendar_start": pd.Timestamp(calendar.origin),
        "catalogue_codes": sorted(procedures["procedure_code"].dropna().astype(str).unique().tolist()),
        "max_bad_row_share": float(settings.max_bad_row_share),
    }
    file_outcomes = runner.run("cases", "file", cases, params) + runner.run("supplements", "file", supplements, params)
    rejected = _file_rejection(file_outcomes, path, {"cases": cases, "supplements": supplements})
    if rejected:
        later = case_suite.stage("rows") + runner.specs["supplements"].stage("rows") + case_suite.stage("share")
        return _rejected_checks(file_outcomes + not_evaluated(later), rejected)

    frame = prepare_cases(cases, procedures, calendar)
    case_outcomes = runner.run("cases", "rows", frame, params)
    supplement_frame = prepare_supplements(supplements, frame)
    supplement_outcomes = runner.run("supplements", "rows", supplement_frame, params)
    row_outcomes = case_outcomes + supplement_outcomes
    rejected = _evaluation_error(row_outcomes, path)

    quarantine_parts, finding_parts = [], []
    for outcome in case_outcomes:
        _collect(outcome, frame, cases, cases["source_row"], quarantine_parts, finding_parts)
    for outcome in supplement_outcomes:
        _collect(outcome, supplement_frame, supplements, supplements["source_row"], quarantine_parts, finding_parts,
                 field_prefix="supplement.")
    quarantine, findings = _concat(quarantine_parts, QUARANTINE_COLUMNS), _concat(finding_parts, FINDING_COLUMNS)

    share_outcomes, share_rejection = _share_check(runner, "cases", frame, quarantine, params, path)
    return RowChecks(quarantine, findings, results_frame(file_outcomes + row_outcomes + share_outcomes),
                     rejected or share_rejection)


def check_ratings(ratings: pd.DataFrame, exported_at, path, settings: Settings) -> RowChecks:
    """Check a file's rating rows against the ``ratings`` suite."""
    runner = get_runner(settings.expectations_dir)
    suite = runner.specs["ratings"]
    params = {
        "latest_allowed": latest_allowed(exported_at, suite.meta, settings),
        "rating_keys": sorted(rating_scale(settings)),
        "max_bad_row_share": float(settings.max_bad_row_share),
    }
    file_outcomes = runner.run("ratings", "file", ratings, params)
    rejected = _file_rejection(file_outcomes, path, {"ratings": ratings})
    if rejected:
        return _rejected_checks(file_outcomes + not_evaluated(suite.stage("rows") + suite.stage("share")), rejected)

    frame = prepare_ratings(ratings)
    row_outcomes = runner.run("ratings", "rows", frame, params)
    rejected = _evaluation_error(row_outcomes, path)
    quarantine_parts, finding_parts = [], []
    for outcome in row_outcomes:
        _collect(outcome, frame, ratings, ratings["source_row"], quarantine_parts, finding_parts)
    quarantine, findings = _concat(quarantine_parts, QUARANTINE_COLUMNS), _concat(finding_parts, FINDING_COLUMNS)
    share_outcomes, share_rejection = _share_check(runner, "ratings", frame, quarantine, params, path)
    return RowChecks(quarantine, findings, results_frame(file_outcomes + row_outcomes + share_outcomes),
                     rejected or share_rejection)


# --- settings-derived values ---------------------------------------------------------------------

_CALENDARS: dict[tuple, WorkCalendar] = {}


def calendar_for(settings: Settings) -> WorkCalendar:
    """The working calendar of the settings (cached: building it takes a fraction of a second)."""
    overrides = Path(settings.calendar_overrides_file)
    key = (settings.work_sessions, settings.work_weekdays, settings.holidays_country, str(overrides),
           overrides.stat().st_mtime_ns if overrides.exists() else None)
    if key not in _CALENDARS:
        _CALENDARS.clear()
        _CALENDARS[key] = WorkCalendar.from_settings(settings)
    return _CALENDARS[key]


def latest_allowed(exported_at, suite_meta: dict, settings: Settings) -> pd.Timestamp:
    """The latest time a record of the file may carry: its export time plus the suite's tolerance.

    An export time at exactly 00:00:00 is a date without a time of day and means the end of that
    day. Without an export time, the validation time is used (nothing can happen in the future).
    """
    tolerance = pd.Timedelta(minutes=float(suite_meta.get("export_time_tolerance_minutes", 60)))
    moment = pd.Timestamp(exported_at) if exported_at is not None and not pd.isna(exported_at) else None
    if moment is None:
        moment = pd.Timestamp(datetime.now())
    elif moment.tzinfo is not None:
        moment = moment.tz_convert(settings.timezone).tz_localize(None)
    elif moment == moment.normalize():
        moment = moment + pd.Timedelta(days=1)
    return moment + tolerance


def normalise_text(value: object) -> str:
    """Text compared accent- and case-insensitively: NFD without marks, đ → d, lower case, single spaces."""
    text = unicodedata.normalize("NFD", str(value))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = text.replace("đ", "d").replace("Đ", "D").lower()
    return " ".join(text.split())


def rating_scale(settings: Settings) -> dict[str, str]:
    """The configured rating scale as {normalised text or code: class}."""
    scale = {}
    for item in settings.rating_scale.split(","):
        text, sep, rating_class = item.partition("=")
        if sep and text.strip():
            scale[normalise_text(text)] = rating_class.strip()
    return scale


# --- prepared frames -----------------------------------------------------------------------------


def as_ns_times(series: pd.Series, timezone: str = "Asia/Ho_Chi_Minh") -> np.ndarray:
    """A time column as naive datetime64[ns]; values beyond the ns range are clipped to its ends
    (they still fail the range checks, and quarantine rows show the value as exported)."""
    values = series
    if not pd.api.types.is_datetime64_any_dtype(values):
        values = pd.to_datetime(values, errors="coerce")
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert(timezone).dt.tz_localize(None)
    micro = values.to_numpy().astype("datetime64[us]")
    clipped = np.minimum(np.maximum(micro, _NS_MIN), _NS_MAX)
    return clipped.astype("datetime64[ns]")


def duplicate_of_row(records: pd.DataFrame, source_rows: np.ndarray) -> pd.array:
    """For each row that repeats an earlier row exactly (every column but source_row), that row's number.

    Only rows whose case id occurs more than once can be copies, so the full comparison runs on those.
    """
    columns = [c for c in records.columns if c != "source_row"]
    result = np.full(len(records), -1, dtype=np.int64)
    if len(records) and columns:
        candidates = np.flatnonzero(records["case_id"].duplicated(keep=False).to_numpy())
        if len(candidates):
            subset = records.iloc[candidates][columns].reset_index(drop=True)
            group = subset.groupby(columns, dropna=False, sort=False).ngroup().to_numpy()
            first = pd.Series(np.arange(len(candidates))).groupby(group).transform("first").to_numpy()
            later = first != np.arange(len(candidates))  # file order: the first copy is kept
            result[candidates[later]] = source_rows[candidates[first[later]]]
    marked = pd.array(result, dtype="Int64")
    marked[result < 0] = pd.NA
    return marked


def legal_due(received_at: np.ndarray, amounts: np.ndarray, units: np.ndarray, calendar: WorkCalendar) -> np.ndarray:
    """Receipt time plus the legal limit on the working calendar (NaT where it cannot be computed).

    The same arithmetic as ``WorkCalendar.add_limit_many``, on whole columns: working days and hours
    on the calendar's working-minute index; calendar days added, a result on a day off moved to the
    end of the next working day. (``add_limit_many`` builds Python objects per row: 14 s a million.)
    """
    result = np.full(len(received_at), np.datetime64("NaT"), dtype="datetime64[ns]")
    lowest = np.datetime64(calendar.origin, "ns")
    highest = np.datetime64(f"{calendar.last_year}-01-01", "ns")  # a year of room for the limit itself
    usable = ~np.isnat(received_at) & (received_at >= lowest) & (received_at < highest) & ~np.isnan(amounts)
    for unit, minutes_per_unit in (("working_days", calendar.minutes_per_day), ("hours", 60)):
        rows = usable & (units == unit)
        if rows.any():
            start = calendar.working_index(received_at[rows])
            minutes = np.rint(amounts[rows] * minutes_per_unit).astype(np.int64)
            result[rows] = calendar.moment_at_index(start + minutes).astype("datetime64[ns]")
    rows = usable & (units == "calendar_days")
    if rows.any():
        working = calendar.days["is_working_day"].to_numpy(dtype=bool)
        positions = np.arange(len(working))
        next_working = np.minimum.accumulate(np.where(working, positions, len(working) - 1)[::-1])[::-1]
        moment = received_at[rows] + (np.rint(amounts[rows] * 86400).astype(np.int64) * np.timedelta64(1, "s"))
        origin = np.datetime64(calendar.origin, "D")
        day = np.clip((moment.astype("datetime64[D]") - origin).astype(np.int64), 0, len(working) - 1)
        last_end = calendar.sessions[-1][1]
        end_of_next = (origin + next_working[day].astype("timedelta64[D]")).astype("datetime64[ns]") + np.timedelta64(
            last_end.hour * 60 + last_end.minute, "m")
        result[rows] = np.where(working[day], moment, end_of_next)
    return result


def prepare_cases(cases: pd.DataFrame, procedures: pd.DataFrame, calendar: WorkCalendar) -> pd.DataFrame:
    """The frame the ``cases`` row stage validates (see the module docstring)."""
    source_rows = cases["source_row"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame(index=pd.Index(source_rows, name="source_row"))
    for column in ("case_id", "procedure_code", "status", "channel"):
        frame[column] = cases[column].array
    for column in CASE_TIMES:
        frame[column] = as_ns_times(cases[column])
    catalogue = procedures.drop_duplicates("procedure_code", keep="last").set_index("procedure_code")
    codes = cases["procedure_code"]
    frame["procedure_known"] = codes.isin(catalogue.index).to_numpy(dtype=bool)
    frame["duplicate_of_row"] = duplicate_of_row(cases, source_rows)
    amounts = pd.to_numeric(codes.map(catalogue["limit_amount"]), errors="coerce").to_numpy(dtype=float)
    units = codes.map(catalogue["limit_unit"]).astype(object).to_numpy()
    due = legal_due(frame["received_at"].to_numpy(), amounts, units, calendar)
    due[np.isnat(frame["due_at"].to_numpy())] = np.datetime64("NaT")  # only checked where the export gave one
    frame["legal_due_at"] = due
    frame["legal_due_day_end"] = (due.astype("datetime64[D]") + np.timedelta64(1, "D")).astype("datetime64[ns]")
    return frame


def prepare_supplements(supplements: pd.DataFrame, case_frame: pd.DataFrame) -> pd.DataFrame:
    """The frame the ``supplements`` row stage validates, indexed by position (several per case row)."""
    frame = pd.DataFrame(index=pd.RangeIndex(len(supplements), name="supplement_row"))
    frame["case_id"] = supplements["case_id"].array
    for column in SUPPLEMENT_TIMES:
        frame[column] = as_ns_times(supplements[column])
    received = pd.Series(case_frame["received_at"].to_numpy(), index=case_frame.index)
    rows = pd.to_numeric(supplements["source_row"], errors="coerce").to_numpy()
    frame["case_received_at"] = received.reindex(rows).to_numpy(dtype="datetime64[ns]")
    return frame


def prepare_ratings(ratings: pd.DataFrame) -> pd.DataFrame:
    """The frame the ``ratings`` row stage validates."""
    source_rows = ratings["source_row"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame(index=pd.Index(source_rows, name="source_row"))
    frame["case_id"] = ratings["case_id"].array
    frame["rated_at"] = as_ns_times(ratings["rated_at"])
    text = ratings["rating"]
    distinct = {value: normalise_text(value) for value in text.dropna().unique()}
    frame["rating_key"] = text.map(distinct).astype(object).to_numpy()
    frame["duplicate_of_row"] = duplicate_of_row(ratings, source_rows)
    return frame


# --- outcomes to quarantine, findings and file rejection ----------------------------------------


def _as_text(values: pd.Series) -> pd.Series:
    """Values as exported, as text (None where missing); times as YYYY-MM-DD HH:MM:SS."""
    if pd.api.types.is_datetime64_any_dtype(values):
        text = values.dt.strftime("%Y-%m-%d %H:%M:%S")
    else:
        text = values.astype("string")
    return text.astype(object).where(values.notna().to_numpy(), None)


def _column_values(name: str, positions: np.ndarray, prepared: pd.DataFrame, original: pd.DataFrame) -> pd.Series:
    """A column's values at row positions, from the export as read, else from the prepared frame."""
    source = original[name] if name in original.columns else prepared[name]
    return _as_text(source.iloc[positions].reset_index(drop=True))


def _raw_values(spec: ExpectationSpec, positions, prepared, original) -> pd.Series:
    """The value(s) a quarantine or finding row shows: one column plain, several as 'name=value; …'."""
    columns = list(spec.value_columns or spec.domain_columns)
    if spec.detail_column:
        columns.append(spec.detail_column)
    if len(columns) == 1:
        return _column_values(columns[0], positions, prepared, original)
    text = None
    for name in columns:
        part = name + "=" + _column_values(name, positions, prepared, original).fillna("")
        text = part if text is None else text + "; " + part
    return text


def _same_case_rows(positions: np.ndarray, source_rows: np.ndarray, original: pd.DataFrame) -> pd.Series:
    """For rows sharing a case id: ' (rows 5, 9)' listing every row of that id among them."""
    ids = original["case_id"].iloc[positions].astype(object).to_numpy()
    rows = pd.Series(source_rows[positions]).astype(str)
    listed = rows.groupby(ids, sort=False).transform(lambda r: ", ".join(r.iloc[:20]) + (" …" if len(r) > 20 else ""))
    return " (rows " + listed.reset_index(drop=True) + ")"


def _collect(
    outcome: Outcome,
    prepared: pd.DataFrame,
    original: pd.DataFrame,
    source_row: pd.Series,
    quarantine_parts: list,
    finding_parts: list,
    field_prefix: str = "",
) -> None:
    """Turn one row expectation's failing rows into quarantine or finding rows."""
    spec = outcome.spec
    if outcome.success is not False or len(outcome.rows) == 0 or spec.severity == "reject_file":
        return
    positions = prepared.index.get_indexer(outcome.rows)
    positions = positions[positions >= 0]
    source_rows = pd.to_numeric(source_row, errors="coerce").to_numpy()
    raw_value = _raw_values(spec, positions, prepared, original)
    if spec.key == "case_id_unique_in_file":
        raw_value = raw_value.fillna("") + _same_case_rows(positions, source_rows, original)
    reason = f"{spec.reason} ({spec.type})"
    if "{" in spec.reason:  # one placeholder naming a prepared column, e.g. 'exact duplicate of row {duplicate_of_row}'
        head, _, rest = spec.reason.partition("{")
        name, _, tail = rest.partition("}")
        values = _column_values(name, positions, prepared, original).fillna("")
        reason = head + values + tail + f" ({spec.type})"
    part = pd.DataFrame({
        "source_row": pd.array(source_rows[positions], dtype="Int64"),
        "field": f"{field_prefix}{spec.report_field}",
        "raw_value": raw_value.to_numpy(dtype=object),
        "expectation": spec.type,
    })
    if spec.severity == "reject_row":
        part["reason"] = reason if isinstance(reason, str) else reason.to_numpy(dtype=object)
        quarantine_parts.append(part[QUARANTINE_COLUMNS])
    else:
        part["finding"] = reason if isinstance(reason, str) else reason.to_numpy(dtype=object)
        part["case_id"] = original["case_id"].iloc[positions].astype(object).to_numpy()
        finding_parts.append(part[FINDING_COLUMNS])


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not parts:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        frame["source_row"] = frame["source_row"].astype("Int64")
        return frame
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values("source_row", kind="stable", ignore_index=True)


def _file_rejection(outcomes: list[Outcome], path, frames: dict[str, pd.DataFrame]) -> str | None:
    """One line naming the file and the first failed file-level expectation, or None."""
    for outcome in outcomes:
        if outcome.success:
            continue
        spec = outcome.spec
        if outcome.error:
            return f"{path}: {spec.suite} check {spec.type} could not be evaluated ({outcome.error.splitlines()[0]})"
        if spec.type == "expect_table_columns_to_match_set":
            present = set(frames[spec.suite].columns)
            missing = [c for c in spec.kwargs["column_set"] if c not in present]
            return f"{path}: {spec.reason}: {', '.join(missing)} ({spec.type})"
        return f"{path}: {spec.reason} ({spec.type})"
    return None


def _evaluation_error(outcomes: list[Outcome], path) -> str | None:
    """A file whose row checks could not all be evaluated is rejected (nothing unchecked is loaded)."""
    for outcome in outcomes:
        if outcome.error:
            spec = outcome.spec
            return (f"{path}: {spec.suite} check {spec.type} on {spec.column} could not be evaluated "
                    f"({outcome.error.splitlines()[0]})")
    return None


def _share_check(runner: SuiteRunner, suite: str, frame: pd.DataFrame, quarantine: pd.DataFrame, params: dict,
                 path) -> tuple[list[Outcome], str | None]:
    """The share stage: quarantined rows (exact duplicates not counted) over the file's rows."""
    duplicates = frame["duplicate_of_row"].notna().to_numpy()
    quarantined = np.isin(frame.index.to_numpy(), quarantine["source_row"].dropna().to_numpy(dtype=np.int64))
    share_frame = pd.DataFrame({"row_quarantined": quarantined[~duplicates].astype(float)},
                               index=pd.Index(frame.index[~duplicates], name="source_row"))
    outcomes = runner.run(suite, "share", share_frame, params)
    for outcome in outcomes:
        outcome.element_count = len(share_frame)
        outcome.unexpected_count = int(share_frame["row_quarantined"].sum())
        if outcome.success is False:
            bad, total = outcome.unexpected_count, outcome.element_count
            share = bad / total if total else 0.0
            return outcomes, (f"{path}: {bad} of {total} rows quarantined ({share:.1%}) > max_bad_row_share "
                              f"{params['max_bad_row_share']:.0%} ({outcome.spec.type})")
    return outcomes, None


def _rejected_checks(outcomes: list[Outcome], reason: str) -> RowChecks:
    return RowChecks(_concat([], QUARANTINE_COLUMNS), _concat([], FINDING_COLUMNS), results_frame(outcomes), reason)


__all__ = [
    "RowChecks",
    "check_cases",
    "check_ratings",
    "calendar_for",
    "latest_allowed",
    "normalise_text",
    "rating_scale",
]
