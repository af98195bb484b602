"""Turning formatted deliveries into landing files, and recording where every defect landed.

Lines are built as one Arrow binary array (CSV with minimal quoting like Python's ``csv`` module,
or one JSON object per line), re-exported duplicates are slotted in after their original (same
file, or the table's next file, which may belong to the next month's chunk), and each file is
written as a single slice of the joined buffer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..landing.specs import spec_for
from .dirt import Delivery, Planted

DUPLICATE_TO_NEXT_FILE = 0.3
DIRT_SCHEMA = pa.schema([
    ("source_table", pa.string()),
    ("source_file", pa.string()),
    ("source_line", pa.int64()),
    ("source_record_id", pa.string()),
    ("dirt_type", pa.string()),
    ("detail", pa.string()),
])


@dataclass
class FileStats:
    rows: int = 0
    duplicates: int = 0
    malformed: int = 0


@dataclass
class Carry:
    """Duplicates re-exported into the table's next file, which the next chunk writes."""

    lines: list[pa.Array] = field(default_factory=list)
    record_ids: list[pa.Array] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.origins)


_SPECIAL = (b",", b'"', b"\n", b"\r")


def _quote(col: pa.Array) -> pa.Array:
    """Quote values holding a delimiter, quote or line break (like csv.QUOTE_MINIMAL)."""
    data = col.buffers()[2]
    if data is None:
        return col
    raw = data.to_pybytes()  # cheap memchr scans; most columns never need quoting
    if not any(ch in raw for ch in _SPECIAL):
        return col
    needs = pc.match_substring_regex(col, '[,"\r\n]')
    quoted = pc.binary_join_element_wise(
        pa.scalar(b'"'), pc.replace_substring(col, '"', '""'), pa.scalar(b'"'), pa.scalar(b""))
    return pc.if_else(needs, quoted, col)


def _join(parts: list[pa.Array], sep: bytes) -> pa.Array:
    out = pc.binary_join_element_wise(*parts, pa.scalar(sep), null_handling="replace", null_replacement="")
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def _csv_lines(d: Delivery, malformed: np.ndarray, rng: np.random.Generator) -> tuple[pa.Array, dict[int, str]]:
    cols = [_quote(d.fields[c]) for c in d.columns]
    lines = _join(cols, b",")
    notes: dict[int, str] = {}
    rows = np.flatnonzero(malformed)
    if len(rows):
        idx = pa.array(rows)
        sub = [c.take(idx) for c in cols]
        extra = rng.random(len(rows)) < 0.5
        short = _join(sub[:-1], b",")
        longer = _join(sub + [sub[-1]], b",")
        bad = pc.if_else(pa.array(extra), longer, short)
        mask = np.zeros(len(lines), dtype=bool)
        mask[rows] = True
        lines = pc.replace_with_mask(lines, pa.array(mask), bad)
        for r, e in zip(rows, extra):
            notes[int(r)] = "extra field" if e else f"missing last field ({d.columns[-1]})"
    out = pc.binary_join_element_wise(lines, pa.scalar(b"\n"), pa.scalar(b""))
    return out, notes


def _json_lines(d: Delivery, malformed: np.ndarray, rng: np.random.Generator) -> tuple[pa.Array, dict[int, str]]:
    n = len(d)
    parts = []
    for k, c in enumerate(d.columns):
        v = d.fields[c]
        if pc.any(pc.match_substring_regex(v, r'["\\]')).as_py():
            v = pc.replace_substring(pc.replace_substring(v, "\\", "\\\\"), '"', '\\"')
        quoted = pc.binary_join_element_wise(pa.scalar(b'"'), v, pa.scalar(b'"'), pa.scalar(b""))
        raw = d.json_raw.get(c)
        if raw is not None:
            quoted = pc.if_else(pa.array(np.broadcast_to(raw, (n,))), v, quoted)
        frag = pc.fill_null(quoted, pa.scalar(b"null"))
        key = ("{" if k == 0 else "") + f'"{c}":'
        parts.append(pc.binary_join_element_wise(pa.scalar(key.encode()), frag, pa.scalar(b"")))
    lines = _join(parts, b",")
    lines = pc.binary_join_element_wise(lines, pa.scalar(b"}\n"), pa.scalar(b""))
    notes: dict[int, str] = {}
    rows = np.flatnonzero(malformed)
    if len(rows):
        cut_lines = []
        for r, text in zip(rows, lines.take(pa.array(rows)).to_pylist()):
            commas = [i for i, ch in enumerate(text) if ch == 0x2C]
            cut = commas[int(rng.integers(1, len(commas)))] if len(commas) > 1 else len(text) // 2
            cut_lines.append(text[:cut] + b"\n")
            notes[int(r)] = f"truncated after {cut} bytes"
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        lines = pc.replace_with_mask(lines, pa.array(mask), pa.array(cut_lines, pa.binary()))
    return lines, notes


