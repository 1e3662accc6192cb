"""Plotly figures of a scorecard, as plain JSON-ready dicts (drawn in the page by plotly.min.js).

Figures are built as dicts in plotly.js's own schema rather than through ``plotly.graph_objects``
(whose validation costs ~50 ms a figure); the tests validate every figure with ``go.Figure(...)``.

Labels are Vietnamese. Every number a reader sees in a label or a hover is text made by
:mod:`pipeline.formatting`: hovers show it through ``%{text}`` or ``%{customdata}``, never through a
number format of plotly.js (which rounds 1999/2000 up to 100%). Only the count axes' automatic ticks
are formatted by plotly.js, with the Vietnamese separators (``layout.separators = ',.'``).
Category names from data are HTML-escaped, because plotly.js interprets a few tags in text and
decodes entities back, so ``<script>`` shows as text. Colours differ in lightness and late bars
carry a hatch pattern, so a black-and-white print still tells early, on time and late apart.
"""

from __future__ import annotations

import html
import textwrap

from pipeline.formatting import fmt_int, fmt_pct, fmt_pct_short, is_missing

EARLY = "#1b7837"
ON_TIME = "#a6dba0"
LATE = "#c0392b"
OPEN_OVERDUE = "#e67e22"
LINE = "#1f3b73"
TARGET = "#555555"
CHANNEL_COLOURS = {"1": "#8c96c6", "2": "#1f3b73", "3": "#d9d9d9"}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', Arial, sans-serif"


def label(text: object, width: int = 30) -> str:
    """A category label from data: escaped for plotly.js, wrapped onto lines of at most ``width``."""
    if is_missing(text):
        return "Không rõ"
    lines = textwrap.wrap(str(text), width=width) or [""]
    return "<br>".join(html.escape(line, quote=False) for line in lines)


class Fig:
    """A minimal figure builder with the shape of ``go.Figure``: traces in ``data``, ``layout``."""

    def __init__(self):
        self.data: list[dict] = []
        self.layout: dict = {}

    def add_bar(self, **trace) -> None:
        self.data.append({"type": "bar", **trace})

    def add_scatter(self, **trace) -> None:
        self.data.append({"type": "scatter", **trace})

    def update_layout(self, **layout) -> None:
        self.layout.update(layout)


def _marker(colour: str, pattern: str = "") -> dict:
    marker: dict = {"color": colour}
    if pattern:
        marker["pattern"] = {"shape": pattern, "fillmode": "overlay", "fgcolor": "#ffffff", "fgopacity": 0.55,
                             "size": 7}
    return marker


def _layout(fig: Fig, height: int = 380, **extra) -> None:
    layout = {
                "height": height,
        "autosize": True,
        "separators": ",.",
        "font": {"family": FONT, "size": 12, "color": "#222"},
        "margin": {"l": 56, "r": 16, "t": 16, "b": 40},
        "legend": {"orientation": "h", "y": -0.16, "x": 0, "font": {"size": 12}, "traceorder": "normal"},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "hoverlabel": {"font": {"family": FONT}},
    }
    layout.update(extra)
    fig.update_layout(**layout)


def percent_axis(values: list, target: float | None, top: float = 1.0) -> dict:
    """The upper panel's percentage axis, from a little under the lowest value (or target) up to ``top``.

    Rates are drawn in their own panel above the bars, so their labels never sit on a bar.
    """
    present = [float(v) for v in values if not is_missing(v)]
    low = min([*present, *([] if target is None else [float(target)]), top])
    span = top - low
    step = next((n for n in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25) if span / n <= 3.2), 0.25)
    floor = max(0.0, (int(low / step + 1e-9) - 1) * step)
    ticks = []
    tick = floor
    while tick <= top + 1e-9:
        ticks.append(round(tick, 4))
        tick += step
    return {"anchor": "x", "domain": [0.64, 1.0], "title": {"text": "Tỷ lệ"}, "range": [floor, top + step * 0.8], "tickvals": ticks,
            "ticktext": [fmt_pct_short(t) for t in ticks], "gridcolor": "#eeeeee", "zeroline": False}


def counts(values: list) -> list[str]:
    """Counts as a hover shows them (``customdata``): ``12.345``."""
    return [fmt_int(v) for v in values]


BARS_DOMAIN = [0.0, 0.56]


def to_json(fig: Fig) -> dict:
    """A figure as plain JSON data (lists, numbers, strings) for ``|tojson`` in the page."""
    return {"data": fig.data, "layout": fig.layout}


