"""Customer segmentation: k-means on behaviour features, named in business terms.

Input: one row per ``customer_id`` with the ``INPUT_COLUMNS`` of ``marts.mart_customer_features``.
The model does not cluster those columns as they are, but ``MODEL_FEATURES`` derived from them
(``derive_features``), because the raw 12-month sums mix two things: how a customer behaves and
how much of the window they were around. A customer who joined three months ago, or who left
eight months ago, has a small 12-month income whatever they earn. So:

- ``monthly_income_cny`` / ``monthly_spending_cny`` / ``monthly_flows``: the 12-month sums
  divided by the months of the window the customer has been with us (from the first flow; at
  least 1, at most 12). A customer who left still divides by the whole window: their low monthly
  figure is part of what makes them dormant.
- ``recent_income_share``: income of the last 12 months over income of the whole history
  (``total_inflow_cny``). About 1/2 for a steady customer with two years of history, 1 for a new
  one, well under 1/2 for one whose money stopped arriving.
- ``salary_share``: salary (and pension) credits over income; business takings and allowances are
  not salary.
- ``age_years``: mid-point of ``age_band`` (``"25-34"`` → 29.5, ``"65+"`` → 70).
- ``recency_months``: days since the last flow, capped at a year, in months (linear, not log: a
  few days either side of a salary date is noise, months of silence is the signal).
- ``avg_balance_cny``: average month-end balance.

Pipeline (``model``): derive → signed ``log1p`` on the money and count features → impute
missing values with the feature's median learned at fit time → winsorize at the 0.5 % / 99.5 %
quantiles → ``StandardScaler`` → ``KMeans(n_init=30, random_state=seed)``.

k is the value in ``k_range`` (inclusive, default 4..9) with the lowest **Davies–Bouldin index**
(mean over clusters of the worst ratio of within-cluster spread to between-centroid distance;
``sklearn.metrics.davies_bouldin_score``); on a tie the smaller k wins. Davies–Bouldin rather
than the mean silhouette: on the demo data the silhouette rewards merging the small, distinct
groups (business owners are 5 % of customers) into a few big ones, which hides exactly the
segments the business cares about. The silhouette per k is still reported. Rows are sorted by
``customer_id`` before fitting and segments are numbered by size (0 = largest), so the result
depends only on the data and the seed, not on row order.

Outputs: per customer the segment and ``distance_to_centroid`` (Euclidean, in the scaled feature
space: how typical the customer is of the segment); per segment its size, share and the medians
of the model features and of the descriptive ``PROFILE_COLUMNS`` in their own units (nulls
skipped); the fitted pipeline, whose ``predict`` takes a customer-features frame and returns
segment ids; a ``model_version`` hashed from the configuration and the input data.

Names come from the segment profiles relative to the whole population: each segment's median of
a feature is placed on the population's distribution of that feature (a mid-rank percentile),
and rules over those percentiles (plus absolute floors where a name has an absolute meaning)
pick an archetype such as ``流失沉睡 / dormant · lapsed``. Archetypes are tried most specific
first and each is given to at most one segment (the one that fits it best); a segment no
archetype fits is described by its two most distinctive features.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.impute import SimpleImputer
from sklearn.metrics import davies_bouldin_score, silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

MODEL_NAME = "seg-kmeans"
MODEL_REVISION = "v2"

# Columns of marts.mart_customer_features the model derives its features from.
DERIVATION_COLUMNS: list[str] = [
    "as_of_date",
    "first_flow_date",
    "recency_days",
    "frequency_12m",
    "income_cny_12m",
    "spending_cny_12m",
    "salary_cny_12m",
    "total_inflow_cny",
    "avg_balance_cny",
    "age_band",
]
# Descriptive columns profiled per segment (and used to name segments), not clustered.
PROFILE_COLUMNS: list[str] = [
    "income_cny_12m",
    "spending_cny_12m",
    "net_flow_cny_12m",
    "latest_balance_cny",
    "share_bank",
    "share_payments",
    "share_ecommerce",
    "share_cards",
    "spending_to_income_ratio",
    "card_utilisation",
    "tenure_days",
    "frequency_12m",
    "recency_days",
]
INPUT_COLUMNS: list[str] = list(dict.fromkeys([*DERIVATION_COLUMNS, *PROFILE_COLUMNS]))
NON_NUMERIC_INPUTS = ("as_of_date", "first_flow_date", "age_band")

MODEL_FEATURES: list[str] = [
    "monthly_income_cny",
    "monthly_spending_cny",
    "avg_balance_cny",
    "monthly_flows",
    "recent_income_share",
    "salary_share",
    "age_years",
    "recency_months",
]
# Kept for callers that select "the segmentation columns" from the mart.
SEGMENT_FEATURES = INPUT_COLUMNS
# signed log1p: amounts in CNY (balances can be negative) and counts, with long right tails
LOG_FEATURES = ("monthly_income_cny", "monthly_spending_cny", "avg_balance_cny", "monthly_flows")
WINDOW_MONTHS = 12
DAYS_PER_MONTH = 365.25 / 12
RECENCY_CAP_DAYS = 365
SELECTION_SAMPLE = 10_000
SILHOUETTE_SAMPLE = 3_000
# Restarts per k: with 10 the two demo seeds could land in different local optima for the same k
# (and so pick different k); 30 finds the same solution for both.
N_INIT = 30
DEFAULT_K_RANGE = (4, 9)


@dataclass(frozen=True)
class SegmentationResult:
    assignments: pd.DataFrame  # customer_id, segment_id, segment_name, distance_to_centroid
    profiles: pd.DataFrame  # segment_id, segment_name, customers, share, median_<feature>...
    chosen_k: int
    davies_bouldin_by_k: dict[int, float]  # the criterion (lower is better)
    silhouette_by_k: dict[int, float]  # reported alongside
    model: Pipeline  # predict(customers frame) -> segment_id
    model_version: str
    imputed_values: dict[str, int]  # per model feature: values imputed with the median


def segment_customers(
    customers: pd.DataFrame,
    *,
    k_range: tuple[int, int] = DEFAULT_K_RANGE,
    seed: int = 42,
) -> SegmentationResult:
    """Segment customers with k-means, choosing k in ``k_range`` (inclusive) by Davies–Bouldin."""
    frame = _validated_input(customers)
    k_min, k_max = _usable_k_range(k_range, len(frame))

    derived = derive_features(frame)
    imputed_values = {f: int(derived[f].isna().sum()) for f in MODEL_FEATURES}
    preprocess = _preprocess_pipeline()
    scaled = preprocess.fit_transform(frame)

    # Above SELECTION_SAMPLE customers k is chosen on a seeded sample (the indices are quadratic
    # in the sample size and k-means with many restarts is the bulk of the time); the chosen k is
    # then fitted on everyone.
    if len(frame) > SELECTION_SAMPLE:
        rows = np.sort(np.random.default_rng(seed).choice(len(frame), SELECTION_SAMPLE, replace=False))
        selection = scaled[rows]
    else:
        selection = scaled
    davies_bouldin_by_k: dict[int, float] = {}
    silhouette_by_k: dict[int, float] = {}
    fitted: dict[int, KMeans] = {}
    # The silhouette is only reported: on a sample of SILHOUETTE_SAMPLE customers (it is quadratic).
    silhouette_sample = SILHOUETTE_SAMPLE if len(selection) > SILHOUETTE_SAMPLE else None
    # One thread for k-means' OpenMP and BLAS: on a shared 2-core machine more threads spend
    # their time contending for the cores rather than computing.
    with threadpool_limits(limits=1):
        for k in range(k_min, k_max + 1):
            kmeans = KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit(selection)
            if len(np.unique(kmeans.labels_)) < 2:
                continue  # fewer distinct points than k: the indices are undefined
            davies_bouldin_by_k[k] = float(davies_bouldin_score(selection, kmeans.labels_))
            silhouette_by_k[k] = float(silhouette_score(selection, kmeans.labels_, sample_size=silhouette_sample,
                                                        random_state=seed))
            fitted[k] = kmeans
    if not davies_bouldin_by_k:
        raise ValueError("customers are too uniform to segment: k-means found fewer than two distinct groups")
    chosen_k = min(davies_bouldin_by_k, key=lambda k: (davies_bouldin_by_k[k], k))  # tie → smaller k
    # On a sample, everyone is then fitted from the sample's centroids: one k-means run (Lloyd
    # iterations from a start that is already near the optimum) instead of N_INIT restarts on all
    # customers (measured in bench/README.md).
    with threadpool_limits(limits=1):
        final = fitted[chosen_k] if selection is scaled else KMeans(
            n_clusters=chosen_k, init=fitted[chosen_k].cluster_centers_, n_init=1, random_state=seed).fit(scaled)
    kmeans = _number_segments_by_size(final)
    model = Pipeline([*preprocess.steps, ("kmeans", kmeans)])

    labels = kmeans.labels_
    distances = kmeans.transform(scaled)[np.arange(len(frame)), labels]
    described = _described_features(frame, derived)
    profiles = _profiles(described, labels)
    names = name_segments(profiles, population=described)
    profiles.insert(1, "segment_name", profiles["segment_id"].map(names))

    assignments = pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy(),
            "segment_id": labels.astype("int64"),
            "segment_name": [names[s] for s in labels],
            "distance_to_centroid": distances.astype("float64"),
        }
    )
    return SegmentationResult(
        assignments=assignments,
        profiles=profiles,
        chosen_k=chosen_k,
        davies_bouldin_by_k=davies_bouldin_by_k,
        silhouette_by_k=silhouette_by_k,
        model=model,
        model_version=_model_version(frame, k_range=(k_min, k_max), seed=seed, chosen_k=chosen_k),
        imputed_values=imputed_values,
    )


# --- features ---------------------------------------------------------------------------------


def _validated_input(customers: pd.DataFrame) -> pd.DataFrame:
    required = ["customer_id", *INPUT_COLUMNS]
    missing = [c for c in required if c not in customers.columns]
    if missing:
        raise ValueError(f"segment_customers needs columns {missing} (one row per customer_id with {required})")
    if customers["customer_id"].isna().any():
        raise ValueError("customer_id must not be null")
    duplicated = customers["customer_id"][customers["customer_id"].duplicated()]
    if not duplicated.empty:
        raise ValueError(f"one row per customer expected; duplicated customer_id e.g. {duplicated.head(3).tolist()}")
    frame = customers[required].copy()
    for column in INPUT_COLUMNS:
        if column in NON_NUMERIC_INPUTS:
            continue
        try:
            frame[column] = pd.to_numeric(frame[column], errors="raise").astype("float64")
        except (TypeError, ValueError) as error:
            raise ValueError(f"column {column!r} must be numeric: {error}") from None
    for column in ("as_of_date", "first_flow_date"):
        frame[column] = pd.to_datetime(frame[column], errors="coerce")
    frame["age_band"] = frame["age_band"].astype("string")
    # Row order must not change the result: k-means++ seeding depends on it.
    return frame.sort_values("customer_id", kind="stable").reset_index(drop=True)


def _usable_k_range(k_range: tuple[int, int], n_customers: int) -> tuple[int, int]:
    k_min, k_max = int(k_range[0]), int(k_range[1])
    if k_min < 2 or k_max < k_min:
        raise ValueError(f"k_range must be (low, high) with 2 <= low <= high, got {k_range}")
    k_max = min(k_max, n_customers - 1)  # the indices need k < number of samples
    if k_max < k_min:
        raise ValueError(f"{n_customers} customers are too few to form {k_min} segments")
    return k_min, k_max


def age_from_band(band: object) -> float:
    """Mid-point of an age band: ``"25-34"`` → 29.5, ``"65+"`` → 70.0; unknown → NaN."""
    if band is None or band is pd.NA or (isinstance(band, float) and np.isnan(band)):
        return float("nan")
    text = str(band).strip()
    try:
        if text.endswith("+"):
            return float(text[:-1]) + 5.0
        low, high = text.split("-")
        return (float(low) + float(high)) / 2.0
    except ValueError:
        return float("nan")


def derive_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The ``MODEL_FEATURES`` in their own units (see the module docstring); nulls stay null."""
    as_of = pd.to_datetime(frame["as_of_date"], errors="coerce")
    first = pd.to_datetime(frame["first_flow_date"], errors="coerce")
    window_start = as_of - pd.Timedelta(days=round(WINDOW_MONTHS * DAYS_PER_MONTH))
    months_present = ((as_of - first.where(first > window_start, window_start)).dt.days / DAYS_PER_MONTH)
    months_present = months_present.clip(1, WINDOW_MONTHS).fillna(WINDOW_MONTHS).to_numpy(dtype="float64")
    number = lambda column: pd.to_numeric(frame[column], errors="coerce").astype("float64").replace([np.inf, -np.inf], np.nan)  # noqa: E731
    income, total_income = number("income_cny_12m"), number("total_inflow_cny")
    return pd.DataFrame(
        {
            "monthly_income_cny": income / months_present,
            "monthly_spending_cny": number("spending_cny_12m") / months_present,
            "avg_balance_cny": number("avg_balance_cny"),
            "monthly_flows": number("frequency_12m") / months_present,
            # no income ever: nothing "stopped" or "started" → neutral 1/2
            "recent_income_share": (income / total_income.where(total_income > 0)).clip(0, 1).fillna(0.5),
            "salary_share": (number("salary_cny_12m") / income.where(income > 0)).clip(0, 1).fillna(0.0),
            "age_years": frame["age_band"].map(age_from_band).astype("float64"),
            # never a flow: as silent as can be
            "recency_months": number("recency_days").clip(0, RECENCY_CAP_DAYS).fillna(RECENCY_CAP_DAYS) / DAYS_PER_MONTH,
        },
        index=frame.index,
    )


