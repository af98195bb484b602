"""HMAC-SHA256 pseudonymisation: the dbt macro equals Python's hmac, and a known key is refused
outside demo mode (in dbt, in the CLI and in the Dagster dbt step's check)."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from warehouse.security.keys import DEMO_PII_KEY, PiiKeyError, check_pii_key, effective_pii_key
from warehouse.settings import DBT_PROJECT_DIR, load_settings

DBT = Path(sys.executable).parent / "dbt"
# Multi-byte UTF-8 on purpose: the pads are built from the key's bytes, not its characters.
KEY = "密钥-ключ-k€y-0123456789"
MESSAGES = ["13812341234", "110105199001011234", "zhang.san@example.com", "张三", "", "6225881234567890", "x" * 200]


def _compile(expression: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    project = str(DBT_PROJECT_DIR)
    base = {k: v for k, v in os.environ.items() if k not in ("FUNDFLOW_PII_KEY", "FUNDFLOW_DEMO")}
    return subprocess.run(
        [str(DBT), "compile", "--quiet", "--inline", f"select {expression} as k from messages",
         "--project-dir", project, "--profiles-dir", project,
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        env={**base, "FUNDFLOW_WAREHOUSE_PATH": str(tmp_path / "scratch.duckdb"), **env},
        capture_output=True, text=True,
    )


def test_dbt_macro_equals_python_hmac(tmp_path: Path) -> None:
    result = _compile("{{ pseudonymize('m') }}", tmp_path, FUNDFLOW_PII_KEY=KEY, FUNDFLOW_DEMO="0")
    assert result.returncode == 0, result.stdout + result.stderr
    sql = result.stdout.strip()
    assert KEY not in sql  # only the derived pads reach the SQL
    con = duckdb.connect()
    con.execute("create table messages (i integer, m varchar)")
    con.executemany("insert into messages values (?, ?)", [[i, m] for i, m in enumerate([*MESSAGES, None])])
    got = [row[0] for row in con.execute(f"select k from ({sql.replace('from messages', 'from messages order by i')})").fetchall()]
    want = [hmac.new(KEY.encode(), m.encode(), hashlib.sha256).hexdigest() for m in MESSAGES]
    assert got == [*want, None]  # NULL in, NULL out
    # Not the old scheme, and not the same under another key: the check above can fail.
    assert got[0] != hashlib.sha256((KEY + MESSAGES[0]).encode()).hexdigest()
    assert got[0] != hmac.new(DEMO_PII_KEY.encode(), MESSAGES[0].encode(), hashlib.sha256).hexdigest()


def test_dbt_refuses_the_demo_key_outside_demo_mode(tmp_path: Path) -> None:
    # (One dbt case only, each costs a dbt start; "no key" shares the branch and is checked in Python.)
    result = _compile("{{ pseudonymize('m') }}", tmp_path, FUNDFLOW_DEMO="0", FUNDFLOW_PII_KEY=DEMO_PII_KEY)
    assert result.returncode != 0
    assert "FUNDFLOW_PII_KEY is the public demo key" in result.stdout + result.stderr


def _settings(tmp_path: Path, **changes):
    return dataclasses.replace(load_settings(), home=tmp_path / "home", **changes)


def test_python_check_refuses_the_same_cases(tmp_path: Path) -> None:
    production = _settings(tmp_path, demo_flag="0")
    for key in ("", "   ", DEMO_PII_KEY, "short"):
        with pytest.raises(PiiKeyError, match="FUNDFLOW_PII_KEY"):
            check_pii_key(dataclasses.replace(production, pii_key=key))
    with pytest.raises(PiiKeyError, match="at most 64 bytes"):
        check_pii_key(dataclasses.replace(production, pii_key="k" * 65))
    assert effective_pii_key(dataclasses.replace(production, pii_key=KEY)) == KEY
    # Demo mode: no key is fine (make run, make test, CI) and means the demo key.
    assert effective_pii_key(_settings(tmp_path, demo_flag="1")) == DEMO_PII_KEY
    # The key never shows in a printed Settings.
    assert KEY not in repr(dataclasses.replace(production, pii_key=KEY))


def test_demo_mode_inferred_from_the_generator_manifest(tmp_path: Path) -> None:
    home = Path.home() / ".cache" / "fundflow-demo-mode-test"  # outside the temp dir on purpose
    settings = dataclasses.replace(load_settings(), home=home, demo_flag=None)
    try:
        assert not settings.demo_mode
        (home / "truth").mkdir(parents=True)
        (home / "truth" / "manifest.json").write_text("{}", encoding="utf-8")
        assert settings.demo_mode
        assert settings.dbt_env()["FUNDFLOW_DEMO"] == "1"
    finally:
        import shutil

        shutil.rmtree(home, ignore_errors=True)
    assert dataclasses.replace(settings, demo_flag="0").dbt_env()["FUNDFLOW_DEMO"] == "0"


def test_cli_refresh_refuses_before_any_work(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "FUNDFLOW_PII_KEY"}
    result = subprocess.run([str(Path(sys.executable).parent / "fundflow"), "refresh"],
                            env={**env, "FUNDFLOW_HOME": str(home), "FUNDFLOW_DEMO": "0"},
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "FUNDFLOW_PII_KEY is not set" in " ".join(result.stdout.split())
    assert not (home / "warehouse.duckdb").exists()
