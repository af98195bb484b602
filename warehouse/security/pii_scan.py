"""Scan everything fundflow lets out of the warehouse for clear personal data.

The publish step already refuses a serving file with clear values (``warehouse.serving.pii_guard``);
this scans the finished outputs as a reader gets them: every table and view of every serving
DuckDB file (the default copy and each role file), every Parquet and CSV export, every report
(HTML, JSON) and every action list. Tabular files go through the same SQL scan as the publish
guard; text files through the same patterns in Python. Names have no shape, so the clear names
the warehouse received are passed in and matched by value (whole cells; in text, names of three
or more characters anywhere and shorter ones as a whole HTML text node).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.serving.pii_guard import PATTERNS, PiiFinding, _digit_runs, _id_candidates, find_clear_pii, luhn_valid, resident_id_valid
from warehouse.settings import Settings

TEXT_SUFFIXES = (".html", ".htm", ".json", ".jsonl", ".txt", ".md")
_PSEUDONYMOUS_KEY = re.compile(r"(?<![0-9a-zA-Z])[0-9a-f]{32,}(?![0-9a-zA-Z])")


@dataclass
class ScanReport:
    findings: list[PiiFinding] = field(default_factory=list)
    databases: list[Path] = field(default_factory=list)
    relations: int = 0  # tables and views scanned inside the databases
    parquet_files: list[Path] = field(default_factory=list)
    csv_files: list[Path] = field(default_factory=list)
    text_files: list[Path] = field(default_factory=list)
    patterns: tuple[str, ...] = (*PATTERNS, "a clear name")

    def coverage(self) -> str:
        return (f"{len(self.databases)} serving databases ({self.relations} tables and views), "
                f"{len(self.parquet_files)} Parquet, {len(self.csv_files)} CSV, {len(self.text_files)} report/text files; "
                f"patterns: {', '.join(self.patterns)}")


def _unique_files(paths: list[Path]) -> list[Path]:
    """Served names are hard links or symlinks to versioned files: scan each content once."""
    seen: set[tuple[int, int]] = set()
    unique = []
    for path in sorted(paths):
        stat = os.stat(path)
        if (stat.st_dev, stat.st_ino) not in seen:
            seen.add((stat.st_dev, stat.st_ino))
            unique.append(path)
    return unique


def published_outputs(settings: Settings) -> dict[str, list[Path]]:
    roots = [settings.serving_dir, settings.home / "actions", settings.reports_dir]
    found: dict[str, list[Path]] = {"duckdb": [], "parquet": [], "csv": [], "text": []}
    for root in roots:
        if not root.exists():
            continue
        for path in root.rglob("*"):
            if not path.is_file() or path.name.startswith("."):
                continue
            suffix = path.suffix.lower()
            if suffix == ".duckdb":
                found["duckdb"].append(path)
            elif suffix in (".parquet", ".csv"):
                found[suffix[1:]].append(path)
            elif suffix in TEXT_SUFFIXES:
                found["text"].append(path)
    return {kind: _unique_files(paths) for kind, paths in found.items()}


def scan_outputs(settings: Settings, known_names: list[str] | tuple[str, ...] = ()) -> ScanReport:
    report = ScanReport()
    outputs = published_outputs(settings)
    con = duckdb.connect()
    try:
        for index, path in enumerate(outputs["duckdb"]):
            alias = f"served_{index}"
            con.execute(f"attach '{path}' as {alias} (read_only)")
            schemas = tuple(s for (s,) in con.execute(
                "select distinct schema_name from duckdb_tables() where database_name = ? "
                "union select distinct schema_name from duckdb_views() where database_name = ? and not internal",
                [alias, alias]).fetchall())
            report.relations += con.execute(
                "select count(*) from (select 1 from duckdb_tables() where database_name = ? "
                "union all select 1 from duckdb_views() where database_name = ? and not internal)",
                [alias, alias]).fetchone()[0]
            report.findings += [_located(f, path) for f in find_clear_pii(con, alias, schemas, known_names)]
            report.databases.append(path)
            con.execute(f"detach {alias}")
        for kind, reader in (("parquet", "read_parquet('{}')"), ("csv", "read_csv('{}', all_varchar = true)")):
            for index, path in enumerate(outputs[kind]):
                view = f"{kind}_{index}"
                con.execute(f"create or replace view {view} as select * from {reader.format(path)}")
                report.findings += [_located(f, path) for f in find_clear_pii(con, "memory", ("main",), known_names)
                                    if f.table == view]
                con.execute(f"drop view {view}")
                getattr(report, f"{kind}_files").append(path)
    finally:
        con.close()
    for path in outputs["text"]:
        report.findings += scan_text(path.read_text(encoding="utf-8", errors="replace"), str(path), known_names)
        report.text_files.append(path)
    return report


def _located(finding: PiiFinding, path: Path) -> PiiFinding:
    return PiiFinding(str(path), finding.schema + "." + finding.table, finding.column, finding.kind, finding.rows,
                      finding.example)


_PY_PATTERNS = {kind: re.compile(pattern) for kind, pattern in PATTERNS.items()}


@functools.cache
def _bundled_library_matches() -> frozenset[str]:
    """Pattern matches inside the JavaScript the reports inline (plotly.js, whose licence header
    names an author's e-mail address). Verbatim library text is not customer data; the same
    string anywhere else in a report still counts, since only exact matches are skipped."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        return frozenset()
    library = get_plotlyjs()
    return frozenset(m.group(0) for pattern in _PY_PATTERNS.values() for m in pattern.finditer(library))


def scan_text(text: str, where: str, known_names: list[str] | tuple[str, ...] = ()) -> list[PiiFinding]:
    """The publish guard's patterns (same validation) and known names, over free text."""
    findings: list[PiiFinding] = []
    # Pseudonymous keys (hex digests) hold digit runs by chance: blank them first.
    text = _PSEUDONYMOUS_KEY.sub(" ", text)
    bundled = _bundled_library_matches()
    for kind, pattern in _PY_PATTERNS.items():
        hits = [m.group(0) for m in pattern.finditer(text) if m.group(0) not in bundled]
        if kind == "a card or account number":
            hits = [h for h in hits if any(luhn_valid(r) for r in _digit_runs(h, 13, 19))]
        if kind == "a resident ID number":
            hits = [h for h in hits if any(resident_id_valid(r) for r in _id_candidates(h))]
        if hits:
            findings.append(PiiFinding(where, "text", "-", kind, len(hits), hits[0].strip()[:3] + "***"))
    names = [n for n in {n.strip() for n in known_names} if n]
    long_names = [n for n in names if len(n) >= 3]
    short_names = {n for n in names if len(n) < 3}
    hits = [n for n in long_names if n in text]
    hits += [m.group(1) for m in re.finditer(r">\s*([^<>\s]{1,2})\s*<", text) if m.group(1) in short_names]
    if hits:
        findings.append(PiiFinding(where, "text", "-", "a clear name", len(hits), hits[0][:1] + "*"))
    return findings