def _prepare_array(frame: pd.DataFrame) -> np.ndarray:
    values = derive_features(frame)
    for feature in LOG_FEATURES:
        values[feature] = np.sign(values[feature]) * np.log1p(values[feature].abs())
    return values[MODEL_FEATURES].to_numpy(dtype="float64")


class QuantileClipper(TransformerMixin, BaseEstimator):
    """Clip each column to quantiles learned at fit time (winsorizing)."""

    def __init__(self, lower: float = 0.005, upper: float = 0.995) -> None:
        self.lower = lower
        self.upper = upper

    def fit(self, X, y=None):  # noqa: N803 - sklearn naming
        values = np.asarray(X, dtype="float64")
        self.lower_bounds_ = np.quantile(values, self.lower, axis=0)
        self.upper_bounds_ = np.quantile(values, self.upper, axis=0)
        self.n_features_in_ = values.shape[1]
        return self

    def transform(self, X):  # noqa: N803
        return np.clip(np.asarray(X, dtype="float64"), self.lower_bounds_, self.upper_bounds_)


def _preprocess_pipeline() -> Pipeline:
    return Pipeline(
        [
            ("prepare", FunctionTransformer(_prepare_array)),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("winsorize", QuantileClipper()),
            ("scale", StandardScaler()),
        ]
    )


