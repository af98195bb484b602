"""Time the ML assets as the jobs run them: the real definitions' ``ml`` group on a built warehouse.

    FUNDFLOW_HOME=/path/to/home [BENCH_DROP_CACHES=1] .venv/bin/python bench/bench_ml_dagster.py

Materializes every asset of group ``ml`` (segments and profiles, CLV, churn, forecast and its
backtest, risk flags, basket rules, spend drivers) in one process with ``execute_in_process``, as
the jobs' in-process executor does, so DuckDB reads and ``ml.*`` writes are included (the
``bench_ml_*.py`` scripts time the pure functions alone). Prints each step's seconds, the job's
wall time and peak RSS. ``BENCH_DROP_CACHES=1`` (root only) empties the page cache first, so the
steps read the warehouse file from disk as after a reboot. Target (issue 6): 60 s at 100k
customers on 2 cores. The asset checks are left out: they gate, they are not ML.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import dagster as dg  # noqa: E402

from bench.bench_refresh import step_times  # noqa: E402
from orchestration.definitions import defs as load_definitions  # noqa: E402


def main() -> None:
    if "FUNDFLOW_HOME" not in os.environ:
        sys.exit("set FUNDFLOW_HOME to a home with a built warehouse (e.g. the 100k bench world)")
    if os.environ.get("BENCH_DROP_CACHES") == "1":
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    job = load_definitions().resolve_implicit_global_asset_job_def()
    ml_keys = dg.AssetSelection.groups("ml").resolve(job.asset_layer.asset_graph)
    subset = job.get_subset(asset_selection=ml_keys, asset_check_selection=set())
    instance = dg.DagsterInstance.ephemeral()
    started = time.perf_counter()
    result = subset.execute_in_process(instance=instance, raise_on_error=True)
    wall = time.perf_counter() - started
    for step in step_times(instance, result.run_id):
        print(f"step_seconds[{step['step']}]={step['seconds']:.1f}")
    print(f"assets={','.join(sorted(key.to_user_string() for key in ml_keys))}")
    print(f"job_wall_seconds={wall:.1f}")
    print(f"peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    main()
