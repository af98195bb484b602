"""``fundflow backup`` / ``fundflow restore``: consistent snapshots of the warehouse.

A backup is DuckDB's EXPORT DATABASE (schema DDL + one Parquet file per table) taken inside one
read transaction, so it is a consistent snapshot, plus ``manifest.json``: per file its SHA-256
and size, per table its row count and a content checksum (an order-independent sum of a
per-row md5). It is written to ``backups/<name>.partial`` and renamed when complete, so a
crashed backup never looks like a backup; the newest ``FUNDFLOW_BACKUPS_KEPT`` are kept. With
``FUNDFLOW_DB_KEY`` set every file is encrypted (``warehouse.security.encryption``).

Restore checks the manifest against every file (present, size, SHA-256) before it touches
anything, imports into a new file beside the warehouse, checks every table's rows and checksum
against the manifest, and only then swaps the new file in (the previous one is kept as
``warehouse.duckdb.before-restore``). The audit log is never rolled back: the current
warehouse's ``ops.audit_log`` is carried into the restored one, followed by the restore entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from warehouse.connections import open_duckdb
from warehouse.security import audit
from warehouse.security.encryption import DecryptionError, decrypt_file, derive_key, encrypt_file, new_salt
from warehouse.security.identifiers import UnsafeNameError, checked_file_name
from warehouse.settings import Settings

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
_PARTIAL = ".partial"
_ENCRYPTED_SUFFIX = ".enc"


class BackupError(RuntimeError):
    """A backup cannot be taken, or a backup is unusable (restore refuses it)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    tables: dict[str, dict]
    files: int
    bytes: int
    encrypted: bool
    seconds: float


@dataclass(frozen=True)
class RestoreResult:
    backup: Path
    tables: int
    rows: int
    seconds: float
    previous: Path | None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _user_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str]]:
    return con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? and not internal "
        "and not temporary order by all", [catalog]).fetchall()


def table_checksums(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, dict]:
    """Per table: rows and an order-independent content checksum (sum of 60 bits of each row's md5).
    Rows are rendered as text in UTC, so the session time zone cannot change a checksum."""
    con.execute("set TimeZone = 'UTC'")
    out = {}
    for schema, table in _user_tables(con, catalog):
        rows, checksum = con.execute(
            f"""select count(*), coalesce(sum(('0x' || left(md5(t::varchar), 15))::bigint::hugeint), 0)::varchar
                from "{catalog}"."{schema}"."{table}" as t""").fetchone()
        out[f"{schema}.{table}"] = {"rows": rows, "checksum": checksum}
    return out


def list_backups(settings: Settings) -> list[Path]:
    root = settings.backups_dir
    if not root.exists():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.endswith(_PARTIAL) and (p / MANIFEST).exists())


