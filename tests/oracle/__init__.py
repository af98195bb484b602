"""An independent pandas oracle of the customer marts.

Plain pandas re-implementations of ``marts.mart_customer_monthly``,
``marts.mart_customer_360`` (its non-ML columns) and ``marts.mart_key_accounts``, written
from the column definitions in ``dbt_project/models/marts/_marts.yml`` and
``/tmp/briefs/keyaccounts_spec.md``, not translated from the SQL, so that a disagreement
between the two points at a bug in one of them.

Layout: ``inputs`` is the only module that touches DuckDB (it reads ``marts.fct_fund_flows``
and the staging tables into frames); every other module is pure functions from frames to
frames, so the same code serves as the pandas peer of the benchmark. ``compare`` is the
comparator used by ``tests/quality/test_oracle_marts.py``.

Money is carried as integer fen (``*_fen`` int64 columns) inside the oracle: the warehouse
stores DECIMAL(18,2), and integer sums are exact where float sums would drift. The public
``oracle_*`` functions return yuan (fen / 100) under the mart's column names.
"""

from tests.oracle.compare import ColumnMismatch, Comparison, compare_frames
from tests.oracle.inputs import OracleInputs, load_inputs
from tests.oracle.marts import oracle_customer_360, oracle_customer_monthly, oracle_key_accounts

__all__ = [
    "ColumnMismatch",
    "Comparison",
    "OracleInputs",
    "compare_frames",
    "load_inputs",
    "oracle_customer_360",
    "oracle_customer_monthly",
    "oracle_key_accounts",
]
