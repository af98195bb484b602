"""Cross-channel validation (交叉验证) as a visible, non-blocking check.

dbt computes the match rates (``quality.cross_channel_validation``); this check shows them on
the asset in the UI and warns when a rate falls under its threshold. A low rate is a signal to
investigate (late files, a channel outage), not a reason to stop the refresh.
"""

import dagster as dg

from orchestration.defs.resources import WAREHOUSE_WRITER_POOL, WarehouseResource


@dg.asset_check(
    asset=dg.AssetKey(["quality", "cross_channel_validation"]),
    name="cross_channel_match_rates",
    blocking=False,
    pool=WAREHOUSE_WRITER_POOL,
    description="Match rate of each pair of channels that should agree, against its warning threshold.",
)
def cross_channel_match_rates(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        rows = con.execute(
            "select check_name, expected, matched, match_rate, warn_threshold from quality.cross_channel_validation "
            "order by check_name"
        ).fetchall()
    below = [name for name, _, _, rate, threshold in rows if rate is not None and rate < threshold]
    return dg.AssetCheckResult(
        passed=not below,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            **{
                name: dg.MetadataValue.text(f"{matched:,}/{expected:,} = {rate:.2%} (warn below {threshold:.0%})")
                for name, expected, matched, rate, threshold in rows
                if rate is not None
            },
            "below_threshold": dg.MetadataValue.json(below),
        },
    )
