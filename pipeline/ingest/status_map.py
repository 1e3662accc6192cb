"""The status mapping file (``config/status_map.toml``, setting ``status_map_file``): case states and
channels as exports write them, mapped to the national codes (DESIGN §3), with the wordings that are
ambiguous and the source systems that say what those mean for them."""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .values import CodeTable

DEFAULT_STATUS_MAP_FILE = Path(__file__).resolve().parent.parent / "config" / "status_map.toml"
STATUS_CODES = range(1, 11)
CHANNEL_CODES = range(1, 4)


def _codes(table: dict) -> dict[int, list[str]]:
    return {int(code): list(names) for code, names in table.items()}


@dataclass(frozen=True)
class SourceStatuses:
    """One source system's own wordings: file patterns and the states its wordings mean."""

    name: str
    files: tuple[str, ...]
    status_names: dict[int, list[str]]

    def matches(self, path: Path) -> bool:
        """Whether an export comes from this source (a pattern matches its name or its path)."""
        texts = (path.name, path.as_posix())
        return any(fnmatch.fnmatch(text.casefold(), pattern.casefold()) for pattern in self.files for text in texts)


@dataclass(frozen=True, eq=False)
class StatusMap:
    """The parsed status mapping file."""

    version: int
    status: CodeTable  # national code 1..10 (ambiguous wordings listed, not mapped)
    channel: CodeTable  # 1 trực tiếp, 2 trực tuyến, 3 bưu chính công ích
    sources: tuple[SourceStatuses, ...]
    source: Path
    _per_source: dict[tuple[str, ...], CodeTable] = field(default_factory=dict)

    def status_for(self, path: Path | None) -> CodeTable:
        """The state table for one export: the general table with the wordings of every source whose
        file patterns match the export."""
        if path is None:
            return self.status
        matching = tuple(s.name for s in self.sources if s.matches(Path(path)))
        if not matching:
            return self.status
        if matching not in self._per_source:
            table = self.status
            for source in self.sources:
                if source.name in matching:
                    table = table.with_names(source.status_names)
            self._per_source[matching] = table
        return self._per_source[matching]


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> StatusMap:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"status mapping file {path} is not valid TOML: {error}") from None
    ambiguous = data.get("ambiguous", {}).get("names", [])
    sources = tuple(
        SourceStatuses(
            str(entry.get("name") or f"source {number}"),
            tuple(str(p) for p in entry.get("files", [])),
            _codes(entry.get("status_names", {})),
        )
        for number, entry in enumerate(data.get("sources", []), start=1)
    )
    return StatusMap(
        int(data.get("version", 0)),
        CodeTable(_codes(data.get("status_names", {})), STATUS_CODES, ambiguous),
        CodeTable(_codes(data.get("channel_names", {})), CHANNEL_CODES),
        sources,
        path,
    )


def load_status_map(path: Path | None = None) -> StatusMap:
    """The status mapping file (default: the packaged one), re-read when it changes."""
    path = Path(path or DEFAULT_STATUS_MAP_FILE).resolve()
    return _load(path, path.stat().st_mtime_ns)
