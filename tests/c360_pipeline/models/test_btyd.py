"""BG/NBD and Gamma-Gamma: likelihoods, weighted fits, fallbacks and the `lifetimes` reference."""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import sys
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize
from scipy.special import hyp2f1

from c360_pipeline.models import btyd
from c360_pipeline.models.btyd import BgNbdFit, BtydFitError, GammaGammaFit

# Fader, Hardie & Lee (2005), table 1: BG/NBD on the CDNOW cohort (time in weeks).
CDNOW_PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_PUBLISHED_LOG_LIKELIHOOD = -9582.4
# lifetimes' own tolerance is 1e-7 on the gradient; 1e-9 pins its optimum down as tightly as
# ours, so fitted-model predictions can be compared at 1e-6 (at 1e-7 they differ by ~1.4e-6).
LIFETIMES_TIGHT_TOL = 1e-9
PARAM_RTOL = 1e-4
PREDICTION_RTOL = 1e-6


# --------------------------------------------------------------------------- fixtures


def _install_pkg_resources_shim() -> None:
    """lifetimes' dataset loader imports pkg_resources (setuptools), absent from this venv."""
    if "pkg_resources" in sys.modules or importlib.util.find_spec("pkg_resources") is not None:
        return
    shim = types.ModuleType("pkg_resources")

    def resource_filename(package: str, resource: str) -> str:
        spec = importlib.util.find_spec(package)
        assert spec is not None
        assert spec.origin is not None
        return str(Path(spec.origin).parent / resource)

    shim.resource_filename = resource_filename  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = shim


@pytest.fixture(scope="module")
def lifetimes() -> Any:
    """The reference implementation, importable on numpy 2 / pandas 2 with the shim above."""
    _install_pkg_resources_shim()
    # lifetimes silences FutureWarning process-wide on import and in every fit: keep that local.
    with warnings.catch_warnings():
        module = importlib.import_module("lifetimes")
        importlib.import_module("lifetimes.datasets")
    return module


@dataclass(frozen=True)
class Summary:
    """A BTYD summary table, one row per customer."""

    name: str
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray  # customer age, the literature's name
    monetary: np.ndarray

    def unique_rows(self) -> pd.DataFrame:
        """The (frequency, recency, T) combinations with their customer counts."""
        df = pd.DataFrame({"frequency": self.frequency, "recency": self.recency, "T": self.T})
        return df.groupby(["frequency", "recency", "T"], as_index=False).size()


def simulate_summary(
    n_customers: int, r: float, alpha: float, a: float, b: float, seed: int
) -> Summary:
    """Customers from a BG/NBD process (and Gamma-Gamma spend), recorded by whole days."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(r, 1.0 / alpha, n_customers)  # purchases per week
    dropouts = rng.beta(a, b, n_customers)
    age_days = rng.integers(28, 365, n_customers)
    spend_rates = rng.gamma(3.0, 1.0 / 20.0, n_customers)  # Gamma-Gamma nu: q=3, v=20
    frequency = np.zeros(n_customers)
    recency = np.zeros(n_customers)
    monetary = np.zeros(n_customers)
    for i in range(n_customers):
        days: set[int] = set()
        clock = 0.0
        while True:
            clock += rng.exponential(1.0 / rates[i])
            day = math.ceil(clock * 7.0)
            if day > age_days[i]:
                break
            days.add(day)
            if rng.random() < dropouts[i]:
                break
        if days:
            frequency[i] = len(days)
            recency[i] = max(days) / 7.0
            values = rng.gamma(4.0, 1.0 / spend_rates[i], len(days))  # p=4
            monetary[i] = round(float(values.mean()), 2)
    return Summary("synthetic", frequency, recency, age_days / 7.0, monetary)


@pytest.fixture(scope="module")
def cdnow(lifetimes: Any) -> Summary:
    """The CDNOW cohort as bundled with lifetimes (2357 customers, weeks)."""
    df = lifetimes.datasets.load_cdnow_summary_data_with_monetary_value()
    return Summary(
        "cdnow",
        df["frequency"].to_numpy(dtype=float),
        df["recency"].to_numpy(dtype=float),
        df["T"].to_numpy(dtype=float),
        df["monetary_value"].to_numpy(dtype=float),
    )


@pytest.fixture(scope="module")
def synthetic() -> Summary:
    """A seeded simulated cohort of 3000 customers."""
    return simulate_summary(3000, r=0.5, alpha=5.0, a=0.8, b=3.0, seed=20240601)


@pytest.fixture(scope="module", params=["cdnow", "synthetic"])
def summary(request: pytest.FixtureRequest) -> Summary:
    """Each dataset the reference comparison runs on."""
    result: Summary = request.getfixturevalue(request.param)
    return result


def _rel_diff(actual: Any, expected: Any) -> float:
    """Largest relative difference between two arrays."""
    actual_arr = np.asarray(actual, dtype=float)
    expected_arr = np.asarray(expected, dtype=float)
    return float(np.max(np.abs(actual_arr - expected_arr) / np.abs(expected_arr)))


# --------------------------------------------------------------------------- likelihoods


def _direct_bgnbd_log_likelihood(params: dict[str, float], x: int, t_x: float, age: float) -> float:
    """FHL (2005) eq. (6) for one customer, written out with math only."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]

    def log_beta(p: float, q: float) -> float:
        return math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q)

    poisson_part = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)
    alive = math.exp(
        log_beta(a, b + x) - log_beta(a, b) + poisson_part - (r + x) * math.log(alpha + age)
    )
    dropped = 0.0
    if x > 0:
        dropped = math.exp(
            log_beta(a + 1, b + x - 1)
            - log_beta(a, b)
            + poisson_part
            - (r + x) * math.log(alpha + t_x)
        )
    return math.log(alive + dropped)


