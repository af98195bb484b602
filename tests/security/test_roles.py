"""Role-based serving (权限管理): each role's file holds its grant and nothing more.

The demo world is published by the real Dagster job; every role file is opened and compared
with ``warehouse/security/roles.yml`` (tables, columns, rows by region). The same checker is
shown to fail on files that hold more than a grant.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest
import yaml

from warehouse.publishing import publish, publish_roles, serving_paths
from warehouse.security.identifiers import UnsafeNameError
from warehouse.security.roles import RoleFile, load_roles
from warehouse.serving.audience import CLEAR_PII_COLUMN
from warehouse.settings import load_settings

_SERVING_SCHEMA = {"marts": "main"}


def _served_tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() "
        "where database_name = current_database() and schema_name <> 'meta' order by column_index"
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for schema, table, column in rows:
        tables.setdefault(f"{schema}.{table}", []).append(column)
    views = con.execute("select count(*) from duckdb_views() where not internal").fetchone()[0]
    if views:
        tables["<views>"] = [str(views)]
    return tables


def grant_violations(served: Path, role: RoleFile, warehouse: duckdb.DuckDBPyConnection) -> list[str]:
    """Everything in ``served`` beyond ``role``'s grant (and grants it fails to deliver)."""
    con = duckdb.connect(str(served), read_only=True)
    try:
        tables = _served_tables(con)
        problems: list[str] = []
        allowed = {f"{_SERVING_SCHEMA.get(s, s)}.{t}": g
                   for s, t, g in ((*name.split("."), g) for name, g in role.audience.grants.items())}
        for name, columns in tables.items():
            grant = allowed.get(name)
            if grant is None:
                problems.append(f"{name}: not granted")
                continue
            extra = [c for c in columns if (grant.columns is not None and c not in grant.columns) or CLEAR_PII_COLUMN.match(c)]
            if extra:
                problems.append(f"{name}: columns beyond the grant {extra}")
            if role.region is not None:
                cities = list(role.cities)
                schema, table = name.split(".")
                source = f'{"marts" if schema == "main" else schema}."{table}"'
                foreign = con.execute(
                    f'select count(*) from {name} where customer_id not in (select unnest(?::varchar[]))',
                    [_customers_of(warehouse, cities)]).fetchone()[0]
                if foreign:
                    problems.append(f"{name}: {foreign} row(s) of customers outside region {role.region}")
                expected = warehouse.execute(
                    f"select count(*) from {source} where customer_id in "
                    f"(select customer_id from marts.dim_customer where city in (select unnest(?::varchar[])))",
                    [cities]).fetchone()[0]
                got = con.execute(f"select count(*) from {name}").fetchone()[0]
                if got != expected:
                    problems.append(f"{name}: {got} rows, the region has {expected}")
        missing = sorted(set(allowed) - set(tables))
        problems += [f"{name}: granted but absent" for name in missing]
        has_grants_log = con.execute("select count(*) from duckdb_tables() where schema_name = 'meta' "
                                     "and table_name = 'missing_grants'").fetchone()[0]
        if has_grants_log:
            problems += [f"missing grant {g}" for (_, g) in con.execute("select * from meta.missing_grants").fetchall()]
        return problems
    finally:
        con.close()


def _customers_of(warehouse: duckdb.DuckDBPyConnection, cities: list[str]) -> list[str]:
    return [c for (c,) in warehouse.execute(
        "select customer_id from marts.dim_customer where city in (select unnest(?::varchar[]))", [cities]).fetchall()]


@pytest.fixture(scope="module")
def warehouse(world):
    con = duckdb.connect(str(world.settings.warehouse_path), read_only=True)
    yield con
    con.close()


def test_every_role_file_holds_exactly_its_grant(world, warehouse) -> None:
    roles = load_roles()
    assert {r.role for r in roles} == {"analyst", "relationship_manager", "risk_officer"}
    for role in roles:
        served = serving_paths(world.settings, role.audience).database
        assert served.exists(), served
        assert grant_violations(served, role, warehouse) == [], role.audience.name
        # Exports beside it: Parquet of the granted tables only, no CSV of BI views.
        parquet = {p.name for p in serving_paths(world.settings, role.audience).parquet_dir.glob("*.parquet")}
        assert parquet == {f"{name}.parquet" for name in role.audience.grants}, role.audience.name


