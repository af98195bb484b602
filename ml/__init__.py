"""Pure-Python models over DataFrames: no Dagster, no file paths, no DuckDB.

- ``segment_customers``: k-means customer segments with business names (``ml.segmentation``).
- ``forecast_monthly_flows``: monthly inflow / outflow / net forecast with a backtest (``ml.forecast``).
"""

from ml.forecast import ForecastResult, forecast_monthly_flows, monthly_totals
from ml.segmentation import SEGMENT_FEATURES, SegmentationResult, segment_customers

__all__ = [
    "SEGMENT_FEATURES",
    "ForecastResult",
    "SegmentationResult",
    "forecast_monthly_flows",
    "monthly_totals",
    "segment_customers",
]
