"""CLV: BG/NBD and Gamma-Gamma recover the parameters of data simulated from the models, the
RFM summary follows the published conventions, and bad input is refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from ml import clv
from ml.clv import (
    BgNbdParams,
    customer_lifetime_value,
    expected_transactions,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
    rfm_summary,
)

TRUE_BGNBD = {"r": 0.8, "alpha": 5.0, "a": 0.6, "b": 2.5}
TRUE_GG = {"p": 5.0, "q": 4.0, "v": 20.0}


def simulate_bgnbd(n: int, T: float, seed: int) -> pd.DataFrame:
    """Draw (x, t_x, T) from the BG/NBD story: Poisson purchases at rate λ ~ Gamma(r, α) until
    the customer drops out after any purchase with probability p ~ Beta(a, b)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE_BGNBD["r"], 1 / TRUE_BGNBD["alpha"], n)
    drop = rng.beta(TRUE_BGNBD["a"], TRUE_BGNBD["b"], n)
    rows = []
    for i in range(n):
        t, x, t_x = 0.0, 0, 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T:
                break
            x, t_x = x + 1, t
            if rng.random() < drop[i]:
                break
        rows.append((x, t_x, T))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"])


def simulate_gamma_gamma(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 12, n)
    nu = rng.gamma(TRUE_GG["q"], 1 / TRUE_GG["v"], n)
    return x.astype(float), np.array([rng.gamma(TRUE_GG["p"], 1 / nu[i], x[i]).mean() for i in range(n)])


def test_bgnbd_recovers_simulated_parameters() -> None:
    data = simulate_bgnbd(6000, T=52.0, seed=3)
    fitted = fit_bgnbd(data["frequency"], data["recency"], data["T"])
    assert fitted.converged
    for name, true in TRUE_BGNBD.items():
        assert getattr(fitted, name) == pytest.approx(true, rel=0.2), name


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    x, zbar = simulate_gamma_gamma(4000, seed=5)
    fitted = fit_gamma_gamma(x, zbar)
    assert fitted.converged
    for name, true in TRUE_GG.items():
        assert getattr(fitted, name) == pytest.approx(true, rel=0.15), name


def test_exact_gradients_agree_with_finite_differences() -> None:
    bg = simulate_bgnbd(800, T=52.0, seed=7)
    x, t_x, big_t = (bg[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    gg_x, zbar = simulate_gamma_gamma(800, seed=7)
    for log_params in (np.log([0.5, 3.0, 0.7, 2.0]), np.log([1.0, 1.0, 1.0, 1.0])):
        numeric = optimize.approx_fprime(log_params, lambda lp: clv.bgnbd_log_likelihood(np.exp(lp), x, t_x, big_t).sum(), 1e-7)
        assert clv._bgnbd_log_gradient(np.exp(log_params), x, t_x, big_t) == pytest.approx(numeric, rel=1e-4, abs=1e-3)
    log_params = np.log([2.0, 3.0, 15.0])
    numeric = optimize.approx_fprime(log_params, lambda lp: clv.gamma_gamma_log_likelihood(np.exp(lp), gg_x, zbar).sum(), 1e-7)
    assert clv._gamma_gamma_log_gradient(np.exp(log_params), gg_x, zbar) == pytest.approx(numeric, rel=1e-4, abs=1e-3)


def test_fits_do_not_depend_on_the_customers_order() -> None:
    # The Online Retail fit once came back converged=False or not depending on the row order.
    bg = simulate_bgnbd(3000, T=52.0, seed=11)
    gg_x, zbar = simulate_gamma_gamma(3000, seed=11)
    fits = []
    for seed in range(5):
        order = np.random.default_rng(seed).permutation(3000)
        b = fit_bgnbd(*(bg[c].to_numpy()[order] for c in ("frequency", "recency", "T")))
        g = fit_gamma_gamma(gg_x[order], zbar[order])
        assert b.converged and g.converged
        fits.append([b.r, b.alpha, b.a, b.b, g.p, g.q, g.v])
    fits = np.array(fits)
    assert np.max(np.abs(fits / fits[0] - 1)) < 1e-6


def test_a_fit_stopped_before_the_optimum_is_not_converged() -> None:
    gg_x, zbar = simulate_gamma_gamma(2000, seed=5)

    def fit(max_iterations: int) -> bool:
        return clv._maximise(
            lambda params: clv.gamma_gamma_log_likelihood(params, gg_x, zbar).sum(),
            lambda params: clv._gamma_gamma_log_gradient(params, gg_x, zbar),
            np.array([1.0, 1.0, zbar.mean()]), len(zbar), max_iterations=max_iterations,
        )[2]

    assert not fit(5) and fit(2000)


def test_rfm_summary_counts_days_in_weeks() -> None:
    transactions = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c"],
            "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-15", "2024-03-01", "2024-01-29", "2024-02-01"]),
            "value": [10.0, 5.0, 20.0, 999.0, 7.0, 3.0],
        }
    )
    summary = rfm_summary(transactions, pd.Timestamp("2024-01-29")).set_index("customer_id")
    # a: two purchases on day 0 are one; the 2024-03-01 one is after the calibration end.
    assert summary.loc["a", "frequency"] == 1
    assert summary.loc["a", "recency"] == pytest.approx(2.0)
    assert summary.loc["a", "T"] == pytest.approx(4.0)
    assert summary.loc["a", "monetary"] == pytest.approx(20.0)  # repeat purchases only
    assert summary.loc["b", "frequency"] == 0 and summary.loc["b", "T"] == 0
    assert "c" not in summary.index


def test_predictions_behave() -> None:
    params = BgNbdParams(0.243, 4.414, 0.793, 2.426, 0.0, True)
    # Same frequency, longer silence since the last purchase: less likely alive, fewer expected.
    alive = probability_alive(params, [5, 5], [30.0, 5.0], [39.0, 39.0])
    assert alive[0] > alive[1]
    expected = expected_transactions(params, 52.0, [5, 5, 0], [30.0, 5.0, 0.0], [39.0, 39.0, 39.0])
    assert expected[0] > expected[1] > 0 and expected[2] > 0
    assert probability_alive(params, [0], [0.0], [39.0])[0] == 1.0


def test_customer_lifetime_value_covers_every_customer() -> None:
    rng = np.random.default_rng(1)
    days = pd.date_range("2024-01-01", "2025-12-31")
    rows = [(f"c{i:03d}", day, float(rng.gamma(2, 50))) for i in range(200) for day in rng.choice(days, rng.integers(1, 30))]
    transactions = pd.DataFrame(rows, columns=["customer_id", "date", "value"])
    result = customer_lifetime_value(transactions, pd.Timestamp("2025-12-31"), customers=pd.Series([*transactions["customer_id"].unique(), "never"]))
    frame = result.customers.set_index("customer_id")
    assert len(frame) == 201 and frame.loc["never", "clv_12m_cny"] == 0
    assert (frame["clv_12m_cny"] >= 0).all() and frame["probability_alive"].between(0, 1).all()
    assert result.metrics["holdout_predicted_transactions"] > 0
    assert result.model_version.startswith("clv-bgnbd-gg-v2-")


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="recency"):
        fit_bgnbd([1, 0], [5.0, 2.0], [10.0, 10.0])  # recency > 0 with no repeat purchase
    with pytest.raises(ValueError, match="lack columns"):
        rfm_summary(pd.DataFrame({"customer_id": ["a"]}), pd.Timestamp("2024-01-01"))
    with pytest.raises(ValueError, match="fewer than 3"):
        fit_gamma_gamma([0, 0, 1], [0.0, 0.0, 5.0])