def test_roles_see_what_their_job_needs(world, warehouse) -> None:
    by_name = {r.audience.name: r for r in load_roles()}
    # Analyst: aggregates only, nothing keyed by a customer.
    analyst = duckdb.connect(str(serving_paths(world.settings, by_name["analyst"].audience).database), read_only=True)
    assert not analyst.execute("select count(*) from duckdb_columns() where column_name = 'customer_id'").fetchone()[0]
    analyst.close()
    # Relationship managers: every customer of the listed cities in exactly one region's file.
    seen: list[str] = []
    for name, role in by_name.items():
        if role.region is None:
            continue
        con = duckdb.connect(str(serving_paths(world.settings, role.audience).database), read_only=True)
        customers = [c for (c,) in con.execute("select customer_id from dim_customer").fetchall()]
        assert customers, name
        assert con.execute("select count(*) from dim_customer where name_masked like '%*%'").fetchone()[0] == len(customers)
        seen += customers
        con.close()
    assert len(seen) == len(set(seen))
    assert set(seen) == set(_customers_of(warehouse, [c for r in by_name.values() for c in r.cities]))
    # Risk officer: pseudonymous keys, no display values at all.
    risk = duckdb.connect(str(serving_paths(world.settings, by_name["risk_officer"].audience).database), read_only=True)
    columns = [c for (c,) in risk.execute("select column_name from duckdb_columns() where schema_name <> 'meta'").fetchall()]
    assert "customer_id" in columns and not [c for c in columns if c.endswith("_masked") or c == "display_number"]
    assert risk.execute("select count(*) from ml.risk_flags").fetchone()[0] > 0
    risk.close()


def test_the_checker_fails_on_more_than_a_grant(world, warehouse) -> None:
    roles = {r.audience.name: r for r in load_roles()}
    # The default serving copy judged as the analyst's file: row-level tables, BI views.
    default = world.settings.serving_path
    problems = grant_violations(default, roles["analyst"], warehouse)
    assert any("fct_fund_flows: not granted" in p for p in problems) and any("<views>" in p for p in problems)
    # East's file judged as North's: other region's customers.
    east = serving_paths(world.settings, roles["relationship_manager_east"].audience).database
    problems = grant_violations(east, roles["relationship_manager_north"], warehouse)
    assert any("outside region north" in p for p in problems)


HOSTILE_TABLES = {
    "marts.dim_customer; drop table marts.dim_customer": "must be written <schema>.<table>",
    "marts.dim_customer; drop table x": "is not allowed",
    "marts.dim_customer\" --": "is not allowed",
    "../../etc.passwd": "must be written <schema>.<table>",
    "raw.crm__customers": None,  # well-formed but not published: grants nothing
    f"marts.{'x' * 200}": "at most 63",
}


@pytest.mark.parametrize("table, refusal", HOSTILE_TABLES.items())
def test_hostile_role_config_is_refused_before_any_sql(tmp_path: Path, table: str, refusal: str | None) -> None:
    config = {"roles": {"intruder": {"tables": {table: "all"}}}}
    path = tmp_path / "roles.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    if refusal is None:
        settings, con = _small_warehouse(tmp_path)
        [publication] = publish_roles(con, settings, roles=load_roles(path))
        assert publication.tables == () and publication.missing_grants == ("raw.crm__customers",)
        served = duckdb.connect(str(publication.database_path), read_only=True)
        assert served.execute("select count(*) from duckdb_tables() where schema_name <> 'meta'").fetchone()[0] == 0
        served.close()
        assert con.execute("select count(*) from raw.crm__customers").fetchone()[0] == 1
        return
    with pytest.raises(UnsafeNameError, match=refusal.replace("<", ".").replace(">", ".")):
        load_roles(path)


@pytest.mark.parametrize("field, value, refusal", [
    ("role", "Robert'); drop table students;--", "role name"),
    ("region", "../../north", "region name"),
    ("column", "customer_id, name", "column of"),
])
def test_hostile_names_are_refused(tmp_path: Path, field: str, value: str, refusal: str) -> None:
    role = value if field == "role" else "rm"
    spec: dict = {"tables": {"marts.dim_customer": {"columns": [value if field == "column" else "customer_id"]}}}
    if field == "region":
        spec.update(row_scope="region", regions={value: ["上海"]})
    path = tmp_path / "roles.yml"
    path.write_text(yaml.safe_dump({"roles": {role: spec}}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(UnsafeNameError, match=refusal):
        load_roles(path)


def test_a_hostile_city_is_a_bound_value_not_sql(tmp_path: Path) -> None:
    settings, con = _small_warehouse(tmp_path)
    path = tmp_path / "roles.yml"
    path.write_text(yaml.safe_dump({"roles": {"rm": {
        "row_scope": "region", "regions": {"x": ["上海' or '1'='1", "北京"]},
        "tables": {"marts.dim_customer": "all"}}}}, allow_unicode=True), encoding="utf-8")
    [publication] = publish_roles(con, settings, roles=load_roles(path))
    served = duckdb.connect(str(publication.database_path), read_only=True)
    assert served.execute("select customer_id from dim_customer").fetchall() == [("c2",)]
    served.close()


def _small_warehouse(tmp_path: Path):
    settings = dataclasses.replace(load_settings(), home=tmp_path / "home", warehouse_path=tmp_path / "home" / "w.duckdb")
    settings.ensure_dirs()
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("create schema marts; create schema raw")
    con.execute("create table marts.dim_customer as select * from (values ('c1', '上海'), ('c2', '北京')) v(customer_id, city)")
    con.execute("create table raw.crm__customers as select '张三' as name")
    publish(con, settings)  # the default copy, as a refresh would
    return settings, con
