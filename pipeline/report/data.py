"""What the scorecards read from the warehouse (read-only), as DataFrames.

Only the documented contract is read: ``mart.kpi_period``, ``mart.case_timeliness``, ``mart.bieu06``,
``mart.objective``, ``mart.directive_kpi_period`` and ``mart.directive_timeliness``,
``mart.feedback_kpi_period`` and ``mart.feedback_timeliness``, ``mart.timeliness_rules``, ``core.period``,
``core.target`` and ``ops.file`` / ``ops.quarantine`` / ``ops.validation_result``.
Every value from data is bound as a parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute

from pipeline.formatting import is_missing

KPI_COUNTS = (
    "received_total", "received_online", "received_offline", "carried_over", "resolved_total", "early", "on_time",
    "late", "withdrawn", "stopped", "open_total", "open_in_time", "open_overdue", "ratings", "satisfied",
    "unsatisfied", "late_with_apology", "apology_timely", "rescheduled_more_than_once", "due_beyond_legal_limit",
)
BIEU06_COLUMNS = tuple(f"c{n}" for n in range(3, 14))
BIEU06_FIELDS = (
    "c3_received_total", "c4_received_online", "c5_received_offline", "c6_carried_over", "c7_resolved_total",
    "c8_early", "c9_on_time", "c10_late", "c11_open_total", "c12_open_in_time", "c13_open_overdue",
)
CASE_FLAGS = (
    "is_received_in_period", "is_carried_over", "is_resolved_in_period", "is_withdrawn", "is_stopped",
    "has_apology", "due_beyond_legal_limit",
)
# The columns of mart.kpi_period the report reads (and digests); a column a page shows must be listed.
KPI_READ_COLUMNS = (
    "period_scheme", "period", "dimension", "dimension_value", "received_total", "received_online",
    "received_offline", "carried_over", "resolved_total", "early", "on_time", "late", "withdrawn", "stopped",
    "open_total", "open_in_time", "open_overdue", "on_time_rate", "early_rate", "ratings", "satisfied",
    "satisfaction_rate", "grain", "period_name", "first_day", "last_day", "judged_at", "late_with_apology",
    "apology_rate",
)
_KPI_SELECT = ", ".join(KPI_READ_COLUMNS)
_KPI_MONTH_SELECT = ", ".join(f"k.{c}" for c in KPI_READ_COLUMNS)
# Tables whose rows make the fingerprints of report files (names from code, never from data), and the
# columns digested (None: every column).
DIGESTED_TABLES = {"mart.kpi_period": KPI_READ_COLUMNS, "mart.objective": None, "mart.bieu06": None,
                   "mart.directive_kpi_period": None, "mart.feedback_kpi_period": None}
# The columns of mart.directive_timeliness the report reads (and digests); one row per task and deadline basis.
DIRECTIVE_SOURCE_COLUMNS = (
    "deadline_basis", "task_id", "title", "lead_unit", "co_units", "assigned_at", "deadline", "deadline_text",
    "has_extension", "completed_at", "is_assigned_in_period", "is_completed_in_period", "timeliness_class",
    "is_due_soon",
)
# The columns of mart.feedback_timeliness the report reads (and digests); one row per PAKN.
FEEDBACK_SOURCE_COLUMNS = (
    "feedback_id", "title", "category", "case_id", "case_known", "unit", "clock_start_at", "answer_due_at",
    "handling", "handled_at", "published_at", "is_disliked", "repeated", "repeat_followed", "published_late",
    "answered_unpublished", "is_received_in_period", "is_handled_in_period", "timeliness_class",
    "is_unsatisfied_5_3",
)
DIRECTIVE_FRAME_COLUMNS = (
    "task_id", "title", "lead_unit", "co_units", "assigned_at", "deadline_original", "deadline_extended",
    "deadline_text", "has_extension", "completed_at", "is_assigned_in_period", "is_completed_in_period",
    "class_original", "class_extended", "due_soon_original", "due_soon_extended",
)
RECORD_VIEWS = {"directive": ("mart.directive_timeliness", DIRECTIVE_SOURCE_COLUMNS),
                "feedback": ("mart.feedback_timeliness", FEEDBACK_SOURCE_COLUMNS)}
KIND_KPI_TABLES = {"directive": "mart.directive_kpi_period", "feedback": "mart.feedback_kpi_period"}
# The columns of mart.case_timeliness the report reads (and digests).
CASE_SOURCE_COLUMNS = (
    "case_id", "unit", "sector", "sector_code", "procedure_code", "procedure_name", "channel", "received_at",
    "due_at", "end_at", "end_at_source", "paused_minutes", "supplement_count", "adjusted_end_at",
    "timeliness_class", "late_working_hours", "reschedule_count", *CASE_FLAGS,
)
# Case columns read as categoricals (few distinct values among many rows).
DICTIONARY_COLUMNS = (
    "unit", "sector", "sector_code", "procedure_code", "procedure_name", "channel", "end_at_source",
    "timeliness_class", "id_prefix",
)


@dataclass(frozen=True)
class PeriodRow:
    """One reporting period as core.period stores it."""

    scheme: str
    grain: str
    label: str
    name: str
    first_day: object
    last_day: object
    judged_at: object
    is_complete: bool


class WarehouseData:
    """Read-only queries of the warehouse for the report pages."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        con.execute("set enable_progress_bar = false")  # reading a million cases must not draw on the log
        self._tables = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }

    def has(self, table: str) -> bool:
        """Whether a table or view ``schema.name`` exists."""
        return table in self._tables

    def frame(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        """The result of a query as a DataFrame."""
        return self.con.execute(sql, params or {}).df()

    def columns(self, table: str) -> set[str]:
        """Column names of a table."""
        schema, name = table.split(".")
        return {
            row[0]
            for row in self.con.execute(
                "select column_name from information_schema.columns where table_schema = $s and table_name = $n",
                {"s": schema, "n": name},
            ).fetchall()
        }

    # --- periods --------------------------------------------------------------------------------
    def periods(self, scheme: str, grains: list[str]) -> list[PeriodRow]:
        """Periods of the grains in a scheme that have measures, newest first."""
        frame = self.frame(
            """
            select p.period_scheme, p.grain, p.period, p.period_name, p.first_day, p.last_day, p.judged_at,
                   p.is_complete
            from core.period p
            where p.period_scheme = $scheme and list_contains($grains, p.grain)
              and exists (select 1 from mart.kpi_period k
                          where k.period_scheme = p.period_scheme and k.period = p.period and k.dimension = 'all')
            order by p.first_day desc, p.last_day desc
            """,
            {"scheme": scheme, "grains": list(grains)},
        )
        return [PeriodRow(r.period_scheme, r.grain, r.period, r.period_name, pd.Timestamp(r.first_day).date(),
                          pd.Timestamp(r.last_day).date(), r.judged_at, bool(r.is_complete))
                for r in frame.itertuples()]

    def period(self, scheme: str, label: str) -> PeriodRow | None:
        """One period of core.period, or None."""
        frame = self.frame(
            "select period_scheme, grain, period, period_name, first_day, last_day, judged_at, is_complete "
            "from core.period where period_scheme = $scheme and period = $period",
            {"scheme": scheme, "period": label},
        )
        if frame.empty:
            return None
        r = next(frame.itertuples())
        return PeriodRow(r.period_scheme, r.grain, r.period, r.period_name, pd.Timestamp(r.first_day).date(),
                         pd.Timestamp(r.last_day).date(), r.judged_at, bool(r.is_complete))

    def scheme_periods(self, scheme: str) -> dict[str, PeriodRow]:
        """Every period of a scheme in core.period, by label."""
        frame = self.frame(
            "select period_scheme, grain, period, period_name, first_day, last_day, judged_at, is_complete "
            "from core.period where period_scheme = $scheme",
            {"scheme": scheme},
        )
        return {r.period: PeriodRow(r.period_scheme, r.grain, r.period, r.period_name,
                                    pd.Timestamp(r.first_day).date(), pd.Timestamp(r.last_day).date(),
                                    r.judged_at, bool(r.is_complete))
                for r in frame.itertuples()}

    def column_types(self, table: str) -> dict[str, str]:
        """Column names of a table and their types, in table order."""
        schema, name = table.split(".")
        return dict(self.con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = $s and table_name = $n order by ordinal_position",
            {"s": schema, "n": name},
        ).fetchall())

    def _hashed(self, table: str, columns: list[str] | None = None) -> str:
        """``hash(…)`` of a row's columns, doubles rounded to 9 decimals: parallel sums in the marts may
        differ in the last bits from one build to the next, and that is not a change of what is shown."""
        types = self.column_types(table)
        parts = []
        for column in columns or list(types):
            if not re.fullmatch(r"\w+", column):
                raise ValueError(f"{table}: unexpected column name {column!r}")
            quoted = f'"{column}"'
            parts.append(f"round({quoted}, 9)" if types.get(column) in ("DOUBLE", "FLOAT", "REAL") else quoted)
        return f"hash({', '.join(parts)})"

    def period_digests(self, table: str, scheme: str) -> dict[str, str]:
        """A digest of every row of a mart table, per period of a scheme (row count and a sum of row hashes).

        Rows are hashed whole, in any order; a table that does not exist gives no digests.
        """
        if table not in DIGESTED_TABLES:
            raise ValueError(f"no digest of {table}")
        if not self.has(table):
            return {}
        columns = DIGESTED_TABLES[table]
        rows = self.con.execute(
            f"select period, count(*), sum({self._hashed(table, columns)}::hugeint)::varchar from {table} "
            "where period_scheme = $scheme group by period",
            {"scheme": scheme},
        ).fetchall()
        return {period: f"{count}:{total}" for period, count, total in rows}

    def case_digests(self, scheme: str, periods: list[str]) -> dict[str, str]:
        """A digest of the case rows :meth:`cases_of_periods` reads, per period (only the columns it reads)."""
        available = self.columns("mart.case_timeliness")
        hashed = self._hashed("mart.case_timeliness", [c for c in CASE_SOURCE_COLUMNS if c in available])
        rows = self.con.execute(
            f"select period, count(*), sum({hashed}::hugeint)::varchar from mart.case_timeliness "
            "where period_scheme = $scheme and list_contains($periods, period) "
            "and (coalesce(is_received_in_period, false) or coalesce(is_carried_over, false)) group by period",
            {"scheme": scheme, "periods": list(periods)},
        ).fetchall()
        return {period: f"{count}:{total}" for period, count, total in rows}

    # --- measures -------------------------------------------------------------------------------
    def kpi(self, scheme: str, period: str, dimension: str = "all") -> pd.DataFrame:
        """Rows of mart.kpi_period of one period and dimension."""
        return self.frame(
            f"select {_KPI_SELECT} from mart.kpi_period where period_scheme = $scheme and period = $period "
            "and dimension = $dimension order by dimension_value",
            {"scheme": scheme, "period": period, "dimension": dimension},
        )

    def kpi_row(self, scheme: str, period: str, dimension: str = "all", value: str = "all") -> dict | None:
        """One row of mart.kpi_period as a dict, or None."""
        frame = self.frame(
            f"select {_KPI_SELECT} from mart.kpi_period where period_scheme = $scheme and period = $period "
            "and dimension = $dimension and dimension_value is not distinct from $value",
            {"scheme": scheme, "period": period, "dimension": dimension, "value": value},
        )
        return None if frame.empty else _clean(frame.iloc[0].to_dict())

    def kpi_months(self, scheme: str, first_day, last_day, dimension: str = "all",
                   value: str | None = "all") -> pd.DataFrame:
        """Monthly rows of mart.kpi_period whose months start within first_day..last_day, oldest first."""
        return self.frame(
            f"""
            select {_KPI_MONTH_SELECT}, p.first_day as month_first_day, p.period_name as month_name
            from mart.kpi_period k
            join core.period p on p.period_scheme = k.period_scheme and p.period = k.period
            where k.period_scheme = $scheme and p.grain = 'month' and p.first_day between $first and $last
              and k.dimension = $dimension and ($value is null or k.dimension_value = $value)
            order by p.first_day, k.dimension_value
            """,
            {"scheme": scheme, "first": first_day, "last": last_day, "dimension": dimension, "value": value},
        )

    def objectives(self, scheme: str, period: str, dimension: str = "all", value: str = "all") -> dict[str, dict]:
        """mart.objective rows of one period and dimension value, by measure."""
        if not self.has("mart.objective"):
            return {}
        frame = self.frame(
            "select * from mart.objective where period_scheme = $scheme and period = $period "
            "and dimension = $dimension and dimension_value is not distinct from $value",
            {"scheme": scheme, "period": period, "dimension": dimension, "value": value},
        )
        return {row["measure"]: _clean(row) for row in frame.to_dict("records")}

    def objectives_by_value(self, scheme: str, period: str, dimension: str, measure: str) -> dict:
        """Verdict rows of one measure for every value of a dimension."""
        if not self.has("mart.objective"):
            return {}
        frame = self.frame(
            "select * from mart.objective where period_scheme = $scheme and period = $period "
            "and dimension = $dimension and measure = $measure",
            {"scheme": scheme, "period": period, "dimension": dimension, "measure": measure},
        )
        return {row["dimension_value"]: _clean(row) for row in frame.to_dict("records")}

    def targets(self, year: int, unit: str | None = None) -> dict[str, dict]:
        """The quality-objective targets in force for a year (core.target), by measure: the unit's own targets
        when the targets file gives the unit a table, else the department's."""
        if not self.has("core.target"):
            return {}
        frame = self.frame(
            "select * from core.target where year = $year and unit = (case when exists "
            "(select 1 from core.target where year = $year and unit = $unit) then $unit else 'all' end) "
            "order by measure",
            {"year": int(year), "unit": unit or "all"},
        )
        return {row["measure"]: _clean(row) for row in frame.to_dict("records")}

    def target_rows(self, year: int) -> list[tuple]:
        """Every target of a year (core.target), as sorted tuples (for fingerprints)."""
        if not self.has("core.target"):
            return []
        return sorted(tuple(map(str, r)) for r in self.con.execute(
            "select unit, measure, op, value, target_text from core.target where year = $year",
            {"year": int(year)}).fetchall())

    def rule(self, name: str) -> str | None:
        """A rule the marts were built with (mart.timeliness_rules), as text, or None."""
        if not self.has("mart.timeliness_rules"):
            return None
        row = self.con.execute("select value from mart.timeliness_rules where rule = $rule",
                               {"rule": name}).fetchone()
        return None if row is None else row[0]

    def kind_kpi(self, kind: str, scheme: str, periods: list[str], dimension: str = "all",
                 value: str | None = None) -> pd.DataFrame:
        """Rows of a record kind's kpi mart (``directive``: mart.directive_kpi_period, ``feedback``:
        mart.feedback_kpi_period) for periods and a dimension (one value, or every value when None)."""
        table = KIND_KPI_TABLES[kind]
        if not self.has(table):
            return pd.DataFrame()
        return self.frame(
            f"select * from {table} where period_scheme = $scheme and list_contains($periods, period) "
            "and dimension = $dimension and ($value is null or dimension_value = $value) "
            "order by period, dimension_value",
            {"scheme": scheme, "periods": list(periods), "dimension": dimension, "value": value},
        )

    def directives_of_period(self, scheme: str, period: str) -> pd.DataFrame:
        """The directive tasks of a period (mart.directive_timeliness), one row per task with its class on
        both deadline bases (``class_original``, ``class_extended``, ``deadline_original``, ``deadline_extended``,
        ``due_soon_original``, ``due_soon_extended``), in assignment order; empty when there are none."""
        if not self.has("mart.directive_timeliness"):
            return pd.DataFrame(columns=list(DIRECTIVE_FRAME_COLUMNS))
        return self.frame(
            """
            select
                task_id,
                any_value(title) as title,
                any_value(lead_unit) as lead_unit,
                any_value(co_units) as co_units,
                any_value(assigned_at) as assigned_at,
                any_value(deadline) filter (where deadline_basis = 'original') as deadline_original,
                any_value(deadline) filter (where deadline_basis = 'extended') as deadline_extended,
                any_value(deadline_text) as deadline_text,
                coalesce(bool_or(has_extension), false) as has_extension,
                any_value(completed_at) as completed_at,
                coalesce(bool_or(is_assigned_in_period), false) as is_assigned_in_period,
                coalesce(bool_or(is_completed_in_period), false) as is_completed_in_period,
                any_value(timeliness_class) filter (where deadline_basis = 'original') as class_original,
                any_value(timeliness_class) filter (where deadline_basis = 'extended') as class_extended,
                coalesce(bool_or(is_due_soon) filter (where deadline_basis = 'original'), false) as due_soon_original,
                coalesce(bool_or(is_due_soon) filter (where deadline_basis = 'extended'), false) as due_soon_extended
            from mart.directive_timeliness
            where period_scheme = $scheme and period = $period
            group by task_id
            order by assigned_at, task_id
            """,
            {"scheme": scheme, "period": period},
        )

    def feedback_of_period(self, scheme: str, period: str) -> pd.DataFrame:
        """The PAKN of a period (mart.feedback_timeliness: received before its end and not handled before its
        start), in receipt order; no sender data (the view has none)."""
        columns = ", ".join(FEEDBACK_SOURCE_COLUMNS)
        if not self.has("mart.feedback_timeliness"):
            return pd.DataFrame(columns=list(FEEDBACK_SOURCE_COLUMNS))
        return self.frame(
            f"select {columns} from mart.feedback_timeliness where period_scheme = $scheme and period = $period "
            "order by clock_start_at, feedback_id",
            {"scheme": scheme, "period": period},
        )

    def record_digests(self, kind: str, scheme: str) -> dict[str, str]:
        """A digest of the rows of a record kind's timeliness view the report reads, per period of a scheme."""
        view, columns = RECORD_VIEWS[kind]
        if not self.has(view):
            return {}
        rows = self.con.execute(
            f"select period, count(*), sum({self._hashed(view, list(columns))}::hugeint)::varchar from {view} "
            "where period_scheme = $scheme group by period",
            {"scheme": scheme},
        ).fetchall()
        return {period: f"{count}:{total}" for period, count, total in rows}

    def bieu06(self, scheme: str, period: str) -> pd.DataFrame:
        """Rows of mart.bieu06 for one period: sector rows by row number, then the total row."""
        return self.frame(
            "select * from mart.bieu06 where period_scheme = $scheme and period = $period "
            "order by coalesce(is_total, false), row_no, sector",
            {"scheme": scheme, "period": period},
        )

    def cases_of_periods(self, scheme: str, periods: list[str]) -> dict[str, pd.DataFrame]:
        """Cases of the periods' workloads (received in a period or carried over into it), from mart.case_timeliness.

        One frame per period, one row per case in receipt order; case codes in Unicode NFC (other texts are
        normalised where they are grouped); flags never NULL; ``channel`` as text (``'1'``, ``'2'``, ``'3'``);
        low-cardinality texts as pandas categoricals. The case code is also split into ``id_prefix``,
        ``id_width`` and ``id_number`` (``H55.000123`` → ``H55.``, 6, 123: the trailing digits, at most 15; a
        code not ending in a digit has width 0). The periods are read in one query; text work is done by Arrow.
        """
        available = self.columns("mart.case_timeliness")
        columns = ", ".join(
            "cast(channel as varchar) as channel" if c == "channel"
            else f"coalesce({c}, false) as {c}" if c in CASE_FLAGS
            else c if c in available else f"null::varchar as {c}"
            for c in CASE_SOURCE_COLUMNS
        )
        table = self.con.sql(
            f"select period, {columns} from mart.case_timeliness "
            "where period_scheme = $scheme and list_contains($periods, period) "
            "and (coalesce(is_received_in_period, false) or coalesce(is_carried_over, false)) "
            "order by period, received_at, case_id",
            params={"scheme": scheme, "periods": list(periods)},
        ).to_arrow_table()
        ids = pyarrow.compute.utf8_normalize(table.column("case_id"), "NFC")
        parts = pyarrow.compute.extract_regex(ids, r"^(?P<prefix>(?s:.)*?)(?P<digits>\d{0,15})$")
        digits = pyarrow.compute.struct_field(parts, "digits")
        width = pyarrow.compute.utf8_length(digits)
        number = pyarrow.compute.cast(pyarrow.compute.if_else(pyarrow.compute.greater(width, 0), digits, "0"),
                                      pyarrow.int64())
        channel = pyarrow.compute.replace_substring_regex(table.column("channel"), r"\.0$", "")
        table = (table.set_column(table.schema.get_field_index("case_id"), "case_id", ids)
                 .set_column(table.schema.get_field_index("channel"), "channel", channel)
                 .append_column("id_prefix", pyarrow.compute.struct_field(parts, "prefix"))
                 .append_column("id_width", width)
                 .append_column("id_number", number))
        for name in DICTIONARY_COLUMNS:
            position = table.schema.get_field_index(name)
            table = table.set_column(position, name, pyarrow.compute.dictionary_encode(table.column(name)))
        frame = table.to_pandas()
        labels = frame.pop("period").to_numpy(dtype=object)
        out = {}
        for period in periods:
            first, last = np.searchsorted(labels, period, "left"), np.searchsorted(labels, period, "right")
            out[period] = frame.iloc[first:last].reset_index(drop=True)
        return out

    # --- data quality ---------------------------------------------------------------------------
    def data_freshness(self) -> dict:
        """Latest export and ingestion times of the loaded files."""
        if not self.has("ops.file"):
            return {"exported_at": None, "ingested_at": None}
        row = self.con.execute(
            "select max(exported_at), max(ingested_at) from ops.file where coalesce(status, '') <> 'rejected'"
        ).fetchone()
        return {"exported_at": row[0], "ingested_at": row[1]}

    def data_quality(self) -> dict:
        """Files and rows read, quarantine reasons and validation outcome."""
        out: dict = {"files": None, "quarantine": [], "validation": None, "suites": []}
        if self.has("ops.file"):
            out["files"] = _clean(self.frame(
                """
                select count(*) as files,
                       count(*) filter (where status = 'loaded') as files_loaded,
                       count(*) filter (where status = 'rejected') as files_rejected,
                       count(*) filter (where status not in ('loaded', 'rejected')) as files_other,
                       coalesce(sum(rows_read), 0) as rows_read,
                       coalesce(sum(rows_loaded), 0) as rows_loaded,
                       coalesce(sum(rows_skipped), 0) as rows_skipped,
                       coalesce(sum(rows_quarantined), 0) as rows_quarantined
                from ops.file
                """
            ).iloc[0].to_dict())
            out["rejected"] = [{**_clean(r), "reason": reason_vi(r["reason"], r["file_path"])} for r in self.frame(
                "select file_name, file_path, reason, exported_at from ops.file where status = 'rejected' "
                "order by exported_at desc nulls last, file_name limit 20"
            ).to_dict("records")]
        if self.has("ops.quarantine"):
            frame = self.frame(
                "select reason, source_file, count(*) as rows from ops.quarantine group by all"
            )
            out["quarantine"] = summarise_reasons(frame)
        if self.has("ops.validation_result"):
            frame = self.frame(
                "select suite, count(*) as expectations, count(*) filter (where success) as passed, "
                "count(*) filter (where not coalesce(success, false)) as failed, "
                "coalesce(sum(unexpected_count) filter (where not coalesce(success, false)), 0) as unexpected "
                "from ops.validation_result group by suite order by suite"
            )
            out["suites"] = [_clean(r) for r in frame.to_dict("records")]
            out["validation"] = {
                "expectations": int(frame["expectations"].sum()) if not frame.empty else 0,
                "passed": int(frame["passed"].sum()) if not frame.empty else 0,
                "failed": int(frame["failed"].sum()) if not frame.empty else 0,
            }
        return out


