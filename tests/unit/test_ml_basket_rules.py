"""Basket rules on a hand-built basket set whose supports, confidences and lifts are known."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.basket_rules import association_rules, basket_matrix, frequent_itemsets


def hand_built_orders() -> pd.DataFrame:
    """10 paid orders: {A,B} ×4, {A,B,C} ×2, {C} ×2, {A} ×1, {B,C} ×1; plus noise that must not
    count: a cancelled {A,C} order, a duplicate line, a line without category."""
    baskets = [("A", "B")] * 4 + [("A", "B", "C")] * 2 + [("C",)] * 2 + [("A",)] + [("B", "C")]
    rows = [(f"o{i}", item, "PAID") for i, basket in enumerate(baskets) for item in basket]
    rows += [("o0", "A", "PAID"), ("x1", "A", "CANCELLED"), ("x1", "C", "CANCELLED"), ("o9", None, "PAID")]
    return pd.DataFrame(rows, columns=["order_id", "product_category", "status"])


def test_matrix_counts_paid_orders_and_distinct_categories() -> None:
    matrix = basket_matrix(hand_built_orders())
    assert matrix.shape == (10, 3)
    assert matrix.sum().to_dict() == {"A": 7, "B": 7, "C": 5}


def test_rules_match_hand_computed_values() -> None:
    result = association_rules(hand_built_orders(), min_support=0.15, min_confidence=0.5)
    assert result.n_baskets == 10
    rules = result.rules.set_index(["antecedent", "consequent"])
    # A → B: support 6/10, confidence 6/7, lift (6/7) / (7/10).
    assert rules.loc[("A", "B"), "support"] == pytest.approx(0.6)
    assert rules.loc[("A", "B"), "confidence"] == pytest.approx(6 / 7)
    assert rules.loc[("A", "B"), "lift"] == pytest.approx((6 / 7) / 0.7)
    # C → B: support 3/10, confidence 3/5 = 0.6, lift 0.6 / 0.7.
    assert rules.loc[("C", "B"), "confidence"] == pytest.approx(0.6)
    assert rules.loc[("C", "B"), "lift"] == pytest.approx(0.6 / 0.7)
    # A + C → B: support 2/10 ≥ 0.15, confidence 2/2 = 1, lift 1 / 0.7.
    assert rules.loc[("A + C", "B"), "confidence"] == pytest.approx(1.0)
    assert rules.loc[("A + C", "B"), "lift"] == pytest.approx(1 / 0.7)
    # B → C: confidence 3/7 < 0.5 is filtered out; A → C: confidence 2/7 too.
    assert ("B", "C") not in rules.index and ("A", "C") not in rules.index
    # Best lift first, ranks 1..n.
    assert result.rules["lift"].is_monotonic_decreasing
    assert result.rules["rule_rank"].tolist() == list(range(1, len(result.rules) + 1))
    assert result.rules.iloc[0][["antecedent", "consequent"]].tolist() == ["A + C", "B"]


def test_min_support_prunes_itemsets() -> None:
    matrix = basket_matrix(hand_built_orders())
    frequent = frequent_itemsets(matrix, min_support=0.25)
    assert frequent == {frozenset("A"): 7, frozenset("B"): 7, frozenset("C"): 5,
                        frozenset("AB"): 6, frozenset("BC"): 3}
    # {A, B, C} (support 0.2) and {A, C} (0.2) are below 0.25.


def test_bad_parameters_and_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="min_support"):
        association_rules(hand_built_orders(), min_support=0)
    with pytest.raises(ValueError, match="lack columns"):
        association_rules(pd.DataFrame({"order_id": ["o1"]}))


def test_no_baskets_gives_no_rules() -> None:
    orders = hand_built_orders().assign(status="CANCELLED")
    result = association_rules(orders)
    assert result.n_baskets == 0 and result.rules.empty
