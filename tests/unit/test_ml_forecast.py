"""The monthly flow forecast recovers a known level + seasonality under noise, beats the seasonal
naive there, can lose to it, and refuses too little history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.forecast import MIN_HISTORY_MONTHS, forecast_flow_groups, forecast_monthly_flows, monthly_totals, rolling_backtest

SEASONALITY = np.array([0.25, -0.15, 0.0, 0.02, 0.0, 0.12, 0.0, 0.0, -0.05, 0.03, 0.20, 0.10])  # Jan..Dec
START = pd.Timestamp("2023-01-01")


# A book at a steady level with a smooth yearly shape; each month adds independent noise (one-off
# large flows). That is what the model assumes, and where the seasonal naive copies last year's noise.
def true_inflow(step: int, month: int) -> float:
    return 10e6 * (1 + SEASONALITY[month - 1])


def true_outflow(step: int, month: int) -> float:
    return 8e6 * (1 + 0.8 * SEASONALITY[month - 1])


def customer_monthly(n_months: int = 24, noise: float = 5e5, seed: int = 0) -> pd.DataFrame:
    """A mart_customer_monthly whose monthly totals follow ``true_inflow`` / ``true_outflow``."""
    rng = np.random.default_rng(seed)
    rows = []
    for step, month in enumerate(pd.date_range(START, periods=n_months, freq="MS")):
        inflow = true_inflow(step, month.month) + rng.normal(0, noise)
        outflow = true_outflow(step, month.month) + rng.normal(0, noise)
        weights = rng.dirichlet(np.ones(6))  # split over customers and channels
        for i, weight in enumerate(weights):
            rows.append(
                {
                    "customer_id": f"C{i % 3}",
                    "month": month.date(),
                    "source_channel": ["bank", "payments"][i % 2],
                    "category": "salary" if i % 2 else "consumption:food",
                    "inflow_cny": inflow * weight,
                    "outflow_cny": outflow * weight,
                    "net_cny": (inflow - outflow) * weight,
                    "flow_count": 5,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def result():
    return forecast_monthly_flows(customer_monthly(), horizon=3)


def test_backtest_beats_the_seasonal_naive_scale(result) -> None:
    for series in ("inflow", "outflow"):
        assert result.metrics[f"{series}_mase"] < 1
        assert result.metrics[f"{series}_mase"] < result.metrics[f"{series}_seasonal_naive_mase"]
    assert result.metrics["net_mase"] < 1
    assert result.metrics["history_months"] == 24 and result.metrics["backtest_months"] == 3


def test_forecast_is_close_to_the_true_continuation(result) -> None:
    future = pd.date_range(START, periods=27, freq="MS")[24:]
    ahead = result.forecast.set_index(["series", "month"])["forecast"]
    for step, month in enumerate(future, start=24):
        for series, truth in (("inflow", true_inflow), ("outflow", true_outflow)):
            expected = truth(step, month.month)
            assert ahead[(series, month.date())] == pytest.approx(expected, rel=0.03), (series, month)


def test_forecast_frame_and_interval(result) -> None:
    frame = result.forecast
    assert list(frame.columns) == ["series", "month", "forecast", "lower", "upper"]
    assert sorted(frame["series"].unique()) == ["inflow", "net", "outflow"]
    assert len(frame) == 9
    assert (frame["lower"] < frame["forecast"]).all() and (frame["forecast"] < frame["upper"]).all()
    assert result.interval_level == 0.9


def test_the_interval_covers_the_next_month_about_as_often_as_it_claims() -> None:
    next_month = (START + pd.DateOffset(months=24)).date()
    covered = []
    for seed in range(150):
        monthly = customer_monthly(n_months=25, seed=seed)
        actual = monthly.loc[monthly["month"] == next_month, "inflow_cny"].sum()
        ahead = forecast_monthly_flows(monthly[monthly["month"] != next_month], horizon=1).forecast
        inflow = ahead[ahead["series"] == "inflow"].iloc[0]
        covered.append(inflow["lower"] <= actual <= inflow["upper"])
    assert 0.82 <= np.mean(covered) <= 0.97


def test_net_is_inflow_minus_outflow(result) -> None:
    by_series = result.forecast.pivot(index="month", columns="series", values="forecast")
    np.testing.assert_allclose(by_series["net"], by_series["inflow"] - by_series["outflow"], rtol=1e-9, atol=1e-3)


def test_history_is_there_for_plotting(result) -> None:
    history = result.history
    assert len(history) == 3 * 24
    inflow = history[history["series"] == "inflow"]
    totals = monthly_totals(customer_monthly())
    np.testing.assert_allclose(inflow["actual"].to_numpy(), totals["inflow"].to_numpy())
    plot = result.plot_frame()
    assert set(plot["kind"]) == {"actual", "forecast"} and len(plot) == 3 * 27


def test_a_pure_seasonal_trend_series_is_forecast_almost_exactly() -> None:
    exact = forecast_monthly_flows(customer_monthly(noise=0.0), horizon=1)
    assert exact.metrics["inflow_mase"] < 0.05


def test_gaps_in_the_history_are_zero_flow_months() -> None:
    monthly = customer_monthly()
    dropped = pd.Timestamp("2023-06-01").date()
    totals = monthly_totals(monthly[monthly["month"] != dropped])
    assert len(totals) == 24 and totals.loc["2023-06-01", "inflow"] == 0


def test_too_short_history_fails_loudly() -> None:
    with pytest.raises(ValueError, match=f"at least {MIN_HISTORY_MONTHS} months"):
        forecast_monthly_flows(customer_monthly(n_months=MIN_HISTORY_MONTHS - 1))


def test_the_minimum_history_is_enough() -> None:
    result = forecast_monthly_flows(customer_monthly(n_months=MIN_HISTORY_MONTHS))
    assert np.isfinite(result.forecast["forecast"]).all()


def test_missing_columns_and_empty_input_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="outflow_cny"):
        forecast_monthly_flows(customer_monthly().drop(columns=["outflow_cny"]))
    with pytest.raises(ValueError, match="empty"):
        forecast_monthly_flows(customer_monthly().iloc[0:0])


def test_horizon_must_be_positive() -> None:
    with pytest.raises(ValueError, match="horizon"):
        forecast_monthly_flows(customer_monthly(), horizon=0)


# --- grouped forecast and rolling-origin backtest --------------------------------------------------


def test_grouped_forecast_has_total_segments_and_key_accounts() -> None:
    monthly = customer_monthly()
    segments = pd.DataFrame({"customer_id": ["C0", "C1", "C2"], "segment_name": ["a", "a", "b"]})
    result = forecast_flow_groups(monthly, segments=segments, key_accounts=["C2"], horizon=12)
    frame = result.forecast
    assert set(zip(frame["scope"], frame["scope_id"])) == {("total", "all"), ("segment", "a"), ("segment", "b"), ("key_account", "C2")}
    assert frame.groupby(["scope", "scope_id", "series"]).size().eq(12).all()
    assert (frame["lower"] < frame["upper"]).all()
    # segments add up to the total (same linear model, same design)
    ahead = frame[frame["series"] == "inflow"].pivot_table(index="month", columns="scope", values="forecast", aggfunc="sum")
    np.testing.assert_allclose(ahead["segment"], ahead["total"], rtol=1e-6)


def test_rolling_backtest_refits_at_each_origin_and_beats_naive_on_trend_data() -> None:
    result = forecast_flow_groups(customer_monthly(), horizon=6)
    backtest = result.backtest
    assert backtest["origin"].nunique() == 6 and backtest["months_ahead"].max() == 3
    assert (pd.to_datetime(backtest["month"]) >= pd.to_datetime(backtest["origin"])).all()
    # a trending seasonal series: the seasonal-naive misses the trend, the model does not
    assert result.metrics["total_inflow_mase_ratio"] < 0.8
    assert result.metrics["total_outflow_mase_ratio"] < 0.8


def test_rolling_backtest_can_lose_to_the_naive() -> None:
    """A series that exactly repeats last year plus pure noise in the trend: the naive wins."""
    months = pd.date_range(START, periods=24, freq="MS")
    rng = np.random.default_rng(1)
    pattern = rng.normal(100, 30, 12)
    y = np.concatenate([pattern, pattern]) + np.r_[np.zeros(12), np.linspace(0, 0, 12)]
    y[:12] += rng.normal(0, 40, 12)  # the first year is noisy, the second the clean pattern
    frame = rolling_backtest(months, y)
    mase = np.mean(np.abs(frame["actual"] - frame["forecast"]) / frame["mase_scale"])
    naive = np.mean(np.abs(frame["actual"] - frame["seasonal_naive"]) / frame["mase_scale"])
    assert mase > naive


def test_a_short_key_account_history_is_skipped_not_fatal() -> None:
    monthly = customer_monthly()
    late = monthly[monthly["customer_id"] == "C2"].copy()
    late = late[pd.to_datetime(late["month"]) >= pd.Timestamp("2024-06-01")].assign(customer_id="NEW")
    result = forecast_flow_groups(pd.concat([monthly, late]), key_accounts=["NEW"], horizon=3)
    assert result.skipped == {"key_account": 1}
    assert "key_account" not in set(result.forecast["scope"])
