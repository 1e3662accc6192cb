"""The offline validation report: every expectation's outcome per file and suite, and the quarantine.

GX's own Data Docs load their styles and scripts from CDNs, and leadership often reads reports
offline, so the results are rendered into our own self-contained page (inline CSS, no scripts,
Jinja2 with autoescaping) at ``reports/validation/index.html``.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pipeline import db
from pipeline.formatting import fmt_datetime, fmt_int
from pipeline.validate.suites import SUITE_NAMES, load_suite_specs

TEMPLATES = Path(__file__).parent / "templates"
SEVERITY_LABELS = {"reject_row": "Cách ly dòng", "finding": "Ghi nhận", "reject_file": "Loại tệp"}
SUCCESS_LABELS = {True: "Đạt", False: "Không đạt", None: "Không kiểm tra"}
STATUS_LABELS = {"loaded": "Đã nhận", "ok": "Đạt", "rejected": "Bị loại", "already_ingested": "Đã nhận trước đó"}
SUMMARY_COLUMNS = ["source_file", "expectation", "field", "reason", "rows"]


def _generalise(reason: object) -> str:
    """A reason with row numbers generalised, so 'exact duplicate of row 12' groups with the others."""
    return re.sub(r"\brow \d+", "row N", str(reason))


def summarise_quarantine(quarantine: pd.DataFrame | None) -> pd.DataFrame:
    """Quarantined rows counted by file, expectation, field and reason."""
    if quarantine is None or quarantine.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    frame = quarantine.copy()
    if "source_file" not in frame.columns:
        frame["source_file"] = None
    frame["reason"] = frame["reason"].map(_generalise)
    keys = ["source_file", "expectation", "field", "reason"]
    frame[keys] = frame[keys].astype(object).where(frame[keys].notna(), "")
    summary = frame.groupby(keys, sort=False, dropna=False).size().reset_index(name="rows")
    return summary.sort_values(["source_file", "rows"], ascending=[True, False], ignore_index=True)


def _file_label(value, suite: str) -> str:
    if value is not None and not pd.isna(value) and str(value):
        return str(value)
    return "mart.kpi_period (kho dữ liệu)" if suite == "marts" else "(không rõ tệp)"


def _suite_order(name: str) -> int:
    return SUITE_NAMES.index(name) if name in SUITE_NAMES else len(SUITE_NAMES)


def _result_rows(results: pd.DataFrame, specs) -> list[dict]:
    """One entry per file: its suites, each with its expectations in the suite file's order."""
    if results is None or results.empty:
        return []
    frame = results.copy()
    file_column = "source_file" if "source_file" in frame.columns else ("file" if "file" in frame.columns else None)
    frame["_file"] = [
        _file_label(f, s) for f, s in zip(frame[file_column] if file_column else [None] * len(frame), frame["suite"],
                                          strict=True)
    ]
    files = []
    for file_name, by_file in sorted(frame.groupby("_file", sort=False), key=lambda item: item[0]):
        suites = []
        for suite_name, by_suite in sorted(by_file.groupby("suite", sort=False), key=lambda i: _suite_order(i[0])):
            spec_suite = specs.get(suite_name)
            rows = []
            for record in by_suite.to_dict("records"):
                column = record.get("column")
                column = None if column is None or pd.isna(column) else str(column)
                spec = spec_suite.find(record["expectation"], column) if spec_suite else None
                success = record.get("success")
                success = None if success is None or pd.isna(success) else bool(success)
                rows.append({
                    "order": spec_suite.expectations.index(spec) if spec else 10_000,
                    "expectation": record["expectation"],
                    "column": column or "(cả bảng)",
                    "severity": SEVERITY_LABELS.get(record.get("severity"), record.get("severity")),
                    "severity_code": record.get("severity"),
                    "description": spec.description_vi if spec else "",
                    "success": SUCCESS_LABELS[success],
                    "success_class": {True: "ok", False: "bad", None: "skip"}[success],
                    "element_count": fmt_int(record.get("element_count")),
                    "unexpected_count": fmt_int(record.get("unexpected_count")),
                })
            rows.sort(key=lambda r: r["order"])
            failed = sum(1 for r in rows if r["success_class"] == "bad")
            suites.append({
                "name": suite_name,
                "description": spec_suite.meta.get("description_vi", "") if spec_suite else "",
                "rows": rows,
                "failed": failed,
            })
        files.append({"name": file_name, "suites": suites})
    return files


