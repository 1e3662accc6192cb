"""Expectation suites: read from ``expectations/*.json`` and run with Great Expectations 1.x.

Each JSON file is a GX 1.x suite (``name``, ``expectations`` of ``type`` / ``kwargs`` / ``description`` /
``severity`` / ``meta``). Our own ``meta`` of each expectation says what a failure means:

- ``severity``: ``reject_row`` (the failing rows are quarantined), ``finding`` (reported, kept) or
  ``reject_file`` (the whole file is rejected);
- ``stage``: ``file`` (checks on a summary frame with one row per file: row count, missing columns,
  source rows), ``rows`` (row checks on the prepared rows of every file of a batch) or ``share`` (one
  row per file: the share of its rows quarantined, after the row checks);
- ``key`` (unique in the suite), ``reason`` (one English line), ``description_en`` (the GX
  ``description`` is the Vietnamese one), and optionally ``field`` / ``value_columns`` /
  ``detail_column`` naming what a quarantine or finding row shows.

GX is imported lazily (it takes a few seconds); one ephemeral Data Context per process holds a
pandas data source with one dataframe asset per suite, one suite and one ValidationDefinition per
(suite, stage). Frames are indexed by a named row key (row position, file number) so GX reports the
failing rows by it (``unexpected_index_column_names``), with COMPLETE results minus the values.
The suite meta ``columns`` lists the canonical columns a parsed frame must have.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SEVERITIES = ("reject_row", "finding", "reject_file")
STAGES = ("file", "rows", "share")
SUITE_NAMES = ("cases", "supplements", "ratings", "directives", "directive_extensions", "feedback", "built_cases",
               "marts")
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def result_format(index_name: str | None) -> dict:
    """COMPLETE results listing failing rows by the frame's named index only.

    The values are looked up from our own frame afterwards: GX's per-row value dictionaries cost
    seconds per ten thousand failing rows, the bare index list almost nothing.
    """
    if not index_name:
        return {"result_format": "COMPLETE", "partial_unexpected_count": 0, "return_unexpected_index_query": False}
    return {
        "result_format": "COMPLETE",
        "unexpected_index_column_names": [index_name],
        "exclude_unexpected_values": True,
        "return_unexpected_index_query": False,
        "partial_unexpected_count": 0,
    }


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation of a suite file, with what its failure means."""

    suite: str
    key: str
    type: str
    kwargs: dict
    severity: str
    stage: str
    reason: str
    description_vi: str
    description_en: str
    field: str | None = None
    value_columns: tuple[str, ...] = ()
    detail_column: str | None = None

    @property
    def domain_columns(self) -> tuple[str, ...]:
        """The columns the expectation reads (empty for table expectations)."""
        if "column" in self.kwargs:
            return (self.kwargs["column"],)
        if "column_A" in self.kwargs:
            return (self.kwargs["column_A"], self.kwargs["column_B"])
        return tuple(self.kwargs.get("column_list", ()))

    @property
    def column(self) -> str | None:
        """Column label for results: one column, 'A, B' for a pair, None for the table."""
        return ", ".join(self.domain_columns) or None

    @property
    def report_field(self) -> str | None:
        """The field a quarantine or finding row names."""
        return self.field or (self.domain_columns[0] if self.domain_columns else None)


@dataclass(frozen=True)
class SuiteSpec:
    """A suite file: its name, meta and expectations in file order."""

    name: str
    path: Path
    meta: dict
    expectations: tuple[ExpectationSpec, ...]
    raw: dict = field(repr=False, compare=False, default_factory=dict)

    def stage(self, stage: str) -> list[ExpectationSpec]:
        return [e for e in self.expectations if e.stage == stage]

    def find(self, expectation_type: str, column: str | None) -> ExpectationSpec | None:
        for spec in self.expectations:
            if spec.type == expectation_type and (spec.column or None) == (column or None):
                return spec
        return None


@dataclass
class Outcome:
    """The result of one expectation on one frame."""

    spec: ExpectationSpec
    success: bool | None
    element_count: int | None
    unexpected_count: int | None
    rows: np.ndarray  # source_row of every failing row (row expectations)
    observed: Any = None
    error: str | None = None


def resolve_expectations_dir(path: Path | str | None = None) -> Path:
    """The suites folder: the given one if it exists, else the same name beside the package."""
    path = Path(path) if path is not None else Path("expectations")
    if path.is_absolute() or path.is_dir():
        return path
    return PACKAGE_ROOT / path


