"""`make bench`: the refresh benchmark of issue 10, every figure measured in one run on the same data.

    BENCH_CUSTOMERS=100000 make bench          # default scale: 100k customers ≈ 10M fund flows
    BENCH_CUSTOMERS=3000 BENCH_SKIP=peer make bench

Stages, each in its own process so its peak resident memory is its own (``os.wait4`` reports the
largest RSS of the process and of every child it waited for, dbt included):

1. **generate** the demo world into ``BENCH_HOME`` (reused when the same scale and seed are there),
   holding the last delivered day's files back for the incremental stage;
2. **floor**: DuckDB reads every landing file once into one table per feed, no cleaning;
3. **full refresh**: ``fundflow refresh --full`` (the real Dagster job) from an empty warehouse;
   wall time per Dagster step and per dbt model from the run's own records;
4. **incremental**: the held-back day is delivered, ``fundflow refresh --incremental``;
5. **BI queries**: ten dashboard queries on the published serving file, p50 / p95 over repeats;
6. **pandas peer**: the oracle of ``tests/oracle`` computes the customer monthly, customer 360 and
   key-account marts from the same staged inputs; time and memory against dbt's time for the same
   marts (the models between the fact / staging and them).

Results go to ``bench/results/<utc time>-<customers>.json`` and a Markdown summary is printed
(copy it into ``bench/README.md``). Nothing is asserted: targets are shown next to the figures.
Settings: BENCH_CUSTOMERS, BENCH_SEED (42), BENCH_MONTHS (24), BENCH_HOME
(/tmp/fundflow-bench-<customers>), BENCH_QUERY_REPEATS (30), BENCH_SKIP (comma list of stages),
FUNDFLOW_DUCKDB_MEMORY_LIMIT (4GB) and FUNDFLOW_DUCKDB_THREADS passed through to every stage.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS_DIR = ROOT / "bench" / "results"
DAY_FILE = re.compile(r"(\d{8})")

TARGETS = {
    "full_refresh_seconds": 90.0,
    "full_refresh_over_floor": 8.0,
    "incremental_seconds": 20.0,
    "bi_p95_ms": 100.0,
    "peer_speedup": 5.0,
    "peak_rss_mb": 4096.0,
}

# Ten dashboard questions, as a BI tool would send them to the serving file.
BI_QUERIES: dict[str, str] = {
    "kpi_trend": "select month, active_customers, new_customers, lost_customers, churn_rate, aum_proxy_cny "
                 "from main.mart_kpis where dimension = 'all' order by month",
    "segment_breakdown": "select dimension_value, sum(active_customers) as active, avg(churn_rate) as churn "
                         "from main.mart_kpis where dimension = 'segment' group by all order by active desc",
    "region_filter": "select month, customers, active_customers, aum_proxy_cny from main.mart_kpis "
                     "where dimension = 'region' and dimension_value = (select min(dimension_value) from "
                     "main.mart_kpis where dimension = 'region') order by month",
    "sankey_paths": "select stage, from_node, to_node, sum(amount_cny) as amount_cny, sum(customer_count) as customers "
                    "from main.mart_fund_flow_paths where month >= (select max(month) from main.mart_fund_flow_paths) "
                    "- interval 2 month group by all order by amount_cny desc",
    "key_account_board": "select customer_id, tier, contribution_rank, contribution_share, revenue_proxy_cny_12m, "
                         "rank_change, key_account_change from main.mart_key_accounts where period_month = "
                         "(select max(period_month) from main.mart_key_accounts) and tier in ('A', 'B') "
                         "order by contribution_rank limit 200",
    "top_counterparties": "select counterparty_type, counterparty_id, main_category, turnover_cny from "
                          "main.mart_top_counterparties where month = (select max(month) from "
                          "main.mart_top_counterparties) order by turnover_cny desc limit 20",
    "customer_360_card": "select * from main.mart_customer_360 where customer_id = $customer",
    "customer_drilldown": "select flow_ts, source_channel, direction, amount_cny, category, counterparty_type, is_outlier "
                          "from main.fct_fund_flows where customer_id = $customer order by flow_ts desc limit 500",
    "customer_monthly_trend": "select month, sum(inflow_cny) as inflow, sum(outflow_cny) as outflow, sum(net_cny) as net "
                              "from main.mart_customer_monthly where customer_id = $customer group by month order by month",
    "channel_mix_month": "select source_channel, direction, sum(amount_cny) as amount_cny, count(*) as flows "
                         "from main.fct_fund_flows where flow_date >= (select max(flow_date) from main.fct_fund_flows) "
                         "- interval 30 day group by all",
}

PEER_MARTS = ("mart_customer_monthly", "mart_customer_360", "mart_key_accounts")


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["FUNDFLOW_HOME"] = str(home)
    env.pop("FUNDFLOW_WAREHOUSE_PATH", None)
    env["DAGSTER_HOME"] = str(home / "dagster")
    env.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    return env


def measured(command: list[str], env: dict[str, str], log: Path) -> dict:
    """Run ``command``; wall seconds, CPU seconds and the peak RSS of it and its children."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    result = {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "exit_code": code,
        "log": str(log),
    }
    print(f"  {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(command))}: "
          f"{result['seconds']} s, peak {result['peak_rss_mb']} MB, exit {code}", flush=True)
    return result


