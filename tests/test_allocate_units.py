"""Budget allocator internals on hand-made posteriors (no fits): projection, closed-form
optimum, exact gradients, risk weights, response surface vs the model's own media term."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize

from mmm_jax.allocate.objective import Problem, Settings, objective, risk_weights
from mmm_jax.allocate.projection import exact_plan, project
from mmm_jax.allocate.response import build, plan_kpi
from mmm_jax.allocate.solver import solve
from mmm_jax.model import media_effects
from mmm_jax.spec import ModelSpec


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def _problem(c, budget, lower=None, upper=None, *, factor=None, fixed=True, value=1.0,
             spend_weight=0.0, level=0.1, unit=None):
    arr = jnp.asarray
    return Problem(lower=arr(np.zeros(c) if lower is None else lower),
                   upper=arr(np.full(c, np.inf) if upper is None else upper),
                   budget=arr(float(budget)), factor=arr(np.ones((1, c)) if factor is None
                                                         else factor),
                   value=arr(value), spend_weight=arr(spend_weight), level=arr(level),
                   unit=arr(float(unit or budget)), scale=arr(1.0))


def _mm_response(beta, half_max, n_draws=1):
    """Michaelis-Menten channels, no adstock, no history: KPI = sum beta x / (K + x)."""
    cfg = ModelSpec(adstock="none", saturation="michaelis_menten")
    c = len(beta)
    draws = {"half_max": jnp.tile(jnp.asarray(half_max)[None], (n_draws, 1)),
             "beta": jnp.tile(jnp.asarray(beta)[None], (n_draws, 1))}
    return build(draws, jnp.zeros((1, 3, c)), jnp.ones(1), config=cfg, n_geos=None,
                 n_periods=1, tail=0, shape=jnp.ones((1, c)))


def _mm_closed_form(beta, k, budget, lower, upper):
    """argmax sum beta x / (k + x) s.t. sum x = budget, lower <= x <= upper: x(lam) =
    clip(sqrt(beta k / lam) - k, lower, upper) with sum x(lam) = budget (bisection, float64)."""
    def x_of(lam):
        return np.clip(np.sqrt(beta * k / lam) - k, lower, upper)

    lo, hi = 1e-12, (beta / k).max() * 10
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if x_of(mid).sum() > budget else (lo, mid)
    return x_of(np.sqrt(lo * hi))


def _solve(starts, response, problem, **settings):
    info = solve(jnp.asarray(starts), response, problem, Settings(**settings))
    return np.asarray(info.plan), info


# ---------------------------------------------------------------------- projection
@pytest.mark.parametrize("n_slots", [1, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_projection_matches_a_quadratic_program(n_slots, weighted):
    rng = np.random.default_rng(n_slots + 10 * weighted)
    c = 4
    for _ in range(5):
        y = rng.normal(0.3, 0.5, size=(n_slots, c))
        w = rng.uniform(0.2, 5.0, size=(n_slots, c)) if weighted else np.ones((n_slots, c))
        lower = rng.uniform(0, 0.2, size=c)
        upper = lower + rng.uniform(0.1, 1.0, size=c)
        total = 0.5 * (lower.sum() + upper.sum())
        z = np.asarray(project(y, lower, upper, total, fixed_total=True,
                               weights=w if weighted else None))
        cons = [{"type": "eq", "fun": lambda v, total=total: v.sum() - total}]
        for j in range(c):
            cons += [{"type": "ineq", "fun": lambda v, j=j, lower=lower:
                      v.reshape(n_slots, c)[:, j].sum() - lower[j]},
                     {"type": "ineq", "fun": lambda v, j=j, upper=upper: upper[j]
                      - v.reshape(n_slots, c)[:, j].sum()}]
        ref = minimize(lambda v, w=w, y=y: np.sum(w.ravel() * (v - y.ravel()) ** 2),
                       np.full(y.size, total / y.size), method="SLSQP", constraints=cons,
                       bounds=[(0, None)] * y.size, options={"ftol": 1e-14, "maxiter": 500})
        np.testing.assert_allclose(z.ravel(), ref.x, atol=1e-6)
        assert abs(z.sum() - total) < 1e-9
        assert (z >= 0).all()


def test_projection_with_free_total_only_clips_channel_totals():
    y = jnp.array([[0.5, -0.2, 2.0]])
    z = project(y, jnp.array([0.0, 0.1, 0.0]), jnp.array([1.0, 1.0, 1.5]), 0.0,
                fixed_total=False)
    np.testing.assert_allclose(np.asarray(z), [[0.5, 0.1, 1.5]])


def test_exact_plan_meets_budget_and_bounds_exactly():
    rng = np.random.default_rng(0)
    lower, upper = np.array([0.0, 10.0, 5.0, 0.0]), np.array([50.0, 30.0, 5.0, np.inf])
    for _ in range(20):
        z = np.array([[20.0, 30.0000004, 5.0000001, 44.99999]]) * rng.uniform(0.999999, 1.000001)
        out = exact_plan(z, lower, upper, 100.0)
        assert abs(out.sum() - 100.0) <= 1e-12 * 100
        assert (out[0] >= lower).all() and (out[0] <= upper).all()
    assert exact_plan(z, lower, upper, 100.0)[0, 2] == 5.0  # locked channel stays exact
    with pytest.raises(ValueError, match="bounds cannot meet the budget"):
        exact_plan(z, lower, np.full(4, 20.0), 100.0)


def test_exact_plan_channel_sums_over_many_slots_stay_within_bounds():
    # spreading a channel's total over many slots (shares * total) rounds; the float64 sum
    # of the slots must still lie in the bounds, and equal the total to rounding
    rng = np.random.default_rng(1)
    for _ in range(300):
        s, c = int(rng.integers(2, 60)), int(rng.integers(1, 5))
        z = rng.random((s, c)) * rng.choice([1e-3, 1.0, 3.7e6])
        upper = z.sum(0) * (1 + rng.random(c) * 1e-10)  # within the snap: totals = upper
        lower = 0.5 * upper
        out = exact_plan(z, lower, upper, float(upper.sum()))
        sums = out.sum(0)
        assert (out >= 0).all() and (sums <= upper).all() and (sums >= lower).all()
        np.testing.assert_allclose(sums, upper, rtol=1e-14)
        np.testing.assert_allclose(sums.sum(), upper.sum(), rtol=1e-14)


# ---------------------------------------------------------------------- closed form
@pytest.mark.parametrize("case", ["interior", "corner", "bounds"])
def test_reaches_the_michaelis_menten_closed_form(case):
    """RELIABILITY #12: fixed Hill-slope-1 channels, rel err < 1e-4, budget to 1e-6."""
    rng = np.random.default_rng({"interior": 0, "corner": 1, "bounds": 2}[case])
    c = 5
    beta, k = rng.uniform(1.0, 5.0, c), rng.uniform(0.2, 2.0, c)
    budget = 3.0 if case != "corner" else 0.6
    lower, upper = np.zeros(c), np.full(c, np.inf)
    if case == "bounds":
        lower[1], upper[0], upper[4] = 0.7, 0.5, 0.4
    want = _mm_closed_form(beta, k, budget, lower, upper)
    if case == "corner":
        assert (want == 0).any()  # some channel is shut off at the optimum
    response = _mm_response(beta, k)
    problem = _problem(c, budget, lower, upper)
    starts = np.stack([np.full(c, budget / c), rng.dirichlet(np.ones(c)) * budget])
    plan, info = _solve(starts[:, None, None, :], response, problem, saturation="michaelis_menten")
    got = exact_plan(plan.reshape(1, c), lower, upper, budget)[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * budget)
    assert abs(got.sum() - budget) <= 1e-6 * budget
    assert (got >= lower).all() and (got <= upper).all()
    assert float(info.pg_norm) < 1e-4


