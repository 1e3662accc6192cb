"""``tthc kpi``: the measures of one period, read from ``mart.kpi_period``."""
