"""Reports and action lists, built from the serving copy after each publish.

- ``reports/refresh_summary``: the short HTML summary of the refresh;
- ``reports/action_lists``: retention / upsell / risk-review lists as CSV and Parquet under
  ``$FUNDFLOW_HOME/actions/<version>/``, and their scored population recorded in
  ``ops.action_lists`` for ``marts/mart_action_effect`` to evaluate in later refreshes. This
  step writes the warehouse, so it runs in the writer pool. (The dbt source ``ops/action_lists``
  is this table; the asset is keyed under ``reports`` because the effect mart feeds the serving
  copy this asset reads, and one key for both would make a cycle.)
- ``reports/fundflow_report``: the full report in Chinese and English, a draft until approved.

Each records the reporting currency its amounts are labelled with (from the serving copy's
``meta.publication``, see ``reports.currency``) as ``reporting_currency`` metadata.
"""


import dagster as dg

from orchestration.defs.assets.serving import SERVING_KEY
from orchestration.defs.resources import WAREHOUSE_WRITER_POOL, WarehouseResource
from reports.actions import actions_dir, build_action_lists, export_action_lists, record_action_lists
from reports.fundflow_report import GateResult, build_report, save_gate_results
from reports.i18n import LANGUAGES
from reports.refresh_summary import build_refresh_summary
from reports.serving_reader import open_serving
from warehouse.security import audit

ACTION_LISTS_KEY = dg.AssetKey(["reports", "action_lists"])


@dg.asset(
    key=dg.AssetKey(["reports", "refresh_summary"]),
    deps=[SERVING_KEY],
    group_name="reports",
    kinds={"html"},
    description="HTML summary of the latest refresh (key figures, monthly flows, segments, forecast), "
    "built from the serving copy.",
)
def refresh_summary_report(warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    path = build_refresh_summary(settings.serving_path, settings.reports_dir)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})


@dg.asset(
    key=ACTION_LISTS_KEY,
    deps=[SERVING_KEY],
    group_name="reports",
    kinds={"csv", "parquet", "duckdb"},
    pool=WAREHOUSE_WRITER_POOL,
    description="Action lists (retention targets, upsell targets, risk-review cases) with reasons and an "
    "empty owner, as CSV and Parquet under actions/<version>/; the scored population is recorded in "
    "ops.action_lists for the effect evaluation (marts.mart_action_effect).",
)
def action_lists(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    lists, paths = export_action_lists(settings.serving_path, actions_dir(settings.home))
    with warehouse.connect() as con:
        recorded = record_action_lists(con, lists)
        audit.record(con, settings, "export", f"actions/{lists.snapshot_id}", {"files": [p.name for p in paths]})
    for note in [*lists.notes, *(f"{a.name}: {a.note}" for a in lists.lists.values() if a.note)]:
        context.log.warning(note)
    sizes = {name: len(a.targets) for name, a in lists.lists.items()}
    return dg.MaterializeResult(
        metadata={
            "snapshot_id": lists.snapshot_id,
            "as_of_month": str(lists.as_of_month),
            "reporting_currency": lists.currency,
            "targets_per_list": dg.MetadataValue.json(sizes),
            "dagster/row_count": sum(sizes.values()),
            "recorded_rows": recorded,
            "directory": dg.MetadataValue.path(str(paths[0].parent)),
        }
    )


def _gate_results(context: dg.AssetExecutionContext) -> list[GateResult]:
    """The asset checks evaluated in this run: the quality gates the published data passed."""
    records = context.instance.get_records_for_run(
        context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=100_000
    ).records
    results = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        results.append(
            GateResult(evaluation.asset_key.to_user_string(), evaluation.check_name, bool(evaluation.passed),
                       str(getattr(evaluation.severity, "value", evaluation.severity)))
        )
    return results


@dg.asset(
    key=dg.AssetKey(["reports", "fundflow_report"]),
    deps=[SERVING_KEY, ACTION_LISTS_KEY],
    group_name="reports",
    kinds={"html", "plotly"},
    description="The refresh report (background, method, results with charts, conclusions, data-quality "
    "appendix) in Chinese and English, self-contained HTML under reports/; a draft until "
    "`fundflow report approve`.",
)
def fundflow_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    gates = _gate_results(context)
    with open_serving(settings.serving_path) as reader:
        lists = build_action_lists(reader)
    save_gate_results(settings.reports_dir, lists.snapshot_id, gates)
    paths = {
        lang: build_report(settings.serving_path, settings.reports_dir, lang, gate_results=gates, action_lists=lists)
        for lang in LANGUAGES
    }
    return dg.MaterializeResult(
        metadata={
            "version": lists.snapshot_id,
            "status": "draft",
            "reporting_currency": lists.currency,
            "checks_in_appendix": len(gates),
            **{f"path_{lang}": dg.MetadataValue.path(str(path)) for lang, path in paths.items()},
            "size_bytes": dg.MetadataValue.json({lang: path.stat().st_size for lang, path in paths.items()}),
        }
    )