def test_bgnbd_log_likelihood_matches_the_papers_formula_row_by_row() -> None:
    params = {"r": 0.7, "alpha": 3.2, "a": 1.3, "b": 4.1}
    rows = [(0, 0.0, 10.0), (1, 2.5, 10.0), (4, 9.0, 30.0), (12, 25.0, 26.0), (0, 0.0, 52.0)]
    weights = np.array([3.0, 1.0, 2.0, 1.0, 5.0])
    frequency, recency, age = (np.array(column, dtype=float) for column in zip(*rows, strict=True))

    expected = sum(
        w * _direct_bgnbd_log_likelihood(params, int(x), t_x, t)
        for w, (x, t_x, t) in zip(weights, rows, strict=True)
    )

    actual = btyd.bgnbd_log_likelihood(params, frequency, recency, age, weights)
    assert actual == pytest.approx(expected, rel=1e-12)
    as_tuple = btyd.bgnbd_log_likelihood((0.7, 3.2, 1.3, 4.1), frequency, recency, age, weights)
    assert as_tuple == pytest.approx(expected, rel=1e-12)


def test_bgnbd_log_likelihood_at_published_cdnow_params(cdnow: Summary) -> None:
    ll = btyd.bgnbd_log_likelihood(CDNOW_PUBLISHED, cdnow.frequency, cdnow.recency, cdnow.T)
    assert ll == pytest.approx(CDNOW_PUBLISHED_LOG_LIKELIHOOD, abs=0.1)


def test_gamma_gamma_log_likelihood_matches_numerical_integration() -> None:
    # Independent route: mean spend of x purchases is Gamma(px, rate nu*x) given nu,
    # and nu ~ Gamma(q, rate v); integrate nu out numerically.
    p, q, v = 4.0, 3.0, 20.0
    rows = [(1, 35.0), (3, 18.5), (7, 60.0)]

    def density(x: int, m: float) -> float:
        def integrand(nu: float) -> float:
            return math.exp(
                (p * x) * math.log(nu * x)
                + (p * x - 1) * math.log(m)
                - nu * x * m
                - math.lgamma(p * x)
                + q * math.log(v)
                + (q - 1) * math.log(nu)
                - v * nu
                - math.lgamma(q)
            )

        value, _ = integrate.quad(integrand, 0.0, np.inf, epsabs=0.0, epsrel=1e-12, limit=200)
        return float(value)

    expected = sum(math.log(density(x, m)) for x, m in rows)
    # A frequency-0 row carries no spend information and must not change the total.
    frequency = [x for x, _ in rows] + [0]
    monetary = [m for _, m in rows] + [0.0]
    actual = btyd.gamma_gamma_log_likelihood({"p": p, "q": q, "v": v}, frequency, monetary)
    assert actual == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("penalizer", [0.0, 0.01])
def test_bgnbd_gradient_matches_finite_differences(synthetic: Summary, penalizer: float) -> None:
    scale = 1.0 / synthetic.T.max()
    objective = btyd._bgnbd_objective(
        synthetic.frequency,
        synthetic.recency * scale,
        synthetic.T * scale,
        np.ones_like(synthetic.frequency),
        penalizer,
    )
    point = np.log([0.6, 0.4, 0.9, 2.5])
    numeric = optimize.approx_fprime(point, lambda z: objective(z)[0], 1e-7)
    assert objective(point)[1] == pytest.approx(numeric, rel=1e-4, abs=1e-7)


