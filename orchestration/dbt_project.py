"""The dbt project, built once, with a manifest that is never stale.

dagster-dbt needs ``target/manifest.json`` when definitions load. ``dagster dev`` re-parses on
its own; ``make run``, the tests and the CLI do not, so we parse whenever a dbt source file is
newer than the manifest (a few seconds, and only after an edit).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from warehouse.settings import DBT_PROJECT_DIR, load_settings

_DBT_SOURCES = ("models", "macros", "seeds", "snapshots", "tests", "dbt_project.yml", "profiles.yml")


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
    for name in _DBT_SOURCES:
        path = project_dir / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for file in path.rglob("*"):
                if file.is_file():
                    newest = max(newest, file.stat().st_mtime)
    return newest


def ensure_manifest(project: DbtProject) -> Path:
    manifest = project.manifest_path
    if manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime(project.project_dir):
        return manifest
    dbt = Path(sys.executable).parent / "dbt"
    subprocess.run(
        [str(dbt), "parse", "--quiet", "--project-dir", str(project.project_dir),
         "--profiles-dir", str(project.profiles_dir)],
        check=True,
        env={**os.environ, **load_settings().dbt_env()},
    )
    return manifest


fundflow_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)
ensure_manifest(fundflow_dbt_project)
