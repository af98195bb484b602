"""Landing: delivered files → ``raw.*`` (text + lineage) and ``quality.landing_rejects``."""

from warehouse.landing.loader import (
    LandingContractError,
    SourceLoad,
    ensure_landing_tables,
    files_for,
    load_all,
    load_source,
)
from warehouse.landing.specs import LINEAGE_COLUMNS, SOURCES, SourceSpec, spec_for

__all__ = [
    "LINEAGE_COLUMNS",
    "SOURCES",
    "LandingContractError",
    "SourceLoad",
    "SourceSpec",
    "ensure_landing_tables",
    "files_for",
    "load_all",
    "load_source",
    "spec_for",
]