FIELD_VI = {
    "case_id": "mã hồ sơ", "procedure_code": "mã TTHC", "procedure_name": "tên thủ tục", "sector": "lĩnh vực",
    "unit": "đơn vị xử lý", "channel": "kênh nộp", "received_at": "ngày tiếp nhận", "due_at": "ngày hẹn trả",
    "finished_at": "ngày kết thúc xử lý", "returned_at": "ngày trả kết quả", "status": "trạng thái",
    "apology_at": "ngày xin lỗi", "new_due_at": "ngày hẹn trả mới", "rating": "mức độ hài lòng",
    "rated_at": "thời gian đánh giá", "record": "bản ghi", "supplement_requested_at": "ngày yêu cầu bổ sung",
    "supplement_received_at": "ngày nhận bổ sung", "supplement_new_due_at": "ngày hẹn trả mới sau bổ sung",
}
_REASON_PATTERNS = (
    (re.compile(r"^exact duplicate of row N$"), lambda m: "Dòng trùng lặp hoàn toàn với một dòng khác"),
    (re.compile(r"^(\w+) before (\w+)$"), lambda m: f"{_field(m[1]).capitalize()} trước {_field(m[2])}"),
    (re.compile(r"^(\w+): unknown status$"), lambda m: "Trạng thái hồ sơ không nhận ra"),
    (re.compile(r"^(\w+) missing on an accepted case$"),
     lambda m: f"Thiếu {_field(m[1])} ở hồ sơ đã tiếp nhận"),
    (re.compile(r"^(\w+)(?: \(cycle N\))?: cannot read date$"), lambda m: f"Không đọc được {_field(m[1])}"),
    (re.compile(r"^(\w+): cannot read (?:number|code|value)$"), lambda m: f"Không đọc được {_field(m[1])}"),
    (re.compile(r"^no case rows$"), lambda m: "Tệp không có dòng hồ sơ nào"),
)


