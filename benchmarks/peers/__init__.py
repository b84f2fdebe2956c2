"""Peer MMM libraries run side by side with mmm_jax, each in its own virtual environment.

Pure standard library: the runner scripts run under the peer's own python (``setup.sh`` makes the
venvs under ``$MMM_JAX_PEERS_DIR``, default /tmp) and print one JSON line, which is parsed here.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parents[2] / "shared" / "data"

#: peer -> (venv directory name, runner script)
PEERS = {
    "pymc_marketing": ("peer-pymcm", "run_pymc_marketing.py"),
    "meridian": ("peer-meridian", "run_meridian.py"),
    "lightweight_mmm": ("peer-lwmmm", "run_lightweight_mmm.py"),
}

#: case -> {peer: extra runner arguments}; the data path is the case's CSV.
PEER_CASES = {
    "pymc_mmm_example": {"data": "pymc_marketing/mmm_example.csv",
                         "peers": {"pymc_marketing": []}},
    "meridian_national": {"data": "meridian/national_media.csv",
                          "peers": {"meridian": [], "lightweight_mmm": []}},
    "meridian_geo_20": {"data": "meridian/geo_media.csv", "peers": {"meridian": ["--geo"]}},
}


def python_for(peer: str) -> pathlib.Path:
    """Path of the peer venv's python (may not exist)."""
    root = pathlib.Path(os.environ.get("MMM_JAX_PEERS_DIR", "/tmp"))
    return root / PEERS[peer][0] / "bin" / "python"


def available(peer: str) -> bool:
    """Whether the peer's venv exists (run ``benchmarks/peers/setup.sh`` to make it)."""
    return peer in PEERS and python_for(peer).is_file()


def run_peer(peer: str, case: str, *, chains: int, warmup: int, samples: int, seed: int = 0,
             timeout: float = 3600) -> dict | None:
    """Fit ``peer``'s own model on ``case`` in a subprocess and return its JSON result.

    None when the peer venv is absent or the peer does not run on this case; on failure
    ``{"error": ...}`` with the tail of stderr.
    """
    if case not in PEER_CASES or peer not in PEER_CASES[case]["peers"] or not available(peer):
        return None
    spec = PEER_CASES[case]
    cmd = [str(python_for(peer)), str(HERE / PEERS[peer][1]), "--data", str(DATA / spec["data"]),
           "--chains", str(chains), "--warmup", str(warmup), "--samples", str(samples),
           "--seed", str(seed), *spec["peers"][peer]]
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)  # leave threading at the machine default
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=HERE)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout} s", "peer": peer, "case": case}
    for line in reversed(proc.stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                break
    tail = (proc.stderr or proc.stdout)[-2000:]
    return {"error": f"exit code {proc.returncode}: {tail}", "peer": peer, "case": case}
