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
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse.landing.specs import SOURCES, SourceSpec
from warehouse.settings import load_settings

REJECTS_TABLE = "quality.landing_rejects"
LOAD_LOG_TABLE = "ops.load_log"
_CHUNK_ROWS = 200_000
# A reject keeps the line as delivered, up to this many characters (a 10 MB line stays findable
# by file and line number without bloating the quarantine).
_MAX_REJECT_CHARS = 65_536


class LandingContractError(ValueError):
    """A file does not match its channel's contract as a whole (e.g. a wrong header)."""


@dataclass
class FileLoad:
    path: str
    size_bytes: int
    sha256: str
    rows: int
    rejected: int
    # loaded | rejected (the whole file) | deferred (still being written) | unchanged (this exact
    # content was loaded before: an incremental load skips it) | missing (a required file absent
    # from a partial delivery)
    status: str = "loaded"
    error: str | None = None


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

    @property
    def problems(self) -> list[FileLoad]:
        """Files not loaded: refused as a whole, or left because they are still being written."""
        return [f for f in self.files if f.status not in ("loaded", "unchanged")]

    @property
    def changed(self) -> list[FileLoad]:
        """Files whose content was (re)loaded by this run (new or changed, loaded or refused)."""
        return [f for f in self.files if f.status in ("loaded", "rejected")]


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
            rows bigint, rejected bigint, status varchar, loaded_at timestamptz, error varchar)"""
    )
    # Warehouses created before a column existed gain it here instead of failing on insert.
    con.execute(f"alter table {LOAD_LOG_TABLE} add column if not exists error varchar")


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


def _header_problem(spec: SourceSpec, header: list[str]) -> str:
    missing = [c for c in spec.columns if c not in header]
    unexpected = [c for c in header if c not in spec.columns]
    if not missing and not unexpected:
        return f"columns in the wrong order: got {header}, expected {list(spec.columns)}"
    parts = []
    if missing:
        parts.append(f"missing columns {missing}")
    if unexpected:
        parts.append(f"unexpected columns {unexpected}")
    return "; ".join(parts) + f" (expected {list(spec.columns)})"


def _parse_header(spec: SourceSpec, rel_path: str, header_bytes: bytes) -> None:
    """Refuse the file unless its header is exactly the contract's, saying what is wrong."""
    try:
        header_text = header_bytes.decode(spec.encoding).lstrip("\ufeff")
    except UnicodeDecodeError:
        header_text = None
    if header_text is not None:
        header = [h.strip() for h in _split_csv_line(header_text, spec.delimiter)]
        if tuple(header) == spec.columns:
            return
    # The most common way a header "does not match" is a file saved in another encoding.
    for other in ("utf-8", "gbk", "utf-16"):
        if other == spec.encoding:
            continue
        try:
            decoded = header_bytes.decode(other).lstrip("\ufeff")
        except UnicodeDecodeError:
            continue
        if tuple(h.strip() for h in _split_csv_line(decoded, spec.delimiter)) == spec.columns:
            raise LandingContractError(f"{rel_path}: file is encoded as {other}, the {spec.table} contract says {spec.encoding}")
    if header_text is None:
        raise LandingContractError(f"{rel_path}: header is not valid {spec.encoding} (binary or wrongly encoded file)")
    raise LandingContractError(f"{rel_path}: header does not match the {spec.table} contract: "
                               + _header_problem(spec, [h.strip() for h in _split_csv_line(header_text, spec.delimiter)]))


def _split_csv_line(text: str, delimiter: str = ",") -> list[str]:
    # csv refuses NUL bytes outright; a line holding one is garbage, not a reason to stop the file.
    return next(csv.reader([text.replace("\x00", "\ufffd")], delimiter=delimiter), [])


