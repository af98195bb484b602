"""Monthly fund-flow forecast: inflow, outflow and net, total / per segment / per key account.

Input: rows of customer_id, month, inflow_cny, outflow_cny, net_cny at the grain of customer ×
month or finer (``marts.mart_customer_monthly`` is customer × month × channel × category), summed
to one value per month, group and series.
The asset feeds it the mart's outlier-excluded sums, so model and baseline see the same series.

Method: per series, the mean of two forecasts:
A. **business-day model**: flow per business day over the last 12 months (January and February
   left out: the Spring Festival's bonuses and red packets are not a working-day level) times the
   target month's business days in mainland China (``ml.business_calendar``: weekdays minus the
   public holidays). Business takings, supplier payments and wealth-product purchases happen on
   working days, so October (National Day week) and the Spring Festival month are low and a
   month without holidays high, and that calendar shifts from one year to the next;
B. **the equal-weight combination** of seasonal naive (same month last year), the 12-month mean
   and OLS on an intercept and ``HARMONICS`` (2) yearly sine/cosine pairs (no trend), which
   averages away month-to-month noise (large one-off flows) and keeps some calendar-month shape.
Why: the demo books' month totals are dominated by lumpy flows (takings, wealth-product sweeps)
whose level follows the working-day calendar; the seasonal naive copies last year's noise and
last year's calendar. Candidates (B alone, A alone, A with a 6/9-month window, A with a trend or
with intercept + slope on business days, A + naive, A + B, and equal-weight mixes) were scored on
the rolling-origin backtest of six worlds (1000 customers seeds 11, 7, 5, 3, 13; 3000 seed 42);
A + B had the smallest worst ratio (tie with the four-way mix, broken by the lower mean), then
was confirmed on two worlds not used to choose (seed 17 with 1000, seed 19 with 2000 customers).
Worst of the three series' ratios (model MASE / seasonal-naive MASE), A + B vs B alone:
seed 11: 0.74 vs 0.87 · 42: 0.91 vs 0.92 · 7: 0.91 vs 0.88 · 5: 0.85 vs 0.90 · 3: 0.79 vs 0.72
· 13: 0.73 vs 0.78; unseen seed 17: 0.63 vs 0.88, seed 19: 0.70 vs 0.71. The bar of 0.8 is met
on five of the eight; a world's 15 backtest months are few, so the ratio moves by ~0.1 between
worlds (month totals are mostly irreducible noise, for which ~0.71 is the expected ratio of even
a perfect level forecast against the seasonal naive).
Known costs: a sharp calendar-month peak that is not in the working-day calendar (618, Double 11)
is shrunk toward the level; the Spring Festival excess (year-end bonuses) reaches the forecast
only through the seasonal-naive sixth, in last year's calendar month; no trend is extrapolated.
Everything is linear in y with the same design for every series, so the net forecast equals
inflow minus outflow and segments add up to the total whenever their histories span the same months.
ETS / Holt-Winters (statsmodels) needs two full seasons to initialise, which the backtest's
18-23-month training windows do not have.

Interval: ``ŷ ± t(m) · s · sqrt(1 + 1/m)``, ``s`` the root mean square of the model's in-sample
errors over the ``m`` months that have a year before them (the smooth part is fitted on those
months too, so ``s`` is somewhat optimistic), widened by sqrt(2) past 12 months ahead. The
backtest reports how often the held-out months fell inside it (``<series>_coverage``).

Backtest: ``forecast_monthly_flows`` holds out the last ``BACKTEST_MONTHS`` (3) months;
``forecast_flow_groups`` runs a rolling-origin backtest (``rolling_backtest``). MASE is the MAE
divided by the in-sample MAE of the seasonal-naive forecast (lag 12) on the training window; the
seasonal-naive forecast itself is scored on the same months with the same scale.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from ml.business_calendar import business_days

MODEL_NAME = "flowfc-combo"
MODEL_REVISION = "v3"
SERIES = ("inflow", "outflow", "net")
SEASON = 12
BACKTEST_MONTHS = 3
HARMONICS = 2  # sine/cosine pairs of the yearly shape
SPRING_FESTIVAL_MONTHS = (0, 1)  # January, February (month number % 12)
# The backtest's training window must hold a full year plus months to measure the error on:
# 12 + 3 held out + 3 spare.
MIN_HISTORY_MONTHS = SEASON + BACKTEST_MONTHS + 3
REQUIRED_COLUMNS = ("customer_id", "month", "inflow_cny", "outflow_cny", "net_cny")
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
    return _totals_of(*_parse(monthly))


def _parse(monthly: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Validated month starts and inflow / outflow / net amounts (columns named by series)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in monthly.columns]
    if missing:
        raise ValueError(f"the flow forecast needs columns {missing} (customer_id, month and the sums of marts.mart_customer_monthly)")
    if monthly.empty:
        raise ValueError("no monthly flows to forecast: the input is empty")
    months = pd.to_datetime(monthly["month"], errors="coerce")
    if months.isna().any():
        raise ValueError(f"{int(months.isna().sum())} rows have no valid month")
    month_start = months.dt.to_period("M").dt.to_timestamp()
    values = monthly[list(_SOURCE_COLUMNS.values())].apply(pd.to_numeric, errors="raise").fillna(0.0)
    values.columns = list(_SOURCE_COLUMNS)
    return month_start, values


def _totals_of(month_start: pd.Series, values: pd.DataFrame) -> pd.DataFrame:
    totals = values.groupby(month_start.to_numpy()).sum()
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
        "harmonics": float(HARMONICS),
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
            f"mean of a business-day model (flow per Chinese business day, last 12 months) and the mean of "
            f"seasonal naive, last-12-month mean and OLS on {HARMONICS} yearly Fourier pairs; {interval:.0%} interval from the in-sample error; backtest on the last {BACKTEST_MONTHS} months, "
            "MASE scaled by the in-sample seasonal-naive (lag 12) MAE"
        ),
    )


# --- the model: an equal-weight combination of three linear forecasts ------------------------------


def _month_numbers(months: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Months as integers (year * 12 + month - 1). The grouped forecast fits thousands of short
    series; converting each group's months once keeps pandas' per-call overhead out of the fits."""
    if isinstance(months, np.ndarray) and months.dtype.kind == "i":
        return months
    index = pd.DatetimeIndex(months)
    return np.asarray(index.year, dtype="int64") * SEASON + np.asarray(index.month, dtype="int64") - 1


