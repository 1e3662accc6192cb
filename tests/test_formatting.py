"""Numbers, percentages and dates are formatted in one module, the same way on every surface.

The expected texts are written by hand from DESIGN §2 (``12.345``, ``95,3%``) and the rule that a
rate that is not exactly 1 (0) never prints as ``100,0%`` (``0,0%``).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tokenize
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from html_dom import parse, parse_text

from pipeline import db
from pipeline.formatting import (
    fmt_date,
    fmt_date_words,
    fmt_dates_range,
    fmt_datetime,
    fmt_decimal,
    fmt_int,
    fmt_moment,
    fmt_number,
    fmt_number_short,
    fmt_pct,
    fmt_pct_short,
    plain_decimal,
)
from pipeline.notify import build_message
from pipeline.publish import RunSummary, headline, summary_markdown
from pipeline.report import render_all
from pipeline.report.kpi import write_kpi
from pipeline.report.warnings import format_warnings_text, load_warnings, write_warning_reports
from pipeline.targets import Target

PIPELINE = Path(__file__).resolve().parents[1] / "pipeline"

# fraction, how every surface must print it (written by hand)
FRACTIONS = [
    (1999 / 2000, "99,9%"),
    (1 / 3, "33,3%"),
    (0.0005, "0,1%"),
    (1.0, "100,0%"),
    (0.0, "0,0%"),
]


def test_numbers_the_vietnamese_way():
    assert fmt_int(12345) == "12.345"
    assert fmt_int(1234567) == "1.234.567"
    assert fmt_int(0) == "0"
    assert fmt_int(None) == "–"
    assert fmt_number(1234.5, 1) == "1.234,5"
    assert fmt_number(-1234.56, 1) == "-1.234,6"
    assert fmt_number(-0.01, 1) == "0,0"
    assert fmt_number(0.05, 1) == "0,1"  # half-up on the decimal shown, not binary half-even
    assert fmt_number_short(12.0) == "12"
    assert fmt_number_short(3.5) == "3,5"
    assert fmt_decimal(12345.678) == "12.345,68"
    assert plain_decimal(3.5) == "3.50"
    assert plain_decimal(None) == ""


@pytest.mark.parametrize(("fraction", "text"), FRACTIONS)
def test_rate_rounding_rule(fraction, text):
    assert fmt_pct(fraction) == text


def test_percent_edges():
    assert fmt_pct(0.953) == "95,3%"
    assert fmt_pct(0.99996) == "99,9%"
    assert fmt_pct(0.00001) == "0,1%"
    assert fmt_pct(0.9995, 2) == "99,95%"
    assert fmt_pct(12.345) == "1.234,5%"
    assert fmt_pct(float("nan")) == "–"
    assert fmt_pct_short(1.0) == "100%"
    assert fmt_pct_short(0.2) == "20%"
    assert fmt_pct_short(0.995) == "99,5%"
    assert Target("on_time_rate", ">=", 0.995).text_vi == "≥ 99,5%"
    assert Target("satisfaction_rate", ">", 0.95).text_vi == "> 95%"


def test_dates():
    assert fmt_date("2025-03-31") == "31/03/2025"
    assert fmt_datetime("2025-03-31 16:45:59") == "31/03/2025 16:45"
    assert fmt_datetime("2025-03-31 16:45:09", seconds=True) == "31/03/2025 16:45:09"
    assert fmt_dates_range("2025-01-01", "2025-03-31") == "Từ ngày 01/01/2025 đến ngày 31/03/2025"
    assert fmt_moment("2025-04-01 00:00") == "24:00 ngày 31/03/2025"
    assert fmt_moment("2025-04-01 10:30") == "01/04/2025 10:30"
    assert fmt_date_words("2025-03-05") == "ngày 05 tháng 03 năm 2025"


# --- the same fraction on every surface ------------------------------------------------------------


@pytest.fixture(scope="module")
def planted(report_build, tmp_path_factory):
    """A copy of the report warehouse whose 2025-Q1 rates are the fractions above, and its render."""
    base = tmp_path_factory.mktemp("fractions")
    warehouse = base / "tthc.duckdb"
    shutil.copyfile(report_build.warehouse, warehouse)
    con = db.connect(warehouse)
    try:
        units = [r[0] for r in con.execute(
            "select dimension_value from mart.kpi_period where period_scheme = 'calendar' and period = '2025-Q1' "
            "and dimension = 'unit' order by dimension_value").fetchall()]
        assert len(units) >= 2
        con.execute("update mart.kpi_period set on_time_rate = $r where period_scheme = 'calendar' "
                    "and period = '2025-Q1' and dimension = 'all'", {"r": FRACTIONS[0][0]})
        slots = {}
        fractions = iter(FRACTIONS * 3)
        for unit in units:
            for column in ("on_time_rate", "early_rate", "satisfaction_rate"):
                fraction, text = next(fractions)
                con.execute(f"update mart.kpi_period set {column} = $r where period_scheme = 'calendar' "
                            "and period = '2025-Q1' and dimension = 'unit' and dimension_value = $u",
                            {"r": fraction, "u": unit})
                slots[(unit, column)] = text
        # the charts: March 2025's rates and online share, the quarter's directive and PAKN rates
        con.execute("update mart.kpi_period set on_time_rate = $r, satisfaction_rate = $r, received_online = 1999, "
                    "received_offline = 1 where period_scheme = 'calendar' and period = '2025-03' "
                    "and dimension = 'all'", {"r": FRACTIONS[0][0]})
        con.execute("update mart.directive_kpi_period set strict_rate = $r, headline_rate = $r "
                    "where period_scheme = 'calendar' and period = '2025-Q1' and dimension = 'all'",
                    {"r": FRACTIONS[0][0]})
        con.execute("update mart.feedback_kpi_period set handled_rate = $r, on_time_rate = $r "
                    "where period_scheme = 'calendar' and period = '2025-Q1' and dimension = 'all'",
                    {"r": FRACTIONS[0][0]})
        # the warnings: 2.25 working hours left prints "2,3" (half-up on the decimal shown, as everywhere)
        warned = con.execute("select case_id from mart.warnings where warning_kind = 'due_soon' "
                             "order by case_id limit 1").fetchone()[0]
        con.execute("update mart.warnings set working_hours_left = 2.25 where case_id = $c", {"c": warned})
    finally:
        con.close()
    settings = report_build.settings.model_copy(update={"warehouse": warehouse, "reports_dir": base / "reports"})
    render_all(settings, grains=["quarter"], units=False)
    return settings, slots, warned


def _kpi_table(warehouse: Path, by: str | None) -> str:
    out = io.StringIO()
    con = db.connect_existing(warehouse)
    try:
        write_kpi(con, "2025-Q1", "calendar", by, "table", out)
    finally:
        con.close()
    return out.getvalue()


def test_the_same_rate_prints_the_same_everywhere(planted):
    settings, slots, _ = planted
    expected = FRACTIONS[0][1]
    scorecard = parse(settings.reports_dir / "scorecards" / "calendar" / "2025-Q1.html")
    tile = scorecard.find("article", cls="tile", data_measure="on_time_rate").find("p", cls="value").clean_text()
    index = parse(settings.reports_dir / "index.html")
    index_cell = index.find("tr", data_period="2025-Q1").find("td", data_measure="on_time_rate")
    table = _kpi_table(settings.warehouse, None)
    kpi_line = next(line for line in table.splitlines() if line.startswith("Tỷ lệ đúng hạn"))
    assert tile == expected
    assert index_cell.find("span", cls="rate").clean_text() == expected
    assert kpi_line.split()[-1] == expected

    wide = _kpi_table(settings.warehouse, "unit").splitlines()
    headings = re.split(r"\s{2,}", next(line for line in wide if line.startswith("Đơn vị")).strip())
    units_table = scorecard.find("table", cls="units")
    heading_of = {"on_time_rate": "Tỷ lệ đúng hạn", "early_rate": "Tỷ lệ trước hạn", "satisfaction_rate": "Tỷ lệ hài lòng"}
    for (unit, column), text in slots.items():
        row = next(line for line in wide if line.startswith(unit + "  "))
        cells = re.split(r"\s{2,}", row.strip())
        assert cells[headings.index(heading_of[column])] == text, (unit, column)
        assert units_table.find("tr", data_unit=unit).find("td", data_col=column).clean_text() == text

    # the nightly run's summary (the Prefect artifact and the log line)
    summary = RunSummary(run_id="r1", status="success", headline=headline(settings.warehouse, "calendar"))
    assert summary.headline["period"] == "2025-Q1"
    assert f"| Tỷ lệ đúng hạn (trước hạn + đúng hạn) | {expected} |" in summary_markdown(summary)
    assert f"2025-Q1: on time {expected}" in summary.one_line()


def hovers(figure: dict) -> list[tuple[str, object, str]]:
    """(trace name, value, hover text) of every point of a figure, the hover text filled in as plotly.js
    fills a template in (``%{field}`` → the point's value of that field, ``<extra></extra>`` dropped)."""
    out = []
    for trace in figure["data"]:
        template = trace.get("hovertemplate")
        if template is None:
            continue
        values = trace["x"] if trace.get("orientation") == "h" else trace["y"]
        for i, value in enumerate(values):
            text = re.sub(r"%\{(\w+)\}", lambda m, i=i, t=trace: str(t[m.group(1)][i]), template)
            out.append((trace.get("name"), value, text.replace("<extra></extra>", "")))
    return out


def test_chart_hovers_print_the_same_rate(planted):
    settings, _, _ = planted
    page = (settings.reports_dir / "scorecards" / "calendar" / "2025-Q1.html").read_text(encoding="utf-8")
    figures = json.loads(re.search(r"var figures = (\[.*?\]);\n", page, re.S).group(1))
    ids = json.loads(re.search(r"var ids = (\[.*?\]);\n", page, re.S).group(1))
    fraction, expected = FRACTIONS[0]
    planted_points = {}
    for chart, figure in zip(ids, figures, strict=True):
        for name, value, text in hovers(figure):
            # every field is filled in whole: no number format left for plotly.js (like %{y:.1%})
            assert "%{" not in text, (chart, name, text)
            if value == fraction:
                assert text.endswith(" " + expected), (chart, name, text)
                planted_points.setdefault(chart, []).append(name)
    assert planted_points == {
        "chart-monthly": ["Tỷ lệ đúng hạn"],
        "chart-satisfaction": ["Tỷ lệ hài lòng"],
        "chart-channels": ["Tỷ lệ nộp trực tuyến"],
        "chart-directives": ["Tỷ lệ hoàn thành đúng hạn", "Tỷ lệ hoàn thành"],
        "chart-feedback": ["Tỷ lệ không để quá hạn", "Tỷ lệ xử lý đúng hạn"],
    }


def test_warning_surfaces_print_the_same_time_left(planted):
    """The warning e-mail (text and HTML), the warning page and ``tthc warnings`` print a warning's working
    hours left alike, rounded half-up as pipeline.formatting rounds (2.25 → 2,3; Python's round gives 2,2)."""
    settings, _, warned = planted
    expected = "còn 2,3 giờ làm việc"
    warnings = load_warnings(settings)
    unit = next(u for u in warnings.units if any(c.case_id == warned for c in u.cases))
    message = message_from_bytes(build_message(settings, warnings, unit, ["unit@example.org"]).as_bytes(),
                                 policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    html_part = message.get_body(("html",)).get_content()
    line = next(line for line in format_warnings_text(warnings).splitlines() if f" {warned} " in line)
    page = parse(write_warning_reports(settings, warnings)[0])
    row = next(tr for tr in page.find_all("tr") if warned in tr.clean_text())
    email_html_row = next(tr for tr in parse_text(html_part).find_all("tr") if warned in tr.clean_text())
    mail_lines = text.splitlines()
    at = next(n for n, line in enumerate(mail_lines) if f"Hồ sơ {warned} " in line)
    assert mail_lines[at + 1].rstrip().endswith(f"; {expected}")
    assert expected in email_html_row.clean_text()
    assert expected in line
    assert expected in row.clean_text()


# --- no formatting anywhere else --------------------------------------------------------------------

# Modules that read source exports (their date patterns parse input) or write synthetic source exports.
NOT_OUTPUT = ("ingest/", "demo/")
# Output modules that still format on their own (the test fails once a file here is clean, so that an
# exemption cannot go stale). None today.
PENDING: dict[str, str] = {}
GROUPING = re.compile(r"(?<!%)\{[^{}:!]*(?:![rsa])?:[^{}]*?[,_](?:\.\d+)?[dfgn%]?\}")
PERCENT_SPEC = re.compile(r"(?<!%)\{[^{}:!]*:[^{}]*%\}")
# a plotly.js template field with a number format (``%{y:.1%}``, ``%{x:,}``): formatted in the browser
PLOTLY_FORMAT = re.compile(r"%\{[^{}:]*:[^{}]*\}")
TIMES_100 = re.compile(r"\{[^{}]*\*\s*100\b[^{}]*\}")
DATE_PATTERN = re.compile(r"%d/%m|%d-%m|%m/%Y")
DECIMAL_SWAP = re.compile(r"""\.replace\(\s*(['"])[.,]\1\s*,\s*(['"])[.,\x00]\2""")
JINJA_FORMAT = re.compile(r"\|\s*(?:format|round)\b|\|\s*string\s*\)\s*\.replace")


def formatting_found(path: Path) -> list[str]:
    """Places in a Python file or template that format numbers, percentages or dates themselves."""
    text = path.read_text(encoding="utf-8")
    found = [f"{path.name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
             for m in DECIMAL_SWAP.finditer(text)]
    if path.suffix == ".j2":
        found += [f"{path.name}: {m.group(0)}" for m in JINJA_FORMAT.finditer(text)]
        found += [f"{path.name}: {m.group(0)}" for m in DATE_PATTERN.finditer(text)]
        return found
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type != tokenize.STRING:
            continue
        for pattern in (GROUPING, PERCENT_SPEC, PLOTLY_FORMAT, TIMES_100, DATE_PATTERN):
            found += [f"{path.name}:{token.start[0]}: {m.group(0)}" for m in pattern.finditer(token.string)]
    return found


def test_the_detector_finds_home_made_formatting(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        'a = f"{n:,}".replace(",", ".")\nb = f"{rate * 100:.1f}%"\nc = f"{r:.1%}"\nd = f"{day:%d/%m/%Y}"\n'
        'e = "%{y:,} hồ sơ"\nf = {"a": 1, "b": 2}\ng = "%{x}: đúng hạn %{y:.1%}"\nh = "%{x}: %{customdata}"\n',
        encoding="utf-8")
    found = formatting_found(sample)
    assert [line.split(":")[1] for line in found] == ["1", "1", "2", "3", "4", "5", "7"]
    template = tmp_path / "t.html.j2"
    template.write_text('{{ "%.1f"|format(x) }} {{ x|round(1) }}', encoding="utf-8")
    assert len(formatting_found(template)) == 2


def test_no_module_formats_numbers_or_dates_on_its_own():
    offenders, still_pending = [], set()
    for path in sorted([*PIPELINE.rglob("*.py"), *PIPELINE.rglob("*.j2")]):
        relative = path.relative_to(PIPELINE).as_posix()
        if relative == "formatting.py" or relative.startswith(NOT_OUTPUT):
            continue
        found = formatting_found(path)
        if relative in PENDING:
            if found:
                still_pending.add(relative)
            continue
        offenders += found
    assert offenders == [], "format with pipeline.formatting instead:\n" + "\n".join(offenders)
    assert still_pending == set(PENDING), f"now clean, remove from PENDING: {set(PENDING) - still_pending}"


def test_old_formatting_module_is_gone():
    assert not (PIPELINE / "report" / "formatting.py").exists()
