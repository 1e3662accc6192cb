"""The ingest stage: discover → read → check → store (:mod:`pipeline.ingest.stage` is the one loop).

Readers turn an export of any layout (Excel, BIFF, HTML-as-.xls, Excel 2003 XML, ODS, CSV, JSON) into the
canonical records of :mod:`pipeline.records`; the checks run the expectation suites; the store writes the
immutable Parquet raw layer the warehouse is built from.
"""

from .headers import detect_kind, load_synonyms
from .readers import FileRejected, ReadResult, read_export

__all__ = ["FileRejected", "ReadResult", "detect_kind", "load_synonyms", "read_export"]