# ---------------------------------------------------------------- stage 1: the data

def generate_world(home: Path, customers: int, seed: int, months: int) -> dict:
    stamp = home / "bench_world.json"
    wanted = {"customers": customers, "seed": seed, "months": months}
    if stamp.exists() and json.loads(stamp.read_text())["world"] == wanted:
        print(f"generate: reusing the world in {home}")
        return json.loads(stamp.read_text())["generate"]
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    result = measured([str(BIN / "fundflow"), "generate", "--customers", str(customers), "--seed", str(seed),
                       "--months", str(months), "--force"], _env(home), home / "logs" / "generate.log")
    if result["exit_code"]:
        raise SystemExit(f"generate failed, see {result['log']}")
    result["held_back"] = hold_back_last_day(home)
    stamp.write_text(json.dumps({"world": wanted, "generate": result}, indent=2))
    return result


def hold_back_last_day(home: Path) -> list[str]:
    """Move the newest day's daily files out of landing: the incremental stage delivers them."""
    landing = home / "landing"
    dated = [(m.group(1), p) for p in landing.rglob("*") if p.is_file() and (m := DAY_FILE.search(p.name))]
    last_day = max(day for day, _ in dated)
    moved = []
    for day, path in dated:
        if day == last_day:
            target = home / "heldback" / path.relative_to(landing)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
            moved.append(str(path.relative_to(landing)))
    return sorted(moved)


def deliver_held_back(home: Path) -> None:
    held = home / "heldback"
    for path in sorted(p for p in held.rglob("*") if p.is_file()):
        target = home / "landing" / path.relative_to(held)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def reset_warehouse(home: Path) -> None:
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal", "warehouse.duckdb.tmp", "serving", "dagster",
                 "reports", "actions", "models", "quality", "docs"):
        path = home / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


# ---------------------------------------------------------------- stage 2: the floor

def floor(home: Path) -> dict:
    """DuckDB reads every landing file once into a table per feed: no typing, no cleaning.

    UTF-8 files are read by DuckDB directly. The bank feed is GBK, which DuckDB's CSV reader
    cannot decode without the `encodings` extension (a download, not allowed here): those files are
    transcoded to UTF-8 in Python first, and that time counts in the floor.
    """
    import duckdb

    sys.path.insert(0, str(ROOT))
    from warehouse.landing.specs import SOURCES

    target = home / "floor.duckdb"
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target), config={"memory_limit": os.environ.get("FUNDFLOW_DUCKDB_MEMORY_LIMIT", "4GB")})
    rows = {}
    scratch = home / "floor_utf8"
    shutil.rmtree(scratch, ignore_errors=True)
    for spec in SOURCES:
        files = sorted((home / "landing" / spec.channel).glob(spec.pattern))
        if not files:
            continue
        if spec.encoding.lower() not in ("utf-8", "utf8", "utf-8-sig"):
            scratch.mkdir(exist_ok=True)
            converted = []
            for path in files:
                out = scratch / f"{spec.table}-{path.name}"
                out.write_text(path.read_bytes().decode(spec.encoding, errors="replace"), encoding="utf-8")
                converted.append(out)
            files = converted
        names = ", ".join(f"'{p}'" for p in files)
        # Columns and types given, not detected: detection samples every file (slow, and with
        # union_by_name over hundreds of files it ran out of memory).
        columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in spec.columns) + "}"
        if spec.file_format == "jsonl":
            reader = f"read_json([{names}], format = 'newline_delimited', columns = {columns}, ignore_errors = true)"
        else:
            reader = f"read_csv([{names}], header = true, columns = {columns}, delim = '{spec.delimiter}', " \
                     f"quote = '\"', auto_detect = false, strict_mode = false, ignore_errors = true, null_padding = true)"
        con.execute(f'create or replace table "{spec.table}" as select * from {reader}')
        rows[spec.table] = con.execute(f'select count(*) from "{spec.table}"').fetchone()[0]
    con.close()
    shutil.rmtree(scratch, ignore_errors=True)
    target.unlink(missing_ok=True)
    return rows