def test_gamma_gamma_gradient_matches_finite_differences(synthetic: Summary) -> None:
    repeat = synthetic.frequency > 0
    objective = btyd._gamma_gamma_objective(
        synthetic.frequency[repeat],
        synthetic.monetary[repeat],
        np.ones(int(repeat.sum())),
        0.0,
    )
    point = np.log([3.0, 2.5, 15.0])
    numeric = optimize.approx_fprime(point, lambda z: objective(z)[0], 1e-7)
    assert objective(point)[1] == pytest.approx(numeric, rel=1e-4, abs=1e-7)


# --------------------------------------------------------------------------- fitting


def test_weighted_unique_rows_fit_equals_per_customer_fit(synthetic: Summary) -> None:
    unique = synthetic.unique_rows()
    assert len(unique) < 0.75 * len(synthetic.frequency)  # the collapse really collapses

    per_customer = btyd.fit_bgnbd(synthetic.frequency, synthetic.recency, synthetic.T)
    weighted = btyd.fit_bgnbd(
        unique["frequency"], unique["recency"], unique["T"], weights=unique["size"]
    )

    assert weighted.converged
    assert per_customer.converged
    for name in btyd.BGNBD_PARAM_NAMES:
        assert weighted.params[name] == pytest.approx(per_customer.params[name], rel=1e-6)
    assert weighted.log_likelihood == pytest.approx(per_customer.log_likelihood, rel=1e-9)
    assert weighted.n_customers == per_customer.n_customers == len(synthetic.frequency)
    assert weighted.n_unique_rows == len(unique)


def test_weighted_gamma_gamma_fit_equals_per_customer_fit(synthetic: Summary) -> None:
    df = pd.DataFrame({"frequency": synthetic.frequency, "monetary": synthetic.monetary})
    # Round spend to whole currency units so that rows repeat.
    df["monetary"] = df["monetary"].round(0).clip(lower=1.0)
    unique = df.groupby(["frequency", "monetary"], as_index=False).size()
    assert len(unique) < len(df) // 2

    per_customer = btyd.fit_gamma_gamma(df["frequency"], df["monetary"])
    weighted = btyd.fit_gamma_gamma(unique["frequency"], unique["monetary"], unique["size"])

    assert weighted.converged
    for name in btyd.GAMMA_GAMMA_PARAM_NAMES:
        assert weighted.params[name] == pytest.approx(per_customer.params[name], rel=1e-6)
    assert weighted.n_customers == per_customer.n_customers == int((df["frequency"] > 0).sum())


def test_simulated_parameters_are_recovered(synthetic: Summary) -> None:
    fit = btyd.fit_bgnbd(synthetic.frequency, synthetic.recency, synthetic.T)
    # Loose: 3000 customers and day-rounded records, this only guards the model's orientation.
    assert fit.params["r"] == pytest.approx(0.5, rel=0.25)
    assert fit.params["alpha"] == pytest.approx(5.0, rel=0.35)
    assert fit.params["a"] / (fit.params["a"] + fit.params["b"]) == pytest.approx(0.8 / 3.8, 0.35)


def test_cdnow_fit_matches_the_published_parameters(cdnow: Summary) -> None:
    fit = btyd.fit_bgnbd(cdnow.frequency, cdnow.recency, cdnow.T)
    assert fit.converged
    assert fit.warnings == ()
    assert fit.penalizer == 0.0
    for name, published in CDNOW_PUBLISHED.items():
        # The paper reports three decimals.
        assert fit.params[name] == pytest.approx(published, abs=6e-4)
    assert fit.log_likelihood == pytest.approx(CDNOW_PUBLISHED_LOG_LIKELIHOOD, abs=0.1)


def test_fit_result_to_dict_is_json_ready(cdnow: Summary) -> None:
    fit = btyd.fit_bgnbd(cdnow.frequency, cdnow.recency, cdnow.T)
    manifest = json.loads(json.dumps(fit.to_dict()))
    assert manifest["model"] == "bgnbd"
    assert set(manifest["params"]) == {"r", "alpha", "a", "b"}
    assert manifest["n_customers"] == 2357
    assert manifest["converged"] is True
    assert manifest["warnings"] == []
    assert manifest["log_likelihood"] == pytest.approx(fit.log_likelihood)


