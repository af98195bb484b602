"""`make ui` serves the lineage graph: a real Dagster webserver, queried over GraphQL."""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from warehouse.settings import PROJECT_ROOT

LINEAGE = ["raw", "staging", "intermediate", "marts", "ml", "serving", "reports"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def webserver_url():
    port = _free_port()
    webserver = Path(sys.executable).parent / "dagster-webserver"
    process = subprocess.Popen(
        [str(webserver), "-w", str(PROJECT_ROOT / "orchestration" / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode()[-3000:])
            try:
                urllib.request.urlopen(f"{url}/server_info", timeout=2)
                break
            except OSError:
                time.sleep(1)
        else:
            raise TimeoutError("dagster-webserver did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql", data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        payload = json.load(response)
    assert "errors" not in payload, payload.get("errors")
    return payload["data"]


def test_the_ui_shows_each_layer_feeding_the_next(webserver_url: str) -> None:
    nodes = _graphql(
        webserver_url, "{ assetNodes { assetKey { path } groupName dependencyKeys { path } } }"
    )["assetNodes"]
    groups = {node["groupName"] for node in nodes}
    assert set(LINEAGE) <= groups
    # For every adjacent pair of layers, some asset of the later layer depends on the earlier one.
    feeds = {
        (dep["path"][0], node["assetKey"]["path"][0]) for node in nodes for dep in node["dependencyKeys"]
    }
    for upstream, downstream in zip(LINEAGE, LINEAGE[1:]):
        assert (upstream, downstream) in feeds, (upstream, downstream)


def test_the_ui_offers_the_full_refresh_job(webserver_url: str) -> None:
    data = _graphql(
        webserver_url,
        '{ repositoriesOrError { ... on RepositoryConnection { nodes { location { name } jobs { name } } } } }',
    )
    repositories = data["repositoriesOrError"]["nodes"]
    assert any(r["location"]["name"] == "fundflow" for r in repositories)
    assert any(job["name"] == "full_refresh" for r in repositories for job in r["jobs"])


def test_the_ui_lists_the_schedules_and_sensors_in_shanghai_time(webserver_url: str) -> None:
    data = _graphql(
        webserver_url,
        """{ repositoriesOrError { ... on RepositoryConnection { nodes {
             location { name }
             schedules { name cronSchedule executionTimezone pipelineName description }
             sensors { name description targets { pipelineName } } } } } }""",
    )
    (repository,) = [r for r in data["repositoriesOrError"]["nodes"] if r["location"]["name"] == "fundflow"]
    schedules = {s["name"]: s for s in repository["schedules"]}
    assert schedules["daily_incremental_refresh_0200"]["cronSchedule"] == "0 2 * * *"
    assert schedules["daily_incremental_refresh_0200"]["pipelineName"] == "daily_incremental_refresh"
    assert schedules["weekly_full_refresh_sun_0300"]["pipelineName"] == "full_refresh"
    assert schedules["monthly_report_1st_0600"]["pipelineName"] == "monthly_report"
    assert {s["executionTimezone"] for s in schedules.values()} == {"Asia/Shanghai"}
    sensors = {s["name"]: s for s in repository["sensors"]}
    assert {"landing_files_sensor", "run_failure_alert_sensor", "check_failure_alert_sensor",
            "freshness_checks_sensor"} <= set(sensors)
    assert [t["pipelineName"] for t in sensors["landing_files_sensor"]["targets"]] == ["daily_incremental_refresh"]


def test_assets_carry_kinds_descriptions_and_their_checks(webserver_url: str) -> None:
    nodes = _graphql(
        webserver_url,
        """{ assetNodes { assetKey { path } groupName kinds description
             owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
             assetChecksOrError { ... on AssetChecks { checks { name } } } } }""",
    )["assetNodes"]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    bank = by_key["raw/bank__transactions"]
    assert {"duckdb", "python"} <= set(bank["kinds"]) and bank["description"]
    assert bank["owners"] == [{"team": "data-engineering"}]
    assert "dbt" in by_key["marts/fct_fund_flows"]["kinds"]
    fact_checks = {c["name"] for c in by_key["marts/fct_fund_flows"]["assetChecksOrError"]["checks"]}
    assert any(name.startswith("gx_") for name in fact_checks)  # the GX suite, as a check
    assert any("unique" in name or "not_null" in name for name in fact_checks)  # dbt tests, as checks
    assert any("freshness" in name for name in fact_checks)  # the schedule's freshness check