def _csv_records(spec: SourceSpec, rel_path: str, data: bytes) -> Iterator[tuple[int, list[str] | _Reject]]:
    lines = list(_decode_lines(data, spec.encoding))
    ends_with_newline = bool(lines) and lines[-1][2] == b""
    if ends_with_newline:
        lines.pop()  # the final newline, not a line
    if not lines:
        raise LandingContractError(f"{rel_path}: empty file, expected a header {list(spec.columns)}")
    _parse_header(spec, rel_path, lines[0][2])
    width = len(spec.columns)
    # Each line is split on its own, so a stray quote cannot swallow the lines after it.
    for number, text, raw in lines[1:]:
        if text is None:
            yield number, _Reject(number, _clip(raw.decode(spec.encoding, errors="replace")), f"not valid {spec.encoding}")
        elif text.strip() == "":
            yield number, _Reject(number, text, "blank line")
        elif "\x00" in text:
            yield number, _Reject(number, _clip(text.replace("\x00", "\ufffd")), "binary data (NUL bytes) in line")
        else:
            try:
                fields = _split_csv_line(text, spec.delimiter)
            except csv.Error as error:  # e.g. a field over the csv module's size limit
                yield number, _Reject(number, _clip(text), f"unreadable CSV line: {error}")
                continue
            if spec.ends_with_newline and not ends_with_newline and number == lines[-1][0]:
                # A format whose files always end with a line break: a last line without one was
                # cut off in transfer, even when it still splits into the right number of fields
                # (an amount cut from 700.00 to 70 would otherwise load silently).
                yield number, _Reject(number, _clip(text), "truncated file: last line has no line break")
            elif len(fields) != width:
                yield number, _Reject(number, _clip(text), f"wrong field count: expected {width}, got {len(fields)}")
            else:
                yield number, fields


def _clip(text: str) -> str:
    if len(text) <= _MAX_REJECT_CHARS:
        return text
    return text[:_MAX_REJECT_CHARS] + f"…[{len(text) - _MAX_REJECT_CHARS} more characters]"


def _jsonl_records(spec: SourceSpec, rel_path: str, data: bytes) -> Iterator[tuple[int, list[str | None] | _Reject]]:
    expected = set(spec.columns)
    for number, text, raw in _decode_lines(data, spec.encoding):
        if text is None:
            yield number, _Reject(number, _clip(raw.decode(spec.encoding, errors="replace")), f"not valid {spec.encoding}")
            continue
        if text.strip() == "":
            continue  # JSON Lines allows a trailing newline; blank lines carry no record
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            yield number, _Reject(number, _clip(text), f"invalid JSON: {error.msg}")
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


def _missing_delivery(spec: SourceSpec, landing_dir: Path) -> FileLoad | None:
    """A ``required`` file absent from a channel folder that holds other files: a partial
    delivery. Logged (status 'missing') so the gap is visible instead of an empty raw table.
    A channel with no folder or no files at all is simply not delivered (another source's
    warehouse) and is not reported."""
    folder = landing_dir / spec.channel
    if not spec.required or files_for(spec, landing_dir) or not folder.is_dir():
        return None
    others = sorted(p.name for p in folder.iterdir() if p.is_file())
    if not others:
        return None
    rel_path = f"{spec.channel}/{spec.pattern}"
    return FileLoad(rel_path, 0, "", 0, 0, "missing",
                    f"{rel_path}: missing from the {spec.channel} delivery (found {', '.join(others)}); "
                    f"raw.{spec.table} is empty")


