"""A BI tool's view of a real refresh: connect exactly as Superset does (SQLAlchemy +
duckdb_engine, read-only, no pool), browse, run the dashboard queries; and no clear personal
data anywhere in what is served (DuckDB file, Parquet, CSV)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from warehouse.serving.pii_guard import find_clear_pii
from warehouse.settings import Settings, load_settings
from warehouse.synthetic import generate

CUSTOMERS = 150
SEED = 9
CJK = re.compile(r"[\u4e00-\u9fff]")

# One chart query per BI view, as a dashboard would send it.
DASHBOARD_QUERIES = {
    "customer_overview": "select segment_name, count(*) as customers, sum(clv_12m_cny) as clv "
    "from bi.customer_overview group by 1 order by 1",
    "monthly_kpis": "select year_month, active_customers, churn_rate, aum_proxy_cny from bi.monthly_kpis "
    "where dimension = 'all' order by 1",
    "key_account_board": "select customer_id, name_masked, tier, contribution_rank, revenue_proxy_cny_12m "
    "from bi.key_account_board order by contribution_rank",
    "fund_flow_paths": "select from_node, to_node, sum(amount_cny) as amount from bi.fund_flow_paths "
    "group by 1, 2 order by 1, 2",
    "churn_risk_list": "select risk_rank, customer_id, phone_masked, churn_probability from bi.churn_risk_list "
    "where risk_rank <= 20 order by risk_rank, customer_id",
    "forecast_vs_actual": "select series, year_month, actual_cny, forecast_cny, forecast_lower_cny, "
    "forecast_upper_cny from bi.forecast_vs_actual where scope = 'total' order by series, month",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Settings:
    import dagster as dg

    home = tmp_path_factory.mktemp("bi-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FUNDFLOW_HOME", str(home))
        settings = load_settings()
        generate(settings.landing_dir, settings.truth_dir, customers=CUSTOMERS, seed=SEED)
        from orchestration.definitions import defs

        result = defs().resolve_job_def("full_refresh").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
        )
    failures = [
        f"{e.step_key}: {e.event_specific_data.error.message[:300]}"
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.STEP_FAILURE
    ]
    assert result.success, failures
    return settings


def _superset_engine(settings: Settings):
    return create_engine(
        f"duckdb:///{settings.serving_path}", connect_args={"read_only": True}, poolclass=NullPool
    )


def test_superset_style_connection_browses_and_runs_the_dashboard_queries(served: Settings) -> None:
    engine = _superset_engine(served)
    inspector = inspect(engine)
    # duckdb_engine lists schemas as <catalog>.<schema>; the serving file's catalog is its stem.
    catalog = served.serving_path.stem
    assert {f"{catalog}.{schema}" for schema in ("main", "ml", "bi", "meta")} <= set(inspector.get_schema_names())
    assert "fct_fund_flows" in inspector.get_table_names(schema="main")
    views = set(inspector.get_view_names(schema="bi"))
    with engine.connect() as connection:
        recorded = dict(connection.execute(text("select view_name, status from meta.bi_views")).fetchall())
        comments = connection.execute(
            text("select table_name, column_name, comment from duckdb_columns() where schema_name = 'bi'")
        ).fetchall()
        answers = {
            name: connection.execute(text(DASHBOARD_QUERIES[name])).fetchall() for name in sorted(views)
        }
        # Read-only really is read-only: a BI user's write is refused, nothing is locked.
        with pytest.raises(SQLAlchemyError, match="read-only"):
            connection.execute(text("create table main.scratch as select 1"))
    engine.dispose()

    assert views == {v.removeprefix("bi.") for v, status in recorded.items() if status == "created"}
    assert set(DASHBOARD_QUERIES) == {v.removeprefix("bi.") for v in recorded}  # every view is tried
    # Inputs that exist today: the monthly mart and the forecast.
    assert "forecast_vs_actual" in views
    for name in views:
        columns = inspector.get_columns(name, schema="bi")
        assert columns, name
    undocumented = [(t, c) for t, c, comment in comments if not (comment and " / " in comment and CJK.search(comment))]
    assert not undocumented

    # The same answers as a direct read-only DuckDB connection, and they are not empty.
    direct = duckdb.connect(str(served.serving_path), read_only=True)
    try:
        for name, rows in answers.items():
            assert rows, name
            assert [tuple(r) for r in rows] == direct.execute(DASHBOARD_QUERIES[name]).fetchall(), name
        monthly_inflow = direct.execute("select sum(inflow_cny) from main.mart_customer_monthly").fetchone()[0]
    finally:
        direct.close()
    actual_inflow = sum(r[2] or 0 for r in answers["forecast_vs_actual"] if r[0] == "inflow")
    assert actual_inflow == pytest.approx(float(monthly_inflow), rel=1e-9)
    forecast_months = [r for r in answers["forecast_vs_actual"] if r[3] is not None]
    assert forecast_months and all(r[4] <= r[3] <= r[5] for r in forecast_months)


def _clear_values(settings: Settings) -> dict[str, set[str]]:
    """The clear personal data the generator delivered (truth + the CRM landing file)."""
    customers = pd.read_parquet(settings.truth_dir / "customers.parquet")
    crm = pd.read_csv(settings.landing_dir / "crm" / "customers.csv", dtype=str)
    return {
        "phone": set(customers.phone.dropna()),
        "email": set(customers.email.dropna()),
        "account number": {a for accounts in customers.account_nos for a in accounts},
        "card number": {p for pans in customers.pans for p in pans},
        "name": set(crm.name.dropna()),
        "ID number": set(crm.id_number.dropna()),
    }


def _text_values(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, set[str]]:
    values: dict[str, set[str]] = {}
    for schema, table, column in con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() "
        "where database_name = ? and data_type like '%VARCHAR%'",
        [catalog],
    ).fetchall():
        rows = con.execute(f'select distinct cast("{column}" as varchar) from "{catalog}"."{schema}"."{table}"').fetchall()
        values[f"{schema}.{table}.{column}"] = {v for (v,) in rows if v is not None}
    return values


def _leaks(values: dict[str, set[str]], clear: dict[str, set[str]]) -> list[str]:
    return [f"{where}: {kind}" for where, found in values.items() for kind, known in clear.items() if found & known]


def test_no_clear_personal_data_is_served_in_any_form(served: Settings) -> None:
    clear = _clear_values(served)
    assert all(len(known) > 20 for kind, known in clear.items() if kind != "card number"), {k: len(v) for k, v in clear.items()}

    # The scan itself sees clear data where it is: the delivered CRM file.
    landing = duckdb.connect()
    landing.execute(f"create view crm as select * from read_csv('{served.landing_dir / 'crm' / 'customers.csv'}', all_varchar = true)")
    assert {"main.crm.phone: phone", "main.crm.name: name", "main.crm.id_number: ID number"} <= set(
        _leaks(_text_values(landing, "memory"), clear)
    )
    assert {f.kind for f in find_clear_pii(landing, "memory", ("main",))} >= {
        "a mobile phone number", "a resident ID number", "an e-mail address"}
    landing.close()

    # The serving file: tables and BI views, by exact value and by pattern.
    serving = duckdb.connect(str(served.serving_path), read_only=True)
    assert not _leaks(_text_values(serving, "marts"), clear)
    assert not find_clear_pii(serving, "marts", ("main", "ml", "quality", "bi", "meta"))
    serving.close()

    # Parquet and CSV beside it.
    files = sorted(Path(served.parquet_dir).glob("*.parquet")) + sorted(Path(served.serving_dir / "csv").glob("*.csv"))
    assert any(f.suffix == ".csv" for f in files) and len(files) > 10
    exported = duckdb.connect()
    for index, path in enumerate(files):
        reader = f"read_parquet('{path}')" if path.suffix == ".parquet" else f"read_csv('{path}', all_varchar = true)"
        exported.execute(f"create view file_{index} as select * from {reader}")
    assert not _leaks(_text_values(exported, "memory"), clear)
    assert not find_clear_pii(exported, "memory", ("main",))
    exported.close()
