"""Budget allocator benchmark: mmm_jax vs SciPy SLSQP (finite differences) vs a greedy grid.

Model: ``mj.simulate(seed=0, channels=5 names)`` (156 weeks, national), fitted with NUTS
(2 chains x (500 + 500) = 1,000 draws). Problem: a 13-week horizon (+ 13-week adstock tail),
historical weekly shape (5 variables), budget = spend of the last 13 weeks x {0.8, 1.0, 1.2},
no bounds beyond spend >= 0 (``relative_bounds=None``: the default +-30% bound is off);
objective = posterior-mean incremental KPI over all 1,000 draws.
Then the same with free flighting (13 weekly amounts per channel: 65 variables).

Methods, all on the **same** jitted float64 posterior objective
(:func:`mmm_jax.allocate.solver.objective`):

* ``mmm_jax``: ``model.optimize_budget`` (compile timed separately; then per-solve wall time
  of the whole call, result tables included).
* ``slsqp_fd``: ``scipy.optimize.minimize(method="SLSQP")`` with 2-point finite-difference
  gradients of the value-only objective (what lightweight_mmm does), on the budget share
  (``x / budget``, sum 1, bounds [0, 1]) with the objective scaled to about 1, started from
  the historical mix; ``ftol=1e-10``.
* ``greedy_grid``: Meridian-style: each channel's posterior-mean response on a spend grid of
  ``budget / 1000`` steps, then a greedy hill climb that gives each step to the channel with
  the largest marginal gain (Meridian ``BudgetOptimizer``'s scheme).

Usage::

    python -m benchmarks.allocator [--draws 1000] [--warmup 500] [--repeats 3]

Writes ``benchmarks/results/allocator.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time
import warnings

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CHANNELS = ("tv", "search", "social", "display", "radio")
N_PERIODS = 13


def fit_model(warmup: int, samples: int, seed: int = 0):
    import mmm_jax as mj

    df, _ = mj.simulate(seed=seed, channels=CHANNELS)
    data = mj.MMMData.from_dataframe(df, date="date", target="sales", media=list(CHANNELS),
                                     controls=["price"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mj.ConvergenceWarning)
        t0 = time.perf_counter()
        model = mj.MMM().fit(data, num_warmup=warmup, num_samples=samples, num_chains=2,
                             seed=seed, progress_bar=False)
    return model, time.perf_counter() - t0


def value_function(model, budget: float, max_draws: int, flighting: str = "historical"):
    """Jitted posterior-mean incremental KPI of a plan, float64: channel totals ``(C,)``
    (historical shape) or per-period spend flattened ``(n_periods * C,)`` (free)."""
    import jax
    import jax.numpy as jnp

    from mmm_jax.allocate import engine
    from mmm_jax.allocate.objective import objective

    setup = engine.budget_setup(model, N_PERIODS, 13, flighting, False, max_draws, None)
    c = len(setup.channels)
    problem, settings = engine.make_problem(
        setup, lower=np.zeros(c), upper=np.full(c, np.inf), budget=budget, fixed=True,
        risk="mean", value=1.0, spend_weight=0.0, level=0.1, steps=1)

    def value(x):
        return objective(x.reshape(1, -1, c), setup.response, problem, settings)

    one, many = jax.jit(value), jax.jit(jax.vmap(value))
    return (lambda x: float(one(jnp.asarray(x, jnp.float64)))), many, setup


def run_slsqp(f, budget, start):
    from scipy.optimize import minimize

    scale = abs(f(start))
    calls = [0]

    def fun(u):
        calls[0] += 1
        return -f(u * budget) / scale

    t0 = time.perf_counter()
    res = minimize(fun, start / budget, method="SLSQP", bounds=[(0.0, 1.0)] * len(start),
                   constraints=[{"type": "eq", "fun": lambda u: u.sum() - 1.0}],
                   options={"ftol": 1e-10, "maxiter": 1000})
    seconds = time.perf_counter() - t0
    x = np.clip(res.x, 0, None)
    x = x / x.sum() * budget
    return {"seconds": seconds, "kpi": f(x), "calls": calls[0], "iterations": int(res.nit),
            "success": bool(res.success), "n_variables": len(start)}


def run_greedy(many, f, budget, n_channels, n_steps=1000):
    import jax.numpy as jnp

    t0 = time.perf_counter()
    step = budget / n_steps
    levels = np.arange(n_steps + 1) * step
    # response per channel on the grid: the objective is additive over channels, so one
    # evaluation with every channel at level k gives each channel's KPI at k (posterior mean)
    table = np.zeros((n_steps + 1, n_channels))
    for c in range(n_channels):
        plans = np.zeros((n_steps + 1, n_channels))
        plans[:, c] = levels
        table[:, c] = np.asarray(many(jnp.asarray(plans)))
    level = np.zeros(n_channels, int)
    for _ in range(n_steps):
        gain = table[np.minimum(level + 1, n_steps), np.arange(n_channels)] - table[
            level, np.arange(n_channels)]
        level[int(np.argmax(gain))] += 1
    seconds = time.perf_counter() - t0
    x = level * step
    return {"seconds": seconds, "kpi": f(x), "grid_steps": n_steps}


def main(argv=None) -> None:
    import jax

    from benchmarks._machine import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    samples = args.draws // 2
    model, fit_seconds = fit_model(args.warmup, samples)
    print(f"fit: {fit_seconds:.1f} s, {args.draws} draws", flush=True)
    recent = model.evaluate_budget(None, N_PERIODS).spend.to_numpy()

    t0 = time.perf_counter()
    model.optimize_budget(float(recent.sum()) * 0.9, N_PERIODS, max_draws=args.draws,
                          relative_bounds=None)
    compile_seconds = time.perf_counter() - t0
    rows = []
    for factor in (0.8, 1.0, 1.2):
        budget = float(recent.sum()) * factor
        ours_times = []
        for r in range(args.repeats):
            t0 = time.perf_counter()
            res = model.optimize_budget(budget, N_PERIODS, max_draws=args.draws, seed=r,
                                        relative_bounds=None)
            ours_times.append(time.perf_counter() - t0)
        with jax.enable_x64(True):
            f, many, _ = value_function(model, budget, args.draws)
            f(recent)  # compile the value function outside the timings
            many(np.zeros((2, len(CHANNELS))))
            start = recent / recent.sum() * budget
            slsqp = run_slsqp(f, budget, start)
            greedy = run_greedy(many, f, budget, len(CHANNELS))
            ours_kpi = f(res.spend.to_numpy())
        per_solve = float(np.median(ours_times))
        row = {
            "budget_factor": factor, "budget": budget,
            "mmm_jax": {"seconds": per_solve, "seconds_all": ours_times,
                        "solver_seconds": res.convergence["seconds"], "kpi": ours_kpi,
                        "kkt_spread": res.kkt["spread"], "pg_norm": res.convergence["pg_norm"],
                        "converged": res.convergence["converged"],
                        "newton_iterations": res.convergence["iterations"],
                        "search_iterations": res.convergence["search_iterations"],
                        "spend": res.spend.tolist()},
            "slsqp_fd": slsqp, "greedy_grid": greedy,
            "speedup_vs_slsqp": slsqp["seconds"] / per_solve,
            "speedup_vs_greedy": greedy["seconds"] / per_solve,
            "kpi_gap_slsqp": (slsqp["kpi"] - ours_kpi) / ours_kpi,
            "kpi_gap_greedy": (greedy["kpi"] - ours_kpi) / ours_kpi,
        }
        print(json.dumps({k: row[k] for k in ("budget_factor", "speedup_vs_slsqp",
                                              "speedup_vs_greedy", "kpi_gap_slsqp",
                                              "kpi_gap_greedy")})
              + f" ours {per_solve:.3f}s slsqp {slsqp['seconds']:.3f}s ({slsqp['calls']} calls)"
              f" greedy {greedy['seconds']:.3f}s", flush=True)
        rows.append(row)

    # free flighting: 13 weekly amounts per channel (65 variables)
    budget = float(recent.sum())
    model.optimize_budget(budget * 0.9, N_PERIODS, max_draws=args.draws, flighting="free",
                          relative_bounds=None)
    ours_times = []
    for r in range(args.repeats):
        t0 = time.perf_counter()
        res = model.optimize_budget(budget, N_PERIODS, max_draws=args.draws, flighting="free",
                                    seed=r, relative_bounds=None)
        ours_times.append(time.perf_counter() - t0)
    with jax.enable_x64(True):
        f, _, setup = value_function(model, budget, args.draws, "free")
        start = (setup.shape * (recent / recent.sum() * budget)).ravel()
        f(start)
        slsqp = run_slsqp(f, budget, start)
        ours_kpi = f(res.plan.to_numpy().ravel())
    per_solve = float(np.median(ours_times))
    free_row = {"budget": budget, "n_variables": int(start.size),
                "mmm_jax": {"seconds": per_solve, "seconds_all": ours_times, "kpi": ours_kpi,
                            "kkt_spread": res.kkt["spread"],
                            "converged": res.convergence["converged"],
                            "newton_iterations": res.convergence["iterations"]},
                "slsqp_fd": slsqp, "speedup_vs_slsqp": slsqp["seconds"] / per_solve,
                "kpi_gap_slsqp": (slsqp["kpi"] - ours_kpi) / ours_kpi}
    print("free flighting:", json.dumps({k: free_row[k] for k in (
        "n_variables", "speedup_vs_slsqp", "kpi_gap_slsqp")}), f"ours {per_solve:.3f}s "
        f"slsqp {slsqp['seconds']:.3f}s ({slsqp['calls']} calls)", flush=True)

    report = {"machine": machine(), "fit_seconds": fit_seconds, "draws": args.draws,
              "channels": list(CHANNELS), "n_periods": N_PERIODS, "tail": 13,
              "compile_seconds": compile_seconds, "results": rows, "free_flighting": free_row}
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "allocator.json").write_text(json.dumps(report, indent=2))
    m = report["machine"]
    lines = [
        f"# Budget allocator: 5 channels x 13 weeks x {args.draws} draws", "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['backend']}, jax {m['jax']}. "
        f"First optimisation (compilation included): {compile_seconds:.1f} s.", "",
        "| budget | mmm_jax s | SLSQP-FD s (calls) | greedy s | speed-up vs SLSQP | "
        "KPI mmm_jax | KPI gap SLSQP | KPI gap greedy | KKT spread |",
        "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['budget_factor']:.1f}x | {r['mmm_jax']['seconds']:.3f} | "
            f"{r['slsqp_fd']['seconds']:.3f} ({r['slsqp_fd']['calls']}) | "
            f"{r['greedy_grid']['seconds']:.3f} | {r['speedup_vs_slsqp']:.1f}x | "
            f"{r['mmm_jax']['kpi']:,.1f} | {r['kpi_gap_slsqp']:+.2e} | "
            f"{r['kpi_gap_greedy']:+.2e} | {r['mmm_jax']['kkt_spread']:.1e} |")
    fr = free_row
    lines += ["", f"Free flighting ({fr['n_variables']} weekly amounts, budget 1.0x): mmm_jax "
              f"{fr['mmm_jax']['seconds']:.3f} s, SLSQP-FD {fr['slsqp_fd']['seconds']:.2f} s "
              f"({fr['slsqp_fd']['calls']} calls): {fr['speedup_vs_slsqp']:.1f}x; KPI gap "
              f"SLSQP {fr['kpi_gap_slsqp']:+.2e}; KKT spread {fr['mmm_jax']['kkt_spread']:.1e}."]
    lines += ["", "Times are wall seconds after compilation (mmm_jax: median of "
              f"{args.repeats} full `optimize_budget` calls). KPI gap = (other - mmm_jax) / "
              "mmm_jax on the same objective (negative: mmm_jax is better)."]
    (out / "allocator.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
