"""``fundflow``: the operator's command line (generate demo data, refresh, open the UI)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from orchestration.defs.jobs import FULL_REFRESH_RUN_CONFIG, INCREMENTAL_RUN_CONFIG
from warehouse.settings import PROJECT_ROOT, Settings, load_settings

app = typer.Typer(help="fundflow: customer fund-flow and key-account warehouse.", no_args_is_help=True)
# Bound to the real stdout: during a refresh, stdout itself is redirected to the run's log file.
console = Console(file=sys.stdout)

_DAGSTER_YAML = """\
# Written by `fundflow`; edit freely. Runs started by `make run` and by the UI share this instance.
telemetry:
  enabled: false
concurrency:
  pools:
    # Every step that opens the DuckDB warehouse runs in the pool `duckdb_warehouse_writer`:
    # one at a time, so overlapping runs queue instead of failing on DuckDB's file lock.
    default_limit: 1
"""


# The progress bar and the summary are the CLI's output; step-by-step logs stay in the run's
# event log (visible in the UI). Warnings and errors still print. A run config given here
# replaces the job's default one, hence the merge.
_QUIET_RUN_CONFIG = {**FULL_REFRESH_RUN_CONFIG, "loggers": {"console": {"config": {"log_level": "WARNING"}}}}
_QUIET_INCREMENTAL_RUN_CONFIG = {**INCREMENTAL_RUN_CONFIG, "loggers": _QUIET_RUN_CONFIG["loggers"]}


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


def prepare_dagster_home(settings: Settings) -> Path:
    """Point Dagster at an instance under FUNDFLOW_HOME so the CLI and the UI share run history."""
    dagster_home = Path(os.environ.get("DAGSTER_HOME") or settings.home / "dagster")
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(_DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    return dagster_home


def demo_data_present(settings: Settings) -> bool:
    return (settings.landing_dir / "crm" / "customers.csv").exists()


@app.command()
def generate(
    customers: Annotated[int | None, typer.Option(help="Number of demo customers (default FUNDFLOW_DEMO_CUSTOMERS).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed; the same seed gives the same bytes.")] = None,
    months: Annotated[int, typer.Option(help="Months of history to generate.")] = 24,
    force: Annotated[bool, typer.Option(help="Replace existing landing files.")] = False,
    if_absent: Annotated[bool, typer.Option("--if-absent", help="Do nothing when demo data exists.")] = False,
) -> None:
    """Generate the multi-channel demo data into FUNDFLOW_HOME/landing (truth into truth/)."""
    from warehouse.synthetic import generate as generate_demo

    settings = load_settings()
    if demo_data_present(settings):
        if if_absent:
            console.print(f"Demo data already in {settings.landing_dir}; not regenerating.")
            return
        if not force:
            console.print(f"[red]{settings.landing_dir} already holds data; pass --force to replace it.[/red]")
            raise typer.Exit(1)
        shutil.rmtree(settings.landing_dir)
        shutil.rmtree(settings.truth_dir, ignore_errors=True)
    settings.ensure_dirs()
    customers = customers or settings.demo_customers
    seed = settings.demo_seed if seed is None else seed
    with _progress() as progress:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        summary = generate_demo(
            settings.landing_dir, settings.truth_dir, customers=customers, seed=seed, months=months, progress=report
        )
    console.print(
        f"Generated {customers:,} customers (seed {seed}) into {settings.landing_dir} in {summary.seconds:.1f}s"
    )


def _run_full_refresh(settings: Settings, job_name: str = "full_refresh", run_config: dict | None = None):
    import dagster as dg

    from orchestration.definitions import defs as load_definitions

    prepare_dagster_home(settings)
    definitions = load_definitions()
    job = definitions.resolve_job_def(job_name)
    instance = dg.DagsterInstance.get()
    run_id = str(uuid.uuid4())
    steps = len(job.graph.node_defs)
    outcome: dict = {}

    def execute() -> None:
        try:
            outcome["result"] = job.execute_in_process(
                run_config=run_config or _QUIET_RUN_CONFIG, instance=instance, run_id=run_id, raise_on_error=False
            )
        except BaseException as error:  # surfaced in the main thread below
            outcome["error"] = error

    worker = threading.Thread(target=execute, name=job_name)
    # dbt's own console output goes to a log file beside the warehouse, not over the progress bar.
    log_path = settings.home / "logs" / f"refresh-{run_id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log, contextlib.redirect_stdout(log), _progress() as progress:
        task = progress.add_task(f"{job_name} (steps)", total=steps)
        worker.start()
        while worker.is_alive():
            worker.join(timeout=1.0)
            done = _finished_steps(instance, run_id)
            progress.update(task, completed=min(done, steps))
        progress.update(task, completed=_finished_steps(instance, run_id))
    console.print(f"Run {run_id}; dbt output in {log_path}")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"], instance, run_id


def _finished_steps(instance, run_id: str) -> int:
    import dagster as dg

    try:
        records = instance.get_records_for_run(
            run_id, of_type={dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
        ).records
    except Exception:  # the run may not be stored yet
        return 0
    return len(records)


@app.command()
def refresh(
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental/--full",
            help="--incremental: load only new or changed landing files and merge the new dates into the "
            "incremental fact (the daily_incremental_refresh job). --full (default): rebuild everything.",
        ),
    ] = False,
    from_date: Annotated[
        str | None,
        typer.Option("--from", help="Backfill from this flow date (YYYY-MM-DD; with --to): the backfill_flow_dates "
                     "job rebuilds exactly the flows dated in the window, other dates are left as they are."),
    ] = None,
    to_date: Annotated[str | None, typer.Option("--to", help="Backfill up to this flow date (YYYY-MM-DD, inclusive).")] = None,
) -> None:
    """Run a refresh job in process: landing → dbt → gates → ML → serving → report."""
    from orchestration.backfill_window import BackfillWindowError, parse_backfill_window

    try:
        window = parse_backfill_window(from_date, to_date)
    except BackfillWindowError as error:
        console.print(f"[red]Refused: {error}.[/red]")
        raise typer.Exit(2)
    settings = load_settings()
    from warehouse.security.keys import PiiKeyError, check_pii_key

    try:
        check_pii_key(settings)
    except PiiKeyError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2)
    if not demo_data_present(settings) and not any(settings.landing_dir.glob("*/*")):
        console.print(f"[red]No landing files under {settings.landing_dir}. Run `fundflow generate` first.[/red]")
        raise typer.Exit(1)
    started = time.monotonic()
    if window is not None:
        result, instance, run_id = _run_full_refresh(
            settings, "backfill_flow_dates", {"from_date": window.from_date.isoformat(), "to_date": window.to_date.isoformat()}
        )
    elif incremental:
        result, instance, run_id = _run_full_refresh(settings, "daily_incremental_refresh", _QUIET_INCREMENTAL_RUN_CONFIG)
    else:
        result, instance, run_id = _run_full_refresh(settings)
    seconds = time.monotonic() - started
    from orchestration.run_summary import summarize_run

    summary = summarize_run(instance, run_id, settings)
    label = f"Backfill {window}" if window else "Incremental refresh" if incremental else "Full refresh"
    _print_summary(summary, settings, seconds, result.success, label)
    if not result.success:
        raise typer.Exit(1)


def _print_summary(summary, settings: Settings, seconds: float, success: bool, label: str = "Full refresh") -> None:
    table = Table(title="Rows per layer")
    table.add_column("layer")
    table.add_column("tables", justify="right")
    table.add_column("rows", justify="right")
    for layer, (tables, rows) in summary.rows_per_layer.items():
        table.add_row(layer, str(tables), f"{rows:,}")
    console.print(table)
    console.print(
        f"Checks: [green]{summary.checks_passed} passed[/green], "
        f"[{'red' if summary.checks_failed else 'green'}]{summary.checks_failed} failed[/]"
    )
    for name in summary.failed_checks:
        console.print(f"  [red]failed:[/red] {name}")
    console.print(f"Warehouse:    {settings.warehouse_path}")
    console.print(f"Serving copy: {settings.serving_path} (Parquet in {settings.parquet_dir})")
    console.print(f"Report:       {settings.reports_dir / 'refresh_summary.html'}")
    _print_report_and_actions(settings)
    verdict = "[green]succeeded[/green]" if success else "[red]FAILED[/red]"
    console.print(f"{label} {verdict} in {seconds:.0f}s.")


def _print_report_and_actions(settings: Settings) -> None:
    """Where the full report (per language) and the action lists of the served version are."""
    from reports.actions import actions_dir
    from reports.review import approval_of, report_files
    from warehouse.publishing import current_version

    version = current_version(settings)
    if version is None:
        return
    for path in report_files(settings.reports_dir, version).get(version, []):
        approval = approval_of(settings.reports_dir, version)
        state = f"approved by {approval.approved_by}" if approval else "draft"
        console.print(f"Report ({state}): {path}")
    snapshot = actions_dir(settings.home) / version
    if snapshot.exists():
        console.print(f"Action lists: {snapshot} ({', '.join(sorted(p.name for p in snapshot.glob('*.csv')))})")


report_app = typer.Typer(help="Build the refresh report from the serving copy, and review it (报告审核).")
app.add_typer(report_app, name="report")


@report_app.callback(invoke_without_command=True)
def report(
    ctx: typer.Context,
    lang: Annotated[str | None, typer.Option("--lang", help="zh or en (default: both).")] = None,
) -> None:
    """Build the report of the served version (a draft until `fundflow report approve`)."""
    if ctx.invoked_subcommand is not None:
        return
    from reports.actions import build_action_lists
    from reports.fundflow_report import build_report, load_gate_results
    from reports.i18n import LANGUAGES
    from reports.review import ReviewError
    from reports.serving_reader import open_serving

    settings = load_settings()
    languages = [lang] if lang else list(LANGUAGES)
    if lang is not None and lang not in LANGUAGES:
        console.print(f"[red]--lang must be one of {', '.join(LANGUAGES)}, not {lang!r}.[/red]")
        raise typer.Exit(2)
    try:
        with open_serving(settings.serving_path) as reader:
            lists = build_action_lists(reader)
        gates = load_gate_results(settings.reports_dir, lists.snapshot_id)
        for language in languages:
            path = build_report(settings.serving_path, settings.reports_dir, language, gate_results=gates,
                                action_lists=lists)
            console.print(f"Report (draft, {language}): {path}")
    except (FileNotFoundError, ReviewError) as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1)


@report_app.command("approve")
def report_approve(
    by: Annotated[str, typer.Option("--by", help="Name of the reviewer approving the report.")],
    version: Annotated[str | None, typer.Option(help="Serving version of the report (default: the latest).")] = None,
) -> None:
    """Approve a report: record who and when in reports/approvals.jsonl and mark the files approved."""
    from reports.review import ReviewError, approve

    settings = load_settings()
    try:
        approval = approve(settings.reports_dir, by, version=version)
    except ReviewError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1)
    _audit_approval(settings, approval)
    console.print(f"Report {approval.version} approved by {approval.approved_by} at {approval.approved_at}: "
                  f"{', '.join(approval.files)}")


def _audit_approval(settings: Settings, approval) -> None:
    """ops.audit_log entry for the approval (approvals.jsonl stays the report's own record)."""
    from warehouse.connections import warehouse_connection
    from warehouse.security import audit

    if settings.warehouse_path.exists():
        with warehouse_connection(settings) as con:
            audit.record(con, settings, "report_approval", f"report {approval.version}",
                         {"approved_by": approval.approved_by, "files": list(approval.files)})


@report_app.command("status")
def report_status() -> None:
    """List report versions and whether each is a draft or approved."""
    from reports.review import status

    settings = load_settings()
    table = Table(title=f"Reports in {settings.reports_dir}")
    for column in ("version", "languages", "status"):
        table.add_column(column)
    for version, languages, approval in status(settings.reports_dir):
        state = f"approved by {approval.approved_by} at {approval.approved_at}" if approval else "draft"
        table.add_row(version, ", ".join(languages), state)
    console.print(table)


@app.command()
def export(
    record: Annotated[bool, typer.Option("--record/--no-record",
                                         help="Also record the lists in ops.action_lists (needs the warehouse lock).")] = True,
) -> None:
    """Write the action lists of the served version (CSV + Parquet) to FUNDFLOW_HOME/actions/<version>/."""
    from reports.actions import actions_dir, export_action_lists, record_action_lists
    from warehouse.connections import warehouse_connection
    from warehouse.security import audit

    settings = load_settings()
    try:
        lists, paths = export_action_lists(settings.serving_path, actions_dir(settings.home))
    except FileNotFoundError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1)
    table = Table(title=f"Action lists as of {lists.as_of_month:%Y-%m} (version {lists.snapshot_id})")
    for column in ("list", "targets", "note"):
        table.add_column(column)
    for name, action_list in lists.lists.items():
        table.add_row(name, f"{len(action_list.targets):,}", action_list.note or "")
    console.print(table)
    if record:
        # The refresh job records the lists itself; this waits for the warehouse lock if a run holds it.
        with warehouse_connection(settings) as con:
            rows = record_action_lists(con, lists)
            audit.record(con, settings, "export", f"actions/{lists.snapshot_id}", {"files": [p.name for p in paths]})
        console.print(f"Recorded {rows:,} scored customers in ops.action_lists (for mart_action_effect).")
    console.print(f"Files: {paths[0].parent}")


@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the Dagster webserver.")] = 3000,
) -> None:
    """Start `dagster dev` (webserver + daemon) on the same definitions and warehouse."""
    settings = load_settings()
    settings.ensure_dirs()
    prepare_dagster_home(settings)
    dagster = Path(sys.executable).parent / "dagster"
    workspace = PROJECT_ROOT / "orchestration" / "workspace.yaml"
    command = [str(dagster), "dev", "-w", str(workspace), "-h", host, "-p", str(port)]
    console.print(f"Dagster UI on http://{host}:{port} (Ctrl-C to stop)")
    raise typer.Exit(subprocess.call(command, cwd=PROJECT_ROOT))


# backup, restore, backups, audit (orchestration/cli_security.py)
from orchestration import cli_security  # noqa: E402 — needs `app` and `console` defined above

cli_security.register(app)


if __name__ == "__main__":
    app()
