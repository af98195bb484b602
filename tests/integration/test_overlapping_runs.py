"""Two refreshes started together against one warehouse both succeed: one waits for the other.

Real `fundflow refresh` processes (each runs its job in process, outside any daemon's run queue)
share one Dagster instance, whose `duckdb_warehouse_writer` pool (limit 1, written by the CLI into
dagster.yaml) admits one warehouse-writing step at a time; connections that still meet a lock
retry with backoff. The test asserts both runs succeed and that no two warehouse-writing steps of
the two runs ever ran at the same time.
"""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from warehouse.synthetic import generate

FUNDFLOW = Path(sys.executable).parent / "fundflow"
CUSTOMERS = 100


@pytest.fixture(scope="module")
def two_refreshes(tmp_path_factory) -> tuple[Path, list[subprocess.CompletedProcess]]:
    home = tmp_path_factory.mktemp("overlap-home")
    # Two years, as delivered: the ML assets need history (churn labels look 90 days ahead).
    generate(home / "landing", home / "truth", customers=CUSTOMERS, seed=3)
    env = {**os.environ, "FUNDFLOW_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
           "FUNDFLOW_LANDING_SETTLE_SECONDS": "0", "FUNDFLOW_DUCKDB_THREADS": "1"}
    # The instance (its SQLite storage) is created once, as it is on a machine that has run before;
    # the two refreshes then race for the warehouse, not for creating the instance's tables.
    subprocess.run(
        [sys.executable, "-c",
         "from orchestration.cli import prepare_dagster_home; from warehouse.settings import load_settings; "
         "import dagster as dg; prepare_dagster_home(load_settings()); dg.DagsterInstance.get()"],
        env=env, check=True,
    )
    # Output goes to files, not pipes: Dagster's compute-log capture starts `tail -F` helpers that
    # can outlive the refresh and keep a pipe open, so reading a pipe to EOF could hang while the
    # refresh itself has exited. wait() is on the process, which is what the test is about.
    outputs = [home / f"refresh-{n}.out" for n in range(2)]
    with open(outputs[0], "w") as full_out, open(outputs[1], "w") as incremental_out:
        processes = [
            subprocess.Popen([str(FUNDFLOW), "refresh", *flags], env=env, stdout=out, stderr=subprocess.STDOUT)
            for flags, out in ((["--full"], full_out), (["--incremental"], incremental_out))
        ]
        for process in processes:
            process.wait(timeout=1800)
    results = [subprocess.CompletedProcess(process.args, process.returncode, out.read_text())
               for process, out in zip(processes, outputs)]
    return home, results


def _writer_step_windows(instance: dg.DagsterInstance, run_id: str) -> list[tuple[float, float, str]]:
    """(start, end, step) of every step of the run (every step that touches the warehouse is in the pool)."""
    started: dict[str, float] = {}
    windows = []
    for record in instance.get_records_for_run(run_id).records:
        event = record.event_log_entry
        if event.dagster_event is None or event.step_key is None:
            continue
        kind = event.dagster_event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            started[event.step_key] = event.timestamp
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE) and event.step_key in started:
            windows.append((started[event.step_key], event.timestamp, event.step_key))
    return windows


def _why(output: str) -> str:
    """The lines that say what went wrong (the CLI's output ends with a long traceback and a table)."""
    telling = [line for line in output.splitlines() if any(w in line for w in ("Error", "error:", "lock", "FAILED"))]
    return "\n".join(telling[:40]) or output[-3000:]


def test_both_overlapping_refreshes_succeed(two_refreshes) -> None:
    _, results = two_refreshes
    for result in results:
        assert result.returncode == 0, _why(result.stdout)
        assert "succeeded" in result.stdout
        assert "lock" not in result.stdout.lower(), result.stdout[-3000:]


def test_one_run_waited_while_the_other_wrote(two_refreshes) -> None:
    home, _ = two_refreshes
    os.environ["DAGSTER_HOME"], previous = str(home / "dagster"), os.environ["DAGSTER_HOME"]
    try:
        instance = dg.DagsterInstance.get()
        runs = instance.get_runs()
        assert len(runs) == 2 and {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
        first, second = (_writer_step_windows(instance, run.run_id) for run in runs)
        # Landing and the dbt steps (dagster-dbt may split the dbt op into several steps,
        # fundflow_dbt_models, fundflow_dbt_models_2, ...) hold the warehouse file the longest.
        pooled = ("landing", "fundflow_dbt_models")
        first = [w for w in first if w[2].startswith(pooled)]
        second = [w for w in second if w[2].startswith(pooled)]
        assert len(first) >= 2 and len(second) >= 2
        for start_a, end_a, step_a in first:
            for start_b, end_b, step_b in second:
                # Intervals of the two runs never intersect: one step waited for the other.
                assert end_a <= start_b or end_b <= start_a, (step_a, step_b)
    finally:
        os.environ["DAGSTER_HOME"] = previous