def write_validation_report(
    results: pd.DataFrame,
    quarantine_summary: pd.DataFrame,
    out_dir: Path,
    files: pd.DataFrame | None = None,
    expectations_dir: Path | str | None = None,
) -> Path:
    """Write ``<out_dir>/validation/index.html`` (``out_dir`` is the reports folder) and return its path.

    ``results`` are results rows (suite, expectation, column, success, element_count,
    unexpected_count, severity) with a ``source_file`` column naming the file they belong to;
    ``quarantine_summary`` is either a summary (with a ``rows`` count) or the quarantine rows
    themselves (summarised here); ``files`` optionally lists each file's ``status`` and ``reason``.
    """
    out_dir = Path(out_dir)
    target_dir = out_dir if out_dir.name == "validation" else out_dir / "validation"
    target_dir.mkdir(parents=True, exist_ok=True)
    specs = load_suite_specs(expectations_dir)
    summary = quarantine_summary
    if summary is None or "rows" not in summary.columns:
        summary = summarise_quarantine(summary)
    summary_rows = [
        {
            "file": _file_label(r.get("source_file"), ""),
            "expectation": r.get("expectation") or "",
            "field": r.get("field") or "",
            "reason": r.get("reason") or "",
            "rows": fmt_int(r.get("rows")),
        }
        for r in summary.to_dict("records")
    ]
    file_rows = []
    if files is not None and not files.empty:
        for r in files.to_dict("records"):
            file_rows.append({
                "file": str(r.get("source_file") or r.get("file_path") or ""),
                "status": STATUS_LABELS.get(r.get("status"), r.get("status") or ""),
                "status_class": "bad" if r.get("status") == "rejected" else "ok",
                "rows": fmt_int(r.get("rows_read", r.get("rows"))),
                "quarantined": fmt_int(r.get("rows_quarantined")),
                "findings": fmt_int(r.get("findings")),
                "reason": r.get("reason") if r.get("reason") is not None and not pd.isna(r.get("reason")) else "",
            })
    result_files = _result_rows(results, specs)
    total_results = sum(len(s["rows"]) for f in result_files for s in f["suites"])
    failed_results = sum(s["failed"] for f in result_files for s in f["suites"])
    catalogue = [
        {
            "name": suite.name,
            "description": suite.meta.get("description_vi", ""),
            "version": suite.meta.get("suite_version", ""),
            "path": suite.path.name,
            "expectations": [
                {
                    "key": e.key,
                    "expectation": e.type,
                    "column": e.column or "(cả bảng)",
                    "severity": SEVERITY_LABELS[e.severity],
                    "severity_code": e.severity,
                    "description": e.description_vi,
                    "description_en": e.description_en,
                }
                for e in suite.expectations
            ],
        }
        for suite in sorted(specs.values(), key=lambda s: _suite_order(s.name))
    ]
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
    html = environment.get_template("validation.html.j2").render(
        generated_at=fmt_datetime(datetime.now()),
        files=file_rows,
        rejected=sum(1 for f in file_rows if f["status_class"] == "bad"),
        result_files=result_files,
        total_results=fmt_int(total_results),
        failed_results=fmt_int(failed_results),
        quarantined=fmt_int(sum(int(r) for r in summary["rows"]) if len(summary) else 0),
        summary=summary_rows,
        catalogue=catalogue,
    )
    target = target_dir / "index.html"
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(html, encoding="utf-8")
    temporary.replace(target)
    return target


def write_warehouse_validation_report(settings) -> Path:
    """The validation report of a built warehouse (its ``ops`` tables): the checks of every file, its
    quarantined rows and findings, the files rejected by this run, and the checks of the built marts."""
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
    return write_validation_report(results, summarise_quarantine(quarantine), Path(settings.reports_dir),
                                   files=files, expectations_dir=settings.expectations_dir)
