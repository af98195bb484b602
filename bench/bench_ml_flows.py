"""Benchmark: segmentation, grouped flow forecast and risk flags on a book scaled up from a demo world.

Usage: FUNDFLOW_HOME=<a built world> python bench/bench_ml_flows.py --factor 100 [--only segments,forecast,risk]

The world's marts are read once and replicated ``factor`` times with new customer / flow ids (a
1000-customer world × 100 = a 100k-customer book with the same shape). Each pure function is
timed on its own: wall seconds and CPU seconds of this process (user + system, all threads;
on a shared machine the CPU figure is the one that does not depend on the load); peak RSS is the
process's high-water mark after each step (it only grows).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.forecast import forecast_flow_groups  # noqa: E402
from ml.risk_flags import flag_risky_flows  # noqa: E402
from ml.segmentation import INPUT_COLUMNS, segment_customers  # noqa: E402
from orchestration.defs.assets.ml import MONTHLY_FLOWS_SQL  # noqa: E402

FLOW_COLUMNS = "flow_id, customer_id, flow_ts, direction, amount_cny, category, counterparty_type, counterparty_id, is_internal_transfer, is_echo"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def replicate(frame: pd.DataFrame, factor: int, id_columns: list[str]) -> pd.DataFrame:
    copies = []
    for i in range(factor):
        copy = frame.copy()
        for column in id_columns:
            copy[column] = copy[column].astype("string") + f"~{i}"
        copies.append(copy)
    return pd.concat(copies, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--factor", type=int, default=100)
    parser.add_argument("--only", default="segments,forecast,risk")
    args = parser.parse_args()
    steps = set(args.only.split(","))
    home = Path(os.environ.get("FUNDFLOW_HOME", "data"))
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    features = con.execute(f"select customer_id, {', '.join(INPUT_COLUMNS)} from marts.mart_customer_features").df()
    monthly = con.execute(MONTHLY_FLOWS_SQL).df()
    key_ids = con.execute("select customer_id from marts.mart_customer_features order by income_cny_12m desc limit 2").df()
    flows = con.execute(f"select {FLOW_COLUMNS} from marts.fct_fund_flows").df() if "risk" in steps else None
    con.close()
    n = len(features) * args.factor
    print(f"book: {n} customers (world of {len(features)} × {args.factor})")
    total = total_cpu = 0.0
    if "segments" in steps:
        big = replicate(features, args.factor, ["customer_id"])
        started, cpu = time.perf_counter(), time.process_time()
        result = segment_customers(big, seed=42)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        total += seconds
        total_cpu += cpu
        print(f"segment_customers: {seconds:.1f} s wall, {cpu:.1f} s CPU, k={result.chosen_k}, peak RSS {peak_rss_mb():.0f} MB")
        segments = result.assignments[["customer_id", "segment_name"]]
    else:
        segments = None
    if "forecast" in steps:
        big = replicate(monthly, args.factor, ["customer_id"])
        keys = [f"{c}~{i}" for c in key_ids["customer_id"] for i in range(args.factor)][:200]
        started, cpu = time.perf_counter(), time.process_time()
        result = forecast_flow_groups(big, segments=segments, key_accounts=keys)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        total += seconds
        total_cpu += cpu
        print(f"forecast_flow_groups: {seconds:.1f} s wall, {cpu:.1f} s CPU ({len(big)} monthly rows, {result.forecast[['scope', 'scope_id']].drop_duplicates().shape[0]} groups), peak RSS {peak_rss_mb():.0f} MB")
    if "risk" in steps:
        big = replicate(flows, args.factor, ["customer_id", "flow_id"])
        started, cpu = time.perf_counter(), time.process_time()
        result = flag_risky_flows(big)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        total += seconds
        total_cpu += cpu
        print(f"flag_risky_flows: {seconds:.1f} s wall, {cpu:.1f} s CPU ({len(big)} flows, {len(result.flags)} flagged), peak RSS {peak_rss_mb():.0f} MB")
    print(f"total: {total:.1f} s wall, {total_cpu:.1f} s CPU, peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
