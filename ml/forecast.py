"""Monthly fund-flow forecast: total inflow, outflow and net, a few months ahead.

Input: ``marts.mart_customer_monthly`` (customer_id, month, source_channel, category,
inflow_cny, outflow_cny, net_cny, flow_count), summed to one total per month and series.

Method: per series, ordinary least squares on an intercept, a linear trend and month-of-year
dummies, with the trend **damped** when extrapolated (``DAMPING`` = 0.9: month h ahead adds
0.9 + 0.9² + … + 0.9ʰ months of trend instead of h). Why this and not something richer:
- with ~24 months every calendar month is seen about twice, so a month-of-year effect (salary
  bonuses, Spring Festival, 618, Double 11) can be estimated but not much more;
- a trend fitted on two years should not be extrapolated at full slope: damping is the standard
  guard (Gardner & McKenzie) and costs no parameter we would have to estimate;
- the model is linear in y with the same design for every series, so the net forecast equals
  inflow minus outflow whenever the mart's net does: the three series stay coherent;
- no maintained forecasting library is in the environment (statsmodels' ETS / SARIMAX would be
  the alternative); the regression needs only numpy and scipy, which scikit-learn brings.

Interval: the OLS prediction interval, ``ŷ ± t(dof) · s · sqrt(1 + x₀ᵀ(XᵀX)⁻¹x₀)`` at
``interval`` coverage (default 90 %), from the residual standard error ``s`` with ``n - p``
degrees of freedom. It assumes independent, equal-variance errors and ignores the uncertainty
of the damping choice, so it is optimistic for longer horizons; the backtest reports how often
the held-out months fell inside it (``<series>_coverage``).

Backtest: the last ``BACKTEST_MONTHS`` (3) months are held out, the model is fitted on the
rest and forecasts them. ``metrics`` has, per series, ``mae`` and ``mase`` (MAE divided by the
in-sample MAE of the **seasonal-naive** forecast, lag 12, on the training window; < 1 means
better than repeating last year's month on average), the same two for the seasonal-naive
forecast itself, and the interval coverage.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

MODEL_NAME = "flowfc-ols-damped"
MODEL_REVISION = "v1"
SERIES = ("inflow", "outflow", "net")
SEASON = 12
BACKTEST_MONTHS = 3
DAMPING = 0.9
# The backtest's training window must contain every calendar month (else a month effect is
# unidentified) and leave residual degrees of freedom: 12 + 3 held out + 3 spare.
MIN_HISTORY_MONTHS = SEASON + BACKTEST_MONTHS + 3
REQUIRED_COLUMNS = ("customer_id", "month", "source_channel", "category", "inflow_cny", "outflow_cny", "net_cny", "flow_count")
_SOURCE_COLUMNS = {"inflow": "inflow_cny", "outflow": "outflow_cny", "net": "net_cny"}


@dataclass(frozen=True)
class ForecastResult:
    forecast: pd.DataFrame  # series, month, forecast, lower, upper — the months ahead only
    history: pd.DataFrame  # series, month, actual, fitted — for plotting against the forecast
    backtest: pd.DataFrame  # series, month, actual, forecast, lower, upper, seasonal_naive
    metrics: dict[str, float]
    model_version: str
    interval_level: float
    method: str

    def plot_frame(self) -> pd.DataFrame:
        """History and forecast in one long frame: series, month, kind, actual, forecast, lower, upper."""
        history = self.history.rename(columns={"fitted": "forecast"}).assign(kind="actual", lower=np.nan, upper=np.nan)
        ahead = self.forecast.assign(kind="forecast", actual=np.nan)
        columns = ["series", "month", "kind", "actual", "forecast", "lower", "upper"]
        frame = pd.concat([history[columns], ahead[columns]], ignore_index=True)
        return frame.sort_values(["series", "month"], kind="stable").reset_index(drop=True)


def monthly_totals(monthly: pd.DataFrame) -> pd.DataFrame:
    """Total inflow / outflow / net per calendar month, every month from first to last present.

    A month inside the range with no rows at all had no flows, so it is 0 (and counted in
    ``metrics['months_without_flows']`` by the forecast, since it may also mean missing data).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in monthly.columns]
    if missing:
        raise ValueError(f"forecast_monthly_flows needs columns {missing} of marts.mart_customer_monthly")
    if monthly.empty:
        raise ValueError("no monthly flows to forecast: the input is empty")
    months = pd.to_datetime(monthly["month"], errors="coerce")
    if months.isna().any():
        raise ValueError(f"{int(months.isna().sum())} rows have no valid month")
    month_start = months.dt.to_period("M").dt.to_timestamp()
    values = monthly[list(_SOURCE_COLUMNS.values())].apply(pd.to_numeric, errors="raise").fillna(0.0)
    totals = values.groupby(month_start.to_numpy()).sum()
    totals.columns = list(_SOURCE_COLUMNS)
    full_range = pd.date_range(totals.index.min(), totals.index.max(), freq="MS")
    totals = totals.reindex(full_range, fill_value=0.0)
    totals.index.name = "month"
    return totals.astype("float64")