def _field(name: str) -> str:
    return FIELD_VI.get(name, name)


def reason_vi(reason: object, file_path: object = None) -> str:
    """A quarantine or rejection reason for leadership: no row numbers or raw values, Vietnamese when known.

    'received_at: cannot read date '32/13/2025'' → 'Không đọc được ngày tiếp nhận'; unknown reasons are kept
    with their values and numbers blanked, so that rows with the same problem are counted together.
    """
    if is_missing(reason) or not str(reason).strip():
        return "(không ghi lý do)"
    text = str(reason).strip()
    if not is_missing(file_path) and text.startswith(f"{file_path}: "):
        text = text[len(str(file_path)) + 2:]
    text = re.sub(r"\s*\((?:expect|reader)[\w ]*\)\s*$", "", text)
    text = re.sub(r"\s*'[^']*'", "", text)
    text = re.sub(r"\d+", "N", text).strip()
    for pattern, words in _REASON_PATTERNS:
        match = pattern.match(text)
        if match:
            return words(match)
    return text


def summarise_reasons(frame: pd.DataFrame, limit: int = 12) -> list[dict]:
    """Quarantined rows counted by reason (as :func:`reason_vi` words it), most frequent first."""
    if frame.empty:
        return []
    frame = frame.assign(reason_vi=[reason_vi(r) for r in frame["reason"]])
    grouped = (frame.groupby("reason_vi")
               .agg(rows=("rows", "sum"), files=("source_file", "nunique"))
               .reset_index().sort_values(["rows", "reason_vi"], ascending=[False, True]))
    out = [{"reason": r.reason_vi, "rows": int(r.rows), "files": int(r.files)}
           for r in grouped.head(limit).itertuples()]
    rest = grouped.iloc[limit:]
    if not rest.empty:
        out.append({"reason": f"Lý do khác ({len(rest)} loại)", "rows": int(rest["rows"].sum()),
                    "files": int(frame[frame["reason_vi"].isin(rest["reason_vi"])]["source_file"].nunique())})
    return out


def _clean(row: dict) -> dict:
    """A row with NaN/NaT/NA turned into None and numpy scalars into Python ones."""
    out = {}
    for key, value in row.items():
        if is_missing(value):
            out[key] = None
        elif hasattr(value, "item") and not isinstance(value, (pd.Timestamp,)):
            out[key] = value.item()
        else:
            out[key] = value
    return out
