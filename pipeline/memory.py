"""Giving memory back to the operating system between the big steps of a run.

After a million-row export has been read, checked and stored, its frames are garbage, but the C allocator
and Arrow's memory pool keep the freed pages for reuse: the process would stay gigabytes large for the rest
of the run. :func:`release_memory` hands them back, so a run's peak is its largest step, not their sum.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
from functools import cache


@cache
def _libc():
    name = ctypes.util.find_library("c")
    if not name:
        return None
    with contextlib.suppress(OSError):
        return ctypes.CDLL(name)
    return None


def release_memory() -> None:
    """Collect garbage, then return the free pages of Arrow's pool and of the C heap (glibc) to the system."""
    gc.collect()
    with contextlib.suppress(Exception):
        import pyarrow

        pyarrow.default_memory_pool().release_unused()
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None) if libc is not None else None
    if trim is not None:
        trim(0)
