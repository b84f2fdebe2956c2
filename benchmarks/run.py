"""Benchmark suite: ``python -m benchmarks run [--suite smoke|quick|full] [--out DIR]``.

Each case runs in its own process (clean compile, honest peak memory) and records: wall time
of the first fit (compile included) and of a second fit reusing the compiled program, the
compile time (their difference), min bulk and tail ESS, ESS/s (min bulk ESS / first-fit wall),
max R-hat, divergences, leapfrog steps per draw, gradient evaluations per second inside NUTS
(per device used) against a bare jitted ``value_and_grad`` loop on the same model (sampler
efficiency), peak resident memory, the device and the chain method (``"parallel"`` when
importing mmm_jax gave XLA one host device per core, see ``mmm_jax/_host_devices.py``; the
peers run in the environment the suite was started with, i.e. their own defaults). Results go
to ``<out>/suite_<suite>.json`` and ``.md``.

Peers: where a peer library is installed in its own virtual environment
(``bash benchmarks/peers/setup.sh``), it fits its own model on the same data with the same
chains and draws right after our case, in the same run, and the ratios (our ESS/s over theirs,
their wall over ours) are printed and recorded; ``--no-peers`` skips them.

Suites: ``smoke`` (embedded national, 2 chains x (100 + 100); proves the suite runs),
``quick`` (embedded national + geo and the national reference datasets, 4 x (500 + 500)),
``full`` (every case, 4 x (1000 + 1000)).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import time

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
SUITES = {
    "smoke": (["embedded_national"], dict(warmup=100, samples=100, chains=2)),
    "quick": (["embedded_national", "embedded_geo", "pymc_mmm_example", "meridian_national"],
              dict(warmup=500, samples=500, chains=4)),
    "full": (["embedded_national", "embedded_geo", "pymc_mmm_example", "meridian_national",
              "robyn_weekly", "meridian_geo_20"], dict(warmup=1000, samples=1000, chains=4)),
}


def bare_gradient_rate(model, n_evals: int = 2000, lanes: int | None = None) -> float:
    """Gradient evaluations per second of the model's potential in a jitted loop, with the
    chains vectorised as NUTS runs them (one lane when chains run one after another; per
    chain-evaluation, like the NUTS count). ``model`` needs ``data`` and ``scales`` (a fitted
    model has both); ``lanes`` overrides the number of vectorised chains."""
    import jax
    import jax.numpy as jnp
    from numpyro.infer.util import potential_energy

    from mmm_jax.chains import inner_method, resolved_chain_method
    from mmm_jax.fit import _problem
    from mmm_jax.model import make_model
    from mmm_jax.sampler import initial_values

    data = model.data
    problem = _problem(model.config, data)  # the inputs exactly as the fit laid them out
    inputs, y = problem.inputs, problem.y
    numpyro_model = make_model(model.config, problem.dims)
    chains = lanes
    if chains is None:
        method = resolved_chain_method(model.sampler, data.is_geo)
        looped = inner_method(method, data.is_geo) == "sequential"
        chains = 1 if looped else model.sampler.num_chains
    keys = jax.random.split(jax.random.PRNGKey(0), chains)
    z0 = jax.vmap(lambda k: initial_values(numpyro_model, inputs, y, k, 0.5))(keys)
    grad = jax.vmap(jax.value_and_grad(
        lambda z: potential_energy(numpyro_model, (inputs, y), {}, z)))

    @jax.jit
    def loop(z):
        def body(_, carry):
            value, g = grad(carry)
            total = jnp.sum(value)  # a data dependence so the loop cannot be hoisted
            return jax.tree_util.tree_map(lambda a, b: a + 1e-9 * b * total, carry, g)

        return jax.lax.fori_loop(0, n_evals, body, z)

    jax.block_until_ready(loop(z0))
    start = time.perf_counter()
    jax.block_until_ready(loop(z0))
    seconds = time.perf_counter() - start
    return n_evals * chains / seconds


def run_one(name: str, warmup: int, samples: int, chains: int, seed: int = 0,
            **options) -> dict:
    """Run one case in this process and return its record; ``options`` go to ``MMM.fit``
    (e.g. ``precision``, ``chain_method``, ``dense_mass``)."""
    import resource
    import warnings

    import jax
    import numpy as np

    import mmm_jax as mj
    from benchmarks.cases import load_case

    data = load_case(name)
    model = mj.MMM()
    settings = dict(num_warmup=warmup, num_samples=samples, num_chains=chains,
                    progress_bar=False, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mj.ConvergenceWarning)
        start = time.perf_counter()
        model.fit(data, seed=seed, **settings)
        wall = time.perf_counter() - start
        d = model.diagnostics()
        steps = (model.sample_stats["num_steps"].sum()
                 + model.sample_stats["warmup_num_steps"].sum())
        start = time.perf_counter()
        model.fit(data, seed=seed, check=False, **settings)
        wall_warm = time.perf_counter() - start
    from mmm_jax.chains import parallel_devices, resolved_chain_method

    method = resolved_chain_method(model.sampler, data.is_geo)
    devices = parallel_devices(chains) if method == "parallel" else 1
    nuts_rate = float(steps) / wall_warm / devices  # per device, like the bare loop
    bare_rate = bare_gradient_rate(model)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "case": name, "geos": data.n_geos, "periods": data.n_time, "channels": data.n_channels,
        "chains": chains, "warmup": warmup, "samples": samples,
        "wall_s": round(wall, 2), "wall_no_compile_s": round(wall_warm, 2),
        "compile_s": round(wall - wall_warm, 2),
        "min_ess_bulk": round(d["min_ess_bulk"], 1), "min_ess_tail": round(d["min_ess_tail"], 1),
        "ess_per_s": round(d["min_ess_bulk"] / wall, 2),
        "ess_per_s_no_compile": round(d["min_ess_bulk"] / wall_warm, 2),
        "max_rhat": round(d["max_rhat"], 4), "divergences": d["divergences"],
        "steps_per_draw": round(d["mean_steps"], 1),
        "grad_per_s_nuts": round(nuts_rate), "grad_per_s_bare": round(bare_rate),
        "sampler_efficiency": round(nuts_rate / bare_rate, 3),
        "peak_rss_mb": round(peak_mb), "device": str(jax.devices()[0]),
        "chain_method": method, "devices_used": devices,
        "float": str(np.asarray(model.samples["beta"]).dtype),
    }


def _table(rows: list[dict], title: str, machine: dict) -> str:
    cols = ["case", "geos", "periods", "channels", "wall_s", "compile_s", "wall_no_compile_s",
            "min_ess_bulk", "min_ess_tail", "ess_per_s", "max_rhat", "divergences",
            "steps_per_draw", "sampler_efficiency", "peak_rss_mb"]
    lines = [f"# {title}", "",
             f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['backend']} "
             f"({machine['device_kind']}), jax {machine['jax']}, numpyro {machine['numpyro']}",
             "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    lines += ["", "ESS/s = min bulk ESS over all sampled parameters / wall seconds of the first "
              "fit, compile included. sampler_efficiency = leapfrog gradient evaluations per "
              "second inside NUTS (second fit) / the same model's gradient in a bare jitted "
              "loop."]
    return "\n".join(lines) + "\n"


def run_peers(row: dict, settings: dict) -> list[dict]:
    """Run every installed peer that supports ``row``'s case with the same settings; return
    one record per peer with the ratios against ``row`` (measured in this run)."""
    from benchmarks import peers

    out = []
    for peer in peers.PEER_CASES.get(row["case"], {}).get("peers", {}):
        if not peers.available(peer):
            print(f"  peer {peer}: not installed (bash benchmarks/peers/setup.sh)", flush=True)
            continue
        run = dict(chains=settings["chains"], warmup=settings["warmup"],
                   samples=settings["samples"])
        if peer == "pymc_marketing":  # fill PyTensor's on-disk compile cache first (in its
            peers.run_peer(peer, row["case"], chains=1, warmup=20, samples=20)  # favour)
        result = peers.run_peer(peer, row["case"], **run)
        record = {"case": row["case"], "peer": peer, **(result or {})}
        if result and "error" not in result:
            record["ess_per_s_ratio"] = round(row["ess_per_s"] / max(result["ess_per_s"], 1e-9), 1)
            record["wall_ratio"] = round(result["wall_s"] / row["wall_s"], 1)
            print(f"  vs {peer}: ESS/s {row['ess_per_s']} vs {result['ess_per_s']:.2f} -> "
                  f"{record['ess_per_s_ratio']}x; wall {row['wall_s']} s vs "
                  f"{result['wall_s']:.1f} s; their R-hat {result['max_rhat']}, divergences "
                  f"{result['divergences']}", flush=True)
        else:
            print(f"  peer {peer} failed: {str(record.get('error'))[-500:]}", flush=True)
        out.append(record)
    return out


def _peer_table(rows: list[dict]) -> str:
    if not rows:
        return ""
    cols = ["case", "peer", "version", "wall_s", "min_ess_bulk", "min_ess_tail", "ess_per_s",
            "max_rhat", "divergences", "ess_per_s_ratio", "wall_ratio"]
    lines = ["", "## Peers, same data and draws, same run", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = [r.get(c, r.get("error", "")[:60] if c == "version" else "") for c in cols]
        lines.append("| " + " | ".join(str(round(v, 4 if abs(v) < 10 else 1)
                                           if isinstance(v, float) else v)
                                       for v in cells) + " |")
    lines += ["", "ess_per_s_ratio = our ESS/s / the peer's; wall_ratio = the peer's wall / ours "
              "(both with compilation). Each peer fits its own default model (see "
              "benchmarks/peers/README.md)."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks run",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=sorted(SUITES), default="quick")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--cases", default=None, help="comma-separated subset of the suite")
    parser.add_argument("--no-peers", action="store_true", help="do not run peer libraries")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # internal: child mode
    args = parser.parse_args(argv)
    names, settings = SUITES[args.suite]
    if args.one:
        print("RESULT " + json.dumps(run_one(args.one, **settings)), flush=True)
        return 0
    from benchmarks._machine import machine
    from benchmarks.cases import available

    if args.cases:
        names = [n for n in args.cases.split(",") if n]
    rows, peer_rows = [], []
    for name in names:
        if not available(name):
            print(f"skip {name}: its data is not beside the checkout", flush=True)
            continue
        out = subprocess.run([sys.executable, "-m", "benchmarks", "run", "--suite", args.suite,
                              "--one", name], capture_output=True, text=True)
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
        if out.returncode != 0 or not lines:
            print(f"{name} failed:\n{out.stderr[-3000:]}", flush=True)
            return 1
        row = json.loads(lines[-1][len("RESULT "):])
        print(json.dumps(row), flush=True)
        rows.append(row)
        if not args.no_peers:
            peer_rows += run_peers(row, settings)
    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    info = machine()
    (out_dir / f"suite_{args.suite}.json").write_text(
        json.dumps({"machine": info, "suite": args.suite, "results": rows,
                    "peers": peer_rows}, indent=2))
    (out_dir / f"suite_{args.suite}.md").write_text(
        _table(rows, f"Benchmark suite '{args.suite}'", info) + _peer_table(peer_rows))
    print(f"wrote {out_dir / f'suite_{args.suite}.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
