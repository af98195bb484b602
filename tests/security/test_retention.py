"""Retention: only landing files that are old, loaded (same content) and backed up are removed."""

from __future__ import annotations

import dataclasses
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from warehouse.landing import SOURCES, ensure_landing_tables, load_source
from warehouse.security import audit
from warehouse.security.backup import backup
from warehouse.security.retention import apply_retention
from warehouse.settings import load_settings


def _age(path: Path, days: int) -> None:
    stamp = time.time() - days * 86400
    os.utime(path, (stamp, stamp))


def test_only_old_loaded_and_backed_up_files_go(tmp_path: Path) -> None:
    settings = dataclasses.replace(load_settings(), home=tmp_path, warehouse_path=tmp_path / "warehouse.duckdb",
                                   landing_dir_override=None, landing_retention_days=30, db_key="",
                                   landing_settle_seconds=0)
    spec = next(s for s in SOURCES if s.table == "crm__marketing_spend")
    folder = settings.landing_dir / "crm"
    folder.mkdir(parents=True)
    header = ",".join(spec.columns)
    (folder / "marketing_spend.csv").write_text(f"{header}\n", encoding="utf-8")
    con = duckdb.connect(str(settings.warehouse_path))
    ensure_landing_tables(con)
    load_source(con, spec, settings.landing_dir, datetime.now(timezone.utc), full=True)
    con.close()
    backup(settings)
    late = folder / "late.csv"  # delivered after the load: never loaded
    late.write_text("whatever\n", encoding="utf-8")
    for path in (folder / "marketing_spend.csv", late):
        _age(path, 40)
    con = duckdb.connect(str(settings.warehouse_path))
    with pytest.raises(ValueError, match="RETENTION_DAYS"):
        apply_retention(con, dataclasses.replace(settings, landing_retention_days=0))
    dry = apply_retention(con, settings, dry_run=True)
    assert dry.removed == ["crm/marketing_spend.csv"] and (folder / "marketing_spend.csv").exists()
    result = apply_retention(con, settings)
    assert result.removed == ["crm/marketing_spend.csv"] and result.kept_not_loaded == ["crm/late.csv"]
    assert not (folder / "marketing_spend.csv").exists() and late.exists()
    assert [e.action for e in audit.entries(con)][-1] == "retention"
    con.close()


def test_a_file_loaded_after_the_last_backup_stays(tmp_path: Path) -> None:
    settings = dataclasses.replace(load_settings(), home=tmp_path, warehouse_path=tmp_path / "warehouse.duckdb",
                                   landing_dir_override=None, landing_retention_days=30, db_key="",
                                   landing_settle_seconds=0)
    spec = next(s for s in SOURCES if s.table == "crm__marketing_spend")
    folder = settings.landing_dir / "crm"
    folder.mkdir(parents=True)
    (folder / "marketing_spend.csv").write_text(",".join(spec.columns) + "\n", encoding="utf-8")
    con = duckdb.connect(str(settings.warehouse_path))
    ensure_landing_tables(con)
    con.close()
    backup(settings, now=datetime.now(timezone.utc) - timedelta(days=1))
    con = duckdb.connect(str(settings.warehouse_path))
    load_source(con, spec, settings.landing_dir, datetime.now(timezone.utc), full=True)
    _age(folder / "marketing_spend.csv", 40)
    result = apply_retention(con, settings)
    assert result.removed == [] and result.kept_not_backed_up == ["crm/marketing_spend.csv"]
    con.close()