@lru_cache(maxsize=256)
def _t_quantile(probability: float, dof: int) -> float:
    return float(stats.t.ppf(probability, dof))


def _fourier_design(months: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Intercept and ``HARMONICS`` sine/cosine pairs of the calendar month: a smooth yearly shape
    with 5 parameters instead of 12 month dummies, so two years of noisy months are pooled."""
    phase = 2 * np.pi * _month_numbers(months) / SEASON
    columns = [np.ones(len(months))]
    for k in range(1, HARMONICS + 1):
        columns += [np.cos(k * phase), np.sin(k * phase)]
    return np.column_stack(columns)


@dataclass(frozen=True)
class _Fit:
    y: np.ndarray
    last_month: int  # as _month_numbers
    fourier_coefficients: np.ndarray
    per_business_day: float  # the calendar model's level: flow per business day
    residual_std: float
    dof: int
    fitted: np.ndarray  # in-sample combination where all three parts exist (month 13 on), else NaN

    def predict(self, months: pd.DatetimeIndex | np.ndarray, interval: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        numbers = _month_numbers(months)
        ahead = numbers - self.last_month
        if (ahead < 1).any():
            raise ValueError("predict only months after the fitted history")
        naive = _seasonal_naive(self.y, int(ahead.max()))[ahead - 1]
        level = np.full(len(ahead), self.y[-SEASON:].mean())
        smooth = _fourier_design(numbers) @ self.fourier_coefficients
        calendar = self.per_business_day * business_days(numbers)
        point = ((naive + level + smooth) / 3 + calendar) / 2
        half_width = _t_quantile(0.5 + interval / 2, self.dof) * self.residual_std * np.sqrt(1.0 + 1.0 / self.dof)
        half_width = half_width * np.sqrt(np.ceil(ahead / SEASON))  # past a year the naive part repeats a forecast
        return point, point - half_width, point + half_width


def _fit(months: pd.DatetimeIndex | np.ndarray, y: np.ndarray) -> _Fit:
    """Fit both models (and the three parts of the combination); the interval's spread is the combination's in-sample error on the
    months that have a year before them (the seasonal-naive part needs it)."""
    n = len(y)
    if n <= SEASON + 1:
        raise ValueError(f"history of {n} months leaves no month to measure the forecast error on")
    numbers = _month_numbers(months)
    design = _fourier_design(numbers)
    coefficients, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
    if rank < design.shape[1]:
        raise ValueError("history too short to identify the yearly shape")
    smooth = design @ coefficients
    days = business_days(numbers)
    # In-sample, every month from the 13th: each part from the 12 months before it. Trailing
    # 12-month sums by cumulative sums (this runs for thousands of short series per refresh).
    kept = ~_is_spring_festival_month(numbers)

    def trailing(values: np.ndarray) -> np.ndarray:  # sum of the 12 values before each month t >= 12
        running = np.cumsum(np.r_[0.0, values])
        return running[SEASON:-1] - running[:-SEASON - 1]

    per_day = trailing(np.where(kept, y, 0.0)) / np.maximum(trailing(np.where(kept, days, 0.0)), 1.0)
    fitted = np.full(n, np.nan)
    fitted[SEASON:] = ((y[:-SEASON] + trailing(y) / SEASON + smooth[SEASON:]) / 3 + per_day * days[SEASON:]) / 2
    residuals = (y - fitted)[SEASON:]
    dof = len(residuals)
    return _Fit(
        y=np.asarray(y, dtype="float64"),
        last_month=int(numbers[-1]),
        fourier_coefficients=coefficients,
        per_business_day=_per_business_day(y[-SEASON:], numbers[-SEASON:], days[-SEASON:]),
        residual_std=float(np.sqrt(np.mean(residuals**2))),
        dof=dof,
        fitted=fitted,
    )


def _per_business_day(y: np.ndarray, numbers: np.ndarray, days: np.ndarray) -> float:
    """Flow per business day over the given months, leaving out January and February: the
    Spring Festival (always between 21 January and 20 February) brings year-end bonuses, red
    packets and holiday spending that a per-working-day level must not average in."""
    keep = ~_is_spring_festival_month(numbers)
    if not keep.any() or days[keep].sum() <= 0:
        keep = np.ones(len(y), dtype=bool)
    return float(y[keep].sum() / max(days[keep].sum(), 1.0))


def _is_spring_festival_month(numbers: np.ndarray) -> np.ndarray:
    return (numbers % SEASON) <= max(SPRING_FESTIVAL_MONTHS)


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
        {"rev": MODEL_REVISION, "harmonics": HARMONICS, "horizon": horizon, "interval": interval, "season": SEASON},
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

    The model is the one of ``forecast_monthly_flows`` (business-day model and the naive / mean /
    yearly-shape combination) fitted per series. A segment or customer whose history is shorter than
    ``MIN_HISTORY_MONTHS`` is skipped and counted in ``skipped``.
    """
    if not isinstance(horizon, (int, np.integer)) or not 1 <= horizon <= 24:
        raise ValueError(f"horizon must be 1..24 months, got {horizon!r}")
    if not 0 < interval < 1:
        raise ValueError(f"interval must be a coverage between 0 and 1, got {interval!r}")
    # Months and amounts are parsed once and each scope is one groupby: at 100k customers the
    # input has ~7M rows, and a per-group monthly_totals would re-parse them per segment.
    month_start, values = _parse(monthly)
    totals = _totals_of(month_start, values)
    full_range = totals.index
    groups: list[tuple[str, str, pd.DataFrame]] = [("total", "all", totals)]
    if segments is not None:
        missing = {"customer_id", "segment_name"} - set(segments.columns)
        if missing:
            raise ValueError(f"segments needs columns {sorted(missing)}")
        label = monthly["customer_id"].map(segments.drop_duplicates("customer_id").set_index("customer_id")["segment_name"])
        groups += [("segment", name, frame) for name, frame in _group_totals(values, label, month_start, full_range)]
    if key_accounts:
        label = monthly["customer_id"].where(monthly["customer_id"].isin(set(key_accounts)))
        groups += [("key_account", name, frame) for name, frame in _group_totals(values, label, month_start, full_range)]

    future = pd.date_range(full_range[-1] + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    future_numbers = _month_numbers(future)
    # Results are collected as plain lists of rows and become one frame each at the end: a frame
    # per series was most of the cost with hundreds of key accounts.
    forecast_rows: list[tuple] = []
    backtest_rows: list[tuple] = []
    skipped: dict[str, int] = {}
    for scope, scope_id, frame in groups:
        values = frame[list(SERIES)].to_numpy(dtype="float64")
        active = np.flatnonzero(np.abs(values).sum(axis=1) > 0)
        history = frame.iloc[active[0]:] if len(active) else frame.iloc[0:0]
        if len(history) < MIN_HISTORY_MONTHS:
            skipped[scope] = skipped.get(scope, 0) + 1
            continue
        history_numbers = _month_numbers(history.index)
        stamps = np.asarray(history.index)
        for series in SERIES:
            y = history[series].to_numpy(dtype="float64")
            point, lower, upper = _fit(history_numbers, y).predict(future_numbers, interval)
            forecast_rows.extend(zip([scope] * horizon, [scope_id] * horizon, [series] * horizon, future, point, lower, upper))
            backtest_rows.extend((scope, scope_id, series, *row) for row in _rolling_backtest_rows(history_numbers, stamps, y, interval))
    forecast = _with_dates(pd.DataFrame(forecast_rows, columns=["scope", "scope_id", "series", "month", "forecast", "lower", "upper"]))
    backtest = pd.DataFrame(backtest_rows, columns=["scope", "scope_id", "series", *BACKTEST_COLUMNS])
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
            f"per series mean of a business-day model (flow per Chinese business day, last 12 months) and the "
            f"mean of seasonal naive, last-12-month mean and OLS on {HARMONICS} yearly Fourier pairs; {interval:.0%} interval from the in-sample error; rolling-origin backtest from each of the last "
            f"{ROLLING_ORIGINS} months, 1..{ROLLING_MAX_AHEAD} months ahead, against the seasonal-naive (lag 12)"
        ),
    )


