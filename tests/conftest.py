"""Test-wide setup: every test runs against a temporary FUNDFLOW_HOME, never ./data.

Set before any fundflow module is imported, because Dagster resources read the settings when
definitions load.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="fundflow-test-"))
os.environ["FUNDFLOW_HOME"] = str(_SESSION_HOME)
os.environ.pop("FUNDFLOW_WAREHOUSE_PATH", None)
os.environ["DAGSTER_HOME"] = str(_SESSION_HOME / "dagster")
(_SESSION_HOME / "dagster").mkdir(parents=True, exist_ok=True)
(_SESSION_HOME / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
os.environ["DAGSTER_DISABLE_TELEMETRY"] = "1"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("FUNDFLOW_DUCKDB_THREADS", "2")
# Files the tests generate are complete the moment they are written (the settle rule itself is
# covered in tests/unit/test_landing.py).
os.environ["FUNDFLOW_LANDING_SETTLE_SECONDS"] = "0"

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def pytest_sessionfinish(session, exitstatus) -> None:  # noqa: ARG001 — pytest hook signature
    import shutil

    shutil.rmtree(_SESSION_HOME, ignore_errors=True)