def load_suite_spec(path: Path) -> SuiteSpec:
    """Read one suite file and check our meta (severity, stage, unique keys); no GX needed."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    name = data.get("name")
    if not name or not isinstance(data.get("expectations"), list):
        raise ValueError(f"{path}: not a GX suite (needs 'name' and 'expectations')")
    specs, keys = [], set()
    for number, item in enumerate(data["expectations"], start=1):
        meta = item.get("meta") or {}
        where = f"{path}: expectation {number} ({item.get('type')})"
        if meta.get("severity") not in SEVERITIES:
            raise ValueError(f"{where}: meta.severity must be one of {', '.join(SEVERITIES)}")
        if meta.get("stage") not in STAGES:
            raise ValueError(f"{where}: meta.stage must be one of {', '.join(STAGES)}")
        if not meta.get("key") or meta["key"] in keys:
            raise ValueError(f"{where}: meta.key missing or repeated")
        if not item.get("description") or not meta.get("description_en") or not meta.get("reason"):
            raise ValueError(f"{where}: needs a description (Vietnamese), meta.description_en and meta.reason")
        keys.add(meta["key"])
        specs.append(
            ExpectationSpec(
                suite=name,
                key=meta["key"],
                type=item["type"],
                kwargs=dict(item.get("kwargs") or {}),
                severity=meta["severity"],
                stage=meta["stage"],
                reason=meta["reason"],
                description_vi=item["description"],
                description_en=meta["description_en"],
                field=meta.get("field"),
                value_columns=tuple(meta.get("value_columns") or ()),
                detail_column=meta.get("detail_column"),
            )
        )
    return SuiteSpec(name=name, path=Path(path), meta=dict(data.get("meta") or {}), expectations=tuple(specs),
                     raw=data)


def load_suite_specs(directory: Path | str | None = None) -> dict[str, SuiteSpec]:
    """Every suite file of the folder, by suite name."""
    folder = resolve_expectations_dir(directory)
    suites = {}
    for path in sorted(folder.glob("*.json")):
        spec = load_suite_spec(path)
        suites[spec.name] = spec
    missing = [name for name in SUITE_NAMES if name not in suites]
    if missing:
        raise FileNotFoundError(f"{folder}: missing expectation suite(s) {', '.join(missing)}")
    return suites


def _exception_message(info: Any) -> str | None:
    """The first raised exception's message in a GX exception_info (flat or keyed by metric)."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "exception while computing a metric")
    for value in info.values():
        message = _exception_message(value)
        if message:
            return message
    return None


def _unexpected_rows(result: dict, index_name: str) -> np.ndarray:
    """The index value of every failing row from a GX result (named-index or column form)."""
    index_list = result.get("unexpected_index_list") or []
    if not index_list:
        return np.array([], dtype=np.int64)
    first = index_list[0]
    if isinstance(first, dict) and isinstance(first.get(index_name), list):
        values = first[index_name]
    elif isinstance(first, dict):
        values = [item[index_name] for item in index_list]
    else:
        values = index_list
    return np.asarray(values, dtype=np.int64)


