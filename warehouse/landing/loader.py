"""Load delivered files into ``raw.*``: every line as text, with lineage, nothing dropped.

A line becomes a raw row when it splits into the spec's fields; otherwise (wrong field count,
bytes that do not decode, JSON that does not parse) it goes to ``quality.landing_rejects`` with a
reason and the line as delivered. So for every file: data lines = raw rows + landing rejects.
Typing and cleaning are not done here: that is dbt staging's job.

Why Python's csv module and not DuckDB's ``read_csv``: raw rows must carry their physical line
number (``_source_line``) so every downstream reject points back at the file, and DuckDB's reader
does not expose line numbers for accepted rows. Decoding GBK needs DuckDB's ``encodings``
extension, which is downloaded at run time, and we may not download anything.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse.landing.specs import SOURCES, SourceSpec

REJECTS_TABLE = "quality.landing_rejects"
LOAD_LOG_TABLE = "ops.load_log"
_CHUNK_ROWS = 200_000


class LandingContractError(ValueError):
    """A file does not match its channel's contract as a whole (e.g. a wrong header)."""


@dataclass
class FileLoad:
    path: str
    size_bytes: int
    sha256: str
    rows: int
    rejected: int


@dataclass
class SourceLoad:
    table: str
    files: list[FileLoad] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)


@dataclass
class _Reject:
    line: int
    raw_record: str
    reason: str


def ensure_landing_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists quality")
    con.execute("create schema if not exists ops")
    con.execute(
        f"""create table if not exists {REJECTS_TABLE} (
            source_table varchar, _source_file varchar, _source_line integer,
            raw_record varchar, reason varchar, _loaded_at timestamptz)"""
    )
    con.execute(
        f"""create table if not exists {LOAD_LOG_TABLE} (
            source_table varchar, path varchar, size_bytes bigint, sha256 varchar,
            rows bigint, rejected bigint, status varchar, loaded_at timestamptz)"""
    )


def _raw_schema(spec: SourceSpec) -> pa.Schema:
    return pa.schema(
        [pa.field(c, pa.string()) for c in spec.columns]
        + [
            pa.field("_source_file", pa.string()),
            pa.field("_source_line", pa.int32()),
            pa.field("_loaded_at", pa.timestamp("us", tz="UTC")),
        ]
    )


def _decode_lines(data: bytes, encoding: str) -> Iterator[tuple[int, str | None, bytes]]:
    """Yield (line number, decoded text or None when undecodable, original bytes)."""
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        if raw_line.endswith(b"\r"):
            raw_line = raw_line[:-1]
        try:
            yield number, raw_line.decode(encoding), raw_line
        except UnicodeDecodeError:
            yield number, None, raw_line


def _csv_records(spec: SourceSpec, rel_path: str, data: bytes) -> Iterator[tuple[int, list[str] | _Reject]]:
    lines = list(_decode_lines(data, spec.encoding))
    if lines and lines[-1][2] == b"":
        lines.pop()  # the final newline, not a line
    if not lines:
        raise LandingContractError(f"{rel_path}: empty file, expected a header {list(spec.columns)}")
    header_text = lines[0][1]
    header = next(csv.reader([header_text or ""]))
    if header_text is not None and header_text.startswith("\ufeff"):
        header[0] = header[0].lstrip("\ufeff")
    if tuple(h.strip() for h in header) != spec.columns:
        raise LandingContractError(
            f"{rel_path}: header {header} does not match the {spec.table} contract {list(spec.columns)}"
        )
    width = len(spec.columns)
    decodable = [(n, t) for n, t, _ in lines[1:] if t is not None]
    for number, text, raw in lines[1:]:
        if text is None:
            yield number, _Reject(number, raw.decode(spec.encoding, errors="replace"), f"not valid {spec.encoding}")
    # One csv.reader over all decodable lines keeps quoted fields intact; each line is fed
    # separately so a broken quote cannot swallow the lines after it.
    for number, text in decodable:
        if text.strip() == "":
            yield number, _Reject(number, text, "blank line")
            continue
        fields = next(csv.reader([text]))
        if len(fields) != width:
            yield number, _Reject(number, text, f"wrong field count: expected {width}, got {len(fields)}")
        else:
            yield number, fields