def _number_segments_by_size(kmeans: KMeans) -> KMeans:
    """Renumber clusters 0 = largest (ties by centroid), so ids are stable and predict agrees."""
    sizes = np.bincount(kmeans.labels_, minlength=kmeans.n_clusters)
    order = sorted(range(kmeans.n_clusters), key=lambda c: (-sizes[c], tuple(np.round(kmeans.cluster_centers_[c], 9))))
    new_id = np.empty(kmeans.n_clusters, dtype=kmeans.labels_.dtype)
    new_id[order] = np.arange(kmeans.n_clusters)
    kmeans.cluster_centers_ = kmeans.cluster_centers_[order]
    kmeans.labels_ = new_id[kmeans.labels_]
    return kmeans


DESCRIBED_FEATURES: list[str] = list(dict.fromkeys([*MODEL_FEATURES, *PROFILE_COLUMNS]))


def _described_features(frame: pd.DataFrame, derived: pd.DataFrame) -> pd.DataFrame:
    """Model features and profile columns in their own units (infinities as missing)."""
    profile = frame[PROFILE_COLUMNS].replace([np.inf, -np.inf], np.nan)
    return pd.concat([derived, profile.drop(columns=[c for c in PROFILE_COLUMNS if c in derived])], axis=1)[DESCRIBED_FEATURES]


