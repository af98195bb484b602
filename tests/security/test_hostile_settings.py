"""Settings that reach SQL as text are refused when they carry anything but a value."""

from __future__ import annotations

import pytest

from warehouse.settings import load_settings


@pytest.mark.parametrize("name, value", [
    ("FUNDFLOW_TIMEZONE", "UTC'; drop table marts.fct_fund_flows; --"),
    ("FUNDFLOW_TIMEZONE", "A" * 500),
    ("FUNDFLOW_REPORTING_CURRENCY", "CNY' or '1'='1"),
    ("FUNDFLOW_DUCKDB_MEMORY_LIMIT", "4GB'; attach '/etc/passwd"),
])
def test_hostile_settings_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"{name}=.* is not a valid value"):
        load_settings()


@pytest.mark.parametrize("name, value", [
    ("FUNDFLOW_TIMEZONE", "America/Argentina/Buenos_Aires"), ("FUNDFLOW_TIMEZONE", "Etc/GMT+8"),
    ("FUNDFLOW_REPORTING_CURRENCY", "czk"), ("FUNDFLOW_DUCKDB_MEMORY_LIMIT", "12GB"),
    ("FUNDFLOW_DUCKDB_MEMORY_LIMIT", "1.5GiB"), ("FUNDFLOW_DUCKDB_MEMORY_LIMIT", "80%"),
])
def test_ordinary_values_pass(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    load_settings()
