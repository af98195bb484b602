"""The PII inventory is complete: every delivered personal column is tagged in the dbt YAML,
documented in docs/security.md, and never reaches a staging output column in the clear."""

from __future__ import annotations

import re

import yaml

from warehouse.settings import DBT_PROJECT_DIR, PROJECT_ROOT

# Delivered columns that are personal data (the demo formats of DESIGN.md).
PERSONAL = {
    "crm__customers": {"customer_id", "name", "id_number", "phone", "email", "gender", "birth_date", "city"},
    "crm__accounts": {"account_no", "customer_id"},
    "crm__surveys": {"customer_id"},
    "bank__transactions": {"账号", "对方账号", "对方户名"},
    "payments__users": {"user_id", "phone"},
    "payments__trades": {"user_id", "counterparty_user_id"},
    "ecommerce__order_lines": {"customer_ref"},
    "cards__accounts": {"pan", "customer_id"},
    "cards__statements": {"pan"},
    "cards__transactions": {"pan"},
}
ALLOWED_STAGING_TREATMENTS = {"pseudonymised", "masked", "quasi_identifier", "organisations_only"}


def _yaml(name: str) -> dict:
    return yaml.safe_load((DBT_PROJECT_DIR / "models" / "staging" / name).read_text(encoding="utf-8"))


def test_every_personal_raw_column_is_tagged_and_documented() -> None:
    tagged = {
        (table["name"], column["name"]): (column.get("meta") or {}).get("pii")
        for source in _yaml("_sources.yml")["sources"] for table in source["tables"]
        for column in table.get("columns", [])
    }
    doc = (PROJECT_ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    for table, columns in PERSONAL.items():
        for column in columns:
            assert tagged.get((table, column)), f"raw.{table}.{column} has no meta pii tag"
            assert re.search(rf"{re.escape(table)}\.{re.escape(column)}|{re.escape(column)}", doc), column


def test_staging_outputs_carry_only_keys_masks_and_quasi_identifiers() -> None:
    models = {m["name"]: m for m in _yaml("_staging.yml")["models"]}
    clear_names = {"name", "full_name", "id_number", "phone", "email", "pan", "account_no", "customer_ref",
                   "counterparty_name", "phone_normalized", "email_normalized", "crm_customer_no", "user_no"}
    for name, model in models.items():
        for column in model.get("columns", []):
            assert column["name"] not in clear_names, f"{name}.{column['name']} is a clear personal column"
            pii = (column.get("meta") or {}).get("pii")
            assert pii is None or pii in ALLOWED_STAGING_TREATMENTS, (name, column["name"], pii)
    customers = {c["name"]: (c.get("meta") or {}).get("pii") for c in models["stg_crm__customers"]["columns"]}
    assert customers["id_number_masked"] == "masked" and customers["name_masked"] == "masked"
    # And the compiled SELECT list of the customer model agrees (the SQL, not only the docs).
    sql = (DBT_PROJECT_DIR / "models" / "staging" / "stg_crm__customers.sql").read_text(encoding="utf-8")
    final = sql[sql.rindex("final as ("):]
    selected = set(re.findall(r"^\s+([a-z_]+),?$", final, re.MULTILINE))
    assert not selected & clear_names and {"name_masked", "id_number_masked", "phone_key"} <= selected
