"""Row checks of parsed exports with the GX suites in ``expectations/``.

The loader calls :func:`check_cases` (cases and their supplement cycles) or :func:`check_ratings` for
a file a reader parsed, or :func:`check_cases_many` / :func:`check_ratings_many` for several files at
once. GX's cost is mostly fixed per expectation and run (about 40 ms, ~2 s for the 34 case and
supplement expectations), not per row, so a batch of files is validated in three GX runs per suite:

- ``file`` stage: a summary frame with one row per file (``file_no``): row count, missing canonical
  columns, missing or repeated ``source_row``;
- ``rows`` stage: the rows of every accepted file of the batch, *prepared* with vectorised pandas:
  times as ``datetime64[ns]`` (GX compares those without a Python loop), the file's ``file_no`` and
  ``source_row``, and the derived columns the suites check:
  ``latest_allowed`` (the file's export time plus tolerance), ``<time>_latest`` (the time, or the end
  of its day when the export gave a date only), ``procedure_known`` (rule 7: a missing
  due time is computed from the legal limit, so the procedure must be known), ``duplicate_of_row``
  (for an exact copy of an earlier row of the same file, that row's number), ``case_received_at``
  (supplements: the case's receipt time), ``rating_key`` (ratings: the rating compared accent- and
  case-insensitively);
- ``share`` stage: one row per file with the share of its rows quarantined.

Each file then gets its own outcome of every expectation (element and failing counts over its rows),
its quarantine rows (``reject_row``: excluded) and findings (``finding``: reported), each naming the
expectation, the field and the value as exported. Nothing here holds applicant data: readers have
already hashed it, and ``applicant_hash`` is never shown.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from pipeline.ingest.readers import empty_records
from pipeline.ingest.values import date_only
from pipeline.records import CASE, DIRECTIVE, DIRECTIVE_EXTENSION, FEEDBACK, SUPPLEMENT, Record
from pipeline.reference import load_procedures
from pipeline.settings import Settings
from pipeline.validate.suites import ExpectationSpec, SuiteRunner, get_runner, results_table
from pipeline.workcal import WorkCalendar

QUARANTINE_COLUMNS = ["source_row", "case_id", "field", "raw_value", "reason", "expectation"]
FINDING_COLUMNS = ["source_row", "case_id", "field", "raw_value", "finding", "expectation"]
_NS_MIN, _NS_MAX = np.datetime64("1678-01-01", "us"), np.datetime64("2262-01-01", "us")


@dataclass
class RowChecks:
    """What the checks of one file decided."""

    quarantine: pd.DataFrame  # source_row, field, raw_value, reason, expectation — rows to exclude
    findings: pd.DataFrame  # source_row, case_id, field, raw_value, finding, expectation — reported only
    results: pd.DataFrame  # suite, expectation, column, success, element_count, unexpected_count, severity
    rejected_reason: str | None = None  # the whole file is rejected (one line naming the file)


@dataclass
class CaseExport:
    """One parsed case export, as :func:`check_cases_many` takes it."""

    cases: pd.DataFrame
    supplements: pd.DataFrame | None
    exported_at: object
    path: object


@dataclass
class RatingExport:
    """One parsed ratings export, as :func:`check_ratings_many` takes it."""

    ratings: pd.DataFrame
    exported_at: object
    path: object


# --- public API --------------------------------------------------------------------------------


def check_cases(
    cases: pd.DataFrame,
    supplements: pd.DataFrame | None,
    exported_at,
    path,
    settings: Settings,
    procedures: pd.DataFrame | None = None,
) -> RowChecks:
    """Check one file's case rows and supplement cycles against the ``cases`` and ``supplements`` suites."""
    return check_cases_many([CaseExport(cases, supplements, exported_at, path)], settings, procedures)[0]


def check_ratings(ratings: pd.DataFrame, exported_at, path, settings: Settings) -> RowChecks:
    """Check one file's rating rows against the ``ratings`` suite."""
    return check_ratings_many([RatingExport(ratings, exported_at, path)], settings)[0]