def rolling_backtest(months: pd.DatetimeIndex, y: np.ndarray, interval: float = 0.9) -> pd.DataFrame:
    """Refit at each origin (the first forecast month) among the last ``ROLLING_ORIGINS`` months,
    on everything before it, and forecast 1..``ROLLING_MAX_AHEAD`` months ahead where the history
    has the actual. Each row also has the seasonal-naive forecast (same month a year before the
    origin's data) and ``mase_scale``: the in-sample seasonal-naive MAE of that origin's training
    window, so MASE = |error| / scale for both forecasts."""
    rows = _rolling_backtest_rows(_month_numbers(months), np.asarray(pd.DatetimeIndex(months)), y, interval)
    return pd.DataFrame(rows, columns=BACKTEST_COLUMNS)


BACKTEST_COLUMNS = ["origin", "month", "months_ahead", "actual", "forecast", "lower", "upper", "seasonal_naive", "mase_scale"]


def _rolling_backtest_rows(numbers: np.ndarray, stamps: np.ndarray, y: np.ndarray, interval: float) -> list[tuple]:
    n = len(y)
    rows = []
    for origin in range(max(MIN_HISTORY_MONTHS - BACKTEST_MONTHS, n - ROLLING_ORIGINS), n):
        y_train = y[:origin]
        fit = _fit(numbers[:origin], y_train)
        ahead = np.arange(origin, min(n, origin + ROLLING_MAX_AHEAD))
        point, lower, upper = fit.predict(numbers[ahead], interval)
        naive = _seasonal_naive(y_train, len(ahead))
        scale = _mase_scale(y_train)
        for j, i in enumerate(ahead):
            rows.append((stamps[origin], stamps[i], j + 1, y[i], point[j], lower[j], upper[j], naive[j], scale))
    return rows


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


def _group_totals(values: pd.DataFrame, label: pd.Series, month_start: pd.Series,
                  full_range: pd.DatetimeIndex) -> list[tuple[str, pd.DataFrame]]:
    """Per label (rows with no label are left out): inflow / outflow / net per month over ``full_range``."""
    keep = label.notna().to_numpy()
    if not keep.any():
        return []
    sums = values[keep].groupby([label[keep].astype(str).to_numpy(), month_start[keep].to_numpy()]).sum()
    out = []
    for name, frame in sums.groupby(level=0, sort=True):
        frame = frame.droplevel(0).reindex(full_range, fill_value=0.0).rename_axis("month").astype("float64")
        out.append((str(name), frame))
    return out
