"""Deterministic demo data for fundflow: every landing channel plus the planted truth.

``generate(landing_dir, truth_dir, customers=..., seed=...)`` writes the files described by
``warehouse.landing.specs.SOURCES`` and, separately, the truth the tests and benchmarks score
against (``customers.parquet``, ``flows.parquet``, ``dirt.parquet``, ``manifest.json``).

Module map: ``personas`` (who the customers are), ``seasonality`` (calendar, Spring Festival,
618, Double 11, pay days), ``world`` (identities, accounts, cards, counterparties), ``bank`` /
``payments`` / ``ecommerce`` / ``cards`` / ``crm`` (each channel's records and files),
``anomalies`` (planted suspicious patterns), ``dirt`` (planted defects and their rates),
``files`` (writing lines and re-exported duplicates), ``truth`` (truth files), ``generate``.
"""

from .dirt import DirtRates
from .generate import GenerationSummary, generate

__all__ = ["DirtRates", "GenerationSummary", "generate"]
