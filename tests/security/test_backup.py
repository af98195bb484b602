"""Backup and restore: a round trip gives back every table identically; a corrupted, truncated
or incomplete backup is refused before anything is replaced; with FUNDFLOW_DB_KEY the backup
files are encrypted (unreadable without the key, no plaintext in their bytes)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from warehouse.security import audit
from warehouse.security.backup import BackupError, backup, list_backups, restore, table_checksums


@pytest.fixture()
def copy(world, tmp_path: Path):
    """The refreshed world's warehouse, copied into a home of its own (the world stays intact)."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(world.settings.warehouse_path, home / "warehouse.duckdb")
    return dataclasses.replace(world.settings, home=home, warehouse_path=home / "warehouse.duckdb", db_key="",
                               backups_kept=2)


def _checksums(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return table_checksums(con, con.execute("select current_database()").fetchone()[0])
    finally:
        con.close()


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_round_trip_restores_every_table_identically(copy) -> None:
    before = _checksums(copy.warehouse_path)
    assert len(before) > 40 and before["marts.fct_fund_flows"]["rows"] > 10_000
    result = backup(copy)
    manifest = json.loads((result.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tables"] == {**before, "ops.audit_log": manifest["tables"]["ops.audit_log"]}
    # Damage the warehouse, then restore.
    con = duckdb.connect(str(copy.warehouse_path))
    con.execute("delete from marts.fct_fund_flows where direction = 'in'")
    con.execute("drop table marts.dim_customer")
    con.close()
    restored = restore(copy)
    after = _checksums(copy.warehouse_path)
    assert {t: v for t, v in after.items() if t != "ops.audit_log"} == \
        {t: v for t, v in before.items() if t != "ops.audit_log"}
    # An independent content check on the biggest table, and the views come back too.
    con = duckdb.connect(str(copy.warehouse_path), read_only=True)
    con.execute(f"attach '{restored.previous}' as damaged (read_only)")
    assert con.execute("select count(*) from marts.fct_fund_flows").fetchone()[0] == before["marts.fct_fund_flows"]["rows"]
    assert audit.verify_audit_log(con) >= 2
    assert [e.action for e in audit.entries(con)][-2:] == ["backup", "restore"]
    con.close()
    print(f"round trip at the test world: backup {result.seconds:.1f}s + restore {restored.seconds:.1f}s, "
          f"{result.bytes / 1e6:.1f} MB")


@pytest.fixture(scope="module")
def backed_up(world, tmp_path_factory: pytest.TempPathFactory):
    """One backup of the world's warehouse, taken once for the damage cases (each damages a copy)."""
    home = tmp_path_factory.mktemp("backed-up")
    shutil.copy(world.settings.warehouse_path, home / "warehouse.duckdb")
    settings = dataclasses.replace(world.settings, home=home, warehouse_path=home / "warehouse.duckdb", db_key="")
    return settings, backup(settings).path.name


@pytest.mark.parametrize("damage, message", [
    ("corrupt", "SHA-256 differs from the manifest"),
    ("truncate", "truncated"),
    ("remove", "missing"),
    ("stray", "not in the manifest"),
    ("manifest", "unreadable manifest"),
])
def test_a_damaged_backup_is_refused_and_nothing_changes(backed_up, tmp_path: Path, damage: str, message: str) -> None:
    original, name = backed_up
    shutil.copytree(original.home, tmp_path / "home")
    copy = dataclasses.replace(original, home=tmp_path / "home", warehouse_path=tmp_path / "home" / "warehouse.duckdb")
    path = copy.backups_dir / name
    parquet = max(path.glob("*.parquet"), key=lambda p: p.stat().st_size)
    if damage == "corrupt":
        data = bytearray(parquet.read_bytes())
        data[len(data) // 2] ^= 0xFF
        parquet.write_bytes(bytes(data))
    elif damage == "truncate":
        parquet.write_bytes(parquet.read_bytes()[:-100])
    elif damage == "remove":
        parquet.unlink()
    elif damage == "stray":
        (path / "extra.parquet").write_bytes(b"PAR1")
    else:
        (path / "manifest.json").write_text('{"format": 1, "files": ', encoding="utf-8")
    untouched = _file_sha(copy.warehouse_path)
    with pytest.raises(BackupError, match=message):
        restore(copy, name)
    assert _file_sha(copy.warehouse_path) == untouched
    assert not list(copy.home.glob("warehouse.duckdb.*"))


def test_restore_refuses_unknown_names_and_traversal(copy) -> None:
    backup(copy)
    untouched = _file_sha(copy.warehouse_path)
    refusals = {"../warehouse.duckdb": "not a plain file name", "/etc": "not a plain file name",
                "backup-1; rm -rf /": "not a plain file name", "x" * 300: "at most 128", "nope": "no backup named"}
    for name, message in refusals.items():
        with pytest.raises(BackupError, match=message):
            restore(copy, name)
    assert _file_sha(copy.warehouse_path) == untouched


def test_encrypted_backup_needs_the_key_and_shows_no_plaintext(copy) -> None:
    plain = backup(copy)
    keyed = dataclasses.replace(copy, db_key="correct horse battery staple")
    sealed = backup(keyed)
    assert sealed.encrypted and not plain.encrypted
    # The plain backup shows table names and Parquet files; the sealed one shows neither.
    assert b"fct_fund_flows" in (plain.path / "schema.sql").read_bytes()
    for path in sealed.path.iterdir():
        if path.name == "manifest.json":
            continue
        data = path.read_bytes()
        assert path.suffix == ".enc" and b"fct_fund_flows" not in data and b"PAR1" not in data and b"CREATE" not in data
    with pytest.raises(BackupError, match="set FUNDFLOW_DB_KEY"):
        restore(copy, sealed.path.name)
    with pytest.raises(BackupError, match="does not decrypt"):
        restore(dataclasses.replace(copy, db_key="wrong key"), sealed.path.name)
    before = _checksums(copy.warehouse_path)
    restore(keyed, sealed.path.name)
    after = _checksums(copy.warehouse_path)
    assert {t: v for t, v in after.items() if t != "ops.audit_log"} == \
        {t: v for t, v in before.items() if t != "ops.audit_log"}
    # backups_kept=2: the oldest of three is gone.
    backup(copy)
    assert [p.name for p in list_backups(copy)][0] == sealed.path.name
