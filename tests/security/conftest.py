"""One refreshed demo world for the security tests: generated, loaded, built with dbt, gated,
modelled, published (default copy + role files), reported and exported, by the real Dagster job
in process, in a FUNDFLOW_HOME of its own."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from warehouse.settings import Settings, load_settings
from warehouse.synthetic import generate

CUSTOMERS = 300
SEED = 7


@dataclasses.dataclass
class SecurityWorld:
    settings: Settings
    result: dg.ExecuteInProcessResult

    @property
    def home(self) -> Path:
        return self.settings.home


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecurityWorld]:
    from orchestration.definitions import defs

    home = tmp_path_factory.mktemp("security-world")
    saved = os.environ.get("FUNDFLOW_HOME")
    os.environ["FUNDFLOW_HOME"] = str(home)
    try:
        settings = load_settings()
        generate(settings.landing_dir, settings.truth_dir, customers=CUSTOMERS, seed=SEED)
        job = defs().resolve_job_def("full_refresh")
        result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
        failures = [f"{e.step_key}: {e.event_specific_data.error.message[:300]}"
                    for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
        assert result.success, failures
        yield SecurityWorld(settings, result)
    finally:
        if saved is None:
            os.environ.pop("FUNDFLOW_HOME", None)
        else:
            os.environ["FUNDFLOW_HOME"] = saved