def check_cases_many(exports: Iterable[CaseExport], settings: Settings,
                     procedures: pd.DataFrame | None = None) -> list[RowChecks]:
    """Check several case exports in one batch; one :class:`RowChecks` per export, in order."""
    exports = list(exports)
    if not exports:
        return []
    runner = get_runner(settings.expectations_dir)
    if procedures is None:
        procedures = load_procedures(settings)
    catalogue = procedures.drop_duplicates("procedure_code", keep="last").set_index("procedure_code")
    supplements = [e.supplements if e.supplements is not None else empty_records(SUPPLEMENT) for e in exports]
    latest = np.array([latest_allowed(e.exported_at, runner.specs["cases"].meta, settings).to_datetime64()
                       for e in exports], dtype="datetime64[ns]")
    params = {
        # the warehouse's calendar starts there too; its days and holidays are built lazily, so not here
        "calendar_start": pd.Timestamp(WorkCalendar.from_settings(settings).origin),
        "catalogue_codes": sorted(catalogue.index.dropna().astype(str).unique().tolist()),
        "max_bad_row_share": float(settings.max_bad_row_share),
    }
    batch = _Batch(runner, [e.path for e in exports], params, ("cases", "supplements"))
    batch.file_stage("cases", [e.cases for e in exports])
    batch.file_stage("supplements", supplements)
    accepted = batch.accepted()
    if accepted:
        cases = stack_files([exports[i].cases for i in accepted], accepted)
        frame = prepare_cases(cases, catalogue, latest)
        batch.row_stage("cases", frame, cases)
        found = stack_files([supplements[i] for i in accepted], accepted)
        batch.row_stage("supplements", prepare_supplements(found, frame, latest), found, field_prefix="supplement.")
        batch.share_stage("cases", frame)
    return batch.checks()


def check_ratings_many(exports: Iterable[RatingExport], settings: Settings) -> list[RowChecks]:
    """Check several ratings exports in one batch; one :class:`RowChecks` per export, in order."""
    exports = list(exports)
    if not exports:
        return []
    runner = get_runner(settings.expectations_dir)
    latest = np.array([latest_allowed(e.exported_at, runner.specs["ratings"].meta, settings).to_datetime64()
                       for e in exports], dtype="datetime64[ns]")
    params = {"rating_keys": sorted(rating_scale(settings)), "max_bad_row_share": float(settings.max_bad_row_share)}
    batch = _Batch(runner, [e.path for e in exports], params, ("ratings",))
    batch.file_stage("ratings", [e.ratings for e in exports])
    accepted = batch.accepted()
    if accepted:
        ratings = stack_files([exports[i].ratings for i in accepted], accepted)
        frame = prepare_ratings(ratings, latest)
        batch.row_stage("ratings", frame, ratings)
        batch.share_stage("ratings", frame)
    return batch.checks()


def unchecked() -> RowChecks:
    """The outcome for rows no suite checks: nothing quarantined, nothing found."""
    return RowChecks(_empty(QUARANTINE_COLUMNS), _empty(FINDING_COLUMNS), results_table([]))


def failed(reason: str) -> RowChecks:
    """The outcome of a file whose checks could not run: rejected with a one-line reason."""
    return RowChecks(_empty(QUARANTINE_COLUMNS), _empty(FINDING_COLUMNS), results_table([]), reason)


def check_reads(items: list[tuple], settings: Settings) -> list[RowChecks]:
    """Check read exports — (ReadResult, export time, path as shown) each — with the suite of their kind,
    one validation per suite for all of them; one RowChecks per item, in order."""
    checks: dict[int, RowChecks] = {}
    by_kind: dict[str, list[int]] = {}
    for position, (result, _, _) in enumerate(items):
        by_kind.setdefault(result.kind, []).append(position)
    if "cases" in by_kind:
        positions = by_kind.pop("cases")
        exports = [CaseExport(items[i][0].cases, items[i][0].supplements, items[i][1], items[i][2]) for i in positions]
        checks.update(zip(positions, check_cases_many(exports, settings), strict=True))
    if "ratings" in by_kind:
        positions = by_kind.pop("ratings")
        exports = [RatingExport(items[i][0].ratings, items[i][1], items[i][2]) for i in positions]
        checks.update(zip(positions, check_ratings_many(exports, settings), strict=True))
    directives = [i for kind in ("directives", "directive_extensions") for i in by_kind.pop(kind, [])]
    feedback = by_kind.pop("feedback", [])
    for positions, check_many in ((directives, check_directives_many), (feedback, check_feedback_many)):
        exports = [RecordExport(items[i][0].kind, items[i][0].records, items[i][1], items[i][2]) for i in positions]
        checks.update(zip(positions, check_many(exports, settings), strict=True))
    for positions in by_kind.values():  # a kind no suite checks (none today)
        checks.update((i, unchecked()) for i in positions)
    return [checks[i] for i in range(len(items))]


