"""Opening the warehouse and serving DuckDB files with the same settings everywhere.

DuckDB lets one process hold a file read-write and then no other process may open it at all.
Writers therefore open the warehouse only for the duration of one step and retry with backoff
when another writer briefly holds the lock; readers never open the warehouse (they read the
published serving copy).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.settings import Settings

log = logging.getLogger(__name__)

_LOCK_MARKERS = ("Could not set lock on file", "Conflicting lock is held")


def is_lock_error(error: BaseException) -> bool:
    return isinstance(error, duckdb.IOException) and any(m in str(error) for m in _LOCK_MARKERS)


def open_duckdb(
    path: Path,
    settings: Settings,
    *,
    read_only: bool = False,
    lock_timeout_s: float = 120.0,
) -> duckdb.DuckDBPyConnection:
    """Open ``path`` with the configured limits; wait out another writer's lock up to a timeout."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    config = {"memory_limit": settings.duckdb_memory_limit, "threads": settings.duckdb_threads}
    deadline = time.monotonic() + lock_timeout_s
    delay = 0.2
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=config)
            # Not in `config`: TimeZone needs the ICU extension, which loads only after connect.
            con.execute(f"set TimeZone = '{settings.timezone}'")
            return con
        except duckdb.IOException as error:
            if not is_lock_error(error) or time.monotonic() > deadline:
                raise
            log.warning("%s is locked by another process; retrying in %.1fs", path, delay)
            time.sleep(delay + random.uniform(0, delay / 2))
            delay = min(delay * 2, 5.0)


@contextmanager
def warehouse_connection(settings: Settings, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = open_duckdb(settings.warehouse_path, settings, read_only=read_only)
    try:
        yield con
    finally:
        con.close()
