"""The pseudonymisation key (FUNDFLOW_PII_KEY): refuse a missing or public key outside demo mode.

dbt's ``pseudonymize`` macro computes HMAC-SHA256 with this key and refuses the same cases at
compile time (it sees ``FUNDFLOW_DEMO`` from ``Settings.dbt_env()``); checking here as well
lets the CLI and Dagster fail before any work starts, with the same message.
"""

from __future__ import annotations

from warehouse.settings import Settings

# Public: it is in this repository. Fine for generated people, never for real ones.
DEMO_PII_KEY = "fundflow-demo-key"
MIN_KEY_BYTES = 16
# The dbt macro builds the HMAC pads in Jinja, which has no sha256 to shorten a longer key.
MAX_KEY_BYTES = 64


class PiiKeyError(RuntimeError):
    """FUNDFLOW_PII_KEY is unusable for this warehouse."""


def effective_pii_key(settings: Settings) -> str:
    """The key dbt will use (the demo key when none is set), after the checks below."""
    check_pii_key(settings)
    return settings.pii_key or DEMO_PII_KEY


def check_pii_key(settings: Settings) -> None:
    key = settings.pii_key
    size = len(key.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise PiiKeyError(f"FUNDFLOW_PII_KEY is {size} bytes; use a key of at most {MAX_KEY_BYTES} bytes.")
    if settings.demo_mode:
        return
    hint = "Set FUNDFLOW_PII_KEY to a secret of 16 to 64 bytes (e.g. `openssl rand -hex 32`)"
    if not key.strip():
        raise PiiKeyError(
            "FUNDFLOW_PII_KEY is not set and this is not demo mode (FUNDFLOW_DEMO=0, or no demo manifest "
            f"in {settings.truth_dir}): refusing to pseudonymise real personal data with the public demo key. {hint}."
        )
    if key == DEMO_PII_KEY:
        raise PiiKeyError(f"FUNDFLOW_PII_KEY is the public demo key and this is not demo mode. {hint}.")
    if size < MIN_KEY_BYTES:
        raise PiiKeyError(f"FUNDFLOW_PII_KEY is only {size} bytes; outside demo mode use at least {MIN_KEY_BYTES}. {hint}.")