def test_profit_optimum_equates_marginal_value_with_cost():
    """Free total: maximise v * sum beta x / (k + x) - sum x  =>  v beta k / (k + x)^2 = 1."""
    beta, k, v = np.array([2.0, 3.0, 1.0]), np.array([0.5, 1.0, 2.0]), 4.0
    want = np.maximum(np.sqrt(v * beta * k) - k, 0)
    response = _mm_response(beta, k)
    problem = _problem(3, 0.0, upper=np.full(3, 100.0), fixed=False, value=v, spend_weight=1.0,
                       unit=3.0)
    plan, _ = _solve(np.full((1, 1, 1, 3), 1.0), response, problem, saturation="michaelis_menten",
                     fixed_total=False)
    np.testing.assert_allclose(plan.ravel(), want, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- gradients
def _adstock_response(slope, history_scale, n_draws=3, n_periods=4, tail=3, shape=True):
    """Geometric adstock + Hill channels with random per-draw parameters and history."""
    rng = np.random.default_rng(0)
    c = len(slope)
    cfg = ModelSpec(adstock="geometric", saturation="hill")
    draws = {"alpha": jnp.asarray(rng.uniform(0.2, 0.7, (n_draws, c))),
             "half_max": jnp.asarray(rng.uniform(0.5, 1.5, (n_draws, c))),
             "slope": jnp.asarray(np.tile(slope, (n_draws, 1))
                                  * (rng.uniform(0.9, 1.1, (n_draws, c)) if history_scale else 1)),
             "beta": jnp.asarray(rng.uniform(0.5, 2.0, (n_draws, c)))}
    history = rng.uniform(0.5, 1.5, (1, 20, c)) * history_scale
    weights = rng.uniform(0.5, 1.5, (n_periods, c))
    return build(draws, jnp.asarray(history), jnp.asarray([100.0]), config=cfg, n_geos=None,
                 n_periods=n_periods, tail=tail,
                 shape=jnp.asarray(weights / weights.sum(0)) if shape else None)


@pytest.mark.parametrize("risk", ["mean", "quantile", "cvar"])
@pytest.mark.parametrize("free", [False, True])
def test_objective_gradient_matches_central_differences_including_zero_spend(risk, free):
    """RELIABILITY #14: d objective / d spend vs central differences (float64), with one
    channel at exactly zero spend. Slopes about 0.6 / 1 / 2 with carryover from history (so
    media stays positive at zero new spend), and slope exactly 1 without history (the one
    slope whose derivative at zero media is finite and non-zero)."""
    for slope, history_scale in [((0.6, 1.0, 2.0), 1.0), ((1.0, 1.0, 1.0), 0.0)]:
        response = _adstock_response(np.array(slope), history_scale, shape=not free)
        c, n = 3, 4
        plan = np.ones((1, n if free else 1, c)) * np.array([0.0, 0.8, 1.3])
        problem = _problem(c, plan.sum(), factor=np.full((1, c), 0.7))
        settings = Settings(saturation="hill", risk=risk)

        def f(z, response=response, problem=problem, settings=settings):
            return objective(jnp.asarray(z), response, problem, settings)

        grad = np.asarray(jax.grad(f)(jnp.asarray(plan)))
        h = 1e-6
        fd = np.zeros_like(plan)
        for idx in np.ndindex(plan.shape):
            e = np.zeros_like(plan)
            e[idx] = h
            fd[idx] = (float(f(plan + e)) - float(f(plan - e))) / (2 * h)
        np.testing.assert_allclose(grad, fd, rtol=1e-4, atol=1e-7 * np.abs(fd).max())
        assert np.isfinite(grad).all() and (grad[..., 0] > 0).all()


# ---------------------------------------------------------------------- risk measures
def test_risk_weights_define_quantile_and_cvar():
    rng = np.random.default_rng(0)
    x = np.sort(rng.normal(size=2000))
    wq = np.asarray(risk_weights(2000, 0.1, "quantile", jnp.float64))
    assert abs(wq.sum() - 1) < 1e-12 and (wq >= 0).all()
    assert abs(wq @ x - np.quantile(x, 0.1)) < 0.02  # Harrell-Davis ~ sample quantile
    wc = np.asarray(risk_weights(2000, 0.1, "cvar", jnp.float64))
    np.testing.assert_allclose(wc @ x, x[:200].mean(), rtol=1e-12)
    assert risk_weights(10, 0.1, "mean", jnp.float64) is None


def test_risk_averse_plan_trades_mean_for_the_lower_tail():
    """Two channels with the same mean effect, one certain and one uncertain (beta varies
    over draws): the mean objective is indifferent, CVaR / quantile prefer the certain one."""
    d = 400
    rng = np.random.default_rng(0)
    cfg = ModelSpec(adstock="none", saturation="michaelis_menten")
    risky = rng.lognormal(0.0, 0.8, d)
    draws = {"half_max": jnp.ones((d, 2)),
             "beta": jnp.asarray(np.stack([np.full(d, risky.mean()), risky], 1))}
    response = build(draws, jnp.zeros((1, 2, 2)), jnp.ones(1), config=cfg, n_geos=None,
                     n_periods=1, tail=0, shape=jnp.ones((1, 2)))
    problem = _problem(2, 2.0)
    start = np.full((1, 1, 1, 2), 1.0)
    for risk in ("cvar", "quantile"):
        plan, _ = _solve(start, response, problem, saturation="michaelis_menten", risk=risk)
        assert plan.ravel()[0] > 1.5, (risk, plan.ravel())


# ---------------------------------------------------------------------- response surface
@pytest.mark.parametrize("adstock", ["geometric", "delayed", "none"])
def test_response_equals_brute_force_contributions(adstock):
    """Incremental KPI from the linear split (carry + impulse) equals the model's media term
    on the full series history ++ plan ++ zeros minus history ++ zeros, per draw."""
    rng = np.random.default_rng(1)
    c, d, n, tail, t_hist = 2, 3, 5, 4, 30
    cfg = ModelSpec(adstock=adstock, saturation="hill")
    draws = {"half_max": jnp.asarray(rng.uniform(0.5, 1.5, (d, c))),
             "slope": jnp.asarray(rng.uniform(0.7, 2.0, (d, c))),
             "beta": jnp.asarray(rng.uniform(0.5, 2.0, (d, c)))}
    if adstock != "none":
        draws["alpha"] = jnp.asarray(rng.uniform(0.2, 0.8, (d, c)))
    if adstock == "delayed":
        draws["theta"] = jnp.asarray(rng.uniform(0.0, 3.0, (d, c)))
    history = rng.uniform(0.2, 2.0, (t_hist, c))
    plan = rng.uniform(0.0, 2.0, (n, c))
    scale = 7.0
    response = build(draws, jnp.asarray(history[None]), jnp.asarray([scale]), config=cfg,
                     n_geos=None, n_periods=n, tail=tail)
    got = np.asarray(plan_kpi(jnp.asarray(plan[None]), response, "hill"))[:, 0, :]
    zeros = np.zeros((n + tail, c))
    with_plan = np.concatenate([history, plan, np.zeros((tail, c))])
    without = np.concatenate([history, zeros])
    for i in range(d):
        p = {k: v[i] for k, v in draws.items()}
        a = np.asarray(media_effects(p, jnp.asarray(with_plan), cfg, None))
        b = np.asarray(media_effects(p, jnp.asarray(without), cfg, None))
        np.testing.assert_allclose(got[i], scale * (a - b).sum(0), rtol=1e-10, atol=1e-12)
