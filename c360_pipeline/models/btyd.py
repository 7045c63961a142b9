"""BTYD customer-lifetime-value models: BG/NBD for purchase counts, Gamma-Gamma for spend.

Pure numpy/scipy, fitted on the driver over the summary table collapsed to its unique rows
(`weights` holds how many customers share each row), so fitting cost does not grow with the
number of customers. Time is in whatever unit the summary uses (weeks by convention).

References: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way"; Fader & Hardie,
"The Gamma-Gamma Model of Monetary Value" (brucehardie.com/notes/025). The objectives, starting
point and formulas follow the reference implementation `lifetimes` so results agree with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln, hyp2f1

FloatArray = npt.NDArray[np.float64]
ParamsLike = Mapping[str, float] | Sequence[float] | FloatArray
Objective = Callable[[FloatArray], tuple[float, FloatArray]]

BGNBD_PARAM_NAMES: tuple[str, ...] = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAM_NAMES: tuple[str, ...] = ("p", "q", "v")
# Penalizers tried, in order, after a fit with the requested penalizer fails to converge.
FALLBACK_PENALIZERS: tuple[float, ...] = (1e-3, 1e-2)

# lifetimes starts every log-parameter at 0.1; starting at the same point keeps both
# optimisers on the same side of any flat region.
_INITIAL_LOG_PARAM = 0.1
# Far tighter than lifetimes' 1e-7 so the optimum is pinned down, not just approached.
_GRADIENT_TOLERANCE = 1e-10
# A gradient this small is an optimum even when BFGS gives up on line-search precision.
_ACCEPTED_GRADIENT = 1e-6
_MAX_ITERATIONS = 10_000
# A parameter beyond e^±25 is running off to a boundary: the data do not identify the model.
_MAX_ABS_LOG_PARAM = 25.0
# Below this curvature (relative to the largest) the objective is flat along some direction.
_MIN_RELATIVE_CURVATURE = 1e-8
_HESSIAN_STEP = 1e-5


class BtydFitError(RuntimeError):
    """A BTYD model could not be fitted, even with the fallback penalizers."""


@dataclass(frozen=True)
class BtydFit:
    """A fitted BTYD model: parameters, fit quality and how the optimiser got there."""

    model: ClassVar[str] = "btyd"

    params: dict[str, float]
    log_likelihood: float
    n_customers: float
    n_unique_rows: int
    converged: bool
    penalizer: float
    iterations: int
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The fit as plain JSON-ready values, for the snapshot manifest."""
        n_customers = self.n_customers
        return {
            "model": self.model,
            "params": {name: float(value) for name, value in self.params.items()},
            "log_likelihood": float(self.log_likelihood),
            "n_customers": int(n_customers) if float(n_customers).is_integer() else n_customers,
            "n_unique_rows": int(self.n_unique_rows),
            "converged": bool(self.converged),
            "penalizer": float(self.penalizer),
            "iterations": int(self.iterations),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class BgNbdFit(BtydFit):
    """A fitted BG/NBD model (params r, alpha, a, b; alpha in the summary's time unit)."""

    model: ClassVar[str] = "bgnbd"


@dataclass(frozen=True)
class GammaGammaFit(BtydFit):
    """A fitted Gamma-Gamma spend model (params p, q, v; v in the summary's currency)."""

    model: ClassVar[str] = "gamma_gamma"


@dataclass(frozen=True)
class _Attempt:
    """One optimiser run at one penalizer."""

    penalizer: float
    log_params: FloatArray
    iterations: int
    is_ok: bool
    is_usable: bool
    problem: str


# --------------------------------------------------------------------------- inputs


def _unpack(params: ParamsLike, names: tuple[str, ...]) -> tuple[float, ...]:
    """Parameters as floats in `names` order, from a mapping or a sequence."""
    if isinstance(params, Mapping):
        values = [params[name] for name in names]
    else:
        values = list(np.asarray(params, dtype=np.float64).ravel())
        if len(values) != len(names):
            raise ValueError(f"expected {len(names)} parameters {names}, got {len(values)}")
    return tuple(float(value) for value in values)


def _as_float(values: npt.ArrayLike) -> FloatArray:
    """A float64 array of at least one dimension."""
    return np.atleast_1d(np.asarray(values, dtype=np.float64))


def _weights(weights: npt.ArrayLike | None, n_rows: int) -> FloatArray:
    """Row weights (customer counts): ones when not given, else checked non-negative."""
    if weights is None:
        return np.ones(n_rows, dtype=np.float64)
    array = _as_float(weights)
    if array.shape != (n_rows,):
        raise ValueError(f"weights has shape {array.shape}, expected ({n_rows},)")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError("weights must be finite and non-negative")
    return array


def _bgnbd_inputs(
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,  # noqa: N803 - the literature's name for customer age
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validated 1-d (frequency, recency, T) arrays for fitting."""
    x, t_x, age = _as_float(frequency), _as_float(recency), _as_float(T)
    if not (x.ndim == t_x.ndim == age.ndim == 1 and x.shape == t_x.shape == age.shape):
        raise ValueError("frequency, recency and T must be 1-d arrays of the same length")
    if x.size == 0:
        raise ValueError("cannot fit on an empty summary")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t_x)) and np.all(np.isfinite(age))):
        raise ValueError("frequency, recency and T must be finite (drop non-buyers first)")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("frequency must be a non-negative integer")
    if np.any(t_x < 0):
        raise ValueError("recency must be non-negative")
    if np.any(t_x > age):
        raise ValueError("recency must not exceed T")
    if np.any(t_x[x == 0] != 0):
        raise ValueError("recency must be 0 when frequency is 0")
    if not np.any(age > 0):
        raise ValueError("T must be positive for at least one customer")
    return x, t_x, age


# --------------------------------------------------------------------------- BG/NBD


@dataclass(frozen=True)
class _Distinct:
    """A column's distinct values, and each row's index into them: a function of that column
    alone (gammaln, digamma) is then computed once per distinct value instead of once per row.
    Frequencies are small integers, so a summary of 650k unique rows has a few dozen; the
    results are the same numbers, at a third of the cost per likelihood evaluation."""

    values: FloatArray
    index: npt.NDArray[np.intp]

    @classmethod
    def of(cls, column: FloatArray) -> _Distinct:
        values, index = np.unique(column, return_inverse=True)
        return cls(values, index)

    def map(self, function: Callable[[FloatArray], FloatArray]) -> FloatArray:
        """`function` of the column, row by row (computed on the distinct values)."""
        return function(self.values)[self.index]


def _bgnbd_ll_terms(
    params: tuple[float, ...],
    x: FloatArray,
    t_x: FloatArray,
    age: FloatArray,
    with_grad: bool,
    distinct_x: _Distinct | None = None,
) -> tuple[FloatArray, FloatArray | None]:
    """Per-row BG/NBD log-likelihood and, if asked, its gradient in (r, alpha, a, b)."""
    r, alpha, a, b = params
    by_x = distinct_x if distinct_x is not None else _Distinct.of(x)
    has_repeat = x > 0
    # b + x - 1 is only used where x > 0; max(x, 1) keeps the x = 0 rows finite.
    b_x1 = b + np.maximum(x, 1.0) - 1.0
    log_alpha_t = np.log(alpha + age)
    log_alpha_tx = np.log(alpha + t_x)
    a1 = by_x.map(lambda v: gammaln(r + v) - gammaln(r) + r * np.log(alpha))
    a2 = by_x.map(lambda v: gammaln(a + b) + gammaln(b + v) - gammaln(b) - gammaln(a + b + v))
    a3 = -(r + x) * log_alpha_t
    a4 = np.where(has_repeat, np.log(a) - np.log(b_x1) - (r + x) * log_alpha_tx, -np.inf)
    top = np.maximum(a3, a4)
    log_sum = top + np.log(np.exp(a3 - top) + np.exp(a4 - top))
    ll = a1 + a2 + log_sum
    if not with_grad:
        return ll, None
    # Share of each of the two likelihood branches (alive at T / dropped out after t_x).
    s3 = np.exp(a3 - log_sum)
    s4 = np.exp(a4 - log_sum)
    d_r = (
        by_x.map(lambda v: digamma(r + v) - digamma(r) + np.log(alpha))
        - s3 * log_alpha_t
        - s4 * log_alpha_tx
    )
    d_alpha = r / alpha - (r + x) * (s3 / (alpha + age) + s4 / (alpha + t_x))
    d_ab = by_x.map(lambda v: digamma(a + b) - digamma(a + b + v))
    d_a = d_ab + s4 / a
    d_b = by_x.map(lambda v: digamma(a + b) - digamma(a + b + v) + digamma(b + v) - digamma(b))
    d_b = d_b - s4 / b_x1
    return ll, np.stack([d_r, d_alpha, d_a, d_b], axis=1)


def bgnbd_log_likelihood(
    params: ParamsLike,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,  # noqa: N803
    weights: npt.ArrayLike | None = None,
) -> float:
    """Total BG/NBD log-likelihood of (frequency, recency, T) rows, each counted `weights` times."""
    x, t_x, age = _bgnbd_inputs(frequency, recency, T)
    w = _weights(weights, x.size)
    with np.errstate(all="ignore"):
        ll, _ = _bgnbd_ll_terms(_unpack(params, BGNBD_PARAM_NAMES), x, t_x, age, with_grad=False)
    return float(np.sum(w * ll))


def _bgnbd_objective(
    x: FloatArray, t_x: FloatArray, age: FloatArray, w: FloatArray, penalizer: float
) -> Objective:
    """lifetimes' objective in log-parameters: mean negative log-likelihood plus L2 penalty."""
    total_weight = float(np.sum(w))
    distinct_x = _Distinct.of(x)

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        ll, grad = _bgnbd_ll_terms(tuple(params), x, t_x, age, True, distinct_x)
        assert grad is not None
        value = -float(np.sum(w * ll)) / total_weight + penalizer * float(np.sum(params**2))
        # Chain rule for log-parameters: d/d(log p) = p * d/dp.
        gradient = -(w @ grad) / total_weight * params + 2.0 * penalizer * params**2
        return value, gradient

    return objective


def fit_bgnbd(
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,  # noqa: N803
    weights: npt.ArrayLike | None = None,
    penalizer: float = 0.0,
) -> BgNbdFit:
    """Fit BG/NBD by maximum likelihood, retrying with small penalizers if it does not converge."""
    x, t_x, age = _bgnbd_inputs(frequency, recency, T)
    w = _weights(weights, x.size)
    # Fit in time scaled so the oldest customer has T = 1, as lifetimes does: this conditions
    # the problem and makes the penalty on alpha independent of the time unit.
    scale = 1.0 / float(np.max(age))

    def make_objective(pen: float) -> Objective:
        return _bgnbd_objective(x, t_x * scale, age * scale, w, pen)

    attempt, converged, warnings = _fit_with_fallback(
        "bgnbd", make_objective, BGNBD_PARAM_NAMES, penalizer
    )
    values = np.exp(attempt.log_params)
    values[1] /= scale
    params = dict(zip(BGNBD_PARAM_NAMES, (float(v) for v in values), strict=True))
    with np.errstate(all="ignore"):
        ll, _ = _bgnbd_ll_terms(tuple(values), x, t_x, age, with_grad=False)
    return BgNbdFit(
        params=params,
        log_likelihood=float(np.sum(w * ll)),
        n_customers=float(np.sum(w)),
        n_unique_rows=int(x.size),
        converged=converged,
        penalizer=attempt.penalizer,
        iterations=attempt.iterations,
        warnings=warnings,
    )


def expected_purchases(
    params: ParamsLike,
    t: npt.ArrayLike,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,  # noqa: N803
) -> FloatArray:
    """Expected number of purchases in the next `t` time units, given each customer's history."""
    r, alpha, a, b = _unpack(params, BGNBD_PARAM_NAMES)
    t_arr, x, t_x, age = _as_float(t), _as_float(frequency), _as_float(recency), _as_float(T)
    with np.errstate(all="ignore"):
        hyp_a, hyp_b, hyp_c = r + x, b + x, a + b + x - 1.0
        z = t_arr / (alpha + age + t_arr)
        hyp_a, hyp_b, hyp_c, z = np.broadcast_arrays(hyp_a, hyp_b, hyp_c, z)
        ln_hyp = np.log(hyp2f1(hyp_a, hyp_b, hyp_c, z))
        # Euler's transformation of 2F1, for where the direct series overflows: evaluated
        # there alone, as hyp2f1 is most of a prediction's cost (CLV calls this 13 times).
        overflow = np.isinf(ln_hyp)
        if overflow.any():
            oa, ob, oc, oz = (v[overflow] for v in (hyp_a, hyp_b, hyp_c, z))
            ln_hyp = np.array(ln_hyp, dtype=np.float64)
            euler = (oc - oa - ob) * np.log1p(-oz)
            ln_hyp[overflow] = np.log(hyp2f1(oc - oa, oc - ob, oc, oz)) + euler
        first = (a + b + x - 1.0) / (a - 1.0)
        second = 1.0 - np.exp(ln_hyp + (r + x) * np.log((alpha + age) / (alpha + t_arr + age)))
        dropout_odds = (a / (b + np.maximum(x, 1.0) - 1.0)) * ((alpha + age) / (alpha + t_x)) ** (
            r + x
        )
        result: FloatArray = first * second / (1.0 + (x > 0) * dropout_odds)
    return result


def probability_alive(
    params: ParamsLike,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,  # noqa: N803
) -> FloatArray:
    """Probability that each customer is still active at T (1 for customers with no repeat)."""
    r, alpha, a, b = _unpack(params, BGNBD_PARAM_NAMES)
    x, t_x, age = _as_float(frequency), _as_float(recency), _as_float(T)
    with np.errstate(all="ignore"):
        log_odds_dead = (r + x) * np.log((alpha + age) / (alpha + t_x)) + np.log(
            a / (b + np.maximum(x, 1.0) - 1.0)
        )
        result: FloatArray = np.where(x == 0, 1.0, expit(-log_odds_dead))
    return result


# --------------------------------------------------------------------------- Gamma-Gamma


def _gamma_gamma_ll_terms(
    params: tuple[float, ...],
    x: FloatArray,
    m: FloatArray,
    with_grad: bool,
    distinct_x: _Distinct | None = None,
) -> tuple[FloatArray, FloatArray | None]:
    """Per-row Gamma-Gamma log-likelihood of mean spend m over x purchases, and its gradient."""
    p, q, v = params
    by_x = distinct_x if distinct_x is not None else _Distinct.of(x)
    px = p * x
    log_xm_v = np.log(x * m + v)
    ll = (
        by_x.map(lambda u: gammaln(p * u + q) - gammaln(p * u) - gammaln(q) + q * np.log(v))
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_xm_v
    )
    if not with_grad:
        return ll, None
    d_p = x * (
        by_x.map(lambda u: digamma(p * u + q) - digamma(p * u)) + np.log(m) + np.log(x) - log_xm_v
    )
    d_q = by_x.map(lambda u: digamma(p * u + q) - digamma(q) + np.log(v)) - log_xm_v
    d_v = q / v - (px + q) / (x * m + v)
    return ll, np.stack([d_p, d_q, d_v], axis=1)


def _gamma_gamma_inputs(
    frequency: npt.ArrayLike, monetary: npt.ArrayLike, weights: npt.ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """1-d (frequency, monetary, weights) arrays of equal length, frequency a count."""
    x, m = _as_float(frequency), _as_float(monetary)
    if not (x.ndim == m.ndim == 1 and x.shape == m.shape):
        raise ValueError("frequency and monetary must be 1-d arrays of the same length")
    w = _weights(weights, x.size)
    if not np.all(np.isfinite(x)) or np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("frequency must be a non-negative integer")
    return x, m, w


def gamma_gamma_log_likelihood(
    params: ParamsLike,
    frequency: npt.ArrayLike,
    monetary: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
) -> float:
    """Total Gamma-Gamma log-likelihood of the repeat customers' (frequency, monetary) rows."""
    x, m, w = _gamma_gamma_inputs(frequency, monetary, weights)
    # Customers without a repeat purchase have no repeat spend: they carry no information.
    repeat = x > 0
    x, m, w = x[repeat], m[repeat], w[repeat]
    if not (np.all(np.isfinite(m)) and np.all(m > 0)):
        raise ValueError("monetary must be positive and finite where frequency > 0")
    with np.errstate(all="ignore"):
        ll, _ = _gamma_gamma_ll_terms(_unpack(params, GAMMA_GAMMA_PARAM_NAMES), x, m, False)
    return float(np.sum(w * ll))


def _gamma_gamma_objective(
    x: FloatArray, m: FloatArray, w: FloatArray, penalizer: float
) -> Objective:
    """lifetimes' objective in log-parameters: mean negative log-likelihood plus L2 penalty."""
    total_weight = float(np.sum(w))
    distinct_x = _Distinct.of(x)

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        ll, grad = _gamma_gamma_ll_terms(tuple(params), x, m, True, distinct_x)
        assert grad is not None
        value = -float(np.sum(w * ll)) / total_weight + penalizer * float(np.sum(params**2))
        gradient = -(w @ grad) / total_weight * params + 2.0 * penalizer * params**2
        return value, gradient

    return objective


def fit_gamma_gamma(
    frequency: npt.ArrayLike,
    monetary: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    penalizer: float = 0.0,
) -> GammaGammaFit:
    """Fit Gamma-Gamma on customers with a repeat purchase, with the same fallback as BG/NBD."""
    x, m, w = _gamma_gamma_inputs(frequency, monetary, weights)
    notes: list[str] = []
    repeat = x > 0
    usable = repeat & np.isfinite(m) & (m > 0)
    n_unusable = int(np.count_nonzero(repeat & ~usable))
    if n_unusable:
        # Refunds can leave a repeat customer with no positive spend: the model cannot use them.
        notes.append(
            f"gamma_gamma: ignored {n_unusable} repeat-customer rows with non-positive or "
            "missing monetary value"
        )
    x, m, w = x[usable], m[usable], w[usable]
    if x.size == 0 or not np.any(w > 0):
        raise BtydFitError("gamma_gamma: no customer with a repeat purchase and positive spend")

    def make_objective(pen: float) -> Objective:
        return _gamma_gamma_objective(x, m, w, pen)

    attempt, converged, warnings = _fit_with_fallback(
        "gamma_gamma", make_objective, GAMMA_GAMMA_PARAM_NAMES, penalizer
    )
    values = np.exp(attempt.log_params)
    if values[1] <= 1.0:
        warnings = (
            *warnings,
            f"gamma_gamma: q={values[1]:.4g} <= 1, so the population mean spend p*v/(q-1) is "
            "undefined and predictions for customers without a repeat purchase are meaningless",
        )
    with np.errstate(all="ignore"):
        ll, _ = _gamma_gamma_ll_terms(tuple(values), x, m, with_grad=False)
    return GammaGammaFit(
        params=dict(zip(GAMMA_GAMMA_PARAM_NAMES, (float(v) for v in values), strict=True)),
        log_likelihood=float(np.sum(w * ll)),
        n_customers=float(np.sum(w)),
        n_unique_rows=int(x.size),
        converged=converged,
        penalizer=attempt.penalizer,
        iterations=attempt.iterations,
        warnings=(*notes, *warnings),
    )


def expected_average_value(
    params: ParamsLike, frequency: npt.ArrayLike, monetary: npt.ArrayLike
) -> FloatArray:
    """Expected value of each customer's future purchases (population mean with no repeat)."""
    p, q, v = _unpack(params, GAMMA_GAMMA_PARAM_NAMES)
    x, m = _as_float(frequency), _as_float(monetary)
    population_mean = p * v / (q - 1.0)
    with np.errstate(all="ignore"):
        # A shrinkage of the customer's own mean towards the population mean.
        individual_weight = p * x / (p * x + q - 1.0)
        blended = (1.0 - individual_weight) * population_mean + individual_weight * m
        result: FloatArray = np.where(x == 0, population_mean, blended)
    return result


# --------------------------------------------------------------------------- CLV


def customer_lifetime_value(
    bgnbd_params: ParamsLike,
    gg_params: ParamsLike,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,  # noqa: N803
    monetary: npt.ArrayLike,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
    weeks_per_month: float = 30 / 7,
) -> FloatArray:
    """Discounted expected value of each customer's purchases over the next `months` months."""
    x, t_x, age = _as_float(frequency), _as_float(recency), _as_float(T)
    value = expected_average_value(gg_params, x, monetary)
    clv = np.zeros(np.broadcast_shapes(x.shape, t_x.shape, age.shape, value.shape))
    previous = expected_purchases(bgnbd_params, 0.0, x, t_x, age)
    for month in range(1, months + 1):
        cumulative = expected_purchases(bgnbd_params, month * weeks_per_month, x, t_x, age)
        clv += value * (cumulative - previous) / (1.0 + monthly_discount_rate) ** month
        previous = cumulative
    return clv


# --------------------------------------------------------------------------- optimiser


def _run_attempt(objective: Objective, n_params: int, penalizer: float) -> _Attempt:
    """Minimise one objective with BFGS from lifetimes' starting point and judge the result."""
    start = np.full(n_params, _INITIAL_LOG_PARAM)
    try:
        with np.errstate(all="ignore"):
            result = minimize(
                objective,
                start,
                jac=True,
                method="BFGS",
                options={"gtol": _GRADIENT_TOLERANCE, "maxiter": _MAX_ITERATIONS},
            )
            value, gradient = objective(result.x)
    except (ArithmeticError, ValueError) as error:
        return _Attempt(penalizer, start, 0, False, False, f"optimizer error: {error}")
    log_params = np.asarray(result.x, dtype=np.float64)
    iterations = int(result.nit)
    if not (np.all(np.isfinite(log_params)) and np.isfinite(value)):
        return _Attempt(penalizer, log_params, iterations, False, False, "non-finite values")
    if np.any(np.abs(log_params) > _MAX_ABS_LOG_PARAM):
        return _Attempt(
            penalizer, log_params, iterations, False, True, "a parameter ran to 0 or infinity"
        )
    max_gradient = float(np.max(np.abs(gradient))) if np.all(np.isfinite(gradient)) else np.inf
    if not (result.success or max_gradient < _ACCEPTED_GRADIENT):
        return _Attempt(
            penalizer,
            log_params,
            iterations,
            False,
            bool(np.isfinite(max_gradient)),
            f"optimizer stopped: {result.message} (max |gradient| {max_gradient:.3g})",
        )
    eigenvalues = _hessian_eigenvalues(objective, log_params)
    smallest = float(np.min(eigenvalues)) if np.all(np.isfinite(eigenvalues)) else -np.inf
    if not smallest > _MIN_RELATIVE_CURVATURE * max(1.0, float(np.max(eigenvalues))):
        # A zero-gradient point on a flat ridge (or a saddle) is not an identified optimum.
        return _Attempt(
            penalizer,
            log_params,
            iterations,
            False,
            True,
            f"the likelihood is flat or not at a maximum (smallest curvature {smallest:.3g}): "
            "the data do not identify the parameters",
        )
    return _Attempt(penalizer, log_params, iterations, True, True, "")


def _hessian_eigenvalues(objective: Objective, log_params: FloatArray) -> FloatArray:
    """Eigenvalues of the objective's Hessian, by central differences of its gradient."""
    n_params = log_params.size
    hessian = np.empty((n_params, n_params))
    with np.errstate(all="ignore"):
        for i in range(n_params):
            step = np.zeros(n_params)
            step[i] = _HESSIAN_STEP
            hessian[i] = (objective(log_params + step)[1] - objective(log_params - step)[1]) / (
                2.0 * _HESSIAN_STEP
            )
    if not np.all(np.isfinite(hessian)):
        return np.full(n_params, np.nan)
    return np.asarray(np.linalg.eigvalsh((hessian + hessian.T) / 2.0), dtype=np.float64)


def _fit_with_fallback(
    model: str,
    make_objective: Callable[[float], Objective],
    names: tuple[str, ...],
    penalizer: float,
) -> tuple[_Attempt, bool, tuple[str, ...]]:
    """Fit at `penalizer`, then at each larger fallback penalizer until one converges."""
    if not (np.isfinite(penalizer) and penalizer >= 0):
        raise ValueError(f"penalizer must be finite and non-negative, got {penalizer}")
    penalizers = [penalizer, *(pen for pen in FALLBACK_PENALIZERS if pen > penalizer)]
    warnings: list[str] = []
    usable: list[_Attempt] = []
    for pen in penalizers:
        attempt = _run_attempt(make_objective(pen), len(names), pen)
        if attempt.is_ok:
            if warnings:
                warnings.append(f"{model}: converged with penalizer={pen:g}")
            return attempt, True, tuple(warnings)
        warnings.append(f"{model}: no convergence with penalizer={pen:g}: {attempt.problem}")
        if attempt.is_usable:
            usable.append(attempt)
    if usable:
        # The most penalised usable fit is the one least driven by the degenerate direction.
        best = usable[-1]
        warnings.append(
            f"{model}: using the unconverged fit with penalizer={best.penalizer:g}; "
            "treat its predictions with caution"
        )
        return best, False, tuple(warnings)
    raise BtydFitError(
        f"{model} could not be fitted with penalizers {penalizers}: " + "; ".join(warnings)
    )