def monthly_timeliness(months: list[dict], target: float | None, highlight: set[str],
                       target_text: str | None = None) -> dict:
    """Stacked early / on-time / late bars per month with the on-time rate line and its target."""
    x = [m["label"] for m in months]
    fig = Fig()
    for key, name, colour, pattern in (("early", "Trước hạn", EARLY, ""), ("on_time", "Đúng hạn", ON_TIME, ""),
                                       ("late", "Quá hạn", LATE, "/")):
        values = [m[key] for m in months]
        fig.add_bar(x=x, y=values, name=name, marker=_marker(colour, pattern), customdata=counts(values),
                    hovertemplate="%{x}: %{customdata} hồ sơ " + name.lower() + "<extra></extra>")
    fig.add_scatter(x=x, y=[m["on_time_rate"] for m in months], name="Tỷ lệ đúng hạn", yaxis="y2",
                    mode="lines+markers+text", line={"color": LINE, "width": 2.5}, marker={"size": 7},
                    text=[fmt_pct(m["on_time_rate"]) for m in months], textposition="top center",
                    textfont={"size": 10, "color": LINE},
                    hovertemplate="%{x}: đúng hạn %{text}<extra></extra>")
    if target is not None:
        fig.add_scatter(x=x, y=[target] * len(x), name=f"Mục tiêu {target_text or fmt_pct(target)}", yaxis="y2",
                        mode="lines", line={"color": TARGET, "dash": "dash", "width": 1.5}, hoverinfo="skip")
    _layout(fig, barmode="stack", shapes=_highlight(x, highlight),
            yaxis={"title": {"text": "Hồ sơ"}, "tickformat": ",d", "gridcolor": "#e5e5e5", "domain": BARS_DOMAIN},
            yaxis2=percent_axis([m["on_time_rate"] for m in months], target),
            xaxis={"type": "category"})
    return to_json(fig)


def _highlight(x: list[str], highlight: set[str]) -> list[dict]:
    """A light band behind the months of the reported period."""
    inside = [i for i, value in enumerate(x) if value in highlight]
    if not inside or len(inside) == len(x):
        return []
    return [{"type": "rect", "xref": "x", "yref": "paper", "x0": min(inside) - 0.5, "x1": max(inside) + 0.5,
             "y0": 0, "y1": 1, "fillcolor": "#fff4cc", "opacity": 0.6, "line": {"width": 0}, "layer": "below"}]


def by_group(rows: list[dict], title_axis: str) -> dict:
    """Horizontal stacked early / on-time / late bars per unit or sector, worst on-time rate at the top."""
    rows = sorted((r for r in rows if r["resolved_total"]),
                  key=lambda r: (r["on_time_rate"] if not is_missing(r["on_time_rate"]) else 2.0), reverse=True)
    y = [label(r["name"], 34) for r in rows]
    fig = Fig()
    for key, name, colour, pattern in (("early", "Trước hạn", EARLY, ""), ("on_time", "Đúng hạn", ON_TIME, ""),
                                       ("late", "Quá hạn", LATE, "/")):
        values = [r[key] for r in rows]
        fig.add_bar(y=y, x=values, name=name, orientation="h",
                    marker=_marker(colour, pattern), customdata=counts(values),
                    hovertemplate="%{y}: %{customdata} hồ sơ " + name.lower() + "<extra></extra>")
    fig.add_scatter(y=y, x=[r["resolved_total"] for r in rows], mode="text", showlegend=False,
                    text=[f"  đúng hạn {fmt_pct(r['on_time_rate'])}" for r in rows], textposition="middle right",
                    textfont={"size": 11, "color": LINE}, hoverinfo="skip")
    widest = max([r["resolved_total"] or 0 for r in rows] + [1])
    _layout(fig, height=max(220, 110 + 40 * len(rows)), barmode="stack",
            margin={"l": 10, "r": 20, "t": 30, "b": 46},
            legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "traceorder": "normal",
                    "font": {"size": 12}},
            xaxis={"title": {"text": title_axis}, "tickformat": ",d", "gridcolor": "#e5e5e5",
                   "range": [0, widest * 1.35]},
            yaxis={"automargin": True, "type": "category"})
    return to_json(fig)


