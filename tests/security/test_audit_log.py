"""ops.audit_log: the refresh, publish and export steps and the CLI record who did what and when;
the hash chain shows any change to a past entry."""

from __future__ import annotations

import dataclasses
import getpass
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from warehouse.security import audit
from warehouse.security.audit import AuditLogTamperedError


def test_the_refresh_recorded_loads_publishes_and_exports(world) -> None:
    con = duckdb.connect(str(world.settings.warehouse_path), read_only=True)
    try:
        assert audit.verify_audit_log(con) > 0
        entries = audit.entries(con)
    finally:
        con.close()
    actions = {e.action for e in entries}
    assert {"load", "publish", "export"} <= actions
    published = {e.target for e in entries if e.action == "publish"}
    assert "serving/marts.duckdb" in published and "serving/roles/risk_officer/marts.duckdb" in published
    assert all(e.actor == getpass.getuser() for e in entries)
    loads = [e for e in entries if e.action == "load" and e.target == "raw.crm__customers"]
    assert loads and '"rows":' in loads[0].details


def test_tampering_is_detected(world, tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    shutil.copy(world.settings.warehouse_path, path)
    con = duckdb.connect(str(path))
    settings = dataclasses.replace(world.settings, audit_identity="auditor@example")
    entry = audit.record(con, settings, "report_approval", "report v1", {"approved_by": "王经理"})
    assert entry.actor == "auditor@example"
    assert audit.verify_audit_log(con) == entry.seq
    con.execute("update ops.audit_log set actor = 'someone else' where seq = 2")
    with pytest.raises(AuditLogTamperedError, match="entry 2 .* was altered"):
        audit.verify_audit_log(con)
    con.close()
    shutil.copy(world.settings.warehouse_path, path)
    con = duckdb.connect(str(path))
    con.execute("delete from ops.audit_log where seq = 1")
    with pytest.raises(AuditLogTamperedError, match="entry 1 is missing"):
        audit.verify_audit_log(con)
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(con, settings, "drop table x", "x")
    con.close()


def test_cli_backup_and_audit_record_the_identity(world, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(world.settings.warehouse_path, home / "warehouse.duckdb")
    fundflow = str(Path(sys.executable).parent / "fundflow")
    env = {**os.environ, "FUNDFLOW_HOME": str(home), "FUNDFLOW_AUDIT_IDENTITY": "ops-bot"}
    env.pop("FUNDFLOW_WAREHOUSE_PATH", None)
    done = subprocess.run([fundflow, "backup"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "NOT encrypted" in done.stdout
    shown = subprocess.run([fundflow, "audit", "--last", "3"], env=env, capture_output=True, text=True)
    assert shown.returncode == 0 and "hash chain intact" in shown.stdout and "ops-bot" in shown.stdout
