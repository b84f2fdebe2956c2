"""ArviZ export and save/load without pickle.

A saved model is a directory:

* ``config.json``: format version, the model specification (every field of
  :class:`~mmm_jax.ModelSpec`; priors as distribution class name + parameters), the sampler
  settings (every saved field of :class:`~mmm_jax.SamplerConfig`), the seed, the data's column
  roles and a SHA-256 of each file;
* ``posterior.nc``: the ArviZ InferenceData (posterior, sample_stats, observed_data) as NetCDF;
* ``data.nc``: the fitted data in original units (float64, bit for bit).

Loading checks the format version and the checksums, so a corrupted or foreign file fails with a
``ValueError`` instead of a wrong model. The files are written to a temporary directory beside
``path`` and swapped in, so a save that fails part way leaves an earlier save loadable.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import shutil
import tempfile

import arviz as az
import numpy as np
import xarray as xr

from mmm_jax import _arviz, _schema
from mmm_jax.data import MMMData
from mmm_jax.result import FitResult
from mmm_jax.sampler_config import SamplerConfig
from mmm_jax.spec import DECODE, ENCODE, ModelSpec

FORMAT = "mmm_jax"
FORMAT_VERSION = 1
FILES = ("posterior.nc", "data.nc")


def _dims(model) -> dict[str, list[str]]:
    """Dimension names of every posterior site (after the chain and draw axes)."""
    data = model.data
    geo = ["geo"] if data.is_geo else []
    dims = {"beta": ["channel"], "beta_raw": ["channel"], "beta_geo_sd": ["channel"],
            "beta_geo_raw": ["geo", "channel"], "intercept": geo, "intercept_raw": geo,
            "sigma": geo, "season": ["fourier"], "dow": ["weekday"], "gamma": ["control"],
            "trend": [], "nu": []}
    for name, value in model.samples.items():
        if name not in dims:  # kernel parameters: one per channel
            dims[name] = ["channel"] if np.ndim(value) == 3 else []
    return {k: v for k, v in dims.items() if k in model.samples}


def _coords(model) -> dict:
    data = model.data
    coords = {"channel": list(data.channels), "control": list(data.control_names),
              "date": np.asarray(data.dates),
              "fourier": [f"{f}_{k}" for f in ("sin", "cos")
                          for k in range(1, model.spec.seasonality_degree + 1)],
              "weekday": ["Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}
    if data.is_geo:
        coords["geo"] = list(data.geos)
    return coords


def to_inference_data(model: FitResult) -> az.InferenceData:
    """ArviZ InferenceData of a fit result (posterior on the model's scale, observed KPI in
    original units, media/spend/controls as constant data)."""
    data = model.data
    stats = model.sample_stats
    obs_dims = ["geo", "date"] if data.is_geo else ["date"]
    series_dims = [*obs_dims, "channel"]
    return _arviz.from_dict(
        {"posterior": {k: np.asarray(v) for k, v in model.samples.items()},
        "sample_stats": {
            "diverging": stats["diverging"], "tree_depth": stats["tree_depth"],
            "n_steps": stats["num_steps"], "acceptance_rate": stats["accept_prob"],
            "energy": stats["energy"], "lp": -stats["potential_energy"],
            "step_size": stats["step_size"]},
        "observed_data": {"kpi": data.target},
        "constant_data": {"media": data.media, "spend": data.spend, "controls": data.controls}},
        coords=_coords(model),
        dims={**_dims(model), "kpi": obs_dims, "media": series_dims, "spend": series_dims,
              "controls": [*obs_dims, "control"]},
    )


# ---------------------------------------------------------------- save / load
def _sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _data_dataset(data: MMMData) -> xr.Dataset:
    lead = ["geo"] if data.is_geo else []
    ds = xr.Dataset(
        {"target": ([*lead, "date"], data.target),
         "media": ([*lead, "date", "channel"], data.media),
         "spend": ([*lead, "date", "channel"], data.spend),
         "controls": ([*lead, "date", "control"], data.controls)},
        coords={"date": np.asarray(data.dates), "channel": list(data.channels),
                "control": list(data.control_names),
                **({"geo": list(data.geos)} if data.is_geo else {})})
    return ds


def save(result: FitResult, path) -> None:
    """Write ``result`` to directory ``path`` (created; an existing save there is replaced
    only once the new one is complete)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model_plain = _schema.to_plain(result.spec, ENCODE)  # before writing: unsaveable priors
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}.saving-", dir=path.parent))
    try:
        to_inference_data(result).to_netcdf(str(tmp / "posterior.nc"), engine="h5netcdf")
        _data_dataset(result.data).to_netcdf(tmp / "data.nc", engine="h5netcdf")
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
            "sha256": {name: _sha256(tmp / name) for name in FILES},
        }
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
        _swap_in(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _swap_in(tmp: pathlib.Path, path: pathlib.Path) -> None:
    """Move the complete save ``tmp`` to ``path``; an old save there is moved aside first and
    removed only after the new one is in place."""
    old = None
    if path.exists():
        old = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
        old.rmdir()
        path.rename(old)
    try:
        tmp.rename(path)
    except OSError:
        if old is not None:
            old.rename(path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
    """Rebuild the fit result saved by :func:`save`."""
    path = pathlib.Path(path)
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
    return FitResult.create(spec, data, sampler, config["seed"], samples, stats)