# ---------------------------------------------------------------- stages 3-4: the Dagster job

def step_times(instance, run_id: str) -> list[dict]:
    """Wall seconds and outcome of each step of one Dagster run, from its start and end events."""
    import dagster as dg

    starts, steps = {}, []
    records = instance.get_records_for_run(
        run_id,
        of_type={dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE},
        limit=100_000,
    ).records
    for record in records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        else:
            steps.append({"step": event.step_key, "seconds": round(entry.timestamp - starts.get(event.step_key, entry.timestamp), 2),
                          "status": "success" if event.event_type == dg.DagsterEventType.STEP_SUCCESS else "failure"})
    return steps


def run_stages(home: Path, since: float) -> tuple[list[dict], list[dict]]:
    """Per-step wall times of the newest Dagster run, and per-model dbt times of the invocations since ``since``."""
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    import dagster as dg

    instance = dg.DagsterInstance.get()
    steps = step_times(instance, instance.get_runs(limit=1)[0].run_id)
    models = []
    for results in (ROOT / "dbt_project" / "target").rglob("run_results.json"):
        if results.stat().st_mtime < since:
            continue
        for node in json.loads(results.read_text())["results"]:
            if node["unique_id"].split(".")[0] in ("model", "snapshot", "seed"):
                models.append({"node": node["unique_id"].split(".")[-1], "seconds": round(node["execution_time"], 2),
                               "status": node["status"]})
    return sorted(steps, key=lambda s: -s["seconds"]), sorted(models, key=lambda m: -m["seconds"])


def refresh(home: Path, mode: str) -> dict:
    since = time.time()
    result = measured([str(BIN / "fundflow"), "refresh", f"--{mode}"], _env(home), home / "logs" / f"bench-{mode}.log")
    steps, models = run_stages(home, since)
    result["steps"] = steps
    result["dbt_models"] = models
    return result


# ---------------------------------------------------------------- stage 5: BI queries

def bi_queries(home: Path, repeats: int) -> dict:
    import duckdb

    con = duckdb.connect(str(home / "serving" / "marts.duckdb"), read_only=True)
    customer = con.execute(
        "select customer_id from main.mart_customer_360 order by income_cny_12m desc nulls last limit 1"
    ).fetchone()[0]
    figures = {}
    for name, sql in BI_QUERIES.items():
        parameters = {"customer": customer} if "$customer" in sql else None
        con.execute(sql, parameters).fetchall()  # warm: first read of the pages from disk
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            rows = con.execute(sql, parameters).fetchall()
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        figures[name] = {"p50_ms": round(statistics.median(times), 2),
                         "p95_ms": round(times[max(0, int(round(0.95 * len(times))) - 1)], 2), "rows": len(rows)}
    con.close()
    return figures


# ---------------------------------------------------------------- stage 6: the pandas peer

def peer(home: Path) -> dict:
    import duckdb

    sys.path.insert(0, str(ROOT))
    from tests.oracle.inputs import load_inputs
    from tests.oracle.marts import oracle_customer_360, oracle_customer_monthly, oracle_key_accounts

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    start = time.perf_counter()
    inputs = load_inputs(con)
    loaded = time.perf_counter()
    monthly = oracle_customer_monthly(inputs)
    customer_360 = oracle_customer_360(inputs)
    key_accounts = oracle_key_accounts(inputs)
    done = time.perf_counter()
    return {"load_seconds": round(loaded - start, 2), "compute_seconds": round(done - loaded, 2),
            "rows": {"mart_customer_monthly": len(monthly), "mart_customer_360": len(customer_360),
                     "mart_key_accounts": len(key_accounts)}}


