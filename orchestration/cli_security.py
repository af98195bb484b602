"""``fundflow backup | restore | backups | audit``: the security commands (docs/security.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from orchestration.cli import console
from warehouse.settings import load_settings


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
    app.command("backups")(backups)
    app.command("audit")(audit_log)
    app.command("retention")(retention)


def backup() -> None:
    """Snapshot the warehouse (EXPORT DATABASE to Parquet + manifest of SHA-256 and row counts) into
    FUNDFLOW_HOME/backups, encrypted when FUNDFLOW_DB_KEY is set; keeps the newest FUNDFLOW_BACKUPS_KEPT."""
    from warehouse.security.backup import BackupError, backup as take_backup

    settings = load_settings()
    try:
        result = take_backup(settings)
    except BackupError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1)
    rows = sum(t["rows"] for t in result.tables.values())
    console.print(f"Backup {result.path.name}: {len(result.tables)} tables, {rows:,} rows, {result.files} files, "
                  f"{result.bytes / 1e6:.1f} MB, {'encrypted' if result.encrypted else 'NOT encrypted'}, "
                  f"{result.seconds:.1f}s -> {result.path}")


def restore(
    name: Annotated[str | None, typer.Argument(help="Backup directory name under backups/ (default: the newest).")] = None,
) -> None:
    """Verify a backup against its manifest, rebuild the warehouse from it, check every table, then swap it in."""
    from warehouse.security.backup import BackupError, restore as restore_backup

    settings = load_settings()
    try:
        result = restore_backup(settings, name)
    except BackupError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1)
    console.print(f"Restored {result.backup.name}: {result.tables} tables, {result.rows:,} rows, checksums match, "
                  f"{result.seconds:.1f}s. Previous warehouse kept as {result.previous}.")


def backups() -> None:
    """List the backups and whether each is encrypted."""
    import json

    from warehouse.security.backup import MANIFEST, list_backups

    settings = load_settings()
    table = Table(title=f"Backups in {settings.backups_dir}")
    for column in ("name", "tables", "rows", "encrypted"):
        table.add_column(column)
    for path in list_backups(settings):
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        table.add_row(path.name, str(len(manifest["tables"])),
                      f"{sum(t['rows'] for t in manifest['tables'].values()):,}", str(manifest["encrypted"]))
    console.print(table)


def audit_log(
    last: Annotated[int, typer.Option(help="Show the newest N entries.", min=1, max=10_000)] = 20,
) -> None:
    """Verify ops.audit_log's hash chain and show the newest entries (who, when, what)."""
    from warehouse.connections import warehouse_connection
    from warehouse.security.audit import AuditLogTamperedError, entries, verify_audit_log

    settings = load_settings()
    with warehouse_connection(settings, read_only=True) as con:
        try:
            count = verify_audit_log(con)
        except AuditLogTamperedError as error:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(1)
        shown = entries(con)[-last:]
    table = Table(title=f"ops.audit_log: {count} entries, hash chain intact")
    for column in ("seq", "when (UTC)", "who", "action", "target", "details"):
        table.add_column(column)
    for entry in shown:
        table.add_row(str(entry.seq), f"{entry.at:%Y-%m-%d %H:%M:%S}", entry.actor, entry.action, entry.target,
                      entry.details[:80])
    console.print(table)


def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be removed; remove nothing.")] = False,
) -> None:
    """Remove landing files older than FUNDFLOW_LANDING_RETENTION_DAYS that are loaded and backed up."""
    from warehouse.connections import warehouse_connection
    from warehouse.security.retention import apply_retention

    settings = load_settings()
    if settings.landing_retention_days <= 0:
        console.print("[red]FUNDFLOW_LANDING_RETENTION_DAYS is not set (> 0): nothing is removed.[/red]")
        raise typer.Exit(2)
    with warehouse_connection(settings) as con:
        result = apply_retention(con, settings, dry_run=dry_run)
    verb = "Would remove" if dry_run else "Removed"
    console.print(f"{verb} {len(result.removed)} landing file(s) older than {settings.landing_retention_days} days; "
                  f"kept {len(result.kept_not_loaded)} not loaded, {len(result.kept_not_backed_up)} not yet backed up, "
                  f"{result.younger} younger.")
    for name in result.removed:
        console.print(f"  {name}")
