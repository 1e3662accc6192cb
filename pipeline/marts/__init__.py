"""Timeliness engine and published measures (the ``mart`` schema): SQL in ``pipeline/sql``."""

from pipeline.marts.build import MART_TABLES, build_marts, mart_params

__all__ = ["MART_TABLES", "build_marts", "mart_params"]