def backup(settings: Settings, *, now: datetime | None = None) -> BackupResult:
    started = time.monotonic()
    now = now or datetime.now(timezone.utc)
    if not settings.warehouse_path.exists():
        raise BackupError(f"no warehouse at {settings.warehouse_path}: nothing to back up")
    name = f"backup-{now.strftime('%Y%m%dT%H%M%S%fZ')}"
    settings.backups_dir.mkdir(parents=True, exist_ok=True)
    partial = settings.backups_dir / f"{name}{_PARTIAL}"
    final = settings.backups_dir / name
    if final.exists():
        raise BackupError(f"backup {final} already exists")
    salt = new_salt() if settings.db_key else None
    # Encrypted: the plain export goes to a private temp folder first and is deleted after.
    export_dir = Path(tempfile.mkdtemp(prefix=".export-", dir=settings.backups_dir)) if salt else partial
    try:
        con = open_duckdb(settings.warehouse_path, settings)
        try:
            con.execute("begin transaction")  # EXPORT and the checksums read one snapshot
            tables = table_checksums(con, con.execute("select current_database()").fetchone()[0])
            con.execute(f"export database '{export_dir}' (format parquet, compression zstd)")
            con.execute("commit")
            if salt:
                _encrypt_tree(export_dir, partial, derive_key(settings.db_key, salt))
            files = {str(p.relative_to(partial)): {"sha256": _sha256(p), "bytes": p.stat().st_size}
                     for p in sorted(partial.rglob("*")) if p.is_file()}
            manifest = {
                "format": FORMAT_VERSION, "name": name, "created_at": now.isoformat(),
                "duckdb_version": duckdb.__version__, "source": str(settings.warehouse_path),
                "encrypted": bool(salt), "salt": salt.hex() if salt else None,
                "tables": tables, "files": files,
            }
            (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
            os.replace(partial, final)
            audit.record(con, settings, "backup", name, {"tables": len(tables), "files": len(files),
                                                         "encrypted": bool(salt)})
        finally:
            con.close()
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        if salt:
            shutil.rmtree(export_dir, ignore_errors=True)
    _prune(settings)
    size = sum(f["bytes"] for f in files.values())
    return BackupResult(final, tables, len(files), size, bool(salt), time.monotonic() - started)


def _encrypt_tree(plain_dir: Path, target_dir: Path, key: bytes) -> None:
    target_dir.mkdir()
    for path in sorted(plain_dir.rglob("*")):
        if path.is_file():
            relative = str(path.relative_to(plain_dir))
            out = target_dir / (relative + _ENCRYPTED_SUFFIX)
            out.parent.mkdir(parents=True, exist_ok=True)
            encrypt_file(path, out, key, relative)


def _prune(settings: Settings) -> list[Path]:
    backups = list_backups(settings)
    old = backups[: max(len(backups) - max(settings.backups_kept, 1), 0)]
    for path in old:
        shutil.rmtree(path)
    return old


def resolve_backup(settings: Settings, name: str | None) -> Path:
    """The named backup (a bare directory name under backups/), or the newest."""
    backups = list_backups(settings)
    if name is None:
        if not backups:
            raise BackupError(f"no backups in {settings.backups_dir}")
        return backups[-1]
    try:
        checked_file_name(name, "backup name")
    except UnsafeNameError as error:
        raise BackupError(str(error)) from None
    path = settings.backups_dir / name
    if path not in backups:
        raise BackupError(f"no backup named {name!r} in {settings.backups_dir} (have: {[p.name for p in backups]})")
    return path


def verify_backup(path: Path) -> dict:
    """The manifest, after checking every listed file (present, size, SHA-256) and no stray file."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"{path.name}: unreadable manifest ({error}); refusing to restore") from None
    if manifest.get("format") != FORMAT_VERSION or not isinstance(manifest.get("files"), dict):
        raise BackupError(f"{path.name}: not a fundflow backup manifest (format {manifest.get('format')!r})")
    problems = []
    for relative, expected in manifest["files"].items():
        file = (path / relative).resolve()
        if not file.is_relative_to(path.resolve()):
            problems.append(f"{relative}: outside the backup")
        elif not file.is_file():
            problems.append(f"{relative}: missing")
        elif file.stat().st_size != expected["bytes"]:
            problems.append(f"{relative}: {file.stat().st_size} bytes, manifest says {expected['bytes']} (truncated?)")
        elif _sha256(file) != expected["sha256"]:
            problems.append(f"{relative}: SHA-256 differs from the manifest (corrupted)")
    listed = set(manifest["files"]) | {MANIFEST}
    problems += [f"{p.relative_to(path)}: not in the manifest" for p in path.rglob("*")
                 if p.is_file() and str(p.relative_to(path)) not in listed]
    if problems:
        raise BackupError(f"{path.name} is damaged; refusing to restore, nothing was changed:\n  " + "\n  ".join(problems))
    return manifest


def restore(settings: Settings, name: str | None = None) -> RestoreResult:
    started = time.monotonic()
    path = resolve_backup(settings, name)
    manifest = verify_backup(path)
    work = Path(tempfile.mkdtemp(prefix=".restore-", dir=settings.warehouse_path.parent))
    new_db = settings.warehouse_path.with_name(settings.warehouse_path.name + ".restoring")
    new_db.unlink(missing_ok=True)
    try:
        source = path
        if manifest["encrypted"]:
            if not settings.db_key:
                raise BackupError(f"{path.name} is encrypted: set FUNDFLOW_DB_KEY to restore it")
            key = derive_key(settings.db_key, bytes.fromhex(manifest["salt"]))
            source = work / "plain"
            for relative in manifest["files"]:
                plain_name = relative.removesuffix(_ENCRYPTED_SUFFIX)
                (source / plain_name).parent.mkdir(parents=True, exist_ok=True)
                try:
                    decrypt_file(path / relative, source / plain_name, key, plain_name)
                except DecryptionError as error:
                    raise BackupError(f"{path.name}: {error}; refusing to restore, nothing was changed") from None
        con = duckdb.connect(str(new_db), config={"memory_limit": settings.duckdb_memory_limit,
                                                   "threads": settings.duckdb_threads})
        try:
            # EXPORT wrote load.sql with the export directory's absolute path; import from where
            # the files are now.
            con.execute(f"import database '{source}'")
            restored = table_checksums(con, con.execute("select current_database()").fetchone()[0])
            expected = manifest["tables"]
            differing = sorted(t for t in set(expected) | set(restored) if expected.get(t) != restored.get(t))
            if differing:
                raise BackupError(f"{path.name}: restored tables differ from the manifest: {differing[:10]}; "
                                  "refusing to replace the warehouse")
            _carry_audit_log(con, settings)
            audit.record(con, settings, "restore", path.name, {"tables": len(restored),
                                                               "created_at": manifest["created_at"]})
            con.execute("checkpoint")
        finally:
            con.close()
        previous = None
        if settings.warehouse_path.exists():
            previous = settings.warehouse_path.with_name(settings.warehouse_path.name + ".before-restore")
            shutil.copy2(settings.warehouse_path, previous)
        os.replace(new_db, settings.warehouse_path)
        Path(f"{settings.warehouse_path}.wal").unlink(missing_ok=True)
    finally:
        new_db.unlink(missing_ok=True)
        Path(f"{new_db}.wal").unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    return RestoreResult(path, len(manifest["tables"]), rows, time.monotonic() - started, previous)


def _carry_audit_log(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """The audit log is not rolled back: the current warehouse's log (a superset of the
    backup's) replaces the restored copy. If the current file cannot be read (the reason for the
    restore, perhaps), the backup's log stays and the restore entry follows it."""
    if not settings.warehouse_path.exists():
        return
    try:
        con.execute(f"attach '{settings.warehouse_path}' as current_wh (read_only)")
    except duckdb.Error:
        return
    try:
        has_log = con.execute("select count(*) from duckdb_tables() where database_name = 'current_wh' "
                              "and schema_name = 'ops' and table_name = 'audit_log'").fetchone()[0]
        if has_log:
            audit.ensure_audit_log(con)
            con.execute(f"delete from {audit.AUDIT_TABLE}")
            con.execute(f"insert into {audit.AUDIT_TABLE} select * from current_wh.ops.audit_log")
    finally:
        con.execute("detach current_wh")