# --- settings-derived values ---------------------------------------------------------------------

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
    elif date_only(moment.to_datetime64()):
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


def duplicate_of_row(records: pd.DataFrame) -> pd.array:
    """For each row that repeats an earlier row of its file exactly (every column but source_row), that
    row's number. Only rows whose case id occurs again in the file can be copies: the full comparison
    runs on those only."""
    columns = [c for c in records.columns if c not in ("source_row", "file_no")]
    result = np.full(len(records), -1, dtype=np.int64)
    if len(records) and columns:
        candidates = np.flatnonzero(records[["file_no", "case_id"]].duplicated(keep=False).to_numpy())
        if len(candidates):
            subset = records.iloc[candidates][["file_no", *columns]].reset_index(drop=True)
            group = subset.groupby(["file_no", *columns], dropna=False, sort=False).ngroup().to_numpy()
            first = pd.Series(np.arange(len(candidates))).groupby(group).transform("first").to_numpy()
            later = first != np.arange(len(candidates))  # file order: the first copy is kept
            source_rows = records["source_row"].to_numpy(dtype=np.int64)
            result[candidates[later]] = source_rows[candidates[first[later]]]
    marked = pd.array(result, dtype="Int64")
    marked[result < 0] = pd.NA
    return marked


def day_end_if_date_only(values: np.ndarray) -> np.ndarray:
    """A time, or the last instant of its day when the export gave a date only (values.date_only).

    Exports often write end and return dates without a time of day: '24/03/2025' must not read as
    earlier than a receipt at 09:21 on the same day.
    """
    day_end = (values.astype("datetime64[D]") + np.timedelta64(1, "D")).astype(values.dtype) - np.timedelta64(1, "us")
    return np.where(date_only(values), day_end, values)


def stack_files(frames: list[pd.DataFrame], file_numbers: list[int]) -> pd.DataFrame:
    """Files' records one under the other with their ``file_no``, positions 0..n-1 (one file: no copy)."""
    numbered = [f.assign(file_no=np.full(len(f), n, dtype=np.int32)) for f, n in zip(frames, file_numbers, strict=True)]
    frame = numbered[0] if len(numbered) == 1 else pd.concat(numbered, ignore_index=True)
    return frame.set_axis(pd.RangeIndex(len(frame), name="row_key"), axis=0)


def prepare_cases(cases: pd.DataFrame, catalogue: pd.DataFrame, latest: np.ndarray) -> pd.DataFrame:
    """The rows the ``cases`` row stage validates (``cases`` from :func:`stack_files`, ``catalogue``
    indexed by procedure code, ``latest`` the latest allowed time of each file number)."""
    file_no = cases["file_no"].to_numpy()
    columns = {"file_no": file_no, "source_row": cases["source_row"].to_numpy(dtype=np.int64)}
    for column in ("case_id", "procedure_code", "status", "channel"):
        columns[column] = cases[column].array
    for column in CASE.names_of("time"):
        columns[column] = as_ns_times(cases[column])
    for column in ("due_at", "finished_at", "returned_at"):
        columns[f"{column}_latest"] = day_end_if_date_only(columns[column])
    columns["latest_allowed"] = latest[file_no]
    codes = cases["procedure_code"]
    columns["procedure_known"] = codes.isin(catalogue.index).to_numpy(dtype=bool)
    columns["duplicate_of_row"] = duplicate_of_row(cases)
    return pd.DataFrame(columns, index=cases.index)


