"""The monthly flow forecast recovers a known level + seasonality under noise, beats the seasonal
naive there, can lose to it, and refuses too little history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.business_calendar import business_days
from ml.forecast import MIN_HISTORY_MONTHS, forecast_flow_groups, forecast_monthly_flows, monthly_totals, rolling_backtest

SEASONALITY = np.array([0.25, -0.15, 0.0, 0.02, 0.0, 0.12, 0.0, 0.0, -0.05, 0.03, 0.20, 0.10])  # Jan..Dec
START = pd.Timestamp("2023-01-01")


# A book at a steady level with a smooth yearly shape; each month adds independent noise (one-off
# large flows). That is what the model assumes, and where the seasonal naive copies last year's noise.
def true_inflow(step: int, month: int) -> float:
    return 10e6 * (1 + SEASONALITY[month - 1])


def true_outflow(step: int, month: int) -> float:
    return 8e6 * (1 + 0.8 * SEASONALITY[month - 1])


def customer_monthly(n_months: int = 24, noise: float = 1.5e6, seed: int = 0) -> pd.DataFrame:
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


def test_backtest_metrics_are_reported(result) -> None:
    for series in ("inflow", "outflow", "net"):
        for name in ("mae", "mase", "seasonal_naive_mae", "seasonal_naive_mase", "coverage"):
            assert np.isfinite(result.metrics[f"{series}_{name}"]), (series, name)
        assert result.metrics[f"{series}_mase"] > 0
    assert result.metrics["history_months"] == 24 and result.metrics["backtest_months"] == 3


def test_on_noisy_books_the_forecast_is_closer_to_the_truth_than_last_year() -> None:
    """Over 40 books, the next 12 months' forecast is nearer the true monthly means than repeating
    last year's (noisy) months: the combination averages the noise away."""
    model_errors, naive_errors = [], []
    for seed in range(40):
        monthly = customer_monthly(seed=seed)
        ahead = forecast_monthly_flows(monthly, horizon=12).forecast
        inflow = ahead[ahead["series"] == "inflow"]
        truth = np.array([true_inflow(0, pd.Timestamp(m).month) for m in inflow["month"]])
        last_year = monthly_totals(monthly)["inflow"].to_numpy()[-12:]
        model_errors.append(np.mean(np.abs(inflow["forecast"].to_numpy() - truth) / truth))
        naive_errors.append(np.mean(np.abs(last_year - truth) / truth))
    assert np.mean(model_errors) < 0.8 * np.mean(naive_errors), (np.mean(model_errors), np.mean(naive_errors))


def test_forecast_frame_and_interval(result) -> None:
    frame = result.forecast
    assert list(frame.columns) == ["series", "month", "forecast", "lower", "upper"]
    assert sorted(frame["series"].unique()) == ["inflow", "net", "outflow"]
    assert len(frame) == 9
    assert (frame["lower"] < frame["forecast"]).all() and (frame["forecast"] < frame["upper"]).all()
    assert result.interval_level == 0.9


def test_the_interval_covers_the_next_month_about_as_often_as_it_claims() -> None:
    # The next month cycles through every calendar month (histories of 19..30 months).
    covered = []
    for seed in range(150):
        n_months = 19 + seed % 12
        monthly = customer_monthly(n_months=n_months + 1, seed=seed)
        next_month = (START + pd.DateOffset(months=n_months)).date()
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


def test_sharp_seasonality_without_noise_is_shrunk_toward_the_level() -> None:
    """The known cost of the combination: with no noise to average away, a sharp peak month
    (January, +25 %) is forecast well below the truth. Only the seasonal-naive part (a sixth of the
    weight) copies the peak; the business-day half knows the working-day calendar, not a peak that
    is not in it (this January has fewer business days than the average month)."""
    exact = forecast_monthly_flows(customer_monthly(noise=0.0), horizon=3).forecast
    january = exact[(exact["series"] == "inflow") & (pd.to_datetime(exact["month"]).dt.month == 1)]["forecast"].iloc[0]
    assert 0.75 * true_inflow(0, 1) < january < 0.9 * true_inflow(0, 1)


def test_business_days_follow_the_chinese_calendar() -> None:
    months = np.array([2025 * 12 + 9, 2026 * 12 + 1, 2026 * 12 + 6, 2031 * 12 + 9])  # Oct 2025, Feb 2026, Jul 2026, Oct 2031
    # National Day week (1-8 Oct 2025), Spring Festival (15-23 Feb 2026), a July without holidays,
    # and a year past the published schedules (fixed rule: 1-7 October).
    np.testing.assert_array_equal(business_days(months), [17, 14, 23, 18])


