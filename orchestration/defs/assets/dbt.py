"""dbt models as assets: staging → intermediate → marts (and quality.quarantine).

Keys follow the layer: ``[schema, model]``; dbt sources map onto the landing assets' keys
(``["raw", table]``); dbt tests surface as asset checks, and a failing error-severity test stops
``dbt build`` before the models that depend on it, so nothing downstream runs on bad data.
"""


import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import dagster as dg
from pydantic import Field
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.backfill_window import BackfillWindowError, parse_backfill_window
from orchestration.dbt_project import fundflow_dbt_project
from orchestration.defs.resources import WAREHOUSE_WRITER_POOL, WarehouseResource
from warehouse.security.keys import check_pii_key
from warehouse.settings import exported_dbt_env

class FundflowDbtTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            # A source is keyed by the schema it lives in, so raw.x meets the landing asset raw/x.
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or dbt_resource_props["schema"]
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return dbt_resource_props["source_name"]
        return dbt_resource_props.get("config", {}).get("schema") or dbt_resource_props["schema"]

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        # A model's own `meta.dagster.owners` wins; otherwise who to ask follows the layer.
        declared = super().get_owners(dbt_resource_props)
        if declared:
            return declared
        return LAYER_OWNERS.get(self.get_group_name(dbt_resource_props) or "", [DATA_ENGINEERING_OWNER])


# Loading and cleaning (staging, intermediate, quality) belong to the data engineers who run the
# loads; the marts are the analysts' (their definitions are what BI users ask about).
DATA_ENGINEERING_OWNER = "team:data-engineering"
LAYER_OWNERS = {"marts": ["team:analytics"]}

# Code references: "open in editor" on every model's SQL file in the UI.
dbt_translator = FundflowDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_code_references=True)
)


class DbtBuildConfig(dg.Config):
    full_refresh: bool = Field(
        default=False,
        description="Rebuild incremental models (fct_fund_flows) from scratch instead of merging new dates.",
    )
    from_date: str | None = Field(
        default=None,
        description="Backfill: first flow date (YYYY-MM-DD) fct_fund_flows rebuilds; with to_date, the run "
        "rebuilds exactly the flows dated in [from_date, to_date] instead of the recent days.",
    )
    to_date: str | None = Field(default=None, description="Backfill: last flow date (YYYY-MM-DD, inclusive).")


@dbt_assets(
    manifest=fundflow_dbt_project.manifest_path,
    project=fundflow_dbt_project,
    dagster_dbt_translator=dbt_translator,
    pool=WAREHOUSE_WRITER_POOL,
)
def fundflow_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, config: DbtBuildConfig
):
    # Marts that read ML outputs split the dbt step in two (dbt → ML → dbt). dbt's default "eager"
    # indirect selection would run a test as soon as one of its parents is selected, i.e. before
    # its other parent is built in the later step; "buildable" runs a test only when each parent
    # is selected or upstream of the selection (a seed the model reads), so it waits for the step
    # that builds its last parent.
    args = ["build", "--indirect-selection", "buildable"]
    if config.full_refresh:
        args.append("--full-refresh")
    try:
        window = parse_backfill_window(config.from_date, config.to_date)
    except BackfillWindowError as error:
        raise dg.Failure(description=f"backfill refused: {error}") from None
    if window is not None:
        if config.full_refresh:
            raise dg.Failure(description=f"backfill refused: a full refresh rebuilds every date, a window "
                             f"({window}) cannot be combined with it")
        context.log.info("backfill: fct_fund_flows rebuilds the %d flow date(s) %s; other dates are left as they are",
                         window.days, window)
        args += ["--vars", json.dumps(window.dbt_vars())]
    # dbt runs as a child process started by `cli` and inherits this environment: its profile
    # reads the warehouse path from it.
    check_pii_key(warehouse.settings)  # outside demo mode: no run with a missing or public PII key
    with exported_dbt_env(warehouse.settings):
        invocation = dbt.cli(args, context=context)
    # Row counts cannot be fetched through dbt's adapter while dbt runs (fetch_row_counts() opens
    # the DuckDB file from this process while the dbt subprocess holds it), so the events are held
    # until dbt has exited and the counts are added then: the models appear in the UI when the
    # step ends rather than one by one. A failed build hands on what it produced, then its error.
    events = []
    try:
        for event in invocation.stream():
            events.append(event)
    except Exception:
        yield from events
        raise
    yield from with_row_counts(context, warehouse, events)


def with_row_counts(context: dg.AssetExecutionContext, warehouse: WarehouseResource, events: list) -> Iterator:
    """The dbt events, each model's Output carrying `dagster/row_count` of its table."""
    outputs = {event.output_name: context.asset_key_for_output(event.output_name)
               for event in events if isinstance(event, dg.Output)}
    counts: dict[str, int] = {}
    with warehouse.connect() as con:
        tables = {tuple(row) for row in con.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall()}
        for output_name, key in outputs.items():
            schema, name = key.path[-2:]
            if (schema, name) in tables:  # views and ephemeral models are not counted (a count would run them)
                counts[output_name] = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
    for event in events:
        if isinstance(event, dg.Output) and event.output_name in counts:
            event = event.with_metadata({**event.metadata, "dagster/row_count": counts[event.output_name]})
        yield event
