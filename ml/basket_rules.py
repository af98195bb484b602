"""Basket rules: which product categories are bought together in one e-commerce order.

Input: order lines (``order_id``, ``product_category``, ``status``), e.g.
``intermediate.int_ecommerce__order_lines_deduped``. A basket is one order with a status in
``statuses`` (default PAID); its items are the distinct categories on its lines.

Definitions (Agrawal, Imieliński & Swami 1993), over the N baskets:
- ``support(X)`` = share of baskets containing every item of X;
- rule ``X → Y``: ``support`` = support(X ∪ Y), ``confidence`` = support(X ∪ Y) / support(X),
  ``lift`` = confidence / support(Y) (> 1: bought together more often than by chance).

Frequent itemsets are found level by level (Apriori: a k-itemset is only counted if all its
(k−1)-subsets are frequent) on a boolean basket × category matrix. Hand-written because mlxtend
is not in the environment, and at category level (tens of items) the exact count with numpy is
a few lines and fast; every rule with a consequent of one or more items is generated from each
frequent itemset, then kept if its confidence reaches ``min_confidence``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

MODEL_NAME = "basket-apriori"
MODEL_REVISION = "v1"
REQUIRED_COLUMNS = ("order_id", "product_category", "status")
RULE_COLUMNS = [
    "rule_rank", "antecedent", "consequent", "antecedent_size", "support", "confidence", "lift",
    "antecedent_support", "consequent_support", "basket_count", "n_baskets",
]


@dataclass(frozen=True)
class BasketRulesResult:
    rules: pd.DataFrame  # RULE_COLUMNS, best first (lift, then confidence, then support)
    itemsets: pd.DataFrame  # itemset, size, support, basket_count
    n_baskets: int
    model_version: str


def basket_matrix(order_lines: pd.DataFrame, statuses: tuple[str, ...] = ("PAID",)) -> pd.DataFrame:
    """Boolean baskets × categories matrix (one row per order with a usable line)."""
    missing = set(REQUIRED_COLUMNS) - set(order_lines.columns)
    if missing:
        raise ValueError(f"basket_rules: order lines lack columns {sorted(missing)}")
    lines = order_lines[order_lines["status"].isin(statuses) & order_lines["order_id"].notna() & order_lines["product_category"].notna()]
    pairs = lines[["order_id", "product_category"]].drop_duplicates()
    matrix = pd.crosstab(pairs["order_id"], pairs["product_category"]).gt(0)
    return matrix.sort_index(axis=0).sort_index(axis=1)


def frequent_itemsets(matrix: pd.DataFrame, min_support: float, max_len: int = 3) -> dict[frozenset, int]:
    """Itemset → number of baskets containing it, for itemsets with support ≥ min_support."""
    n_baskets = len(matrix)
    if n_baskets == 0:
        return {}
    values = matrix.to_numpy(dtype=bool)
    items = list(matrix.columns)
    min_count = min_support * n_baskets
    counts = values.sum(axis=0)
    frequent = {frozenset([item]): int(count) for item, count in zip(items, counts) if count >= min_count}
    level = [tuple(sorted(itemset)) for itemset in frequent]
    column = {item: i for i, item in enumerate(items)}
    for size in range(2, max_len + 1):
        previous = {frozenset(itemset) for itemset in level}
        candidates = sorted({tuple(sorted(set(a) | set(b))) for a, b in combinations(level, 2) if len(set(a) | set(b)) == size})
        level = []
        for candidate in candidates:
            if not all(frozenset(subset) in previous for subset in combinations(candidate, size - 1)):
                continue
            count = int(values[:, [column[item] for item in candidate]].all(axis=1).sum())
            if count >= min_count:
                frequent[frozenset(candidate)] = count
                level.append(candidate)
        if not level:
            break
    return frequent


def association_rules(
    order_lines: pd.DataFrame,
    *,
    min_support: float = 0.01,
    min_confidence: float = 0.1,
    max_len: int = 3,
    statuses: tuple[str, ...] = ("PAID",),
    top_n: int | None = None,
) -> BasketRulesResult:
    if not 0 < min_support <= 1 or not 0 <= min_confidence <= 1:
        raise ValueError("basket_rules: min_support must be in (0, 1] and min_confidence in [0, 1]")
    matrix = basket_matrix(order_lines, statuses)
    n_baskets = len(matrix)
    frequent = frequent_itemsets(matrix, min_support, max_len)
    rows = []
    for itemset, count in frequent.items():
        if len(itemset) < 2:
            continue
        for size in range(1, len(itemset)):
            for antecedent in combinations(sorted(itemset), size):
                consequent = tuple(sorted(itemset - set(antecedent)))
                antecedent_count = frequent[frozenset(antecedent)]
                consequent_count = frequent[frozenset(consequent)]
                confidence = count / antecedent_count
                if confidence < min_confidence:
                    continue
                rows.append(
                    {
                        "antecedent": " + ".join(antecedent),
                        "consequent": " + ".join(consequent),
                        "antecedent_size": len(antecedent),
                        "support": count / n_baskets,
                        "confidence": confidence,
                        "lift": confidence / (consequent_count / n_baskets),
                        "antecedent_support": antecedent_count / n_baskets,
                        "consequent_support": consequent_count / n_baskets,
                        "basket_count": count,
                        "n_baskets": n_baskets,
                    }
                )
    rules = pd.DataFrame(rows, columns=[c for c in RULE_COLUMNS if c != "rule_rank"])
    rules = rules.sort_values(["lift", "confidence", "support", "antecedent", "consequent"],
                              ascending=[False, False, False, True, True], kind="stable").reset_index(drop=True)
    if top_n is not None:
        rules = rules.head(top_n)
    rules.insert(0, "rule_rank", np.arange(1, len(rules) + 1))
    itemsets = pd.DataFrame(
        [{"itemset": " + ".join(sorted(s)), "size": len(s), "support": c / n_baskets, "basket_count": c} for s, c in frequent.items()],
        columns=["itemset", "size", "support", "basket_count"],
    ).sort_values(["size", "support", "itemset"], ascending=[True, False, True], kind="stable").reset_index(drop=True)
    config = json.dumps({"min_support": min_support, "min_confidence": min_confidence, "max_len": max_len,
                         "statuses": list(statuses), "rev": MODEL_REVISION}, sort_keys=True)
    digest = hashlib.sha256(config.encode())
    digest.update(pd.util.hash_pandas_object(matrix, index=True).to_numpy().tobytes())
    return BasketRulesResult(rules, itemsets, n_baskets, f"{MODEL_NAME}-{MODEL_REVISION}-{digest.hexdigest()[:10]}")
