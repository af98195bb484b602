"""Customer segmentation: k-means on the customer-360 features, named in business terms.

Input: one row per ``customer_id`` with the ``SEGMENT_FEATURES`` columns of
``marts.mart_customer_features``. Method, in the order the fitted pipeline applies it:

1. ``prepare``: infinities become missing; money amounts get a signed ``log1p`` (incomes, spend
   and balances span four orders of magnitude, and balances can be negative); net flow enters
   as its share of gross flow, ``net / (income + spending)`` in [-1, 1], because on a log scale
   a customer 1M in surplus and one 1M in deficit would sit at opposite ends while both are
   "balanced large flows"; counts and recency get ``log1p``; ratios are clipped.
2. ``impute``: missing values (null, or infinite before step 1) take the feature's **median**
   learned at fit time; a feature missing for everyone becomes 0 after scaling.
3. ``winsorize``: each feature is clipped to its 0.5 % / 99.5 % quantiles, so a few fat-finger
   amounts cannot claim a centroid of their own.
4. ``scale``: ``StandardScaler`` (after the log step the features are roughly symmetric, so
   mean/std scaling weights them evenly).
5. ``kmeans``: ``KMeans(n_init=10, random_state=seed)``.

k is the value in ``k_range`` (inclusive) with the highest **mean silhouette score** on the
scaled features (exact up to 10,000 customers, a seeded sample of 10,000 beyond); on a tie the
smaller k wins. Rows are sorted by ``customer_id`` before fitting and segments are numbered by
size (0 = largest), so the result depends only on the data and the seed, not on row order.

Outputs: per customer the segment and ``distance_to_centroid`` (Euclidean, in the scaled feature
space: how typical the customer is of the segment); per segment its size, share and the medians
of every feature in their own units (nulls skipped); the fitted pipeline, whose ``predict``
takes a customer-360 frame and returns segment ids; a ``model_version`` hashed from the
configuration and the input data.

Names come from the segment profiles relative to the whole population: each segment's median
of a feature is placed on the population's distribution of that feature (a mid-rank
percentile), and rules over those percentiles pick an archetype such as ``低活跃 / dormant``.
Archetypes are tried most specific first and each is given to at most one segment (the one that
fits it best); a segment no archetype fits is described by its two most distinctive features.
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
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

MODEL_NAME = "seg-kmeans"
MODEL_REVISION = "v1"

SEGMENT_FEATURES: list[str] = [
    "recency_days",
    "frequency_12m",
    "income_cny_12m",
    "spending_cny_12m",
    "net_flow_cny_12m",
    "avg_balance_cny",
    "latest_balance_cny",
    "share_bank",
    "share_payments",
    "share_ecommerce",
    "share_cards",
    "spending_to_income_ratio",
    "card_utilisation",
    "tenure_days",
]
# signed log1p: amounts in CNY, some of which can be negative
MONEY_FEATURES = ("income_cny_12m", "spending_cny_12m", "avg_balance_cny", "latest_balance_cny")
# enters as net / (income + spending); see the module docstring
NET_FLOW_FEATURE = "net_flow_cny_12m"
# log1p: non-negative counts and day spans with long right tails
COUNT_FEATURES = ("recency_days", "frequency_12m")
# clipped ratios (a customer with almost no income can have an absurd spending ratio)
RATIO_BOUNDS: dict[str, tuple[float, float]] = {
    "share_bank": (0.0, 1.0),
    "share_payments": (0.0, 1.0),
    "share_ecommerce": (0.0, 1.0),
    "share_cards": (0.0, 1.0),
    "spending_to_income_ratio": (0.0, 5.0),
    "card_utilisation": (0.0, 2.0),
}
SILHOUETTE_SAMPLE = 10_000
N_INIT = 10


@dataclass(frozen=True)
class SegmentationResult:
    assignments: pd.DataFrame  # customer_id, segment_id, segment_name, distance_to_centroid
    profiles: pd.DataFrame  # segment_id, segment_name, customers, share, median_<feature>...
    chosen_k: int
    silhouette_by_k: dict[int, float]
    model: Pipeline  # predict(customers frame) -> segment_id
    model_version: str
    imputed_values: dict[str, int]  # per feature: values imputed with the median (null or inf)


def segment_customers(
    customers: pd.DataFrame,
    *,
    k_range: tuple[int, int] = (3, 8),
    seed: int = 42,
) -> SegmentationResult:
    """Segment customers with k-means, choosing k in ``k_range`` (inclusive) by silhouette."""
    frame = _validated_input(customers)
    k_min, k_max = _usable_k_range(k_range, len(frame))

    prepared = _prepare_features(frame)
    imputed_values = {f: int(prepared[f].isna().sum()) for f in SEGMENT_FEATURES}
    preprocess = _preprocess_pipeline()
    scaled = preprocess.fit_transform(frame)

    silhouette_by_k: dict[int, float] = {}
    fitted: dict[int, KMeans] = {}
    sample_size = SILHOUETTE_SAMPLE if len(frame) > SILHOUETTE_SAMPLE else None
    for k in range(k_min, k_max + 1):
        kmeans = KMeans(n_clusters=k, n_init=N_INIT, random_state=seed).fit(scaled)
        if len(np.unique(kmeans.labels_)) < 2:
            continue  # fewer distinct points than k: silhouette undefined
        silhouette_by_k[k] = float(silhouette_score(scaled, kmeans.labels_, sample_size=sample_size, random_state=seed))
        fitted[k] = kmeans
    if not silhouette_by_k:
        raise ValueError("customers are too uniform to segment: k-means found fewer than two distinct groups")
    chosen_k = max(silhouette_by_k, key=lambda k: (silhouette_by_k[k], -k))  # tie → smaller k
    kmeans = _number_segments_by_size(fitted[chosen_k])
    model = Pipeline([*preprocess.steps, ("kmeans", kmeans)])

    labels = kmeans.labels_
    distances = kmeans.transform(scaled)[np.arange(len(frame)), labels]
    profiles = _profiles(_raw_features(frame), labels)
    names = name_segments(profiles, population=_raw_features(frame))
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
        silhouette_by_k=silhouette_by_k,
        model=model,
        model_version=_model_version(frame, k_range=(k_min, k_max), seed=seed, chosen_k=chosen_k),
        imputed_values=imputed_values,
    )


# --- features ---------------------------------------------------------------------------------


def _validated_input(customers: pd.DataFrame) -> pd.DataFrame:
    required = ["customer_id", *SEGMENT_FEATURES]
    missing = [c for c in required if c not in customers.columns]
    if missing:
        raise ValueError(f"segment_customers needs columns {missing} (one row per customer_id with {required})")
    if customers["customer_id"].isna().any():
        raise ValueError("customer_id must not be null")
    duplicated = customers["customer_id"][customers["customer_id"].duplicated()]
    if not duplicated.empty:
        raise ValueError(f"one row per customer expected; duplicated customer_id e.g. {duplicated.head(3).tolist()}")
    frame = customers[required].copy()
    for feature in SEGMENT_FEATURES:
        try:
            frame[feature] = pd.to_numeric(frame[feature], errors="raise").astype("float64")
        except (TypeError, ValueError) as error:
            raise ValueError(f"feature {feature!r} must be numeric: {error}") from None
    # Row order must not change the result: k-means++ seeding depends on it.
    return frame.sort_values("customer_id", kind="stable").reset_index(drop=True)


def _usable_k_range(k_range: tuple[int, int], n_customers: int) -> tuple[int, int]:
    k_min, k_max = int(k_range[0]), int(k_range[1])
    if k_min < 2 or k_max < k_min:
        raise ValueError(f"k_range must be (low, high) with 2 <= low <= high, got {k_range}")
    k_max = min(k_max, n_customers - 1)  # silhouette needs k < number of samples
    if k_max < k_min:
        raise ValueError(f"{n_customers} customers are too few to form {k_min} segments")
    return k_min, k_max


def _raw_features(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[SEGMENT_FEATURES].replace([np.inf, -np.inf], np.nan)


def _prepare_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Step 1 of the pipeline, as a frame: log transforms and clipping; nulls stay null."""
    values = _raw_features(frame)
    gross = values["income_cny_12m"].abs() + values["spending_cny_12m"].abs()
    net_share = (values[NET_FLOW_FEATURE] / gross.where(gross > 0)).clip(-1.0, 1.0)
    values[NET_FLOW_FEATURE] = net_share.mask(gross == 0, 0.0)  # no flows at all → balanced
    for feature in MONEY_FEATURES:
        values[feature] = np.sign(values[feature]) * np.log1p(values[feature].abs())
    for feature in COUNT_FEATURES:
        values[feature] = np.log1p(values[feature].clip(lower=0))
    for feature, (low, high) in RATIO_BOUNDS.items():
        values[feature] = values[feature].clip(low, high)
    return values