def satisfaction_monthly(months: list[dict], target: float | None, highlight: set[str],
                         target_text: str | None = None) -> dict:
    """Satisfaction rate per month with its target line and the number of ratings as bars."""
    x = [m["label"] for m in months]
    fig = Fig()
    ratings = [m["ratings"] for m in months]
    fig.add_bar(x=x, y=ratings, name="Số lượt đánh giá", marker={"color": "#d9d9d9"}, customdata=counts(ratings),
                hovertemplate="%{x}: %{customdata} lượt đánh giá<extra></extra>")
    fig.add_scatter(x=x, y=[m["satisfaction_rate"] for m in months], name="Tỷ lệ hài lòng",
                    yaxis="y2", mode="lines+markers+text", line={"color": LINE, "width": 2.5},
                    text=[fmt_pct(m["satisfaction_rate"]) for m in months], textposition="top center",
                    textfont={"size": 10, "color": LINE},
                    hovertemplate="%{x}: hài lòng %{text}<extra></extra>")
    if target is not None:
        fig.add_scatter(x=x, y=[target] * len(x), name=f"Mục tiêu {target_text or fmt_pct(target)}", yaxis="y2",
                        mode="lines", line={"color": TARGET, "dash": "dash", "width": 1.5}, hoverinfo="skip")
    _layout(fig, shapes=_highlight(x, highlight),
            yaxis={"title": {"text": "Lượt"}, "tickformat": ",d", "gridcolor": "#e5e5e5", "domain": BARS_DOMAIN},
            yaxis2=percent_axis([m["satisfaction_rate"] for m in months], target),
            xaxis={"type": "category"})
    return to_json(fig)


LATE_BINS = (
    (0, 1, "Dưới 1 giờ"),
    (1, 4, "1–4 giờ"),
    (4, 8, "4–8 giờ"),
    (8, 16, "1–2 ngày"),
    (16, 40, "2–5 ngày"),
    (40, None, "Trên 5 ngày"),
)


def late_bins(hours: list[float]) -> list[tuple[str, int]]:
    """Counts of late cases per band of working time late (8 working hours = 1 working day)."""
    out = []
    for low, high, name in LATE_BINS:
        out.append((name, sum(1 for h in hours if h >= low and (high is None or h < high))))
    return out


def late_histogram(hours: list[float]) -> dict:
    """How late the late cases were, in working hours, as a histogram over fixed bands."""
    bins = late_bins([h for h in hours if not is_missing(h)])
    fig = Fig()
    fig.add_bar(x=[b[0] for b in bins], y=[b[1] for b in bins], name="Hồ sơ quá hạn",
                marker=_marker(LATE, "/"),
                text=[fmt_int(b[1]) if b[1] else "" for b in bins], textposition="outside",
                customdata=counts([b[1] for b in bins]),
                hovertemplate="Trễ %{x}: %{customdata} hồ sơ<extra></extra>")
    top = max([b[1] for b in bins] + [1])
    _layout(fig, showlegend=False,
            xaxis={"title": {"text": "Thời gian trễ so với hạn (giờ làm việc; 1 ngày = 8 giờ)"}, "type": "category"},
            yaxis={"title": {"text": "Số hồ sơ"}, "tickformat": ",d", "gridcolor": "#e5e5e5",
                   "range": [0, top * 1.2]})
    return to_json(fig)


def channel_monthly(months: list[dict], highlight: set[str]) -> dict:
    """Received cases per month by channel (stacked bars) and the online share (line)."""
    x = [m["label"] for m in months]
    fig = Fig()
    channels = [("2", "Trực tuyến"), ("1", "Trực tiếp"), ("3", "Bưu chính công ích")]
    if not any(m.get("by_channel") for m in months):
        channels = [("2", "Trực tuyến"), ("1", "Trực tiếp và bưu chính")]
    for key, name in channels:
        values = [(m["by_channel"] or {}).get(key, 0) if m.get("by_channel") else
                  (m["received_online"] if key == "2" else m["received_offline"]) for m in months]
        fig.add_bar(x=x, y=values, name=name, marker={"color": CHANNEL_COLOURS[key]}, customdata=counts(values),
                    hovertemplate="%{x}: %{customdata} hồ sơ " + name.lower() + "<extra></extra>")
    shares = []
    for m in months:
        total = (m["received_online"] or 0) + (m["received_offline"] or 0)
        shares.append(None if total == 0 else (m["received_online"] or 0) / total)
    fig.add_scatter(x=x, y=shares, name="Tỷ lệ nộp trực tuyến", yaxis="y2", mode="lines+markers+text",
                    line={"color": "#b35806", "width": 2.5}, text=[fmt_pct(s) for s in shares],
                    textposition="top center", textfont={"size": 10, "color": "#b35806"},
                    hovertemplate="%{x}: trực tuyến %{text}<extra></extra>")
    _layout(fig, barmode="stack", shapes=_highlight(x, highlight),
            yaxis={"title": {"text": "Hồ sơ"}, "tickformat": ",d", "gridcolor": "#e5e5e5", "domain": BARS_DOMAIN},
            yaxis2=percent_axis([0.0], None),
            xaxis={"type": "category"})
    return to_json(fig)