def prepare_supplements(supplements: pd.DataFrame, case_frame: pd.DataFrame, latest: np.ndarray) -> pd.DataFrame:
    """The rows the ``supplements`` row stage validates (several may share a case row)."""
    file_no = supplements["file_no"].to_numpy()
    source_rows = pd.to_numeric(supplements["source_row"], errors="coerce").to_numpy(dtype=float)
    columns = {"file_no": file_no, "source_row": np.nan_to_num(source_rows, nan=-1).astype(np.int64),
               "case_id": supplements["case_id"].array}
    for column in SUPPLEMENT.names_of("time"):
        columns[column] = as_ns_times(supplements[column])
    for column in ("requested_at", "received_at"):
        columns[f"{column}_latest"] = day_end_if_date_only(columns[column])
    columns["latest_allowed"] = latest[file_no]
    received = pd.Series(case_frame["received_at"].to_numpy(),
                         index=pd.MultiIndex.from_arrays([case_frame["file_no"], case_frame["source_row"]]))
    wanted = pd.MultiIndex.from_arrays([file_no, columns["source_row"]])
    columns["case_received_at"] = received.reindex(wanted).to_numpy(dtype="datetime64[ns]")
    return pd.DataFrame(columns, index=supplements.index)


def prepare_ratings(ratings: pd.DataFrame, latest: np.ndarray) -> pd.DataFrame:
    """The rows the ``ratings`` row stage validates."""
    file_no = ratings["file_no"].to_numpy()
    text = ratings["rating"]
    distinct = {value: normalise_text(value) for value in text.dropna().unique()}
    columns = {
        "file_no": file_no,
        "source_row": ratings["source_row"].to_numpy(dtype=np.int64),
        "case_id": ratings["case_id"].array,
        "rated_at": as_ns_times(ratings["rated_at"]),
        "latest_allowed": latest[file_no],
        "rating_key": text.map(distinct).astype(object).to_numpy(),
        "duplicate_of_row": duplicate_of_row(ratings),
    }
    return pd.DataFrame(columns, index=ratings.index)


