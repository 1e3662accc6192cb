"""TTHC timeliness analytics: ingest one-stop exports, validate, measure, and publish scorecards."""

__version__ = "0.1.0"
