"""ArviZ export and save/load without pickle.

A saved model is a directory:

* ``config.json``: format version, the model specification (every field of
  :class:`~mmm_jax.ModelSpec`; priors as distribution class name + parameters), the sampler
  settings (every saved field of :class:`~mmm_jax.SamplerConfig`), the seed, the data's column
  roles, the lift tests of a calibrated fit (records) and a SHA-256 of each file;
* ``posterior.nc``: the ArviZ InferenceData (posterior, sample_stats, observed_data,
  constant_data) as NetCDF;
* ``data.nc``: the fitted data in original units (float64, bit for bit) and the holdout mask
  of a holdout fit;

Loading checks the format version and the checksums, so a corrupted or foreign file fails with a
``ValueError`` instead of a wrong model.

Nothing is lost when a save fails or the process is killed part way. :func:`save` writes the
files (``config.json`` last, so a directory holding a ``config.json`` whose checksums match is
complete) and flushes them to disk in a hidden sibling ``.<name>.saving-<pid>-<random>``, then
swaps it in: an existing save at ``path`` is renamed to ``.<name>.old-<pid>-<random>``, the new
one is renamed to ``path`` and only then is the old one removed. An exception restores the old
save at ``path`` and removes the partial files. A kill (SIGKILL, power loss) cannot run that
clean-up, and Linux cannot rename a directory over a non-empty one, so there is an instant
when ``path`` is missing while both complete siblings exist; :func:`load` therefore falls back,
when ``path`` does not exist, to the newest complete ``.<name>.saving-*`` / ``.<name>.old-*``
sibling (newest ``config.json``), with a ``UserWarning`` naming it. Incomplete siblings (a kill
during a write) fail the checksum check and are never loaded. The next successful save removes
the siblings left by processes that are no longer running. Concurrent saves to one ``path``
are not supported.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import shutil
import tempfile
import warnings

import numpy as np
import xarray as xr

from mmm_jax import _schema, inference_data, lift_tests
from mmm_jax.data import MMMData
from mmm_jax.result import FitResult
from mmm_jax.sampler_config import SamplerConfig
from mmm_jax.spec import DECODE, ENCODE, ModelSpec

FORMAT = "mmm_jax"
FORMAT_VERSION = 1
FILES = ("posterior.nc", "data.nc")


def to_inference_data(model: FitResult):
    """The groups a save stores (posterior on the model's scale, sample_stats, observed KPI in
    original units, media/spend/controls as constant data); the complete InferenceData is
    :func:`mmm_jax.inference_data.to_inference_data`."""
    return inference_data.core_inference_data(model)


# ---------------------------------------------------------------- save / load
def _sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _data_dataset(data: MMMData, holdout=None) -> xr.Dataset:
    lead = ["geo"] if data.is_geo else []
    extra = {} if holdout is None else {"holdout": ([*lead, "date"], np.asarray(holdout, bool))}
    ds = xr.Dataset(
        {"target": ([*lead, "date"], data.target),
         "media": ([*lead, "date", "channel"], data.media),
         "spend": ([*lead, "date", "channel"], data.spend),
         "controls": ([*lead, "date", "control"], data.controls), **extra},
        coords={"date": np.asarray(data.dates), "channel": list(data.channels),
                "control": list(data.control_names),
                **({"geo": list(data.geos)} if data.is_geo else {})})
    return ds


def save(result: FitResult, path) -> None:
    """Write ``result`` to directory ``path`` (created; an existing save there is replaced
    only once the new one is complete; see the module docstring)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model_plain = _schema.to_plain(result.spec, ENCODE)  # before writing: unsaveable priors
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=_prefix(path, "saving"), dir=path.parent))
    try:
        to_inference_data(result).to_netcdf(str(tmp / "posterior.nc"), engine="h5netcdf")
        _data_dataset(result.data, result.holdout).to_netcdf(tmp / "data.nc",
                                                             engine="h5netcdf")
        data = result.data
        config = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "model": model_plain,
            "sampler": _schema.to_plain(result.sampler),
            "seed": result.seed,
            "data": {"spec": data.spec(), "channels": list(data.channels),
                     "spend_columns": list(data.spend_columns),
                     "control_names": list(data.control_names),
                     "target_name": data.target_name, "date_name": data.date_name,
                     "geo_name": data.geo_name, "freq": data.freq},
            "lift_tests": (None if result.lift_tests is None
                           else lift_tests.to_plain(result.lift_tests)),
            "sha256": {name: _sha256(tmp / name) for name in FILES},
        }
        (tmp / "config.json").write_text(json.dumps(config, indent=2))  # last: complete
        for name in (*FILES, "config.json"):
            _fsync(tmp / name)
        _fsync(tmp)
        _swap_in(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _remove_leftovers(path)


_SIBLING = r"\.(saving|old)-(\d+)-[A-Za-z0-9_]+"


def _prefix(path: pathlib.Path, kind: str) -> str:
    return f".{path.name}.{kind}-{os.getpid()}-"


def _siblings(path: pathlib.Path) -> list[tuple[pathlib.Path, int]]:
    """The ``.<name>.saving-*`` / ``.<name>.old-*`` directories beside ``path``, with the pid
    of the process that made each."""
    pattern = re.compile(re.escape(f".{path.name}") + _SIBLING)
    out = []
    if path.parent.is_dir():
        for entry in path.parent.iterdir():
            m = pattern.fullmatch(entry.name)
            if m and entry.is_dir():
                out.append((entry, int(m.group(2))))
    return out


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists
        return True
    return True


def _remove_leftovers(path: pathlib.Path) -> None:
    """Remove the siblings of ``path`` left by killed saves (their process is gone)."""
    for entry, pid in _siblings(path):
        if not _alive(pid):
            shutil.rmtree(entry, ignore_errors=True)


def _fsync(path: pathlib.Path) -> None:
    """Flush a file or a directory (its entries) to disk; a no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _swap_in(tmp: pathlib.Path, path: pathlib.Path) -> None:
    """Move the complete save ``tmp`` to ``path``; an old save there is moved aside first and
    removed only after the new one is in place (restored on any exception). A kill between
    the two renames leaves no ``path``, but both complete siblings, which :func:`load` finds."""
    old = None
    if path.exists():
        old = pathlib.Path(tempfile.mkdtemp(prefix=_prefix(path, "old"), dir=path.parent))
        old.rmdir()
        path.rename(old)
    try:
        tmp.rename(path)
    except BaseException:
        if old is not None and not path.exists():
            old.rename(path)
        raise
    _fsync(path.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _resolve(path: pathlib.Path) -> pathlib.Path:
    """``path``, or when it does not exist the newest complete sibling left by a save that was
    killed part way (see the module docstring); ``path`` itself when there is none."""
    if path.exists():
        return path
    complete = []
    for entry, _ in _siblings(path):
        try:
            _read_config(entry)
            stamp = (entry / "config.json").stat().st_mtime_ns
        except (ValueError, OSError):
            continue  # incomplete (killed while writing) or being removed
        complete.append((stamp, entry.name, entry))
    if not complete:
        return path
    found = max(complete)[2]
    warnings.warn(f"{path} does not exist (a save was interrupted); loading the complete "
                  f"save {found} — save the model again to restore {path.name}", UserWarning,
                  stacklevel=3)
    return found


def _read_config(path: pathlib.Path) -> dict:
    file = path / "config.json"
    if not file.is_file():
        raise ValueError(f"{path} is not a saved mmm_jax model: config.json is missing")
    try:
        config = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{file} is corrupted (not valid JSON: {err}); save the model again"
                         ) from err
    if config.get("format") != FORMAT:
        raise ValueError(f"{file} is not an mmm_jax model file (format={config.get('format')!r})")
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"{file} has format_version={version!r}, this mmm_jax reads version "
                         f"{FORMAT_VERSION}; load it with the mmm_jax release that saved it")
    for name in FILES:
        if not (path / name).is_file():
            raise ValueError(f"{path / name} is missing; the saved model is incomplete")
        if _sha256(path / name) != config["sha256"].get(name):
            raise ValueError(f"{path / name} is corrupted (SHA-256 does not match config.json);"
                             " restore it or save the model again")
    return config


def load(path) -> FitResult:
    """Rebuild the fit result saved by :func:`save` (from the newest complete sibling when a
    killed save left no ``path``; see the module docstring)."""
    path = _resolve(pathlib.Path(path))
    config = _read_config(path)
    try:
        spec = _schema.from_plain(ModelSpec, config["model"], DECODE)
        sampler = _schema.from_plain(SamplerConfig, config["sampler"])
    except (KeyError, TypeError) as err:
        raise ValueError(f"{path / 'config.json'} is incomplete ({err}); save the model again"
                         ) from None
    d = config["data"]
    with xr.open_dataset(path / "data.nc", engine="h5netcdf") as ds:
        ds = ds.load()
    geos = tuple(str(g) for g in ds["geo"].values) if "geo" in ds.coords else None
    data = MMMData(
        dates=np.asarray(ds["date"].values, dtype="datetime64[ns]"),
        target=np.asarray(ds["target"].values), media=np.asarray(ds["media"].values),
        spend=np.asarray(ds["spend"].values), controls=np.asarray(ds["controls"].values),
        channels=tuple(d["channels"]), spend_columns=tuple(d["spend_columns"]),
        control_names=tuple(d["control_names"]), target_name=d["target_name"],
        date_name=d["date_name"], geos=geos, geo_name=d["geo_name"], freq=d["freq"])
    with xr.open_datatree(path / "posterior.nc", engine="h5netcdf") as tree:
        post = tree["posterior"].to_dataset().load()
        ss = tree["sample_stats"].to_dataset().load()
    samples = {k: np.asarray(v.values) for k, v in post.data_vars.items()}
    stats = {"diverging": ss["diverging"].values, "tree_depth": ss["tree_depth"].values,
             "num_steps": ss["n_steps"].values, "accept_prob": ss["acceptance_rate"].values,
             "energy": ss["energy"].values, "potential_energy": -ss["lp"].values,
             "step_size": ss["step_size"].values}
    holdout = np.asarray(ds["holdout"].values, bool) if "holdout" in ds else None
    lift = config.get("lift_tests")  # absent in saves from before lift tests
    return FitResult.create(spec, data, sampler, config["seed"], samples, stats,
                            holdout=holdout,
                            lift_tests=None if lift is None else lift_tests.from_plain(lift))
