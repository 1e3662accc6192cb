"""Realistic demo exports of a Department of Transport's one-stop desk (Excel, national-sync JSON, ratings CSV,
daily deltas), with the generator's truth for tests."""

from pipeline.demo.generate import DemoTruth, generate_demo_exports, write_next_day_delta
from pipeline.demo.writers import DirtyRow

__all__ = ["DemoTruth", "DirtyRow", "generate_demo_exports", "write_next_day_delta"]
