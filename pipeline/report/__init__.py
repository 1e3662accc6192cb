"""Leadership reports: quarterly scorecards (offline Vietnamese HTML with Plotly), Biểu 06 as Excel, case lists."""

from pipeline.report.render import render_all

__all__ = ["render_all"]
