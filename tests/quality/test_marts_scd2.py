"""SCD type 2 of the CRM customer master (dbt snapshot crm_customers_snapshot → dim_customer,
dim_customer_history), on a copy of the quality world's warehouse:

- a newer CRM file changes a customer's city → a closed old version and an open new one;
- a newer file that only bumps updated_at → no new version (check strategy);
- ``dbt build --full-refresh`` keeps the history;
- the integrity test fails when the history is broken (two open versions).
"""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

SCD_MODELS = ["stg_crm__customers", "crm_customers_snapshot", "dim_customer", "dim_customer_history"]
UPDATE_FILE = "crm/customers_update_20261201.csv"
NEW_UPDATED_AT = "2026-12-01 09:30:00"


def _raw_customer(con, customer_id: str) -> dict:
    frame = con.execute("select * from raw.crm__customers where customer_id = ? limit 1", [customer_id]).df()
    return frame.iloc[0].to_dict()


def _deliver(con, row: dict, line: int) -> None:
    """Append a CRM row as if a later file had been landed (raw.* is what landing writes)."""
    row = {**row, "_source_file": UPDATE_FILE, "_source_line": line}
    columns = list(row)
    con.execute(
        f"insert into raw.crm__customers ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})",
        [row[c] for c in columns],
    )


def _history(path, customer_key: str):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select version_number, city, valid_from, valid_to, is_current "
            "from marts.dim_customer_history where customer_id = ? order by version_number",
            [customer_key],
        ).df()


@pytest.fixture(scope="module")
def scd_world(quality_world, tmp_path_factory):
    work = tmp_path_factory.mktemp("marts-scd2")
    copy = work / "warehouse.duckdb"
    shutil.copyfile(quality_world.warehouse_path, copy)
    with duckdb.connect(str(copy)) as con:
        movers = con.execute(
            "select customer_id, city from raw.crm__customers where city is not null and city <> '' "
            "and customer_id in (select customer_id from raw.crm__customers group by 1 having count(*) = 1) "
            "order by customer_id limit 2"
        ).fetchall()
        (moved_id, old_city), (touched_id, _) = movers
        new_city = "拉萨" if old_city != "拉萨" else "银川"
        moved = _raw_customer(con, moved_id)
        _deliver(con, {**moved, "city": new_city, "updated_at": NEW_UPDATED_AT}, 2)
        touched = _raw_customer(con, touched_id)
        _deliver(con, {**touched, "updated_at": NEW_UPDATED_AT}, 3)
    keys = quality_world.df(
        "select c.customer_id as key, r.customer_id as raw_id from staging.stg_crm__customers c "
        "join raw.crm__customers r on c._source_file = r._source_file and c._source_line = r._source_line "
        "where r.customer_id in (?, ?)",
        [moved_id, touched_id],
    ).set_index("raw_id")["key"]
    result = quality_world.dbt(["build", "--select", *SCD_MODELS], copy, work)
    assert result.returncode == 0, result.stdout[-4000:]
    return {
        "path": copy, "work": work, "moved": keys[moved_id], "touched": keys[touched_id],
        "old_city": old_city, "new_city": new_city,
    }


def test_changed_attribute_closes_old_version_and_opens_new(scd_world, quality_world):
    history = _history(scd_world["path"], scd_world["moved"])
    assert list(history["city"]) == [scd_world["old_city"], scd_world["new_city"]]
    old, new = history.iloc[0], history.iloc[1]
    assert not old["is_current"] and new["is_current"]
    assert old["valid_to"] == new["valid_from"], "the old version must end where the new one starts"
    # valid_from is the CRM update time (Asia/Shanghai wall clock as delivered), not the run time
    assert new["valid_from"] == pd.Timestamp(NEW_UPDATED_AT, tz="Asia/Shanghai")
    assert pd.isna(new["valid_to"])
    with duckdb.connect(str(scd_world["path"]), read_only=True) as con:
        current = con.execute(
            "select city, version_count, valid_from from marts.dim_customer where customer_id = ?",
            [scd_world["moved"]],
        ).fetchall()
    assert len(current) == 1 and current[0][0] == scd_world["new_city"] and current[0][1] == 2
    # the untouched original warehouse still has a single version
    before = quality_world.df(
        "select count(*) as n from marts.dim_customer_history where customer_id = ?", [scd_world["moved"]]
    )["n"].iloc[0]
    assert before == 1


def test_updated_timestamp_alone_opens_no_version(scd_world):
    history = _history(scd_world["path"], scd_world["touched"])
    assert len(history) == 1 and bool(history["is_current"].iloc[0])


def test_full_refresh_keeps_history(scd_world, quality_world):
    result = quality_world.dbt(["build", "--full-refresh", "--select", *SCD_MODELS], scd_world["path"], scd_world["work"])
    assert result.returncode == 0, result.stdout[-4000:]
    history = _history(scd_world["path"], scd_world["moved"])
    assert list(history["city"]) == [scd_world["old_city"], scd_world["new_city"]]


def test_integrity_check_fails_on_two_open_versions(scd_world, quality_world, tmp_path):
    broken = tmp_path / "warehouse.duckdb"
    shutil.copyfile(scd_world["path"], broken)
    with duckdb.connect(str(broken)) as con:
        # reopen the closed version: the customer now has two current versions
        con.execute(
            "update intermediate.crm_customers_snapshot set dbt_valid_to = null "
            "where customer_id = ? and dbt_valid_to is not null",
            [scd_world["moved"]],
        )
    result = quality_world.dbt(["build", "--select", "dim_customer_history"], broken, tmp_path)
    assert result.returncode != 0
    assert "assert_dim_customer_history_has_one_current_version" in result.stdout