def test_a_book_that_works_on_business_days_is_forecast_by_its_calendar() -> None:
    """Flows proportional to business days (takings): October's National Day week and the
    Spring Festival month are forecast low, a month without holidays high, close to the truth."""
    months = pd.date_range("2024-11-01", periods=24, freq="MS")
    numbers = months.year * 12 + months.month - 1
    per_day = 1e6
    rng = np.random.default_rng(3)
    flows = per_day * business_days(numbers) * (1 + rng.normal(0, 0.03, len(months)))
    monthly = pd.DataFrame({"customer_id": "C0", "month": months.date, "source_channel": "bank", "category": "transfer",
                            "inflow_cny": flows, "outflow_cny": 0.0, "net_cny": flows, "flow_count": 1})
    ahead = forecast_monthly_flows(monthly, horizon=12).forecast
    inflow = ahead[ahead["series"] == "inflow"].set_index(pd.to_datetime(ahead.loc[ahead["series"] == "inflow", "month"]))["forecast"]
    truth = per_day * business_days(inflow.index.year * 12 + inflow.index.month - 1)
    assert np.mean(np.abs(inflow.to_numpy() - truth) / truth) < 0.06
    assert inflow["2027-07-01"] > inflow["2027-05-01"] > inflow["2027-10-01"]


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


def test_rows_summed_per_customer_and_month_give_the_same_forecast() -> None:
    # The asset sums the mart's channel × category rows per customer and month in DuckDB.
    monthly = customer_monthly()
    summed = monthly.groupby(["customer_id", "month"], as_index=False)[["inflow_cny", "outflow_cny", "net_cny"]].sum()
    assert len(summed) < len(monthly)
    segments = pd.DataFrame({"customer_id": ["C0", "C1", "C2"], "segment_name": ["a", "a", "b"]})
    fine, coarse = (forecast_flow_groups(rows, segments=segments, key_accounts=["C2"], horizon=12) for rows in (monthly, summed))
    np.testing.assert_allclose(coarse.forecast["forecast"], fine.forecast["forecast"], rtol=1e-9)
    np.testing.assert_allclose(coarse.backtest["forecast"], fine.backtest["forecast"], rtol=1e-9)
    assert coarse.metrics == pytest.approx(fine.metrics, rel=1e-9)


def test_rolling_backtest_refits_at_each_origin() -> None:
    result = forecast_flow_groups(customer_monthly(), horizon=6)
    backtest = result.backtest
    assert backtest["origin"].nunique() == 6 and backtest["months_ahead"].max() == 3
    assert (pd.to_datetime(backtest["month"]) >= pd.to_datetime(backtest["origin"])).all()
    assert backtest.groupby("origin")["months_ahead"].max().tolist() == [3, 3, 3, 3, 2, 1]


def _pooled_mase_ratio(frames: list[pd.DataFrame]) -> float:
    frame = pd.concat(frames)
    model = np.mean(np.abs(frame["actual"] - frame["forecast"]) / frame["mase_scale"])
    naive = np.mean(np.abs(frame["actual"] - frame["seasonal_naive"]) / frame["mase_scale"])
    return float(model / naive)


def test_rolling_backtest_beats_the_naive_by_a_tenth_on_noisy_books() -> None:
    """Pooled over 40 books (one book's 15 backtest months are too few to judge on)."""
    by_series: dict[str, list[pd.DataFrame]] = {"inflow": [], "outflow": [], "net": []}
    for seed in range(40):
        totals = monthly_totals(customer_monthly(seed=seed))
        for series, frames in by_series.items():
            frames.append(rolling_backtest(totals.index, totals[series].to_numpy()))
    ratios = {series: _pooled_mase_ratio(frames) for series, frames in by_series.items()}
    assert all(ratio < 0.9 for ratio in ratios.values()), ratios


def test_rolling_backtest_can_lose_to_the_naive() -> None:
    """A sharp yearly pattern that repeats almost exactly: last year's month is nearly perfect and
    the combination's pull toward the yearly mean loses (the bar can fail)."""
    months = pd.date_range(START, periods=24, freq="MS")
    frames = []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        pattern = rng.normal(100, 30, 12)
        y = np.tile(pattern, 2) + rng.normal(0, 2, 24)
        frames.append(rolling_backtest(months, y))
    assert _pooled_mase_ratio(frames) > 1.5


def test_a_short_key_account_history_is_skipped_not_fatal() -> None:
    monthly = customer_monthly()
    late = monthly[monthly["customer_id"] == "C2"].copy()
    late = late[pd.to_datetime(late["month"]) >= pd.Timestamp("2024-06-01")].assign(customer_id="NEW")
    result = forecast_flow_groups(pd.concat([monthly, late]), key_accounts=["NEW"], horizon=3)
    assert result.skipped == {"key_account": 1}
    assert "key_account" not in set(result.forecast["scope"])
