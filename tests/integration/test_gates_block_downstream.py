"""A failed quality gate stops the run: nothing after it is built, nothing is published."""

from pathlib import Path

import dagster as dg
import duckdb

from warehouse.synthetic import generate


def test_a_failed_raw_gate_blocks_dbt_ml_and_publishing(tmp_path: Path, monkeypatch) -> None:
    from orchestration.definitions import defs

    # Resources are built from the settings when definitions load: point them at this home.
    monkeypatch.setenv("FUNDFLOW_HOME", str(tmp_path))
    landing, home = tmp_path / "landing", tmp_path
    generate(landing, tmp_path / "truth", customers=60, seed=3)
    # A delivered bank line without its transaction number: landing keeps it (it has all its
    # fields), and the raw contract (keys present) must stop everything that reads raw.
    bank_file = sorted((landing / "bank").glob("bank_txn_*.csv"))[10]
    line = ",6222021234567890123,2025-01-03 10:22:01,借,100.00,CNY,\"1,000.00\",,某人,,网银,转账\n"
    with bank_file.open("ab") as handle:
        handle.write(line.encode("gbk"))

    definitions = defs()
    assert definitions.resources["warehouse"].database == str(home / "warehouse.duckdb")
    result = definitions.resolve_job_def("full_refresh").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )

    evaluations = {
        ev.check_name: ev.passed
        for ev in (
            e.event_specific_data
            for e in result.all_events
            if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        )
    }
    assert evaluations["gx_bank__transactions"] is False
    assert evaluations["gx_crm__customers"] is True  # the other gates still ran and passed
    materialized = {
        e.event_specific_data.materialization.asset_key
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    }
    # Nothing downstream of the failed gate ran. Dagster splits the dbt step around blocking
    # checks, so the models that read only seeds (not raw.bank) may still build.
    graph = definitions.resolve_asset_graph()
    downstream, frontier = set(), [dg.AssetKey(["raw", "bank__transactions"])]
    while frontier:
        for child in graph.get(frontier.pop()).child_keys:
            if child not in downstream:
                downstream.add(child)
                frontier.append(child)
    assert dg.AssetKey(["marts", "fct_fund_flows"]) in downstream
    assert materialized & downstream == set()
    assert {k.path[0] for k in materialized} <= {"raw", "quality", "staging", "marts"}
    assert not (home / "serving" / "marts.duckdb").exists()
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    tables = {f"{s}.{t}" for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()}
    con.close()
    assert "marts.fct_fund_flows" not in tables and not any(t.startswith("ml.") for t in tables)