def test_invalid_summary_is_rejected() -> None:
    with pytest.raises(ValueError, match="recency must not exceed T"):
        btyd.fit_bgnbd([1, 2], [5.0, 12.0], [10.0, 10.0])
    with pytest.raises(ValueError, match="recency must be 0"):
        btyd.fit_bgnbd([0, 2], [1.0, 5.0], [10.0, 10.0])
    with pytest.raises(ValueError, match="weights"):
        btyd.fit_bgnbd([0, 2], [0.0, 5.0], [10.0, 10.0], weights=[1.0, -1.0])


# --------------------------------------------------------------------------- non-convergence


def test_gamma_gamma_divergence_falls_back_to_a_penalizer() -> None:
    # Every customer spends exactly the same: spend variance 0, so p runs to infinity.
    fit = btyd.fit_gamma_gamma(np.full(40, 3), np.full(40, 20.0))

    assert isinstance(fit, GammaGammaFit)
    assert fit.converged
    assert fit.penalizer == 1e-3
    assert any("penalizer=0:" in warning for warning in fit.warnings)
    assert all(np.isfinite(value) for value in fit.params.values())


def test_unidentified_bgnbd_returns_an_unconverged_fit_with_warnings() -> None:
    # Nobody ever came back: the likelihood is flat along r -> 0 whatever the penalty.
    n = 50
    fit = btyd.fit_bgnbd(np.zeros(n), np.zeros(n), np.linspace(10.0, 50.0, n))

    assert isinstance(fit, BgNbdFit)
    assert not fit.converged
    assert fit.penalizer == 1e-2
    assert len(fit.warnings) >= 3
    assert "do not identify" in fit.warnings[0]
    assert np.isfinite(fit.log_likelihood)


def test_fit_raises_only_when_every_attempt_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_minimize(*_args: Any, **_kwargs: Any) -> optimize.OptimizeResult:
        return optimize.OptimizeResult(
            x=np.full(4, np.nan), fun=np.nan, success=False, nit=0, message="boom"
        )

    monkeypatch.setattr(btyd, "minimize", broken_minimize)
    with pytest.raises(BtydFitError, match="penalizers"):
        btyd.fit_bgnbd([0, 1, 3], [0.0, 2.0, 8.0], [10.0, 10.0, 12.0])


# --------------------------------------------------------------------------- predictions


def test_probability_alive_is_one_without_repeat_purchases() -> None:
    alive = btyd.probability_alive(CDNOW_PUBLISHED, [0, 0, 2], [0.0, 0.0, 5.0], [3.0, 40.0, 40.0])
    assert alive[:2] == pytest.approx([1.0, 1.0])
    assert 0.0 < alive[2] < 1.0


def test_expected_average_value_without_repeat_is_the_population_mean() -> None:
    params = {"p": 6.0, "q": 4.0, "v": 15.0}
    value = btyd.expected_average_value(params, [0, 0, 3], [0.0, np.nan, 40.0])
    assert value[:2] == pytest.approx([6.0 * 15.0 / 3.0] * 2)
    assert 30.0 < value[2] < 40.0


def _log_hyp2f1_by_series(a: float, b: float, c: float, z: float, terms: int = 200_000) -> float:
    """ln 2F1(a, b; c; z) summed term by term in log space (no overflow, unlike scipy's)."""
    n = np.arange(terms, dtype=np.float64)
    steps = np.log(a + n) + np.log(b + n) - np.log(c + n) - np.log1p(n) + math.log(z)
    log_terms = np.concatenate([[0.0], np.cumsum(steps)])
    assert log_terms[-1] < log_terms.max() - 50  # the series has converged
    peak = log_terms.max()
    return float(peak + math.log(np.exp(log_terms - peak).sum()))


