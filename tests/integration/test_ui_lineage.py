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