def forecast_monthly_flows(monthly: pd.DataFrame, *, horizon: int = 3, interval: float = 0.9) -> ForecastResult:
    """Forecast total monthly inflow, outflow and net ``horizon`` months past the last month."""
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be a positive number of months, got {horizon!r}")
    if not 0 < interval < 1:
        raise ValueError(f"interval must be a coverage between 0 and 1, got {interval!r}")
    totals = monthly_totals(monthly)
    n_months = len(totals)
    if n_months < MIN_HISTORY_MONTHS:
        raise ValueError(
            f"forecast needs at least {MIN_HISTORY_MONTHS} months of history (a full year plus the "
            f"{BACKTEST_MONTHS} held-out backtest months and spare), got {n_months} "
            f"({totals.index[0]:%Y-%m} .. {totals.index[-1]:%Y-%m})"
        )
    months = totals.index
    future = pd.date_range(months[-1] + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    train_months = months[:-BACKTEST_MONTHS]
    test_months = months[-BACKTEST_MONTHS:]

    forecasts, histories, backtests = [], [], []
    metrics: dict[str, float] = {
        "history_months": float(n_months),
        "backtest_months": float(BACKTEST_MONTHS),
        "months_without_flows": float((totals.abs().sum(axis=1) == 0).sum()),
        "interval_level": float(interval),
        "damping": DAMPING,
    }
    for series in SERIES:
        y = totals[series].to_numpy()

        full = _fit(months, y)
        point, lower, upper = full.predict(future, interval)
        forecasts.append(pd.DataFrame({"series": series, "month": future, "forecast": point, "lower": lower, "upper": upper}))
        histories.append(pd.DataFrame({"series": series, "month": months, "actual": y, "fitted": full.fitted}))

        y_train, y_test = y[:-BACKTEST_MONTHS], y[-BACKTEST_MONTHS:]
        held_out = _fit(train_months, y_train)
        bt_point, bt_lower, bt_upper = held_out.predict(test_months, interval)
        naive = _seasonal_naive(y_train, BACKTEST_MONTHS)
        scale = _mase_scale(y_train)
        mae = float(np.mean(np.abs(y_test - bt_point)))
        naive_mae = float(np.mean(np.abs(y_test - naive)))
        metrics[f"{series}_mae"] = mae
        metrics[f"{series}_mase"] = mae / scale if scale > 0 else float("nan")
        metrics[f"{series}_seasonal_naive_mae"] = naive_mae
        metrics[f"{series}_seasonal_naive_mase"] = naive_mae / scale if scale > 0 else float("nan")
        metrics[f"{series}_coverage"] = float(np.mean((y_test >= bt_lower) & (y_test <= bt_upper)))
        backtests.append(
            pd.DataFrame(
                {
                    "series": series,
                    "month": test_months,
                    "actual": y_test,
                    "forecast": bt_point,
                    "lower": bt_lower,
                    "upper": bt_upper,
                    "seasonal_naive": naive,
                }
            )
        )

    return ForecastResult(
        forecast=_with_dates(pd.concat(forecasts, ignore_index=True)),
        history=_with_dates(pd.concat(histories, ignore_index=True)),
        backtest=_with_dates(pd.concat(backtests, ignore_index=True)),
        metrics=metrics,
        model_version=_model_version(totals, horizon=horizon, interval=interval),
        interval_level=float(interval),
        method=(
            f"OLS on intercept + linear trend + month-of-year dummies, trend damped by {DAMPING} per month ahead; "
            f"{interval:.0%} OLS prediction interval; backtest on the last {BACKTEST_MONTHS} months, "
            "MASE scaled by the in-sample seasonal-naive (lag 12) MAE"
        ),
    )


# --- the regression ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fit:
    coefficients: np.ndarray
    xtx_inverse: np.ndarray
    residual_std: float
    dof: int
    last_step: int  # trend index of the last fitted month
    last_month: pd.Timestamp
    fitted: np.ndarray

    def predict(self, months: pd.DatetimeIndex, interval: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ahead = np.array([_months_between(self.last_month, m) for m in months])
        if (ahead < 1).any():
            raise ValueError("predict only months after the fitted history")
        damped_steps = np.array([sum(DAMPING**i for i in range(1, h + 1)) for h in ahead])
        design = _design(months, self.last_step + damped_steps)
        point = design @ self.coefficients
        leverage = np.einsum("ij,jk,ik->i", design, self.xtx_inverse, design)
        half_width = stats.t.ppf(0.5 + interval / 2, self.dof) * self.residual_std * np.sqrt(1.0 + leverage)
        return point, point - half_width, point + half_width


def _design(months: pd.DatetimeIndex, steps: np.ndarray) -> np.ndarray:
    """Intercept, trend step, and one dummy per calendar month except January."""
    month_of_year = np.asarray(months.month)
    dummies = (month_of_year[:, None] == np.arange(2, SEASON + 1)[None, :]).astype("float64")
    return np.column_stack([np.ones(len(months)), np.asarray(steps, dtype="float64"), dummies])


def _fit(months: pd.DatetimeIndex, y: np.ndarray) -> _Fit:
    steps = np.arange(len(months), dtype="float64")
    design = _design(months, steps)
    n, p = design.shape
    coefficients, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
    if rank < p:
        raise ValueError("history does not identify every month-of-year effect (some calendar month is missing)")
    dof = n - p
    if dof < 1:
        raise ValueError(f"history of {n} months leaves no degrees of freedom for the interval")
    fitted = design @ coefficients
    residual_std = float(np.sqrt(np.sum((y - fitted) ** 2) / dof))
    return _Fit(
        coefficients=coefficients,
        xtx_inverse=np.linalg.inv(design.T @ design),
        residual_std=residual_std,
        dof=dof,
        last_step=n - 1,
        last_month=months[-1],
        fitted=fitted,
    )


def _months_between(start: pd.Timestamp, end: pd.Timestamp) -> int:
    return (end.year - start.year) * 12 + (end.month - start.month)


def _seasonal_naive(y_train: np.ndarray, horizon: int) -> np.ndarray:
    """Same calendar month last year (repeated yearly if the horizon exceeded a season)."""
    n = len(y_train)
    return np.array([y_train[n - SEASON + (h % SEASON)] for h in range(horizon)])


def _mase_scale(y_train: np.ndarray) -> float:
    """In-sample MAE of the seasonal-naive forecast (lag 12) on the training window."""
    return float(np.mean(np.abs(y_train[SEASON:] - y_train[:-SEASON])))


def _with_dates(frame: pd.DataFrame) -> pd.DataFrame:
    # Calendar months as dates: DuckDB stores them as DATE and BI tools show 2025-01-01.
    return frame.assign(month=pd.to_datetime(frame["month"]).dt.date)


def _model_version(totals: pd.DataFrame, *, horizon: int, interval: float) -> str:
    config = json.dumps(
        {"rev": MODEL_REVISION, "damping": DAMPING, "horizon": horizon, "interval": interval, "season": SEASON},
        sort_keys=True,
    )
    digest = hashlib.sha256(config.encode())
    digest.update(pd.util.hash_pandas_object(totals.reset_index(), index=False).to_numpy().tobytes())
    return f"{MODEL_NAME}-{MODEL_REVISION}-{digest.hexdigest()[:10]}"


# --- many series: total, per segment, per key account, with a rolling-origin backtest -----------

ROLLING_ORIGINS = 6  # backtest origins: each of the last 6 months in turn is the first one forecast
ROLLING_MAX_AHEAD = 3  # from each origin, 1..3 months ahead (as far as the history reaches)


@dataclass(frozen=True)
class GroupedForecast:
    forecast: pd.DataFrame  # scope, scope_id, series, month, forecast, lower, upper
    backtest: pd.DataFrame  # scope, scope_id, series, origin, month, months_ahead, actual, forecast, lower, upper, seasonal_naive
    metrics: dict[str, float]  # per scope and series: mase, seasonal_naive_mase, ratio, coverage
    skipped: dict[str, int]  # per scope: series left out for too short a history
    model_version: str
    method: str


def forecast_flow_groups(
    monthly: pd.DataFrame,
    *,
    segments: pd.DataFrame | None = None,
    key_accounts: list[str] | None = None,
    horizon: int = 12,
    interval: float = 0.9,
) -> GroupedForecast:
    """Forecast inflow / outflow / net ``horizon`` months ahead for the total, each segment
    (``segments``: customer_id, segment_name) and each key account (customer ids), with a
    rolling-origin backtest per series (see ``rolling_backtest``).

    The model is the one of ``forecast_monthly_flows`` (OLS, damped trend, month-of-year
    dummies) fitted per series. A segment or customer whose history is shorter than
    ``MIN_HISTORY_MONTHS`` is skipped and counted in ``skipped``.
    """
    if not isinstance(horizon, (int, np.integer)) or not 1 <= horizon <= 24:
        raise ValueError(f"horizon must be 1..24 months, got {horizon!r}")
    if not 0 < interval < 1:
        raise ValueError(f"interval must be a coverage between 0 and 1, got {interval!r}")
    totals = monthly_totals(monthly)
    full_range = totals.index
    groups: list[tuple[str, str, pd.DataFrame]] = [("total", "all", totals)]
    if segments is not None:
        missing = {"customer_id", "segment_name"} - set(segments.columns)
        if missing:
            raise ValueError(f"segments needs columns {sorted(missing)}")
        labelled = monthly.merge(segments[["customer_id", "segment_name"]], on="customer_id", how="inner")
        for name, part in labelled.groupby("segment_name", sort=True):
            groups.append(("segment", str(name), _on_range(monthly_totals(part), full_range)))
    if key_accounts:
        mine = monthly[monthly["customer_id"].isin(set(key_accounts))]
        for customer_id, part in mine.groupby("customer_id", sort=True):
            groups.append(("key_account", str(customer_id), _on_range(monthly_totals(part), full_range)))

    future = pd.date_range(full_range[-1] + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    forecasts, backtests = [], []
    skipped: dict[str, int] = {}
    for scope, scope_id, frame in groups:
        first_active = frame.index[(frame.abs().sum(axis=1) > 0).to_numpy()].min() if (frame.abs().sum(axis=1) > 0).any() else None
        history = frame.loc[first_active:] if first_active is not None else frame.iloc[0:0]
        if len(history) < MIN_HISTORY_MONTHS:
            skipped[scope] = skipped.get(scope, 0) + 1
            continue
        for series in SERIES:
            y = history[series].to_numpy(dtype="float64")
            point, lower, upper = _fit(history.index, y).predict(future, interval)
            forecasts.append(pd.DataFrame({"scope": scope, "scope_id": scope_id, "series": series, "month": future,
                                           "forecast": point, "lower": lower, "upper": upper}))
            backtests.append(rolling_backtest(history.index, y, interval).assign(scope=scope, scope_id=scope_id, series=series))
    forecast = _with_dates(pd.concat(forecasts, ignore_index=True))
    backtest = pd.concat(backtests, ignore_index=True)
    backtest = backtest[["scope", "scope_id", "series", "origin", "month", "months_ahead", "actual", "forecast",
                         "lower", "upper", "seasonal_naive", "mase_scale"]]
    metrics = backtest_metrics(backtest)
    for scope, count in skipped.items():
        metrics[f"{scope}_series_skipped"] = float(count)
    digest = hashlib.sha256(json.dumps({"rev": MODEL_REVISION, "horizon": horizon, "interval": interval,
                                        "origins": ROLLING_ORIGINS, "ahead": ROLLING_MAX_AHEAD}).encode())
    digest.update(pd.util.hash_pandas_object(totals.reset_index(), index=False).to_numpy().tobytes())
    backtest = backtest.assign(origin=pd.to_datetime(backtest["origin"]).dt.date, month=pd.to_datetime(backtest["month"]).dt.date)
    return GroupedForecast(
        forecast=forecast,
        backtest=backtest,
        metrics=metrics,
        skipped=skipped,
        model_version=f"{MODEL_NAME}-{MODEL_REVISION}-groups-{digest.hexdigest()[:10]}",
        method=(
            f"per series OLS on intercept + linear trend + month-of-year dummies, trend damped by {DAMPING}; "
            f"{interval:.0%} OLS prediction interval; rolling-origin backtest from each of the last "
            f"{ROLLING_ORIGINS} months, 1..{ROLLING_MAX_AHEAD} months ahead, against the seasonal-naive (lag 12)"
        ),
    )


def rolling_backtest(months: pd.DatetimeIndex, y: np.ndarray, interval: float = 0.9) -> pd.DataFrame:
    """Refit at each origin (the first forecast month) among the last ``ROLLING_ORIGINS`` months,
    on everything before it, and forecast 1..``ROLLING_MAX_AHEAD`` months ahead where the history
    has the actual. Each row also has the seasonal-naive forecast (same month a year before the
    origin's data) and ``mase_scale``: the in-sample seasonal-naive MAE of that origin's training
    window, so MASE = |error| / scale for both forecasts."""
    n = len(y)
    rows = []
    for origin in range(max(MIN_HISTORY_MONTHS - BACKTEST_MONTHS, n - ROLLING_ORIGINS), n):
        train_months, y_train = months[:origin], y[:origin]
        fit = _fit(train_months, y_train)
        ahead = np.arange(origin, min(n, origin + ROLLING_MAX_AHEAD))
        point, lower, upper = fit.predict(months[ahead], interval)
        naive = _seasonal_naive(y_train, len(ahead))
        scale = _mase_scale(y_train)
        for j, i in enumerate(ahead):
            rows.append((months[origin], months[i], j + 1, y[i], point[j], lower[j], upper[j], naive[j], scale))
    return pd.DataFrame(rows, columns=["origin", "month", "months_ahead", "actual", "forecast", "lower", "upper",
                                       "seasonal_naive", "mase_scale"])


def backtest_metrics(backtest: pd.DataFrame) -> dict[str, float]:
    """Per scope and series (aggregated over the scope's series ids): MASE of the model and of the
    seasonal-naive baseline, their ratio (< 1: the model beats the baseline) and interval coverage."""
    metrics: dict[str, float] = {}
    frame = backtest[backtest["mase_scale"] > 0]
    for (scope, series), part in frame.groupby(["scope", "series"], sort=True):
        mase = float(np.mean(np.abs(part["actual"] - part["forecast"]) / part["mase_scale"]))
        naive = float(np.mean(np.abs(part["actual"] - part["seasonal_naive"]) / part["mase_scale"]))
        metrics[f"{scope}_{series}_mase"] = mase
        metrics[f"{scope}_{series}_seasonal_naive_mase"] = naive
        metrics[f"{scope}_{series}_mase_ratio"] = mase / naive if naive > 0 else float("nan")
        metrics[f"{scope}_{series}_coverage"] = float(np.mean((part["actual"] >= part["lower"]) & (part["actual"] <= part["upper"])))
    return metrics


def _on_range(totals: pd.DataFrame, full_range: pd.DatetimeIndex) -> pd.DataFrame:
    return totals.reindex(full_range, fill_value=0.0).rename_axis("month")
