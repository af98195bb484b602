"""Landing assets: every delivered file → ``raw.*`` (text + lineage), rejects → quality."""


import warnings
from pathlib import Path

import dagster as dg
from pydantic import Field

from orchestration.defs.resources import WAREHOUSE_WRITER_POOL, WarehouseResource
from warehouse.alerts import flush_pending_alerts
from warehouse.landing import SOURCES, ensure_landing_tables, load_source, loader
from warehouse.security import audit

LANDING_REJECTS_KEY = dg.AssetKey(["quality", "landing_rejects"])
# Who to ask when a delivery is refused or late: the team that runs the loads.
LANDING_OWNER = "team:data-engineering"
# "Open in editor" links in the UI: the loader that does the work, and this asset. (The API is
# marked beta; its warning would print on every CLI run, so it is silenced here only.)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    LANDING_CODE_REFERENCES = {
        "dagster/code_references": dg.CodeReferencesMetadataValue(
            code_references=[
                dg.LocalFileCodeReference(file_path=str(Path(loader.__file__).resolve()), label="loader"),
                dg.LocalFileCodeReference(file_path=str(Path(__file__).resolve()), label="asset"),
            ]
        )
    }


class LandingConfig(dg.Config):
    full: bool = Field(
        default=False,
        description="Reload every file from scratch (drop and rebuild raw.*). Default: incremental, "
        "only files whose content (SHA-256) is not yet in ops.load_log are loaded.",
    )


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


@dg.multi_asset(
    name="landing",
    specs=[
        dg.AssetSpec(
            raw_key(spec.table),
            description=f"{spec.description} Every delivered line as text, from "
            f"landing/{spec.channel}/{spec.pattern}, with _source_file/_source_line/_loaded_at.",
            group_name="raw",
            kinds={"duckdb", "python"},
            owners=[LANDING_OWNER],
            skippable=True,
            metadata={"channel": spec.channel, "file_pattern": spec.pattern, "encoding": spec.encoding,
                      **LANDING_CODE_REFERENCES},
        )
        for spec in SOURCES
    ]
    + [
        dg.AssetSpec(
            LANDING_REJECTS_KEY,
            description="Lines that could not be split into their channel's fields, with the reason.",
            group_name="raw",
            kinds={"duckdb", "python"},
            owners=[LANDING_OWNER],
            skippable=True,
        )
    ],
    can_subset=True,
    pool=WAREHOUSE_WRITER_POOL,
)
def landing(context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: LandingConfig):
    selected = context.selected_asset_keys
    settings = warehouse.settings
    with warehouse.connect() as con:
        ensure_landing_tables(con)
        # Alerts raised while another run held the warehouse were parked in a side file.
        if parked := flush_pending_alerts(con, settings):
            context.log.info("moved %d parked alert(s) into ops.alerts", parked)
        for spec in SOURCES:
            key = raw_key(spec.table)
            if key not in selected:
                continue
            load = load_source(con, spec, settings.landing_dir, settle_seconds=settings.landing_settle_seconds,
                               full=config.full)
            audit.record(con, settings, "load", f"raw.{spec.table}", {
                "full": config.full, "rows": load.rows, "rejected": load.rejected,
                "files": [f.path for f in load.changed]})
            total_rows = con.execute(f"select count(*) from raw.{spec.table}").fetchone()[0]
            context.log.info("%s (%s): %d rows from %d new or changed files (%d unchanged), %d rejected; %d rows in table",
                             spec.table, "full" if config.full else "incremental", load.rows, len(load.changed),
                             len(load.files) - len(load.changed) - len(load.problems), load.rejected, total_rows)
            for problem in load.problems:
                log = context.log.warning if problem.status == "deferred" else context.log.error
                log("%s %s: %s", spec.table, problem.status, problem.error)
            preview = con.execute(f"select * exclude (_loaded_at) from raw.{spec.table} limit 5").df()
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "dagster/row_count": total_rows,
                    "dagster/column_schema": dg.TableSchema(
                        columns=[dg.TableColumn(name, "varchar") for name in spec.columns]
                        + [dg.TableColumn("_source_file", "varchar"), dg.TableColumn("_source_line", "integer"),
                           dg.TableColumn("_loaded_at", "timestamptz")]
                    ),
                    "load_mode": "full" if config.full else "incremental",
                    "files": len(load.files),
                    "files_loaded_this_run": len(load.changed),
                    "rows_loaded_this_run": load.rows,
                    "rejected_lines": load.rejected,
                    "problem_files": dg.MetadataValue.json(
                        {f.path: {"status": f.status, "error": f.error} for f in load.problems}
                    ),
                    "bytes": sum(f.size_bytes for f in load.files),
                    "preview": dg.MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "(empty)"),
                },
            )
        if LANDING_REJECTS_KEY in selected:
            total = con.execute("select count(*) from quality.landing_rejects").fetchone()[0]
            by_reason = con.execute(
                "select source_table, reason, count(*) as lines from quality.landing_rejects "
                "group by all order by lines desc limit 20"
            ).df()
            yield dg.MaterializeResult(
                asset_key=LANDING_REJECTS_KEY,
                metadata={
                    "dagster/row_count": total,
                    "by_reason": dg.MetadataValue.md(by_reason.to_markdown(index=False) if len(by_reason) else "(none)"),
                },
            )
