"""Quality-objective targets per year and unit, read from the versioned targets file."""

from __future__ import annotations

import operator
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.formatting import fmt_pct_short

OPERATORS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


@dataclass(frozen=True)
class Target:
    """One target: the measure, the comparison and the value (a fraction)."""

    measure: str
    op: str
    value: float

    def met(self, actual: float | None) -> bool | None:
        """Whether an actual value meets the target (None when there is no value)."""
        if actual is None or pd.isna(actual):
            return None
        return OPERATORS[self.op](round(float(actual), 10), self.value)

    @property
    def text_vi(self) -> str:
        """The target as leadership reads it, e.g. '≥ 20%' or '> 95%'."""
        symbol = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}[self.op]
        return f"{symbol} {fmt_pct_short(self.value)}"


def _targets(table: dict) -> dict[str, Target]:
    out = {}
    for measure, spec in table.items():
        if spec["op"] not in OPERATORS:
            raise ValueError(f"targets: {measure} has unknown op {spec['op']!r}")
        out[measure] = Target(measure, spec["op"], float(spec["value"]))
    return out


def load_targets(path: Path) -> dict:
    """The parsed targets file."""
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def targets_for(config: dict, year: int, unit: str | None = None) -> dict[str, Target]:
    """Targets in force for a year (and a unit's overrides), by measure."""
    year_table = config.get("years", {}).get(str(year))
    base = _targets((year_table or config.get("default", {})).get("targets", {}))
    if unit and year_table:
        base.update(_targets(year_table.get("units", {}).get(unit, {}).get("targets", {})))
    return base


def targets_frame(config: dict, years: list[int], units: list[str]) -> pd.DataFrame:
    """Table of targets: year, unit ('all' for the department), measure, op, value, source."""
    rows = []
    for year in years:
        source = config.get("years", {}).get(str(year), {}).get("source", "Mục tiêu mặc định (năm này chưa có mục tiêu riêng trong tệp mục tiêu)")
        for unit in ["all", *units]:
            for target in targets_for(config, year, None if unit == "all" else unit).values():
                rows.append({"year": year, "unit": unit, "measure": target.measure, "op": target.op,
                             "value": target.value, "target_text": target.text_vi, "source": source})
    return pd.DataFrame(rows, columns=["year", "unit", "measure", "op", "value", "target_text", "source"])