def _prepare_array(frame: pd.DataFrame) -> np.ndarray:
    return _prepare_features(frame).to_numpy(dtype="float64")


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


def _profiles(features: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Per segment: size, share and the median of each feature in its own units (nulls skipped)."""
    grouped = features.assign(segment_id=labels).groupby("segment_id", sort=True)
    medians = grouped[SEGMENT_FEATURES].median().add_prefix("median_")
    sizes = grouped.size().rename("customers")
    profiles = pd.concat([sizes, medians], axis=1).reset_index().astype({"segment_id": "int64"})
    profiles.insert(2, "share", profiles["customers"] / profiles["customers"].sum())
    return profiles


def _model_version(frame: pd.DataFrame, *, k_range: tuple[int, int], seed: int, chosen_k: int) -> str:
    config = json.dumps(
        {"features": SEGMENT_FEATURES, "k_range": k_range, "seed": seed, "n_init": N_INIT, "rev": MODEL_REVISION},
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
        "低活跃 / dormant",
        lambda p, m: p["recency_days"] >= 0.70
        and p["frequency_12m"] <= 0.30
        and (m["recency_days"] >= 30 or m["frequency_12m"] <= 12),
        lambda p: _mean(p["recency_days"], 1 - p["frequency_12m"]),
    ),
    Archetype(
        "大额经营 / large business flows",
        lambda p, m: p["income_cny_12m"] >= 0.85 and p["spending_cny_12m"] >= 0.85 and p["frequency_12m"] >= 0.70,
        lambda p: _mean(p["income_cny_12m"], p["spending_cny_12m"], p["frequency_12m"]),
    ),
    Archetype(
        "高收入高消费 / high income · high spend",
        lambda p, m: p["income_cny_12m"] >= 0.65 and p["spending_cny_12m"] >= 0.65,
        lambda p: _mean(p["income_cny_12m"], p["spending_cny_12m"]),
    ),
    Archetype(
        "高收入储蓄 / high income · saver",
        lambda p, m: p["income_cny_12m"] >= 0.65
        and p["spending_to_income_ratio"] <= 0.40
        and m["spending_to_income_ratio"] <= 0.6,
        lambda p: _mean(p["income_cny_12m"], 1 - p["spending_to_income_ratio"], p["avg_balance_cny"]),
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
        "低收入 / low income",
        lambda p, m: p["income_cny_12m"] <= 0.35,
        lambda p: _mean(1 - p["income_cny_12m"], 1 - p["spending_cny_12m"]),
    ),
    Archetype(
        "大众稳健 / mass market",
        lambda p, m: True,
        # the segment closest to the population's middle
        lambda p: 1 - _mean(*(abs(p[f] - 0.5) for f in ("income_cny_12m", "spending_cny_12m", "frequency_12m", "avg_balance_cny"))),
    ),
)

# How a feature reads when a segment sits high / low on it: (zh high, zh low, en high, en low).
_DESCRIPTORS: dict[str, tuple[str, str, str, str]] = {
    "recency_days": ("久未交易", "近期活跃", "long inactive", "recently active"),
    "frequency_12m": ("交易频繁", "交易稀少", "frequent flows", "few flows"),
    "income_cny_12m": ("收入较高", "收入较低", "higher income", "lower income"),
    "spending_cny_12m": ("消费较高", "消费较低", "higher spend", "lower spend"),
    "net_flow_cny_12m": ("净流入", "净流出", "net inflow", "net outflow"),
    "avg_balance_cny": ("余额较高", "余额较低", "higher balance", "lower balance"),
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
        int(row["segment_id"]): {f: float(row[f"median_{f}"]) for f in SEGMENT_FEATURES}
        for _, row in profiles.iterrows()
    }
    positions = {
        segment: {f: population_percentiles(values[f], population[f]) for f in SEGMENT_FEATURES}
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