def test_expected_purchases_where_the_direct_series_overflows() -> None:
    # A heavy buyer with a short history: ln 2F1 is about 1,100, beyond a float64.
    params = CDNOW_PUBLISHED
    r, alpha, a, b = (params[name] for name in ("r", "alpha", "a", "b"))
    x, t_x, age, t = 500.0, 1.9, 2.0, 52.0
    hyp_a, hyp_b, hyp_c, z = r + x, b + x, a + b + x - 1.0, t / (alpha + age + t)
    assert np.isinf(hyp2f1(hyp_a, hyp_b, hyp_c, z))
    ln_hyp = _log_hyp2f1_by_series(hyp_a, hyp_b, hyp_c, z)
    second = 1.0 - math.exp(ln_hyp + (r + x) * math.log((alpha + age) / (alpha + t + age)))
    dropout_odds = a / (b + x - 1.0) * ((alpha + age) / (alpha + t_x)) ** (r + x)
    expected = (a + b + x - 1.0) / (a - 1.0) * second / (1.0 + dropout_odds)

    # Rows that overflow and rows that do not, side by side: each gets its own value.
    actual = btyd.expected_purchases(
        params, t, [2.0, x, np.nan, x], [30.4, t_x, 5.0, t_x], [38.9, age, 40.0, age]
    )
    alone = btyd.expected_purchases(params, t, [2.0], [30.4], [38.9])
    assert actual[1] == pytest.approx(expected, rel=1e-9)
    assert actual[3] == actual[1]
    assert actual[0] == alone[0]
    assert np.isnan(actual[2])


def test_clv_is_the_discounted_sum_of_monthly_increments() -> None:
    bgnbd = CDNOW_PUBLISHED
    gamma_gamma = {"p": 6.25, "q": 3.74, "v": 15.4}
    x, t_x, age, m = np.array([2.0]), np.array([30.4]), np.array([38.9]), np.array([22.4])
    value = btyd.expected_average_value(gamma_gamma, x, m)
    expected = sum(
        value
        * (
            btyd.expected_purchases(bgnbd, i * 30 / 7, x, t_x, age)
            - btyd.expected_purchases(bgnbd, (i - 1) * 30 / 7, x, t_x, age)
        )
        / 1.01**i
        for i in range(1, 13)
    )
    clv = btyd.customer_lifetime_value(bgnbd, gamma_gamma, x, t_x, age, m)
    assert clv == pytest.approx(expected, rel=1e-12)
    # Undiscounted, it is a year of expected purchases times the expected value.
    undiscounted = btyd.customer_lifetime_value(
        bgnbd, gamma_gamma, x, t_x, age, m, monthly_discount_rate=0.0
    )
    year = btyd.expected_purchases(bgnbd, 12 * 30 / 7, x, t_x, age)
    assert undiscounted == pytest.approx(value * year, rel=1e-12)


# --------------------------------------------------------------------------- lifetimes


@dataclass(frozen=True)
class Reference:
    """Fitted models from both implementations on one dataset."""

    bgnbd: BgNbdFit
    gamma_gamma: GammaGammaFit
    lt_bgnbd: Any
    lt_gamma_gamma: Any


def _fit_both(lifetimes: Any, summary: Summary, penalizer: float, tol: float) -> Reference:
    """Fit ours on unique weighted rows, lifetimes on every customer row."""
    unique = summary.unique_rows()
    bgnbd = btyd.fit_bgnbd(
        unique["frequency"], unique["recency"], unique["T"], unique["size"], penalizer=penalizer
    )
    gamma_gamma = btyd.fit_gamma_gamma(summary.frequency, summary.monetary, penalizer=penalizer)
    repeat = summary.frequency > 0
    with warnings.catch_warnings():
        lt_bgnbd = _lifetimes_fit(
            lifetimes, lifetimes.BetaGeoFitter, penalizer, tol,
            summary.frequency, summary.recency, summary.T,
        )  # fmt: skip
        lt_gamma_gamma = _lifetimes_fit(
            lifetimes, lifetimes.GammaGammaFitter, penalizer, tol,
            summary.frequency[repeat], summary.monetary[repeat],
        )  # fmt: skip
    return Reference(bgnbd, gamma_gamma, lt_bgnbd, lt_gamma_gamma)


def _lifetimes_fit(
    lifetimes: Any, fitter: Any, penalizer: float, tol: float, *data: np.ndarray
) -> Any:
    """A lifetimes fit at `tol`. From its default start, scipy's BFGS can stop short of a tight
    tolerance with "precision loss" on some CPUs (lifetimes then raises ConvergenceError);
    it is then restarted from lifetimes' own solution at its default tolerance (its optimizer
    works on log-parameters), which still has to reach `tol` on its own."""
    try:
        return fitter(penalizer_coef=penalizer).fit(*data, tol=tol)
    except lifetimes.utils.ConvergenceError:
        rough = fitter(penalizer_coef=penalizer).fit(*data)
        return fitter(penalizer_coef=penalizer).fit(
            *data, tol=tol, initial_params=np.log(rough.params_.to_numpy(dtype=float))
        )


