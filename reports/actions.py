"""Action lists (行动清单): who the business should call, and why.

Three lists are built from the serving copy, each a snapshot at the last month the data covers:

- ``retention_targets``: high customer lifetime value and elevated churn risk (挽留名单);
- ``upsell_targets``: money accumulating with a low churn risk (交叉销售 / 提升销售);
- ``risk_review_cases``: customers with risk flags, with the rules and reasons (风险复核).

Each target row carries its reasons in English and Chinese and an empty ``owner`` for the
business to fill. Amounts (the ``*_cny`` columns, named like the marts they come from) are in
the reporting currency the serving copy was published in; each row states it in ``currency``, and
the reasons write it with that currency's symbol (``reports.currency``). The lists go to
``$FUNDFLOW_HOME/actions/<snapshot>/`` as CSV and Parquet, and
the whole scored population (targeted or not) is recorded in ``ops.action_lists`` so that the
dbt mart ``mart_action_effect`` can later compare targeted customers with similar untargeted
ones over the following months (效果评估).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from reports.currency import currency_for, published_currency
from reports.serving_reader import MARTS, ServingReader

LIST_NAMES = ("retention_targets", "upsell_targets", "risk_review_cases")
# Fraction of customers (by CLV) counted as "high value" for retention, and (by 12-month net
# inflow) as "accumulating money" for upsell: the top quartile, a common business cut-off.
HIGH_VALUE_QUANTILE = 0.75
HIGH_CHURN_PROBABILITY = 0.2  # used only when the model publishes no risk band
# Bands of ml/churn.py: high (p >= 0.5), medium (>= 0.2), low, and churned (already inactive: a
# win-back case, not retention). Retention takes every elevated band, upsell only the low one.
ELEVATED_RISK_BANDS = ("high", "medium")
LOW_RISK_BANDS = ("low",)

# Where each customer attribute may be published, first match wins. The 360 mart is the agreed
# home; the ML tables are the fallback while the mart does not carry a column yet.
_ATTRIBUTE_SOURCES: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "segment_name": [(MARTS, "mart_customer_360", ("segment_name",)), ("ml", "customer_segments", ("segment_name",))],
    "clv_12m_cny": [
        (MARTS, "mart_customer_360", ("clv_12m_cny",)),
        ("ml", "customer_clv", ("clv_12m_cny", "clv_cny", "predicted_clv_cny")),
    ],
    "churn_probability": [(MARTS, "mart_customer_360", ("churn_probability",)), ("ml", "churn_risk", ("churn_probability",))],
    "churn_risk_band": [(MARTS, "mart_customer_360", ("churn_risk_band",)), ("ml", "churn_risk", ("churn_risk_band",))],
    "churn_top_features": [
        (MARTS, "mart_customer_360", ("churn_top_features",)),
        ("ml", "churn_risk", ("top_features", "churn_top_features")),
    ],
    "net_flow_cny_12m": [(MARTS, "mart_customer_360", ("net_flow_cny_12m",)), (MARTS, "mart_customer_features", ("net_flow_cny_12m",))],
    "latest_balance_cny": [
        (MARTS, "mart_customer_360", ("latest_balance_cny",)),
        (MARTS, "mart_customer_features", ("latest_balance_cny",)),
    ],
    "key_account_tier": [(MARTS, "mart_customer_360", ("key_account_tier",))],
}


@dataclass
class ActionList:
    name: str
    targets: pd.DataFrame
    note: str | None = None  # why the list is empty or partial (a model not published yet)


@dataclass
class ActionLists:
    snapshot_id: str
    as_of_month: date
    lists: dict[str, ActionList]
    currency: str  # ISO code of every amount in the lists (the serving copy's reporting currency)
    population: pd.DataFrame  # every scored customer per list, targeted or not (→ ops.action_lists)
    notes: list[str] = field(default_factory=list)


def actions_dir(home: Path) -> Path:
    return home / "actions"


def customer_profiles(reader: ServingReader) -> tuple[pd.DataFrame, list[str]]:
    """One row per customer with every attribute the lists use that the serving copy has."""
    base_table = next((t for t in ("mart_customer_360", "mart_customer_features", "dim_customer")
                       if "customer_id" in reader.columns(MARTS, t)), None)
    if base_table is None:  # nothing to list: every list becomes empty with its note
        profiles = pd.DataFrame({"customer_id": pd.Series(dtype="string")})
    else:
        profiles = reader.df(f"select distinct customer_id from {MARTS}.{base_table} where customer_id is not null")
    missing: list[str] = []
    for attribute, sources in _ATTRIBUTE_SOURCES.items():
        for schema, table, aliases in sources:
            present = [a for a in aliases if a in reader.columns(schema, table)]
            if present and "customer_id" in reader.columns(schema, table):
                values = reader.df(
                    f'select customer_id, any_value("{present[0]}") as "{attribute}" '
                    f"from {schema}.{table} group by customer_id"
                )
                if values[attribute].notna().any():
                    # an all-NULL column (a mart built before its ML input existed) falls through
                    # to the next source
                    profiles = profiles.merge(values, on="customer_id", how="left")
                    break
        else:
            profiles[attribute] = np.nan
            missing.append(attribute)
    if "churn_top_features" in profiles:
        profiles["churn_top_features"] = profiles["churn_top_features"].map(_as_text)
    return profiles, missing


def _as_text(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (list, tuple, np.ndarray)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _as_of_month(reader: ServingReader) -> date:
    if reader.has_columns(MARTS, "mart_customer_monthly", ["month"]):
        month = reader.scalar(f"select date_trunc('month', max(month))::date from {MARTS}.mart_customer_monthly")
        if month is not None:
            return month
    today = datetime.now(timezone.utc).date()
    return today.replace(day=1)


def retention_targets(profiles: pd.DataFrame, currency: str) -> tuple[ActionList, pd.Series | None]:
    """High CLV x elevated churn risk (band high or medium; customers already churned are not
    retention cases), ordered by the value at risk (CLV x churn probability). ``currency``: the
    ISO code the amounts are in, for the reasons."""
    en, zh = currency_for(currency, "en").money, currency_for(currency, "zh").money
    if profiles["clv_12m_cny"].isna().all() or profiles["churn_probability"].isna().all():
        return ActionList("retention_targets", _empty_targets(), "CLV or churn risk is not available in this version"), None
    clv = profiles["clv_12m_cny"].astype(float)
    probability = pd.to_numeric(profiles["churn_probability"], errors="coerce")
    band = profiles["churn_risk_band"].astype("string").str.lower()
    high_risk = band.isin(ELEVATED_RISK_BANDS) if band.notna().any() else probability.ge(HIGH_CHURN_PROBABILITY)
    high_value = clv.ge(clv.quantile(HIGH_VALUE_QUANTILE))
    scored = profiles.assign(score=(clv * probability).round(2))
    chosen = scored[(high_risk & high_value).fillna(False)].copy()
    drivers = chosen["churn_top_features"].fillna("")
    chosen["reason"] = [
        f"CLV {en(c)} (top {100 - HIGH_VALUE_QUANTILE * 100:.0f}%), churn probability {p:.2f}"
        + (f"; drivers: {d}" if d else "")
        for c, p, d in zip(chosen["clv_12m_cny"], chosen["churn_probability"], drivers)
    ]
    chosen["reason_zh"] = [
        f"客户价值 {zh(c)}（前 {100 - HIGH_VALUE_QUANTILE * 100:.0f}%），流失概率 {p:.2f}" + (f"；主要因素：{d}" if d else "")
        for c, p, d in zip(chosen["clv_12m_cny"], chosen["churn_probability"], drivers)
    ]
    return ActionList("retention_targets", _ranked(chosen, "retention_targets")), scored["score"]


def upsell_targets(profiles: pd.DataFrame, currency: str) -> tuple[ActionList, pd.Series | None]:
    """Customers whose money accumulates (top-quartile positive 12-month net inflow) at low churn
    risk. ``currency``: the ISO code the amounts are in, for the reasons."""
    en, zh = currency_for(currency, "en").money, currency_for(currency, "zh").money
    if profiles["net_flow_cny_12m"].isna().all():
        return ActionList("upsell_targets", _empty_targets(), "12-month net inflow is not available in this version"), None
    net = profiles["net_flow_cny_12m"].astype(float)
    probability = pd.to_numeric(profiles["churn_probability"], errors="coerce")
    band = profiles["churn_risk_band"].astype("string").str.lower()
    low_risk = band.isin(LOW_RISK_BANDS) if band.notna().any() else pd.Series(True, index=profiles.index)
    positive = net[net > 0]
    threshold = positive.quantile(HIGH_VALUE_QUANTILE) if len(positive) else np.inf
    accumulating = net.ge(threshold) & net.gt(0)
    scored = profiles.assign(score=(net.clip(lower=0) * (1 - probability.fillna(0))).round(2))
    chosen = scored[(accumulating & low_risk).fillna(False)].copy()
    balance = chosen["latest_balance_cny"].astype(float)
    chosen["reason"] = [
        f"net inflow {en(n)} over 12 months"
        + (f", balance {en(b)}" if pd.notna(b) else "")
        + (f", churn risk {r}" if pd.notna(r) else "")
        + ": offer deposit or investment products"
        for n, b, r in zip(chosen["net_flow_cny_12m"], balance, chosen["churn_risk_band"])
    ]
    chosen["reason_zh"] = [
        f"近 12 个月净流入 {zh(n)}"
        + (f"，余额 {zh(b)}" if pd.notna(b) else "")
        + (f"，流失风险 {r}" if pd.notna(r) else "")
        + "：推荐存款或理财产品"
        for n, b, r in zip(chosen["net_flow_cny_12m"], balance, chosen["churn_risk_band"])
    ]
    note = None if band.notna().any() else "churn risk is not available in this version: not filtered on it"
    return ActionList("upsell_targets", _ranked(chosen, "upsell_targets"), note), scored["score"]


def risk_flag_rows_sql(reader: ServingReader) -> str | None:
    """ml.risk_flags as (flow_key, customer_id, rule, reason, risk_score), one row per rule hit.

    The model publishes one row per flagged flow with its rules comma-joined (``rules``); a
    one-rule-per-row shape (``rule``) is read as well.
    """
    columns = reader.columns("ml", "risk_flags")
    if not {"customer_id", "reason"} <= set(columns) or not ({"rule", "rules"} & set(columns)):
        return None
    flow_key = "flow_id" if "flow_id" in columns else "row_number() over ()"
    score = "coalesce(risk_score, 1.0)" if "risk_score" in columns else "1.0"
    rule = "rule" if "rule" in columns else "trim(unnest(string_split(rules, ',')))"
    return (f"select {flow_key} as flow_key, customer_id, {rule} as rule, reason, {score} as risk_score "
            "from ml.risk_flags where customer_id is not null")


def risk_review_cases(reader: ServingReader, profiles: pd.DataFrame) -> tuple[ActionList, pd.Series | None]:
    """One case per flagged customer: flagged flows, which rules fired, and the first reasons;
    ranked by the summed risk score of the flagged flows."""
    rows_sql = risk_flag_rows_sql(reader)
    if rows_sql is None:
        return ActionList("risk_review_cases", _empty_targets(), "risk flags are not available in this version"), None
    flags = reader.df(
        f"""with flag_rows as ({rows_sql}),
                 per_flow as (
                     select customer_id, flow_key, any_value(reason) as reason, max(risk_score) as risk_score
                     from flag_rows group by all)
            select per_flow.customer_id, count(*) as flag_count, sum(risk_score) as risk_score,
                   (select string_agg(distinct rule, ', ' order by rule) from flag_rows
                    where flag_rows.customer_id = per_flow.customer_id) as rules,
                   -- one event (a pass-through, a structuring run) flags several flows with one reason
                   string_agg(distinct reason, '; ' order by reason) as reasons
            from per_flow group by per_flow.customer_id"""
    )
    cases = profiles.merge(flags, on="customer_id", how="left")
    cases["flag_count"] = cases["flag_count"].fillna(0).astype(int)
    scores = cases["risk_score"].fillna(0.0).astype(float)
    chosen = cases[cases["flag_count"] > 0].assign(score=lambda f: f["risk_score"].astype(float).round(2))
    chosen["reason"] = [f"{n} flagged flow(s) [{r}]: {_first(t)}" for n, r, t in zip(chosen["flag_count"], chosen["rules"], chosen["reasons"])]
    chosen["reason_zh"] = [f"{n} 笔标记流水 [{r}]：{_first(t)}" for n, r, t in zip(chosen["flag_count"], chosen["rules"], chosen["reasons"])]
    return ActionList("risk_review_cases", _ranked(chosen, "risk_review_cases")), scores


def _first(reasons: str | None, keep: int = 2, width: int = 160) -> str:
    """The first reasons, each cut to ``width`` characters: a list cell a person can read."""
    parts = [p.strip() for p in (reasons or "").replace(" | ", "; ").split("; ") if p.strip()]
    shown = [p if len(p) <= width else p[: width - 1] + "…" for p in parts[:keep]]
    more = f" (+{len(parts) - keep} more)" if len(parts) > keep else ""
    return "; ".join(shown) + more


_TARGET_COLUMNS = [
    "priority_rank", "customer_id", "segment_name", "churn_risk_band", "churn_probability", "clv_12m_cny",
    "net_flow_cny_12m", "key_account_tier", "score", "reason", "reason_zh", "owner",
]


def _empty_targets() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype="object") for column in _TARGET_COLUMNS})


def _ranked(chosen: pd.DataFrame, name: str) -> pd.DataFrame:
    ranked = chosen.sort_values(["score", "customer_id"], ascending=[False, True]).reset_index(drop=True)
    ranked["priority_rank"] = np.arange(1, len(ranked) + 1)
    # Left empty on purpose: the business assigns an owner to each case.
    ranked["owner"] = None
    extra = [c for c in ("flag_count", "rules") if c in ranked.columns]
    return ranked[_TARGET_COLUMNS[:-3] + extra + _TARGET_COLUMNS[-3:]]


def build_action_lists(reader: ServingReader, *, snapshot_id: str | None = None) -> ActionLists:
    publication = reader.publication()
    snapshot_id = snapshot_id or str(publication["version"])
    as_of_month = _as_of_month(reader)
    currency = published_currency(reader.con)
    profiles, missing = customer_profiles(reader)
    notes = [f"not published in this version: {', '.join(missing)}"] if missing else []

    retention, retention_scores = retention_targets(profiles, currency)
    upsell, upsell_scores = upsell_targets(profiles, currency)
    risk, risk_scores = risk_review_cases(reader, profiles)

    population = []
    for action_list, scores in ((retention, retention_scores), (upsell, upsell_scores), (risk, risk_scores)):
        if scores is None:
            continue
        targeted = set(action_list.targets["customer_id"])
        population.append(
            pd.DataFrame(
                {
                    "snapshot_id": snapshot_id,
                    "list_name": action_list.name,
                    "as_of_month": pd.Timestamp(as_of_month).date(),
                    "customer_id": profiles["customer_id"].astype(str),
                    "is_targeted": profiles["customer_id"].isin(targeted),
                    "score": scores.astype(float).values,
                    "segment_name": profiles["segment_name"].astype("string"),
                    "churn_risk_band": profiles["churn_risk_band"].astype("string"),
                }
            )
        )
    population_frame = (
        pd.concat(population, ignore_index=True)
        if population
        else pd.DataFrame(columns=["snapshot_id", "list_name", "as_of_month", "customer_id", "is_targeted", "score",
                                   "segment_name", "churn_risk_band"])
    )
    lists = {a.name: a for a in (retention, upsell, risk)}
    for action_list in lists.values():
        action_list.targets.insert(0, "currency", currency)  # of every amount in the row
        action_list.targets.insert(0, "as_of_month", pd.Timestamp(as_of_month).date())
        action_list.targets.insert(0, "snapshot_id", snapshot_id)
        action_list.targets.insert(0, "list_name", action_list.name)
    return ActionLists(snapshot_id, as_of_month, lists, currency, population_frame, notes)


def write_action_files(action_lists: ActionLists, out_dir: Path) -> list[Path]:
    """CSV and Parquet per list under ``out_dir/<snapshot_id>/``.

    A snapshot directory that already exists is left alone: the business may have filled in
    owners there, and the same snapshot always yields the same lists.
    """
    snapshot_dir = out_dir / action_lists.snapshot_id
    paths = [snapshot_dir / f"{name}.{ext}" for name in action_lists.lists for ext in ("csv", "parquet")]
    if snapshot_dir.exists():
        return paths
    staging = out_dir / f".{action_lists.snapshot_id}.tmp"
    staging.mkdir(parents=True, exist_ok=True)
    for name, action_list in action_lists.lists.items():
        targets = action_list.targets
        # utf-8-sig: Excel opens a CSV with a byte-order mark as UTF-8, so Chinese reasons stay legible.
        targets.to_csv(staging / f"{name}.csv", index=False, encoding="utf-8-sig")
        targets.astype({"owner": "string"}).to_parquet(staging / f"{name}.parquet", index=False)
    staging.rename(snapshot_dir)  # the snapshot appears whole or not at all
    return paths


ACTION_LISTS_DDL = """
create table if not exists ops.action_lists (
    snapshot_id varchar not null,
    list_name varchar not null,
    as_of_month date not null,
    customer_id varchar not null,
    is_targeted boolean not null,
    score double,
    segment_name varchar,
    churn_risk_band varchar,
    recorded_at timestamptz not null
)
"""


def record_action_lists(con: duckdb.DuckDBPyConnection, action_lists: ActionLists) -> int:
    """Store the scored population of each list in ``ops.action_lists`` (replacing the same snapshot).

    Untargeted customers are stored too: they are the comparison pool of the effect evaluation.
    """
    con.execute("create schema if not exists ops")
    con.execute(ACTION_LISTS_DDL)
    population = action_lists.population.assign(recorded_at=datetime.now(timezone.utc))
    con.execute("begin")
    try:
        con.execute("delete from ops.action_lists where snapshot_id = ?", [action_lists.snapshot_id])
        con.register("action_population", population)
        con.execute(
            """insert into ops.action_lists
               select snapshot_id, list_name, as_of_month::date, customer_id, is_targeted, score,
                      segment_name, churn_risk_band, recorded_at from action_population"""
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("action_population")
    return len(population)


def export_action_lists(serving_path: Path, out_dir: Path) -> tuple[ActionLists, list[Path]]:
    """Build the lists from the serving copy and write their files (recording is the caller's:
    it needs the warehouse writer)."""
    from reports.serving_reader import open_serving

    with open_serving(serving_path) as reader:
        action_lists = build_action_lists(reader)
    return action_lists, write_action_files(action_lists, out_dir)