class SuiteRunner:
    """An ephemeral GX Data Context with the suites of one folder, ready to validate frames."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = resolve_expectations_dir(directory)
        self.specs = load_suite_specs(self.directory)
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = self.context.data_sources.add_pandas("tthc_frames")
        self._definitions = {}
        for suite_name, suite_spec in self.specs.items():
            batch_definition = source.add_dataframe_asset(suite_name).add_batch_definition_whole_dataframe("frame")
            by_key = {item["meta"]["key"]: item for item in suite_spec.raw["expectations"]}
            for stage in STAGES:
                specs = suite_spec.stage(stage)
                if not specs:
                    continue
                expectations = []
                for spec in specs:
                    item = {k: v for k, v in by_key[spec.key].items() if k != "id"}
                    # to_domain_obj raises on an invalid configuration (the suite constructor would only log it)
                    expectations.append(ExpectationConfiguration(**item).to_domain_obj())
                suite = self.context.suites.add(
                    gx.ExpectationSuite(name=f"{suite_name}.{stage}", expectations=expectations,
                                        meta={**suite_spec.meta, "stage": stage})
                )
                definition = gx.ValidationDefinition(name=f"{suite_name}.{stage}", data=batch_definition, suite=suite)
                self._definitions[(suite_name, stage)] = self.context.validation_definitions.add(definition)
        self._lock = threading.Lock()
        self._engine = None

    def condition_mask(self, frame: pd.DataFrame, condition: dict | None) -> np.ndarray:
        """Which rows of a frame a row_condition keeps, filtered the way GX's pandas engine filters them."""
        if not condition:
            return np.ones(len(frame), dtype=bool)
        from great_expectations.execution_engine import PandasExecutionEngine
        from great_expectations.expectations.row_conditions import deserialize_row_condition

        if self._engine is None:
            self._engine = PandasExecutionEngine()
        clause = self._engine.condition_to_filter_clause(deserialize_row_condition(condition))
        return np.asarray(frame.eval(clause), dtype=bool)

    def run(self, suite: str, stage: str, frame: pd.DataFrame, parameters: dict | None = None) -> list[Outcome]:
        """Validate a frame against one stage of a suite; outcomes in the suite file's order.

        When the frame's index is named (a row position, a file number), each outcome's ``rows``
        lists the index values of the failing rows.
        """
        specs = self.specs[suite].stage(stage)
        definition = self._definitions.get((suite, stage))
        if definition is None:
            return []
        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # The definition's batch validated against the definition's suite. ValidationDefinition.run
            # would also persist each result in the context's results store, serialising every failing
            # row's index: 42 s instead of 2 s for two expectations failing on a million rows.
            batch = definition.batch_definition.get_batch(batch_parameters={"dataframe": frame})
            result = batch.validate(
                definition.suite,
                expectation_parameters=parameters or {},
                result_format=result_format(frame.index.name),
            )
        by_key = {r.expectation_config.meta.get("key"): r for r in result.results}
        outcomes = []
        for spec in specs:
            r = by_key.get(spec.key)
            if r is None:
                outcomes.append(Outcome(spec, False, None, None, np.array([], dtype=np.int64), error="no result"))
                continue
            details = r.result or {}
            error = _exception_message(r.exception_info)
            rows = (
                _unexpected_rows(details, frame.index.name)
                if frame.index.name and error is None
                else np.array([], dtype=np.int64)
            )
            unexpected = details.get("unexpected_count")
            element_count = details.get("element_count")
            if element_count is None and spec.type.startswith("expect_table_"):
                element_count = len(frame)  # table expectations: the rows the table had
            outcomes.append(
                Outcome(
                    spec=spec,
                    success=bool(r.success) and error is None,
                    element_count=None if element_count is None else int(element_count),
                    unexpected_count=None if unexpected is None else int(unexpected),
                    rows=rows,
                    observed=details.get("observed_value"),
                    error=error,
                )
            )
        return outcomes


_RUNNERS: dict[tuple, SuiteRunner] = {}
_RUNNERS_LOCK = threading.Lock()


def get_runner(directory: Path | str | None = None) -> SuiteRunner:
    """The process's runner for a suites folder (rebuilt when a suite file changes)."""
    folder = resolve_expectations_dir(directory).resolve()
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.json")))
    with _RUNNERS_LOCK:
        key = (str(folder), stamp)
        if key not in _RUNNERS:
            _RUNNERS.clear()
            _RUNNERS[key] = SuiteRunner(folder)
        return _RUNNERS[key]


def prepare_runner_in_background(directory: Path | str | None = None) -> None:
    """Build the process's runner (importing Great Expectations: seconds of Python) in a thread, while the
    caller goes on with work that waits elsewhere (a reader process, DuckDB); the first check then finds it
    ready. A failure here is ignored: the check's own :func:`get_runner` call raises it again."""

    def prepare() -> None:
        with contextlib.suppress(Exception):
            get_runner(directory)

    threading.Thread(target=prepare, name="prepare-suites", daemon=True).start()


def results_frame(outcomes: list[Outcome]) -> pd.DataFrame:
    """Outcomes as rows of the results table (suite, expectation, column, success, counts, severity)."""
    rows = [
        {
            "suite": o.spec.suite,
            "expectation": o.spec.type,
            "column": o.spec.column,
            "success": o.success,
            "element_count": o.element_count,
            "unexpected_count": o.unexpected_count,
            "severity": o.spec.severity,
        }
        for o in outcomes
    ]
    return results_table(rows)


RESULT_COLUMNS = ["suite", "expectation", "column", "success", "element_count", "unexpected_count", "severity"]


def results_table(rows: list[dict] | None = None) -> pd.DataFrame:
    """A results table with stable dtypes (nullable success and counts)."""
    frame = pd.DataFrame(rows or [], columns=RESULT_COLUMNS)
    frame["success"] = frame["success"].astype("boolean")
    frame["element_count"] = frame["element_count"].astype("Int64")
    frame["unexpected_count"] = frame["unexpected_count"].astype("Int64")
    for name in ("suite", "expectation", "column", "severity"):
        frame[name] = frame[name].astype("object")
    return frame
