"""Benchmark the customer-value models (CLV, churn, basket rules, spend drivers) at 100k customers.

    BENCH_WAREHOUSE=/path/to/warehouse.duckdb BENCH_REPLICAS=100 .venv/bin/python bench/bench_ml_value.py

Reads the model inputs once from a built warehouse (e.g. a 1000-customer demo world), replicates
them ``BENCH_REPLICAS`` times with new customer / order ids (so 1000 × 100 = 100k customers with
the demo's behaviour), then times each pure function in its own child process so that each
model's peak RSS is its own. Prints one ``key=value`` line per model and the total: wall seconds
and CPU seconds (user + system of the child; the load-independent figure on a shared machine). Target
(issue 6): all ML assets together within 60 s on 2 cores.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402

CLV_SQL = """select customer_id, flow_date as date, amount_cny as value from marts.fct_fund_flows
    where customer_id is not null and direction = 'out' and category like 'consumption:%'
      and not is_internal_transfer and not is_echo and amount_cny > 0"""
CHURN_SQL = """select customer_id, flow_date, direction, amount_cny, category, is_internal_transfer, is_echo
    from marts.fct_fund_flows where customer_id is not null"""
ORDERS_SQL = "select order_id, product_category, status from intermediate.int_ecommerce__order_lines_deduped"


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def replicate(frame: pd.DataFrame, replicas: int, id_columns: tuple[str, ...]) -> pd.DataFrame:
    parts = []
    for i in range(replicas):
        copy = frame.copy()
        for column in id_columns:
            copy[column] = copy[column].astype(str) + f"#{i}"
        parts.append(copy)
    return pd.concat(parts, ignore_index=True)


def run_model(name: str, inputs: dict, queue) -> None:
    from ml.basket_rules import association_rules
    from ml.churn import churn_risk
    from orchestration.ml_io import dbt_project_var
    from ml.clv import customer_lifetime_value
    from ml.segmentation import SEGMENT_FEATURES, segment_customers
    from ml.spend_drivers import spend_drivers

    frame = pd.read_parquet(inputs["path"])
    started, cpu = time.perf_counter(), time.process_time()
    if name == "clv":
        result = customer_lifetime_value(frame, inputs["as_of"])
        rows = len(result.customers)
    elif name == "churn":
        result = churn_risk(frame, inputs["as_of"] + pd.Timedelta(days=1),
                            passive_categories=dbt_project_var("churn_passive_categories"))
        rows = len(result.scores)
    elif name == "basket_rules":
        result = association_rules(frame, min_support=0.005, min_confidence=0.05, top_n=200)
        rows = len(result.rules)
    else:
        # Segments are ml-flows' model; computed here only as input, outside the timed call.
        segments = segment_customers(frame[["customer_id", *SEGMENT_FEATURES]], seed=11).assignments
        frame = frame.merge(segments, on="customer_id")
        started, cpu = time.perf_counter(), time.process_time()
        result = spend_drivers(frame)
        rows = len(result.coefficients)
    queue.put((name, time.perf_counter() - started, time.process_time() - cpu, _peak_rss_mb(), len(frame), rows))


def main() -> int:
    warehouse = os.environ.get("BENCH_WAREHOUSE", str(Path(os.environ.get("FUNDFLOW_HOME", "data")) / "warehouse.duckdb"))
    replicas = int(os.environ.get("BENCH_REPLICAS", "100"))
    work = Path(os.environ.get("BENCH_WORK", "/tmp/fundflow-bench-ml-value"))
    work.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(warehouse, read_only=True)
    as_of = pd.Timestamp(con.execute("select max(as_of_date) from marts.mart_customer_features").fetchone()[0])
    customers = con.execute("select count(*) from marts.mart_customer_features").fetchone()[0]
    inputs = {
        "clv": replicate(con.execute(CLV_SQL).df(), replicas, ("customer_id",)),
        "churn": replicate(con.execute(CHURN_SQL).df(), replicas, ("customer_id",)),
        "basket_rules": replicate(con.execute(ORDERS_SQL).df(), replicas, ("order_id",)),
        "spend_drivers": replicate(con.execute("select * from marts.mart_customer_features").df(), replicas, ("customer_id",)),
    }
    con.close()
    print(f"customers={customers * replicas} replicas={replicas} source={warehouse}")
    total = total_cpu = 0.0
    context = multiprocessing.get_context("spawn")
    for name, frame in inputs.items():
        path = work / f"{name}.parquet"
        frame.to_parquet(path)
        queue = context.Queue()
        process = context.Process(target=run_model, args=(name, {"path": str(path), "as_of": as_of}, queue))
        process.start()
        model, seconds, cpu, peak_mb, input_rows, output_rows = queue.get()
        process.join()
        total += seconds
        total_cpu += cpu
        print(f"model={model} seconds={seconds:.2f} cpu_seconds={cpu:.2f} peak_rss_mb={peak_mb:.0f} input_rows={input_rows} output_rows={output_rows}")
    print(f"total_seconds={total:.2f} total_cpu_seconds={total_cpu:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