@pytest.fixture(scope="module")
def reference(lifetimes: Any, summary: Summary) -> Reference:
    """Both implementations fitted tightly on the dataset, without penalty."""
    return _fit_both(lifetimes, summary, penalizer=0.0, tol=LIFETIMES_TIGHT_TOL)


def _assert_params_agree(ours: dict[str, float], theirs: pd.Series, rtol: float) -> None:
    for name, value in ours.items():
        assert value == pytest.approx(float(theirs[name]), rel=rtol), name


@pytest.mark.parametrize("penalizer", [0.0, 0.01])
def test_params_agree_with_lifetimes_at_its_defaults(
    lifetimes: Any, summary: Summary, penalizer: float
) -> None:
    both = _fit_both(lifetimes, summary, penalizer=penalizer, tol=1e-7)
    assert both.bgnbd.converged
    assert both.gamma_gamma.converged
    _assert_params_agree(both.bgnbd.params, both.lt_bgnbd.params_, PARAM_RTOL)
    _assert_params_agree(both.gamma_gamma.params, both.lt_gamma_gamma.params_, PARAM_RTOL)


def test_tight_params_agree_with_lifetimes(reference: Reference) -> None:
    _assert_params_agree(reference.bgnbd.params, reference.lt_bgnbd.params_, PARAM_RTOL)
    _assert_params_agree(reference.gamma_gamma.params, reference.lt_gamma_gamma.params_, PARAM_RTOL)


def test_predictions_agree_with_lifetimes(reference: Reference, summary: Summary) -> None:
    x, t_x, age, m = summary.frequency, summary.recency, summary.T, summary.monetary
    lt_bgnbd, lt_gg = reference.lt_bgnbd, reference.lt_gamma_gamma
    ours, ours_gg = reference.bgnbd.params, reference.gamma_gamma.params

    for horizon in (1.0, 13.0, 52.0):
        expected = lt_bgnbd.conditional_expected_number_of_purchases_up_to_time(
            horizon, x, t_x, age
        )
        actual = btyd.expected_purchases(ours, horizon, x, t_x, age)
        assert _rel_diff(actual, expected) < PREDICTION_RTOL

    alive = btyd.probability_alive(ours, x, t_x, age)
    assert _rel_diff(alive, lt_bgnbd.conditional_probability_alive(x, t_x, age)) < PREDICTION_RTOL

    value = btyd.expected_average_value(ours_gg, x, m)
    lt_value = lt_gg.conditional_expected_average_profit(x, m)
    assert _rel_diff(value, lt_value) < PREDICTION_RTOL

    # lifetimes' weekly CLV uses 4.345 weeks per month.
    index = pd.RangeIndex(len(x))
    lt_clv = lt_gg.customer_lifetime_value(
        lt_bgnbd,
        pd.Series(x, index=index),
        pd.Series(t_x, index=index),
        pd.Series(age, index=index),
        pd.Series(m, index=index),
        time=12,
        discount_rate=0.01,
        freq="W",
    )
    clv = btyd.customer_lifetime_value(ours, ours_gg, x, t_x, age, m, weeks_per_month=4.345)
    assert _rel_diff(clv, lt_clv) < PREDICTION_RTOL


def test_default_clv_month_matches_lifetimes_daily_clv(
    lifetimes: Any, reference: Reference, summary: Summary
) -> None:
    # Our default month is 30 days; lifetimes has that only for time in days. BG/NBD is
    # invariant to the time unit when alpha carries it, so restate the weekly fit in days.
    weekly = reference.lt_bgnbd.params_
    daily = lifetimes.BetaGeoFitter()
    daily.params_ = pd.Series(
        {"r": weekly["r"], "alpha": weekly["alpha"] * 7.0, "a": weekly["a"], "b": weekly["b"]}
    )
    daily.predict = daily.conditional_expected_number_of_purchases_up_to_time
    index = pd.RangeIndex(len(summary.frequency))
    lt_clv = reference.lt_gamma_gamma.customer_lifetime_value(
        daily,
        pd.Series(summary.frequency, index=index),
        pd.Series(summary.recency * 7.0, index=index),
        pd.Series(summary.T * 7.0, index=index),
        pd.Series(summary.monetary, index=index),
        time=12,
        discount_rate=0.01,
        freq="D",
    )
    clv = btyd.customer_lifetime_value(
        reference.bgnbd.params,
        reference.gamma_gamma.params,
        summary.frequency,
        summary.recency,
        summary.T,
        summary.monetary,
    )
    assert _rel_diff(clv, lt_clv) < PREDICTION_RTOL
