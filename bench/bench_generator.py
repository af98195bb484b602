"""Benchmark the demo-data generator: wall time, CPU time, peak memory and records written.

    BENCH_CUSTOMERS=100000 BENCH_MONTHS=24 .venv/bin/python bench/bench_generator.py

Writes into a temporary directory (removed afterwards unless BENCH_KEEP=1) and prints one
line of ``key=value`` figures plus a short per-table breakdown. Target: 100k customers
(about 10M money-movement records) in at most 120 s on a 2-core machine.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from warehouse.synthetic import generate  # noqa: E402


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main() -> int:
    customers = int(os.environ.get("BENCH_CUSTOMERS", "100000"))
    months = int(os.environ.get("BENCH_MONTHS", "24"))
    seed = int(os.environ.get("BENCH_SEED", "42"))
    keep = os.environ.get("BENCH_KEEP") == "1"
    work = Path(tempfile.mkdtemp(prefix="fundflow-bench-gen-"))
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    try:
        summary = generate(work / "landing", work / "truth", customers=customers, seed=seed, months=months)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        landing_bytes = sum(p.stat().st_size for p in (work / "landing").rglob("*") if p.is_file())
        print(
            f"customers={customers} months={months} seconds={wall:.1f} cpu_seconds={cpu:.1f} "
            f"peak_rss_mb={_peak_rss_mb():.0f} records={summary.records} "
            f"records_per_customer={summary.records / customers:.1f} rows_delivered={summary.total_rows} "
            f"files={summary.files_written} landing_mb={landing_bytes / 1e6:.0f} "
            f"records_per_second={summary.records / wall:,.0f}"
        )
        for table in sorted(summary.rows):
            print(f"  {table:26s} rows={summary.rows[table]:>10,} duplicates={summary.duplicates[table]:>7,} "
                  f"malformed={summary.malformed[table]:>5,}")
        if keep:
            print(f"kept in {work}")
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