def file_summary(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """One row per file (index ``file_no``): what the ``file`` stage checks."""
    rows = []
    for frame in frames:
        missing = [c for c in columns if c not in frame.columns]
        source_row = (pd.to_numeric(frame["source_row"], errors="coerce") if "source_row" in frame.columns
                      else pd.Series(dtype=float))
        rows.append({
            "row_count": len(frame),
            "column_count": len(columns),
            "missing_columns": ", ".join(missing) or None,
            "missing_column_count": len(missing),
            "source_row_missing": int(source_row.isna().sum()),
            "source_row_repeated": int(source_row.dropna().duplicated().sum()),
        })
    summary = pd.DataFrame(rows, index=pd.Index(range(len(frames)), name="file_no"))
    summary["missing_columns"] = summary["missing_columns"].astype(object)
    return summary


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


def _same_case_rows(positions: np.ndarray, prepared: pd.DataFrame) -> pd.Series:
    """For rows sharing a case id in a file: ' (rows 5, 9)' listing the rows of that id."""
    keys = (prepared["file_no"].iloc[positions].astype(str) + "|"
            + prepared["case_id"].iloc[positions].astype(str)).to_numpy()
    rows = pd.Series(prepared["source_row"].to_numpy()[positions]).astype(str)
    listed = rows.groupby(keys, sort=False).transform(lambda r: ", ".join(r.iloc[:20]) + (" …" if len(r) > 20 else ""))
    return " (rows " + listed.reset_index(drop=True) + ")"


def _entries(spec: ExpectationSpec, positions: np.ndarray, prepared: pd.DataFrame, original: pd.DataFrame,
             field_prefix: str) -> pd.DataFrame:
    """Quarantine or finding rows (with ``file_no``) for the failing rows of one expectation."""
    raw_value = _raw_values(spec, positions, prepared, original)
    if spec.key == "case_id_unique_in_file":
        raw_value = raw_value.fillna("") + _same_case_rows(positions, prepared)
    text = f"{spec.reason} ({spec.type})"
    if "{" in spec.reason:  # one placeholder naming a column, e.g. 'exact duplicate of row {duplicate_of_row}'
        head, _, rest = spec.reason.partition("{")
        name, _, tail = rest.partition("}")
        text = (head + _column_values(name, positions, prepared, original).fillna("") + tail
                + f" ({spec.type})").to_numpy(dtype=object)
    entries = pd.DataFrame({
        "file_no": prepared["file_no"].to_numpy()[positions],
        "source_row": pd.array(prepared["source_row"].to_numpy()[positions], dtype="Int64"),
        "field": f"{field_prefix}{spec.report_field}",
        "raw_value": raw_value.to_numpy(dtype=object),
        "expectation": spec.type,
    })
    entries["case_id"] = _column_values("case_id", positions, prepared, original).to_numpy(dtype=object)
    if spec.severity == "reject_row":
        entries["reason"] = text
        return entries[["file_no", *QUARANTINE_COLUMNS]]
    entries["finding"] = text
    return entries[["file_no", *FINDING_COLUMNS]]


def _empty(columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    frame["source_row"] = frame["source_row"].astype("Int64")
    return frame


def _split(parts: list[pd.DataFrame], columns: list[str], files: int) -> list[pd.DataFrame]:
    """Entries of the batch (with ``file_no``), one frame per file, sorted by source row."""
    by_file: dict[int, pd.DataFrame] = {}
    if parts:
        entries = pd.concat(parts, ignore_index=True).sort_values(["file_no", "source_row"], kind="stable")
        by_file = {int(n): group[columns].reset_index(drop=True) for n, group in entries.groupby("file_no", sort=False)}
    return [by_file[i] if i in by_file else _empty(columns) for i in range(files)]


class _Batch:
    """Outcomes, entries and rejections of a batch of files, stage by stage.

    An outcome is recorded per file and expectation: (file, spec, success, element count, failing count).
    """

    def __init__(self, runner: SuiteRunner, paths: list, params: dict, suites: tuple[str, ...]) -> None:
        self.runner, self.paths, self.params, self.suites = runner, paths, params, suites
        self.records: list[tuple] = []
        self.rejected: list[str | None] = [None] * len(paths)
        self.quarantine: list[pd.DataFrame] = []
        self.findings: list[pd.DataFrame] = []

    def accepted(self) -> list[int]:
        return [i for i, reason in enumerate(self.rejected) if reason is None]

    def _reject(self, file_no: int, reason: str) -> None:
        if self.rejected[file_no] is None:
            self.rejected[file_no] = reason

    def _record(self, files: list[int], spec: ExpectationSpec, success, element, unexpected) -> None:
        """Per-file outcomes of one expectation (success / counts: arrays by file number, or scalars)."""
        def at(values, i):
            if values is None or np.isscalar(values):
                return values
            value = values[i]
            return None if value is None else (bool(value) if isinstance(value, (bool, np.bool_)) else int(value))

        self.records.extend((i, spec, at(success, i), at(element, i), at(unexpected, i)) for i in files)

    def _error(self, files: list[int], spec: ExpectationSpec, error: str) -> None:
        self._record(files, spec, False, None, None)
        for i in files:
            self._reject(i, f"{self.paths[i]}: {spec.suite} check {spec.type} on {spec.column} could not be "
                            f"evaluated ({error.splitlines()[0]})")

    def file_stage(self, suite: str, frames: list[pd.DataFrame]) -> None:
        """Table-level checks of every file, on the one-row-per-file summary."""
        summary = file_summary(frames, list(self.runner.specs[suite].meta["columns"]))
        files = list(range(len(frames)))
        for outcome in self.runner.run(suite, "file", summary, self.params):
            spec = outcome.spec
            if outcome.error:
                self._error(files, spec, outcome.error)
                continue
            ok = ~summary.index.isin(outcome.rows)
            element = summary["column_count" if spec.column == "missing_columns" else "row_count"].to_numpy()
            unexpected = (None if spec.column == "row_count" else
                          summary["missing_column_count" if spec.column == "missing_columns" else spec.column].to_numpy())
            self._record(files, spec, ok, element, unexpected)
            for i in np.flatnonzero(~ok):
                detail = f": {summary.at[i, 'missing_columns']}" if spec.column == "missing_columns" else ""
                self._reject(int(i), f"{self.paths[i]}: {spec.reason}{detail} ({spec.type})")

    def row_stage(self, suite: str, frame: pd.DataFrame, original: pd.DataFrame, field_prefix: str = "") -> None:
        """Row checks of every accepted file's rows at once; outcomes and entries split by file."""
        files = len(self.paths)
        file_no = frame["file_no"].to_numpy()
        in_batch = self.accepted()
        for outcome in self.runner.run(suite, "rows", frame, self.params):
            spec = outcome.spec
            if outcome.error:
                self._error(in_batch, spec, outcome.error)
                continue
            domain = np.bincount(file_no[self.runner.condition_mask(frame, spec.kwargs.get("row_condition"))],
                                 minlength=files)
            positions = np.asarray(outcome.rows, dtype=np.int64)
            failing = np.bincount(file_no[positions], minlength=files)
            self._record(in_batch, spec, failing == 0, domain, failing)
            if len(positions) and spec.severity != "reject_file":
                entries = _entries(spec, positions, frame, original, field_prefix)
                (self.quarantine if spec.severity == "reject_row" else self.findings).append(entries)

    def share_stage(self, suite: str, frame: pd.DataFrame) -> None:
        """Per file: quarantined rows over rows (exact duplicates count in neither) against the threshold."""
        files = len(self.paths)
        file_no = frame["file_no"].to_numpy()
        counted = frame["duplicate_of_row"].isna().to_numpy()
        quarantined = np.zeros(len(frame), dtype=bool)
        if self.quarantine:
            bad = pd.concat([q[["file_no", "source_row"]] for q in self.quarantine]).drop_duplicates()
            keys = pd.MultiIndex.from_arrays([bad["file_no"].to_numpy(), bad["source_row"].to_numpy(dtype=np.int64)])
            quarantined = pd.MultiIndex.from_arrays([file_no, frame["source_row"].to_numpy()]).isin(keys)
        total = np.bincount(file_no[counted], minlength=files)
        bad_rows = np.bincount(file_no[counted & quarantined], minlength=files)
        accepted = self.accepted()
        share = pd.DataFrame({"row_count": total[accepted], "bad_rows": bad_rows[accepted]},
                             index=pd.Index(accepted, name="file_no"))
        share["bad_row_share"] = share["bad_rows"] / share["row_count"].clip(lower=1)
        for outcome in self.runner.run(suite, "share", share, self.params):
            if outcome.error:
                self._error(accepted, outcome.spec, outcome.error)
                continue
            ok = ~np.isin(np.arange(files), outcome.rows)
            self._record(accepted, outcome.spec, ok, total, bad_rows)
            for i in accepted:
                if not ok[i]:
                    self._reject(i, f"{self.paths[i]}: {bad_rows[i]} of {total[i]} rows quarantined "
                                    f"({bad_rows[i] / max(total[i], 1):.1%}) > max_bad_row_share "
                                    f"{self.params['max_bad_row_share']:.0%} ({outcome.spec.type})")

    def checks(self) -> list[RowChecks]:
        """One RowChecks per file; expectations a rejected file never reached are listed as not evaluated."""
        files = len(self.paths)
        done = {(i, spec.suite, spec.key) for i, spec, *_ in self.records}
        for suite in self.suites:
            for spec in self.runner.specs[suite].expectations:
                missing = [i for i in range(files) if (i, suite, spec.key) not in done]
                self._record(missing, spec, None, None, None)
        order = {(s.suite, s.key): n for n, s in enumerate(s for suite in self.suites
                                                             for s in self.runner.specs[suite].expectations)}
        self.records.sort(key=lambda r: (r[0], order[(r[1].suite, r[1].key)]))
        table = results_table([
            {"suite": spec.suite, "expectation": spec.type, "column": spec.column, "success": success,
             "element_count": element, "unexpected_count": unexpected, "severity": spec.severity}
            for _, spec, success, element, unexpected in self.records
        ])
        bounds = np.searchsorted(np.array([r[0] for r in self.records]), np.arange(files + 1))
        quarantine = _split(self.quarantine, QUARANTINE_COLUMNS, files)
        findings = _split(self.findings, FINDING_COLUMNS, files)
        return [
            RowChecks(quarantine[i], findings[i], table.iloc[bounds[i]:bounds[i + 1]].reset_index(drop=True),
                      self.rejected[i])
            for i in range(files)
        ]


# --- directive and feedback exports ------------------------------------------------------------------
# Built like the case and rating checks above, on the same machinery. The prepared frames carry the columns
# the suites check beside the records' own: ``latest_allowed``, ``<time>_latest``, ``duplicate_of_row``,
# ``clock_start_at`` (feedback: receipt, else sending) and ``case_id`` (the record's own id, which findings
# name). Nothing here holds a sender's identity: readers have hashed it and dropped the complaint text.


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