def dbt_seconds_for_peer_marts(models: list[dict]) -> tuple[float, list[str]]:
    """dbt's time for what the peer computes: the three marts and the models between them and the
    peer's inputs (fct_fund_flows and staging), read from the dbt manifest."""
    manifest = json.loads((ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    parents = manifest["parent_map"]
    by_name = {uid.split(".")[-1]: uid for uid in parents if uid.startswith(("model.", "snapshot."))}
    stop = {"fct_fund_flows"}
    wanted: set[str] = set()
    queue = [by_name[m] for m in PEER_MARTS if m in by_name]
    while queue:
        uid = queue.pop()
        name = uid.split(".")[-1]
        if name in wanted or name in stop or name.startswith("stg_") or not uid.startswith(("model.", "snapshot.")):
            continue
        wanted.add(name)
        queue.extend(parents.get(uid, []))
    seconds = sum(m["seconds"] for m in models if m["node"] in wanted)
    return round(seconds, 2), sorted(wanted)


# ---------------------------------------------------------------- the run

def versions() -> dict:
    names = ["duckdb", "dbt-core", "dbt-duckdb", "dagster", "dagster-dbt", "great-expectations", "pandas", "scikit-learn"]
    return {name: metadata.version(name) for name in names}


def machine() -> dict:
    return {"cpus": os.cpu_count(), "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "load_average_at_start": os.getloadavg()}


def ratio(value: float | None, target: float) -> str:
    return "n/a" if value is None else f"{value / target:.2f}× target"


def summary_markdown(result: dict) -> str:
    full, inc, floor_ = result.get("full_refresh"), result.get("incremental"), result.get("floor")
    lines = [f"### {result['world']['customers']:,} customers, seed {result['world']['seed']} "
             f"({result['started_utc']}, load average at start {result['machine']['load_average_at_start'][0]:.1f})", "",
             "| figure | measured | target | ratio |", "|---|---|---|---|"]
    if floor_:
        lines.append(f"| floor (DuckDB reads every landing file) | {floor_['seconds']} s, {sum(floor_['rows'].values()):,} rows, "
                     f"peak {floor_['peak_rss_mb']:.0f} MB | — | — |")
    if full:
        lines.append(f"| full refresh (Dagster job) | {full['seconds']} s, peak {full['peak_rss_mb']:.0f} MB, exit {full['exit_code']} | "
                     f"≤ {TARGETS['full_refresh_seconds']:.0f} s | {ratio(full['seconds'], TARGETS['full_refresh_seconds'])} |")
        if floor_:
            over = full["seconds"] / floor_["seconds"]
            lines.append(f"| full refresh ÷ floor | {over:.1f}× | ≤ {TARGETS['full_refresh_over_floor']:.0f}× | "
                         f"{ratio(over, TARGETS['full_refresh_over_floor'])} |")
    if inc:
        lines.append(f"| one-day incremental refresh | {inc['seconds']} s, peak {inc['peak_rss_mb']:.0f} MB, exit {inc['exit_code']} | "
                     f"≤ {TARGETS['incremental_seconds']:.0f} s | {ratio(inc['seconds'], TARGETS['incremental_seconds'])} |")
    if result.get("bi_queries"):
        worst = max(q["p95_ms"] for q in result["bi_queries"].values())
        lines.append(f"| BI queries, worst p95 of {len(result['bi_queries'])} | {worst:.1f} ms | ≤ {TARGETS['bi_p95_ms']:.0f} ms | "
                     f"{ratio(worst, TARGETS['bi_p95_ms'])} |")
    if result.get("peer"):
        p = result["peer"]
        lines.append(f"| pandas peer (3 marts from staged inputs) | {p['seconds']} s, peak {p['peak_rss_mb']:.0f} MB | — | — |")
        if p.get("dbt_seconds"):
            speedup = p["seconds"] / p["dbt_seconds"]
            lines.append(f"| dbt for the same marts ({len(p['dbt_models'])} models) | {p['dbt_seconds']} s; speed-up {speedup:.1f}× | "
                         f"≥ {TARGETS['peer_speedup']:.0f}× | {speedup / TARGETS['peer_speedup']:.2f}× target |")
    peaks = [s["peak_rss_mb"] for s in (full, inc) if s]
    if peaks:
        lines.append(f"| peak RSS of a refresh (memory_limit {result['memory_limit']}) | {max(peaks):.0f} MB | "
                     f"≤ {TARGETS['peak_rss_mb']:.0f} MB | {ratio(max(peaks), TARGETS['peak_rss_mb'])} |")
    if full and full.get("steps"):
        lines += ["", "Slowest Dagster steps of the full refresh: " + ", ".join(
            f"{s['step']} {s['seconds']} s" for s in full["steps"][:8])]
    if full and full.get("dbt_models"):
        lines += ["", "Slowest dbt models: " + ", ".join(f"{m['node']} {m['seconds']} s" for m in full["dbt_models"][:10])]
    if result.get("bi_queries"):
        lines += ["", "| BI query | p50 ms | p95 ms | rows |", "|---|---|---|---|"]
        lines += [f"| {n} | {q['p50_ms']} | {q['p95_ms']} | {q['rows']} |" for n, q in result["bi_queries"].items()]
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] in ("--floor", "--peer"):  # a stage in its own process
        home = Path(sys.argv[2])
        start = time.perf_counter()
        figures = floor(home) if sys.argv[1] == "--floor" else peer(home)
        figures["inner_seconds"] = round(time.perf_counter() - start, 2)
        (home / f"bench{sys.argv[1].replace('--', '-')}.json").write_text(json.dumps(figures))
        return 0

    customers = int(os.environ.get("BENCH_CUSTOMERS", "100000"))
    seed = int(os.environ.get("BENCH_SEED", "42"))
    months = int(os.environ.get("BENCH_MONTHS", "24"))
    home = Path(os.environ.get("BENCH_HOME", f"/tmp/fundflow-bench-{customers}"))
    repeats = int(os.environ.get("BENCH_QUERY_REPEATS", "30"))
    skip = {s.strip() for s in os.environ.get("BENCH_SKIP", "").split(",") if s.strip()}
    os.environ.setdefault("FUNDFLOW_DUCKDB_MEMORY_LIMIT", "4GB")
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    result: dict = {"started_utc": started, "world": {"customers": customers, "seed": seed, "months": months},
                    "home": str(home), "memory_limit": os.environ["FUNDFLOW_DUCKDB_MEMORY_LIMIT"],
                    "machine": machine(), "versions": versions(), "targets": TARGETS}
    print(f"bench: {customers:,} customers in {home}", flush=True)
    result["generate"] = generate_world(home, customers, seed, months)

    if "floor" not in skip:
        print("floor:", flush=True)
        result["floor"] = measured([sys.executable, __file__, "--floor", str(home)], _env(home), home / "logs" / "bench-floor.log")
        result["floor"]["rows"] = json.loads((home / "bench-floor.json").read_text())
        result["floor"]["rows"].pop("inner_seconds", None)

    if "full" not in skip:
        print("full refresh:", flush=True)
        held = home / "heldback"
        for path in (p for p in held.rglob("*") if p.is_file()):
            (home / "landing" / path.relative_to(held)).unlink(missing_ok=True)  # the day is not delivered yet
        reset_warehouse(home)
        result["full_refresh"] = refresh(home, "full")

    if "incremental" not in skip:
        print("one-day incremental refresh:", flush=True)
        deliver_held_back(home)
        result["incremental"] = refresh(home, "incremental")

    if "bi" not in skip and (home / "serving" / "marts.duckdb").exists():
        print("BI queries:", flush=True)
        result["bi_queries"] = bi_queries(home, repeats)

    if "peer" not in skip:
        print("pandas peer:", flush=True)
        result["peer"] = measured([sys.executable, __file__, "--peer", str(home)], _env(home), home / "logs" / "bench-peer.log")
        if result["peer"]["exit_code"] == 0:
            result["peer"].update(json.loads((home / "bench-peer.json").read_text()))
        if result.get("full_refresh"):
            result["peer"]["dbt_seconds"], result["peer"]["dbt_models"] = dbt_seconds_for_peer_marts(
                result["full_refresh"]["dbt_models"])

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"{started}-{customers}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print()
    print(summary_markdown(result))
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
