"""The Dagster definitions load and show the layered lineage engineers navigate by."""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import defs


def _graph():
    return defs().resolve_asset_graph()


def test_definitions_load_with_the_full_refresh_job() -> None:
    definitions = defs()
    job = definitions.resolve_job_def("full_refresh")
    assert job.executor_def.name == "in_process"


def test_every_layer_is_an_asset_group() -> None:
    groups = {node.group_name for node in _graph().asset_nodes}
    assert {"raw", "staging", "intermediate", "marts", "ml", "serving", "reports", "quality"} <= groups


def test_lineage_runs_raw_to_serving() -> None:
    graph = _graph()
    upstream = graph.get(dg.AssetKey(["serving", "marts"])).parent_keys
    ancestors: set[dg.AssetKey] = set()
    frontier = set(upstream)
    while frontier:
        key = frontier.pop()
        if key in ancestors:
            continue
        ancestors.add(key)
        frontier |= set(graph.get(key).parent_keys)
    layers = {key.path[0] for key in ancestors}
    assert {"raw", "staging", "intermediate", "marts", "ml"} <= layers
    assert dg.AssetKey(["raw", "bank__transactions"]) in ancestors
    assert dg.AssetKey(["marts", "fct_fund_flows"]) in ancestors


def test_quality_gates_are_blocking_checks_on_real_tables() -> None:
    graph = _graph()
    gx_checks = [key for key in graph.asset_check_keys if key.name.startswith("gx_")]
    assert dg.AssetCheckKey(dg.AssetKey(["marts", "fct_fund_flows"]), "gx_fct_fund_flows") in gx_checks
    for key in gx_checks:
        assert graph.get_check_spec(key).blocking, key
    # dbt tests surface as checks too
    assert any(not key.name.startswith("gx_") for key in graph.asset_check_keys)


def test_every_warehouse_step_shares_the_single_writer_pool() -> None:
    from orchestration.defs.resources import WAREHOUSE_WRITER_POOL

    definitions = defs()
    # Every asset step except the report (which reads only the serving copy) opens the warehouse.
    pools = {
        assets_def.node_def.name: assets_def.node_def.pool
        for assets_def in definitions.assets or []
        if isinstance(assets_def, dg.AssetsDefinition) and assets_def.is_executable
    }
    writers = {name: pool for name, pool in pools.items() if not name.startswith("reports__")}
    assert {"landing", "fundflow_dbt_models", "serving__marts"} <= set(writers)
    assert set(writers.values()) == {WAREHOUSE_WRITER_POOL}, writers