def previously_loaded(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """path → sha256 of the content last taken in (loaded or refused) for each file of ``table``."""
    rows = con.execute(
        f"""select path, sha256 from {LOAD_LOG_TABLE}
            where source_table = ? and status in ('loaded', 'rejected')
            qualify row_number() over (partition by path order by loaded_at desc) = 1""",
        [table],
    ).fetchall()
    return dict(rows)


def load_source(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    landing_dir: Path,
    loaded_at: datetime | None = None,
    *,
    settle_seconds: float | None = None,
    full: bool = True,
) -> SourceLoad:
    """Load this source's files into ``raw.<table>``.

    ``full=True`` replaces the table with every file (a full load). ``full=False`` is incremental
    per file: a file whose exact content (path + SHA-256 in ``ops.load_log``) was taken in before
    is skipped; a new file is added; a changed file replaces its own rows and rejects (delete by
    ``_source_file``, then insert). So loading the same files again changes nothing, and raw
    rows + rejects still equal the delivered data lines of every file. Rows of a file that has
    since disappeared from the landing folder stay until the next full load.

    A bad file never stops the others: a file that breaks the contract as a whole (empty, wrong
    header, wrong encoding) is refused with the reason in ``ops.load_log`` and one entry in
    ``quality.landing_rejects``; a file touched in the last ``settle_seconds`` is left for the
    next run, as it may still be being written.
    """
    ensure_landing_tables(con)
    loaded_at = loaded_at or datetime.now(timezone.utc)
    if settle_seconds is None:
        settle_seconds = load_settings().landing_settle_seconds
    columns_sql = ", ".join(f'"{c}" varchar' for c in spec.columns)
    create = "create table" if full else "create table if not exists"
    if full:
        con.execute(f"drop table if exists raw.{spec.table}")
        con.execute(f"delete from {REJECTS_TABLE} where source_table = ?", [spec.table])
        known: dict[str, str] = {}
    else:
        known = previously_loaded(con, spec.table)
    con.execute(
        f"{create} raw.{spec.table} ({columns_sql}, _source_file varchar, "
        "_source_line integer, _loaded_at timestamptz)"
    )
    result = SourceLoad(spec.table)
    # A format that is neither CSV nor JSON Lines (Parquet, whitespace-separated text) brings its
    # own reader with the same (line, fields | reject) items: see specs_retail.AdapterSpec.
    reader = getattr(spec, "read_records", None) or (_csv_records if spec.file_format == "csv" else _jsonl_records)
    # Rows are buffered across files and inserted in large Arrow batches: one insert per file
    # costs more than the parsing when a channel delivers hundreds of small daily files.
    buffer = _RowBuffer(con, spec, loaded_at)
    if missing := _missing_delivery(spec, landing_dir):
        result.files.append(missing)
    for path in files_for(spec, landing_dir):
        rel_path = path.relative_to(landing_dir).as_posix()
        stat = path.stat()
        if time.time() - stat.st_mtime < settle_seconds:
            result.files.append(FileLoad(rel_path, stat.st_size, "", 0, 0, "deferred",
                                         f"{rel_path}: modified {time.time() - stat.st_mtime:.1f}s ago, "
                                         "may still be being written; left for the next run"))
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if known.get(rel_path) == digest:
            result.files.append(FileLoad(rel_path, len(data), digest, 0, 0, "unchanged"))
            continue
        if rel_path in known:
            # A changed file: its earlier rows and rejects go, its new content comes in below.
            con.execute(f"delete from raw.{spec.table} where _source_file = ?", [rel_path])
            con.execute(f"delete from {REJECTS_TABLE} where source_table = ? and _source_file = ?",
                        [spec.table, rel_path])
        try:
            # Parsed whole before anything is inserted, so a refused file leaves no rows behind.
            items = list(reader(spec, rel_path, data))
        except LandingContractError as error:
            # Every data line of a refused file is quarantined with the file's reason, so the
            # line accounting (delivered = raw rows + rejects) holds for refused files too.
            refused = [
                _Reject(number, _clip(raw.decode(spec.encoding, errors="replace")), f"file refused: {error}")
                for number, _, raw in list(_decode_lines(data, spec.encoding))[1:]
                if raw.strip()
            ]
            _insert_rejects(con, spec, rel_path, loaded_at, refused)
            result.files.append(FileLoad(rel_path, len(data), digest, 0, len(refused), "rejected", str(error)))
            continue
        rows, rejects = 0, []
        for number, item in items:
            if isinstance(item, _Reject):
                rejects.append(item)
            else:
                buffer.add(rel_path, number, item)
                rows += 1
        _insert_rejects(con, spec, rel_path, loaded_at, rejects)
        result.files.append(FileLoad(rel_path, len(data), digest, rows, len(rejects)))
    buffer.flush()
    # Unchanged files are not logged again: the log holds one row per content taken in (and per
    # deferral), so "was this content loaded?" is a lookup, and the log does not grow per run.
    logged = [f for f in result.files if f.status != "unchanged"]
    if logged:
        con.executemany(
            f"insert into {LOAD_LOG_TABLE} (source_table, path, size_bytes, sha256, rows, rejected, status, "
            "loaded_at, error) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[spec.table, f.path, f.size_bytes, f.sha256, f.rows, f.rejected, f.status, loaded_at, f.error]
             for f in logged],
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


def load_all(con: duckdb.DuckDBPyConnection, landing_dir: Path, *, full: bool = True) -> list[SourceLoad]:
    loaded_at = datetime.now(timezone.utc)
    return [load_source(con, spec, landing_dir, loaded_at, full=full) for spec in SOURCES]