def _period_label(name: str) -> str:
    """A period name on two short lines under a bar: ``Quý III/2026`` → ``Quý III<br>2026``."""
    if "/" in name:
        head, _, year = name.rpartition("/")
        return f"{html.escape(head, quote=False)}<br>{html.escape(year, quote=False)}"
    return label(name, 12)


def _period_trend(rows: list[dict], bars: tuple, lines: tuple, target: float | None, target_text: str | None,
                  current: str | None, noun: str) -> dict:
    """Stacked count bars per period (``bars``: key, name, colour, pattern) under rate lines (``lines``: key,
    name, colour, dash) and the target, oldest period first; the reported period is highlighted."""
    x = [_period_label(r["name"]) for r in rows]
    fig = Fig()
    for key, name, colour, pattern in bars:
        values = [r[key] for r in rows]
        fig.add_bar(x=x, y=values, name=name, marker=_marker(colour, pattern), customdata=counts(values),
                    hovertemplate="%{x}: %{customdata} " + noun + " " + name.lower() + "<extra></extra>")
    for key, name, colour, dash in lines:
        fig.add_scatter(x=x, y=[r[key] for r in rows], name=name, yaxis="y2", mode="lines+markers+text",
                        line={"color": colour, "width": 2.5, "dash": dash}, marker={"size": 7},
                        text=[fmt_pct(r[key]) for r in rows], textposition="top center",
                        textfont={"size": 10, "color": colour},
                        hovertemplate="%{x}: " + name.lower() + " %{text}<extra></extra>")
    if target is not None:
        fig.add_scatter(x=x, y=[target] * len(x), name=f"Mục tiêu {target_text or fmt_pct(target)}", yaxis="y2",
                        mode="lines", line={"color": TARGET, "dash": "dash", "width": 1.5}, hoverinfo="skip")
    highlight = {_period_label(r["name"]) for r in rows if r.get("label") == current}
    _layout(fig, barmode="stack", shapes=_highlight(x, highlight),
            yaxis={"title": {"text": noun.capitalize()}, "tickformat": ",d", "gridcolor": "#e5e5e5",
                   "domain": BARS_DOMAIN, "rangemode": "tozero"},
            yaxis2=percent_axis([r[key] for r in rows for key, *_ in lines], target),
            xaxis={"type": "category", "tickangle": 0})
    return to_json(fig)


def directive_trend(rows: list[dict], target: float | None, target_text: str | None, current: str | None) -> dict:
    """Directive tasks due per period (completed on time, completed late, open overdue) with the headline and
    strict completion rates and the target."""
    return _period_trend(
        rows,
        (("completed_on_time", "Hoàn thành đúng hạn", EARLY, ""), ("completed_late", "Hoàn thành quá hạn", LATE, "/"),
         ("open_overdue", "Đang thực hiện quá hạn", OPEN_OVERDUE, "x")),
        (("strict_rate", "Tỷ lệ hoàn thành đúng hạn", LINE, "solid"),
         ("headline_rate", "Tỷ lệ hoàn thành", "#7f7f7f", "dot")),
        target, target_text, current, "nhiệm vụ")


def feedback_trend(rows: list[dict], target: float | None, target_text: str | None, current: str | None) -> dict:
    """PAKN per period (handled on time, handled late, open in time, open overdue) with the share handled
    without running past the limit, the on-time share and the target."""
    return _period_trend(
        rows,
        (("handled_on_time", "Xử lý đúng hạn", EARLY, ""), ("handled_late", "Xử lý quá hạn", LATE, "/"),
         ("open_in_time", "Đang xử lý trong hạn", ON_TIME, "."), ("open_overdue", "Đang xử lý quá hạn", OPEN_OVERDUE, "x")),
        (("handled_rate", "Tỷ lệ không để quá hạn", LINE, "solid"),
         ("on_time_rate", "Tỷ lệ xử lý đúng hạn", "#7f7f7f", "dot")),
        target, target_text, current, "PAKN")
