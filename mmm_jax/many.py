"""Fit many same-shaped, independent models (brands, markets, simulation replicates) at once.

The K datasets are stacked on a leading axis and sampled by one compiled program (one compile,
one dispatch) instead of K runs: vectorised over datasets and chains on an accelerator, looped
inside the program on a CPU, spread over devices when there are several.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from mmm_jax import diagnostics as diag_mod
from mmm_jax.data import MMMData
from mmm_jax.features import compute_scales
from mmm_jax.mmm import MMM
from mmm_jax.model import make_model
from mmm_jax.sampler import SamplerConfig, run_nuts


def fit_many(datasets: Sequence[MMMData], *, adstock: str = "geometric",
             saturation: str = "hill", num_warmup: int = 1000, num_samples: int = 1000,
             num_chains: int = 4, seed: int = 0, target_accept: float = 0.85,
             max_tree_depth: int = 10, dense_mass: bool = False, chain_method: str = "auto",
             precision: str = "float32", progress_bar: bool = True, check: bool = True,
             **model_kwargs) -> list[MMM]:
    """Fit one model per dataset in a single vectorised NUTS program.

    Args:
        datasets: K :class:`MMMData` with identical shapes (periods, channels, controls, geos)
            and frequency; dates and values may differ.
        adstock, saturation, model_kwargs: the model (as for :class:`MMM`), shared by all.
        num_warmup, num_samples, num_chains, target_accept, max_tree_depth, dense_mass,
            progress_bar: NUTS settings, as for :meth:`MMM.fit`.
        chain_method: ``"auto"`` (``"parallel"`` with several devices: datasets spread over
            them; else ``"sequential"`` on CPU, ``"vectorized"`` on GPU/TPU), ``"vectorized"``
            (one ``vmap`` over datasets and chains: every lane waits for the longest tree, so
            it pays where lanes are nearly free, on an accelerator), ``"sequential"``
            (datasets and chains looped inside the one program) or ``"parallel"``.
        precision: ``"float32"`` or ``"float64"``, as for :meth:`MMM.fit`.
        seed: dataset k uses seed ``seed + k``.
        check: warn (``ConvergenceWarning``, naming the dataset) when a fit misses a threshold.

    Returns:
        K fitted :class:`MMM` objects, in the order of ``datasets``. Draws equal a single
        ``fit`` with the same seed up to floating-point reassociation in the batched program.

    Raises:
        ValueError: an empty list, a non-``MMMData`` entry, or shapes that differ (names the
            first dataset and field that differ from dataset 0).

    Example:
        >>> import mmm_jax as mj
        >>> cols = dict(date="date", target="sales", media=["tv", "search", "social"],
        ...             controls=["price"])
        >>> data = [mj.MMMData.from_dataframe(mj.simulate(seed=s)[0], **cols) for s in range(4)]
        >>> models = mj.fit_many(data, num_warmup=500, num_samples=500)  # doctest: +SKIP
        >>> [m.roi().loc["tv", "mean"] for m in models]  # doctest: +SKIP
    """
    datasets = list(datasets)
    if not datasets:
        raise ValueError("fit_many needs at least one dataset")
    for k, data in enumerate(datasets):
        if not isinstance(data, MMMData):
            raise ValueError(f"datasets[{k}] is {type(data).__name__}; pass MMMData objects "
                             "built with mmm_jax.MMMData.from_dataframe")
    sampler = SamplerConfig(num_warmup=num_warmup, num_samples=num_samples,
                            num_chains=num_chains, target_accept=target_accept,
                            max_tree_depth=max_tree_depth, dense_mass=dense_mass,
                            chain_method=chain_method, precision=precision,
                            progress_bar=progress_bar)
    models = [MMM(adstock=adstock, saturation=saturation, **model_kwargs) for _ in datasets]
    inputs, ys = [], []
    for model, data in zip(models, datasets, strict=True):
        model.data, model.scales = data, compute_scales(data)
        inputs.append(model._inputs(data.dates, data.media, data.controls))
        ys.append(model._unit_target())
    _check_same_shapes(datasets, inputs)
    dims = models[0]._dims(datasets[0])
    stacked = {k: np.stack([x[k] for x in inputs]) for k in inputs[0]}
    seeds = [int(seed) + k for k in range(len(datasets))]
    result = run_nuts(make_model(models[0].config, dims), stacked, np.stack(ys), sampler,
                      seeds, cache_key=(models[0].config.key, dims), many=True)
    for k, model in enumerate(models):
        model.sampler, model.seed = sampler, seeds[k]
        model.samples = {name: v[k] for name, v in result.samples.items()}
        model.sample_stats = {name: v[k] for name, v in result.stats.items()}
        if check:
            issues = diag_mod.problems(model._compute_diagnostics())
            if issues:
                warnings.warn(f"datasets[{k}]: convergence check failed: " + "; ".join(issues),
                              diag_mod.ConvergenceWarning, stacklevel=2)
    return models


def _check_same_shapes(datasets, inputs) -> None:
    ref = datasets[0]
    for k, data in enumerate(datasets[1:], start=1):
        for field in ("freq", "n_geos", "n_channels", "n_controls", "n_time"):
            if getattr(data, field) != getattr(ref, field):
                raise ValueError(
                    f"datasets[{k}] has {field}={getattr(data, field)!r} but datasets[0] has "
                    f"{getattr(ref, field)!r}; fit_many needs same-shaped data (fit it alone "
                    "with MMM().fit, or trim/pad the data)")
        for name, value in inputs[k].items():
            if value.shape != inputs[0][name].shape:
                raise ValueError(f"datasets[{k}] gives {name} of shape {value.shape}, "
                                 f"datasets[0] {inputs[0][name].shape}; use same-shaped data")