def _jsonl_records(spec: SourceSpec, rel_path: str, data: bytes) -> Iterator[tuple[int, list[str | None] | _Reject]]:
    expected = set(spec.columns)
    for number, text, raw in _decode_lines(data, spec.encoding):
        if text is None:
            yield number, _Reject(number, raw.decode(spec.encoding, errors="replace"), f"not valid {spec.encoding}")
            continue
        if text.strip() == "":
            continue  # JSON Lines allows a trailing newline; blank lines carry no record
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            yield number, _Reject(number, text, f"invalid JSON: {error.msg}")
            continue
        if not isinstance(record, dict):
            yield number, _Reject(number, text, "JSON value is not an object")
            continue
        unknown = sorted(set(record) - expected)
        if unknown:
            yield number, _Reject(number, text, f"unexpected keys: {', '.join(unknown)}")
            continue
        yield number, [_as_text(record.get(column)) for column in spec.columns]


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


def files_for(spec: SourceSpec, landing_dir: Path) -> list[Path]:
    return sorted((landing_dir / spec.channel).glob(spec.pattern))


def load_source(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, landing_dir: Path, loaded_at: datetime | None = None
) -> SourceLoad:
    """Replace ``raw.<table>`` with every file of this source (a full load)."""
    ensure_landing_tables(con)
    loaded_at = loaded_at or datetime.now(timezone.utc)
    columns_sql = ", ".join(f'"{c}" varchar' for c in spec.columns)
    con.execute(f"drop table if exists raw.{spec.table}")
    con.execute(
        f"create table raw.{spec.table} ({columns_sql}, _source_file varchar, "
        "_source_line integer, _loaded_at timestamptz)"
    )
    con.execute(f"delete from {REJECTS_TABLE} where source_table = ?", [spec.table])
    result = SourceLoad(spec.table)
    reader = _csv_records if spec.file_format == "csv" else _jsonl_records
    # Rows are buffered across files and inserted in large Arrow batches: one insert per file
    # costs more than the parsing when a channel delivers hundreds of small daily files.
    buffer = _RowBuffer(con, spec, loaded_at)
    for path in files_for(spec, landing_dir):
        data = path.read_bytes()
        rel_path = path.relative_to(landing_dir).as_posix()
        rows, rejects = 0, []
        for number, item in reader(spec, rel_path, data):
            if isinstance(item, _Reject):
                rejects.append(item)
            else:
                buffer.add(rel_path, number, item)
                rows += 1
        _insert_rejects(con, spec, rel_path, loaded_at, rejects)
        result.files.append(FileLoad(rel_path, len(data), hashlib.sha256(data).hexdigest(), rows, len(rejects)))
    buffer.flush()
    if result.files:
        con.executemany(
            f"insert into {LOAD_LOG_TABLE} values (?, ?, ?, ?, ?, ?, 'loaded', ?)",
            [[spec.table, f.path, f.size_bytes, f.sha256, f.rows, f.rejected, loaded_at] for f in result.files],
        )
    return result


class _RowBuffer:
    """Collects delivered rows column-wise and inserts them into raw.<table> in Arrow batches."""

    def __init__(self, con: duckdb.DuckDBPyConnection, spec: SourceSpec, loaded_at: datetime) -> None:
        self._con, self._spec, self._loaded_at = con, spec, loaded_at
        self._schema = _raw_schema(spec)
        self._reset()

    def _reset(self) -> None:
        self._fields: list[list] = []
        self._files: list[str] = []
        self._lines: list[int] = []

    def add(self, rel_path: str, line: int, fields: list) -> None:
        self._fields.append(fields)
        self._files.append(rel_path)
        self._lines.append(line)
        if len(self._lines) >= _CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self._lines:
            return
        count = len(self._lines)
        arrays = [pa.array(column, pa.string()) for column in zip(*self._fields)]
        arrays.append(pa.array(self._files, pa.string()))
        arrays.append(pa.array(self._lines, pa.int32()))
        arrays.append(pa.array([self._loaded_at] * count, pa.timestamp("us", tz="UTC")))
        self._con.register("landing_chunk", pa.Table.from_arrays(arrays, schema=self._schema))
        try:
            self._con.execute(f"insert into raw.{self._spec.table} select * from landing_chunk")
        finally:
            self._con.unregister("landing_chunk")
        self._reset()


def _insert_rejects(con, spec: SourceSpec, rel_path: str, loaded_at: datetime, rejects: list[_Reject]) -> None:
    if not rejects:
        return
    con.executemany(
        f"insert into {REJECTS_TABLE} values (?, ?, ?, ?, ?, ?)",
        [[spec.table, rel_path, r.line, r.raw_record, r.reason, loaded_at] for r in rejects],
    )


def load_all(con: duckdb.DuckDBPyConnection, landing_dir: Path) -> list[SourceLoad]:
    loaded_at = datetime.now(timezone.utc)
    return [load_source(con, spec, landing_dir, loaded_at) for spec in SOURCES]
