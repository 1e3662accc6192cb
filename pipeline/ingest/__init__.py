"""Readers of exports (Excel reports, CSV, national sync JSON, ratings) producing canonical records."""

from .headers import detect_kind, load_synonyms
from .readers import FileRejected, ReadResult, read_export

__all__ = ["FileRejected", "ReadResult", "detect_kind", "load_synonyms", "read_export"]
