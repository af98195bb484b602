"""Every setting fundflow reads, in one place.

Settings come from ``FUNDFLOW_*`` environment variables; paths default to ``./data`` under the
current directory. Everything else (Dagster resources, dbt's profile, the CLI) receives a
``Settings`` instance or the environment this module exports, so a path is never spelled twice.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse_path: Path
    reporting_currency: str
    timezone: str
    duckdb_memory_limit: str
    duckdb_threads: int
    # Models dbt builds at once. They share one DuckDB database, its thread pool and its
    # memory_limit: two wide models at once on 2 cores made both spill (at 100k customers the
    # spill of int_fund_flows' steps grew past 55 GB and filled the disk); one at a time, the
    # same three models took 76 s and 3.6 GB of spill.
    dbt_threads: int
    demo_seed: int
    demo_customers: int
    serving_versions_kept: int
    landing_settle_seconds: float
    # FUNDFLOW_LANDING_DIR: read delivered files from another folder (e.g. a folder holding a
    # real-world delivery such as berka/*.asc) instead of $FUNDFLOW_HOME/landing.
    landing_dir_override: Path | None = None
    # FUNDFLOW_DEMO ("1"/"0"; None = infer, see demo_mode) and FUNDFLOW_PII_KEY (never printed).
    demo_flag: str | None = None
    pii_key: str = field(default="", repr=False)
    # Security (docs/security.md): FUNDFLOW_DB_KEY encrypts backups (never printed);
    # FUNDFLOW_BACKUPS_KEPT; FUNDFLOW_AUDIT_IDENTITY (who, in ops.audit_log; default the OS user);
    # FUNDFLOW_LANDING_RETENTION_DAYS (0 = keep landing files for ever).
    db_key: str = field(default="", repr=False)
    backups_kept: int = 7
    audit_identity: str = ""
    landing_retention_days: int = 0

    @property
    def demo_mode(self) -> bool:
        """Demo data only, so the public demo PII key is acceptable (warehouse.security.keys).

        FUNDFLOW_DEMO=1/0 decides. Unset: demo when the demo generator's manifest is in truth/,
        or when FUNDFLOW_HOME is a throwaway folder under the system temp directory (tests,
        trials); anything else is treated as real data and needs a real FUNDFLOW_PII_KEY."""
        if self.demo_flag is not None:
            return self.demo_flag.lower() not in ("0", "false", "no")
        if (self.truth_dir / "manifest.json").exists():
            return True
        return self.home.is_relative_to(Path(tempfile.gettempdir()).resolve())

    @property
    def landing_dir(self) -> Path:
        return self.landing_dir_override or self.home / "landing"

    @property
    def truth_dir(self) -> Path:
        return self.home / "truth"

    @property
    def serving_dir(self) -> Path:
        return self.home / "serving"

    @property
    def serving_path(self) -> Path:
        return self.serving_dir / "marts.duckdb"

    @property
    def parquet_dir(self) -> Path:
        return self.serving_dir / "parquet"

    @property
    def backups_dir(self) -> Path:
        return self.home / "backups"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def quality_dir(self) -> Path:
        return self.home / "quality"

    def ensure_dirs(self) -> None:
        for path in (self.home, self.landing_dir, self.serving_dir, self.reports_dir, self.models_dir):
            path.mkdir(parents=True, exist_ok=True)

    def dbt_env(self) -> dict[str, str]:
        """Environment dbt's profiles.yml reads; absolute so dbt's working directory does not matter."""
        return {
            "FUNDFLOW_HOME": str(self.home),
            "FUNDFLOW_WAREHOUSE_PATH": str(self.warehouse_path),
            "FUNDFLOW_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "FUNDFLOW_DUCKDB_THREADS": str(self.duckdb_threads),
            "FUNDFLOW_DBT_THREADS": str(self.dbt_threads),
            "FUNDFLOW_REPORTING_CURRENCY": self.reporting_currency,
            # dbt's pseudonymize macro refuses a missing or demo PII key when this is "0".
            "FUNDFLOW_DEMO": "1" if self.demo_mode else "0",
        }


def _env(name: str, default: str) -> str:
    value = os.environ.get(f"FUNDFLOW_{name}", "").strip()
    return value or default


DEFAULT_REPORTING_CURRENCY = "CNY"


def default_reporting_currency(landing_dir: Path) -> str:
    """The reporting currency when FUNDFLOW_REPORTING_CURRENCY is not set.

    CNY (the demo channels' currency, and the one the FX file quotes rates to), unless every
    source the landing folder delivers states a currency of its own (PKDD'99 bank data: CZK)
    and no FX rate file is delivered: nothing could convert those amounts, so the warehouse
    reports in the sources' currency (amount_cny then holds that currency, fx_rate 1). With
    a rate file, or with sources in several currencies, it stays CNY and every flow converts
    at its rate (a flow without a rate fails int_fund_flows' not-null test on amount_cny).
    """
    from warehouse.landing.specs import delivered_sources  # the specs module does not import settings

    delivered = delivered_sources(landing_dir)
    if not delivered or any(spec.table == "reference__fx_rates" for spec in delivered):
        return DEFAULT_REPORTING_CURRENCY
    currencies = {getattr(spec, "currency", "") for spec in delivered}
    if len(currencies) == 1 and (currency := currencies.pop()):
        return currency.upper()
    return DEFAULT_REPORTING_CURRENCY


# Settings that are spliced into SQL (DuckDB's SET TimeZone, dbt vars, the memory limit) must
# look like what they are: a configuration value cannot carry a second statement.
_SPLICED_SETTINGS = {
    "TIMEZONE": re.compile(r"[A-Za-z][A-Za-z0-9_+\-/]{0,63}"),
    "REPORTING_CURRENCY": re.compile(r"[A-Z]{3}"),
    "DUCKDB_MEMORY_LIMIT": re.compile(r"[0-9]{1,6}(\.[0-9]{1,3})?\s?([KMGT]i?B|%)?", re.IGNORECASE),
}


def _checked(name: str, value: str) -> str:
    if not _SPLICED_SETTINGS[name].fullmatch(value):
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise ValueError(f"FUNDFLOW_{name}={shown!r} is not a valid value")
    return value


def load_settings() -> Settings:
    home = Path(_env("HOME", "data")).expanduser().resolve()
    warehouse = Path(_env("WAREHOUSE_PATH", str(home / "warehouse.duckdb"))).expanduser().resolve()
    landing_override = Path(landing).expanduser().resolve() if (landing := _env("LANDING_DIR", "")) else None
    landing_dir = landing_override or home / "landing"
    return Settings(
        home=home,
        warehouse_path=warehouse,
        reporting_currency=_checked(
            "REPORTING_CURRENCY", (_env("REPORTING_CURRENCY", "") or default_reporting_currency(landing_dir)).upper()),
        timezone=_checked("TIMEZONE", _env("TIMEZONE", "Asia/Shanghai")),
        duckdb_memory_limit=_checked("DUCKDB_MEMORY_LIMIT", _env("DUCKDB_MEMORY_LIMIT", "4GB")),
        duckdb_threads=int(_env("DUCKDB_THREADS", str(os.cpu_count() or 2))),
        dbt_threads=int(_env("DBT_THREADS", "1")),
        demo_seed=int(_env("DEMO_SEED", "42")),
        demo_customers=int(_env("DEMO_CUSTOMERS", "3000")),
        serving_versions_kept=int(_env("SERVING_VERSIONS_KEPT", "3")),
        landing_settle_seconds=float(_env("LANDING_SETTLE_SECONDS", "5")),
        landing_dir_override=landing_override,
        demo_flag=_env("DEMO", "") or None,
        pii_key=os.environ.get("FUNDFLOW_PII_KEY", ""),
        db_key=os.environ.get("FUNDFLOW_DB_KEY", ""),
        backups_kept=int(_env("BACKUPS_KEPT", "7")),
        audit_identity=_env("AUDIT_IDENTITY", ""),
        landing_retention_days=int(_env("LANDING_RETENTION_DAYS", "0")),
    )


@contextmanager
def exported_dbt_env(settings: Settings) -> Iterator[None]:
    """Expose the resolved settings to a child process started inside the block (dbt reads them
    in profiles.yml), then restore the environment so later settings lookups are unaffected."""
    saved = {name: os.environ.get(name) for name in settings.dbt_env()}
    os.environ.update(settings.dbt_env())
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
