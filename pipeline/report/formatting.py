"""Old import path of :mod:`pipeline.formatting`, kept only until ``pipeline/flows.py`` imports it directly.

Nothing is defined here; delete this module once no import of ``pipeline.report.formatting`` remains.
"""

from pipeline.formatting import fmt_int, fmt_pct

__all__ = ["fmt_int", "fmt_pct"]
