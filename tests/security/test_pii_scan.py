"""Nothing personal leaves the warehouse: every serving file (default copy and role files),
Parquet and CSV export, report and action list of a refreshed demo world is scanned for clear
personal data (mobile numbers, resident IDs with a valid check digit, Luhn-valid card and
account numbers, e-mail addresses, the generated names): zero hits. The same scan finds each
kind once it is planted."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from warehouse.publishing import publish
from warehouse.security.pii_scan import scan_outputs
from warehouse.serving.pii_guard import ClearPersonalDataError, clear_names_in_warehouse, resident_id_valid
from warehouse.settings import load_settings


@pytest.fixture(scope="module")
def clear_names(world) -> list[str]:
    """Names straight from the delivered CRM file, plus the person counterparties the warehouse saw."""
    crm = pd.read_csv(world.settings.landing_dir / "crm" / "customers.csv", dtype=str)
    con = duckdb.connect(str(world.settings.warehouse_path), read_only=True)
    try:
        from_warehouse = clear_names_in_warehouse(con)
    finally:
        con.close()
    names = sorted(set(crm["name"].dropna().str.strip()) | set(from_warehouse))
    assert len(names) > len(crm) * 0.9
    return names


def test_no_output_holds_clear_personal_data(world, clear_names) -> None:
    report = scan_outputs(world.settings, clear_names)
    print("PII scan coverage:", report.coverage())
    assert report.findings == []
    # Coverage: the default copy and every role file, their exports, the report and action lists.
    assert len(report.databases) >= 7 and report.relations >= 60
    assert any(p.parent.name.startswith("parquet") and "roles" in p.parts for p in report.parquet_files)
    assert any("actions" in p.parts for p in report.parquet_files) and any("actions" in p.parts for p in report.csv_files)
    assert any(p.suffix == ".html" for p in report.text_files)


def test_the_scan_finds_each_kind_of_planted_leak(world, clear_names, tmp_path: Path) -> None:
    crm = pd.read_csv(world.settings.landing_dir / "crm" / "customers.csv", dtype=str).dropna()
    person = crm.iloc[0]
    card = world.settings.truth_dir / "customers.parquet"
    pan = pd.read_parquet(card)["pans"].explode().dropna().iloc[0]
    assert resident_id_valid(person["id_number"])
    leaky = dataclasses.replace(world.settings, home=tmp_path)
    (tmp_path / "serving" / "parquet").mkdir(parents=True)
    (tmp_path / "actions" / "v1").mkdir(parents=True)
    (tmp_path / "reports").mkdir()
    shutil.copy(world.settings.serving_path, tmp_path / "serving" / "marts.duckdb")
    con = duckdb.connect(str(tmp_path / "serving" / "marts.duckdb"))
    con.execute("create table main.notes as select ? as note", [f"客户证件 {person['id_number']}"])
    con.close()
    pd.DataFrame({"customer_id": ["k1"], "contact": [person["phone"]]}).to_parquet(
        tmp_path / "serving" / "parquet" / "leak.parquet")
    pd.DataFrame({"customer_id": ["k1"], "mail": [person["email"]], "card": [str(pan)]}).to_csv(
        tmp_path / "actions" / "v1" / "retention.csv", index=False)
    (tmp_path / "reports" / "report.html").write_text(f"<td>{person['name']}</td>", encoding="utf-8")

    found = {(Path(f.schema).name, f.kind) for f in scan_outputs(leaky, clear_names).findings}
    assert found == {
        ("marts.duckdb", "a resident ID number"),
        ("leak.parquet", "a mobile phone number"),
        ("retention.csv", "an e-mail address"),
        ("retention.csv", "a card or account number"),
        ("report.html", "a clear name"),
    }


def test_publish_refuses_a_clear_name_the_warehouse_received(tmp_path: Path) -> None:
    settings = dataclasses.replace(load_settings(), home=tmp_path, warehouse_path=tmp_path / "w.duckdb")
    settings.ensure_dirs()
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("create schema raw; create schema marts")
    con.execute("create table raw.crm__customers as select '欧阳娜娜' as name")
    con.execute("create table marts.mart_notes as select 'k1' as customer_id, '欧*' as name_masked")
    publish(con, settings)
    con.execute("create table marts.mart_leak as select 'k1' as customer_id, '欧阳娜娜' as holder")
    with pytest.raises(ClearPersonalDataError, match=r"mart_leak\.holder: 1 value\(s\) look like a clear name"):
        publish(con, settings)
    con.close()