def _buffer_slices(arr: pa.Array, bounds: np.ndarray) -> list[memoryview]:
    """Byte ranges of consecutive row ranges [bounds[i], bounds[i+1]) of a binary array."""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset: arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    view = memoryview(data) if data is not None else memoryview(b"")
    return [view[offsets[a]:offsets[b]] for a, b in zip(bounds[:-1], bounds[1:])]


class TableWriter:
    """Writes one raw table chunk by chunk and keeps its manifest counts."""

    def __init__(self, landing_dir: Path, table: str):
        self.landing_dir = landing_dir
        self.table = table
        self.carry = Carry()
        self.stats: dict[str, FileStats] = {}

    def _header(self, d: Delivery) -> bytes:
        return (",".join(d.columns) + "\n").encode(d.encoding) if d.file_format == "csv" else b""

    def write(self, d: Delivery, planted: Planted, rng: np.random.Generator, is_last: bool) -> pa.Table:
        n, nf = len(d), len(d.files)
        build = _csv_lines if d.file_format == "csv" else _json_lines
        lines, notes = build(d, planted.malformed, rng)
        lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
        fidx = np.asarray(d.file_idx, dtype=np.int64)
        if n and (fidx.min() < 0 or fidx.max() >= nf or (np.diff(fidx) < 0).any()):
            raise AssertionError(f"{self.table}: rows not grouped into this chunk's {nf} files")
        starts = np.searchsorted(fidx, np.arange(nf), side="left")
        ends = np.searchsorted(fidx, np.arange(nf), side="right")

        # Where each re-exported copy goes.
        dup = np.flatnonzero(planted.duplicate)
        f = fidx[dup]
        to_next = rng.random(len(dup)) < DUPLICATE_TO_NEXT_FILE
        has_next = f + 1 < nf
        nxt = to_next & has_next
        carry_out = to_next & ~has_next & (not is_last)
        r1, r2 = rng.random(len(dup)), rng.random(len(dup))
        dup_file = np.where(nxt, f + 1, f)
        fn = np.minimum(f + 1, nf - 1)
        dup_key = np.where(nxt, starts[fn] - 0.5 + r1 * (ends[fn] - starts[fn]),
                           dup + 0.5 + r2 * np.maximum(ends[f] - 1 - dup, 0))
        placed = dup[~carry_out]

        n_in = len(self.carry)
        if nf:
            in_key = starts[0] - 0.5 + rng.random(n_in) * (ends[0] - starts[0])
        else:
            in_key = np.zeros(0)
        parts = [lines, lines.take(pa.array(placed))] + self.carry.lines
        all_lines = pa.concat_arrays([p.cast(pa.binary()) for p in parts])
        all_file = np.concatenate([fidx, dup_file[~carry_out], np.zeros(n_in, dtype=np.int64)])
        all_key = np.concatenate([np.arange(n, dtype=float), dup_key[~carry_out], in_key])
        order = np.lexsort((all_key, all_file))
        final = all_lines.take(pa.array(order))
        pos = np.empty(len(order), dtype=np.int64)
        pos[order] = np.arange(len(order))
        counts = np.bincount(all_file, minlength=nf)
        file_start = np.concatenate([[0], np.cumsum(counts)])
        first_line = 2 if d.file_format == "csv" else 1
        line_no = pos - file_start[all_file] + first_line  # per element of all_*

        # Files.
        header = self._header(d)
        slices = _buffer_slices(final, file_start)
        for i, rel in enumerate(d.files):
            path = self.landing_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(header)
                fh.write(slices[i])
            st = self.stats.setdefault(rel, FileStats())
            st.rows += int(counts[i])
        n_placed = len(placed)
        for i, k in zip(*np.unique(dup_file[~carry_out], return_counts=True)):
            self.stats[d.files[i]].duplicates += int(k)
        if n_in:
            self.stats[d.files[0]].duplicates += n_in
        mal_rows = np.flatnonzero(planted.malformed)
        for i, k in zip(*np.unique(fidx[mal_rows], return_counts=True)):
            self.stats[d.files[i]].malformed += int(k)

        # Truth of the defects.
        files_arr = np.array(d.files, dtype=object)
        rid = d.record_id
        t_file, t_line, t_rid, t_type, t_detail = [], [], [], [], []
        for rows, kind, details in zip(planted.rows, planted.kinds, planted.details):
            t_file.append(files_arr[fidx[rows]])
            t_line.append(line_no[rows])
            t_rid.append(rid.take(pa.array(rows)))
            t_type.append(np.full(len(rows), kind, dtype=object))
            t_detail.append(np.array(details, dtype=object))
        if len(mal_rows):
            t_file.append(files_arr[fidx[mal_rows]])
            t_line.append(line_no[mal_rows])
            t_rid.append(rid.take(pa.array(mal_rows)))
            t_type.append(np.full(len(mal_rows), "malformed", dtype=object))
            t_detail.append(np.array([notes[int(r)] for r in mal_rows], dtype=object))
        origin = np.array([f"{d.files[a]}:{b}" for a, b in zip(fidx[dup], line_no[dup])], dtype=object)
        if n_placed:
            el = n + np.arange(n_placed)
            t_file.append(files_arr[all_file[el]])
            t_line.append(line_no[el])
            t_rid.append(rid.take(pa.array(placed)))
            t_type.append(np.full(n_placed, "duplicate", dtype=object))
            t_detail.append(np.array([f"copy of {o}" for o in origin[~carry_out]], dtype=object))
        if n_in:
            el = n + n_placed + np.arange(n_in)
            t_file.append(files_arr[all_file[el]])
            t_line.append(line_no[el])
            t_rid.append(pa.concat_arrays(self.carry.record_ids))
            t_type.append(np.full(n_in, "duplicate", dtype=object))
            t_detail.append(np.array([f"copy of {o}" for o in self.carry.origins], dtype=object))

        # Copies for the next chunk's first file.
        nxt_carry = Carry()
        if carry_out.any():
            rows = dup[carry_out]
            nxt_carry.lines.append(lines.take(pa.array(rows)))
            nxt_carry.record_ids.append(rid.take(pa.array(rows)))
            nxt_carry.origins.extend(origin[carry_out].tolist())
        self.carry = nxt_carry

        if not t_file:
            return DIRT_SCHEMA.empty_table()
        return pa.table({
            "source_table": pa.array(np.full(sum(len(x) for x in t_file), self.table, dtype=object), pa.string()),
            "source_file": pa.array(np.concatenate(t_file), pa.string()),
            "source_line": pa.array(np.concatenate(t_line), pa.int64()),
            "source_record_id": pa.concat_arrays([x.cast(pa.binary()) for x in t_rid]).cast(pa.string()),
            "dirt_type": pa.array(np.concatenate(t_type), pa.string()),
            "detail": pa.array(np.concatenate(t_detail), pa.string()),
        }, schema=DIRT_SCHEMA)


def write_plain_csv(landing_dir: Path, rel: str, table: str, fields: dict[str, pa.Array]) -> int:
    """A whole small CSV (CRM, reference, accounts) in one go, in its spec's column order."""
    spec = spec_for(table)
    if set(fields) != set(spec.columns):
        raise ValueError(f"{table}: fields {sorted(fields)} do not match spec {spec.columns}")
    cols = [_quote(fields[c]) for c in spec.columns]
    n = len(cols[0])
    path = landing_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write((",".join(spec.columns) + "\n").encode(spec.encoding))
        if n:
            lines = _join(cols, b",")
            lines = pc.binary_join_element_wise(lines, pa.scalar(b"\n"), pa.scalar(b""))
            lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
            fh.write(_buffer_slices(lines, np.array([0, n]))[0])
    return n