def _profiles(features: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Per segment: size, share and the median of each feature in its own units (nulls skipped)."""
    grouped = features.assign(segment_id=labels).groupby("segment_id", sort=True)
    medians = grouped[DESCRIBED_FEATURES].median().add_prefix("median_")
    sizes = grouped.size().rename("customers")
    profiles = pd.concat([sizes, medians], axis=1).reset_index().astype({"segment_id": "int64"})
    profiles.insert(2, "share", profiles["customers"] / profiles["customers"].sum())
    return profiles


def _model_version(frame: pd.DataFrame, *, k_range: tuple[int, int], seed: int, chosen_k: int) -> str:
    config = json.dumps(
        {"features": MODEL_FEATURES, "k_range": k_range, "seed": seed, "n_init": N_INIT, "rev": MODEL_REVISION,
         "criterion": "davies_bouldin"},
        sort_keys=True,
    )
    digest = hashlib.sha256(config.encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return f"{MODEL_NAME}-{MODEL_REVISION}-k{chosen_k}-{digest.hexdigest()[:10]}"


# --- names ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Archetype:
    """A business name and when a segment earns it.

    ``fits(p, m)``: ``p`` maps a feature to the population percentile of the segment's median,
    ``m`` to the median itself. Rules are relative (percentiles); where a name also has an
    absolute meaning (a "card reliant" segment must actually use much of its limit) an absolute
    floor is added, so the largest ordinary segment is not named after its mildest trait.
    ``score(p)`` ranks the segments that fit; the best one gets the name.
    """

    name: str  # "中文 / english"
    # a median that is NaN (feature missing for the whole segment) fails every comparison
    fits: Callable[[Mapping[str, float], Mapping[str, float]], bool]
    score: Callable[[Mapping[str, float]], float]


def _mean(*values: float) -> float:
    return float(np.mean(values))


# Most specific first: each archetype goes to the best-fitting segment not yet named.
ARCHETYPES: tuple[Archetype, ...] = (
    Archetype(
        "流失沉睡 / dormant · lapsed",
        lambda p, m: p["recency_months"] >= 0.70 and p["monthly_income_cny"] <= 0.30
        and (m["recency_months"] >= 1.5 or m["recent_income_share"] <= 0.25),
        lambda p: _mean(p["recency_months"], 1 - p["monthly_income_cny"], 1 - p["recent_income_share"]),
    ),
    Archetype(
        "近期流失 / recently lapsing",
        # most of the customer's income arrived before the last 12 months: the money has stopped
        lambda p, m: p["recent_income_share"] <= 0.30 and m["recent_income_share"] <= 0.40,
        lambda p: 1 - p["recent_income_share"],
    ),
    Archetype(
        "大额经营 / large business flows",
        lambda p, m: p["monthly_income_cny"] >= 0.85 and p["monthly_flows"] >= 0.70 and m["salary_share"] <= 0.5,
        lambda p: _mean(p["monthly_income_cny"], p["monthly_spending_cny"], p["monthly_flows"]),
    ),
    Archetype(
        "高收入高消费 / high income · high spend",
        lambda p, m: p["monthly_income_cny"] >= 0.65 and p["monthly_spending_cny"] >= 0.65,
        lambda p: _mean(p["monthly_income_cny"], p["monthly_spending_cny"]),
    ),
    Archetype(
        "银发养老 / retirees · pension income",
        lambda p, m: m["age_years"] >= 60,
        lambda p: p["age_years"],
    ),
    Archetype(
        "年轻学生 / young · allowance-funded",
        lambda p, m: m["age_years"] <= 25 and m["salary_share"] <= 0.5,
        lambda p: 1 - p["age_years"],
    ),
    Archetype(
        "高收入储蓄 / high income · saver",
        lambda p, m: p["monthly_income_cny"] >= 0.65
        and p["spending_to_income_ratio"] <= 0.40
        and m["spending_to_income_ratio"] <= 0.6,
        lambda p: _mean(p["monthly_income_cny"], 1 - p["spending_to_income_ratio"], p["avg_balance_cny"]),
    ),
    Archetype(
        "信用卡依赖 / card reliant",
        lambda p, m: (p["card_utilisation"] >= 0.75 and m["card_utilisation"] >= 0.5)
        or (p["share_cards"] >= 0.80 and m["share_cards"] >= 0.4),
        lambda p: max(p["card_utilisation"], p["share_cards"]),
    ),
    Archetype(
        "线上消费 / online spenders",
        lambda p, m: (p["share_ecommerce"] >= 0.75 and m["share_ecommerce"] >= 0.3)
        or (p["share_payments"] >= 0.80 and m["share_payments"] >= 0.5),
        lambda p: max(p["share_ecommerce"], p["share_payments"]),
    ),
    Archetype(
        "新客 / new customers",
        lambda p, m: p["tenure_days"] <= 0.20 and m["tenure_days"] <= 365,
        lambda p: 1 - p["tenure_days"],
    ),
    Archetype(
        "工薪大众 / salaried mass market",
        lambda p, m: m["salary_share"] >= 0.6,
        # the salaried segment closest to the population's middle
        lambda p: 1 - _mean(*(abs(p[f] - 0.5) for f in ("monthly_income_cny", "monthly_spending_cny", "monthly_flows", "avg_balance_cny"))),
    ),
    Archetype(
        "低收入 / low income",
        lambda p, m: p["monthly_income_cny"] <= 0.35,
        lambda p: _mean(1 - p["monthly_income_cny"], 1 - p["monthly_spending_cny"]),
    ),
    Archetype(
        "大众稳健 / mass market",
        lambda p, m: True,
        # the segment closest to the population's middle
        lambda p: 1 - _mean(*(abs(p[f] - 0.5) for f in ("monthly_income_cny", "monthly_spending_cny", "monthly_flows", "avg_balance_cny"))),
    ),
)

# How a feature reads when a segment sits high / low on it: (zh high, zh low, en high, en low).
_DESCRIPTORS: dict[str, tuple[str, str, str, str]] = {
    "monthly_income_cny": ("收入较高", "收入较低", "higher income", "lower income"),
    "monthly_spending_cny": ("消费较高", "消费较低", "higher spend", "lower spend"),
    "avg_balance_cny": ("余额较高", "余额较低", "higher balance", "lower balance"),
    "monthly_flows": ("交易频繁", "交易稀少", "frequent flows", "few flows"),
    "recent_income_share": ("收入新增", "收入减少", "income growing", "income fading"),
    "salary_share": ("工资为主", "非工资收入", "salary-funded", "non-salary income"),
    "age_years": ("年长", "年轻", "older", "younger"),
    "recency_months": ("久未交易", "近期活跃", "long inactive", "recently active"),
    "share_bank": ("银行为主", "少用银行", "bank-centred", "little bank use"),
    "share_payments": ("支付平台为主", "少用支付平台", "payment-app-centred", "little payment-app use"),
    "share_ecommerce": ("电商为主", "少用电商", "e-commerce-centred", "little e-commerce"),
    "share_cards": ("信用卡为主", "少用信用卡", "card-centred", "little card use"),
    "spending_to_income_ratio": ("高消费率", "低消费率", "spends most of income", "spends little of income"),
    "card_utilisation": ("额度高用", "额度低用", "high card utilisation", "low card utilisation"),
    "tenure_days": ("老客户", "新客户", "long-standing", "recently joined"),
}


def population_percentiles(value: float, population: pd.Series) -> float:
    """Mid-rank percentile of ``value`` in ``population`` (ties count half), 0.5 if unknown."""
    values = population.dropna().to_numpy(dtype="float64")
    if len(values) == 0 or not np.isfinite(value):
        return 0.5
    below = np.count_nonzero(values < value)
    equal = np.count_nonzero(values == value)
    return float((below + 0.5 * equal) / len(values))


def name_segments(profiles: pd.DataFrame, population: pd.DataFrame) -> dict[int, str]:
    """Unique bilingual names for the segments in ``profiles`` (see the module docstring)."""
    medians = {
        int(row["segment_id"]): {f: float(row[f"median_{f}"]) for f in DESCRIBED_FEATURES}
        for _, row in profiles.iterrows()
    }
    positions = {
        segment: {f: population_percentiles(values[f], population[f]) for f in DESCRIBED_FEATURES}
        for segment, values in medians.items()
    }
    names: dict[int, str] = {}
    for archetype in ARCHETYPES:
        candidates = [
            s for s in sorted(positions) if s not in names and archetype.fits(positions[s], medians[s])
        ]
        if candidates:
            best = max(candidates, key=lambda s: (archetype.score(positions[s]), -s))
            names[best] = archetype.name
    for segment in sorted(positions):
        if segment not in names:
            names[segment] = _describe(positions[segment])
    return _make_unique(names)


def _describe(percentiles: Mapping[str, float]) -> str:
    distinctive = sorted(_DESCRIPTORS, key=lambda f: (-abs(percentiles[f] - 0.5), f))[:2]
    zh, en = [], []
    for feature in distinctive:
        zh_high, zh_low, en_high, en_low = _DESCRIPTORS[feature]
        high = percentiles[feature] >= 0.5
        zh.append(zh_high if high else zh_low)
        en.append(en_high if high else en_low)
    return f"{'·'.join(zh)} / {' · '.join(en)}"


def _make_unique(names: dict[int, str]) -> dict[int, str]:
    seen: dict[str, int] = {}
    unique: dict[int, str] = {}
    for segment in sorted(names):
        name = names[segment]
        seen[name] = seen.get(name, 0) + 1
        unique[segment] = name if seen[name] == 1 else f"{name} #{seen[name]}"
    return unique
