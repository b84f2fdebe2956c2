"""Fit many same-shaped, independent models (brands, markets, simulation replicates) at once.

The K datasets are stacked on a leading axis and sampled by one compiled program (one compile,
one dispatch) instead of K runs: vectorised over datasets and chains on an accelerator, looped
inside the program on a CPU, spread over devices when there are several.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from mmm_jax import diagnostics as diag_mod
from mmm_jax import fit as fit_mod
from mmm_jax.data import MMMData
from mmm_jax.mmm import MMM
from mmm_jax.sampler_config import SamplerConfig
from mmm_jax.spec import ModelSpec


def fit_many(datasets: Sequence[MMMData], *, spec: ModelSpec | None = None,
             sampler: SamplerConfig | None = None, seed: int = 0, check: bool = True,
             **options) -> list[MMM]:
    """Fit one model per dataset in a single vectorised NUTS program.

    Args:
        datasets: K :class:`MMMData` with identical shapes (periods, channels, controls, geos)
            and frequency; dates and values may differ.
        spec: the model, shared by all (default :class:`~mmm_jax.ModelSpec`'s defaults).
        sampler: NUTS settings (a :class:`~mmm_jax.SamplerConfig`), as for
            :meth:`MMM.fit`. Its ``chain_method``: ``"auto"`` (``"parallel"`` with several
            devices: datasets spread over them; else ``"sequential"`` on CPU,
            ``"vectorized"`` on GPU/TPU), ``"vectorized"`` (one ``vmap`` over datasets and
            chains: every lane waits for the longest tree, so it pays where lanes are nearly
            free, on an accelerator), ``"sequential"`` (datasets and chains looped inside the
            one program) or ``"parallel"``.
        seed: dataset k uses seed ``seed + k``.
        check: warn (``ConvergenceWarning``, naming the dataset) when a fit misses a threshold.
        **options: fields of :class:`~mmm_jax.ModelSpec` (``adstock``, ``saturation``, ...)
            or of :class:`~mmm_jax.SamplerConfig` (``num_warmup``, ``num_chains``, ...).

    Returns:
        K fitted :class:`MMM` objects, in the order of ``datasets``. Draws equal a single
        ``fit`` with the same seed up to floating-point reassociation in the batched program.

    Raises:
        ValueError: an empty list, a non-``MMMData`` entry, shapes that differ (names the
            first dataset and field that differ from dataset 0), or an unknown option.

    Example:
        >>> import mmm_jax as mj
        >>> cols = dict(date="date", target="sales", media=["tv", "search", "social"],
        ...             controls=["price"])
        >>> data = [mj.MMMData.from_dataframe(mj.simulate(seed=s)[0], **cols) for s in range(4)]
        >>> models = mj.fit_many(data, num_warmup=500, num_samples=500)  # doctest: +SKIP
        >>> [m.roi().loc["tv", "mean"] for m in models]  # doctest: +SKIP
    """
    sampler_fields = set(SamplerConfig.__dataclass_fields__)
    settings = SamplerConfig.build(sampler, **{k: v for k, v in options.items()
                                               if k in sampler_fields})
    model_spec = ModelSpec.build(spec, **{k: v for k, v in options.items()
                                          if k not in sampler_fields})
    datasets = list(datasets)
    seed = fit_mod.check_seed(seed)
    results = fit_mod.fit_batch(model_spec, datasets, settings,
                                [seed + k for k in range(len(datasets))])
    models = [MMM(spec=model_spec)._set_result(r) for r in results]
    for k, result in enumerate(results):
        if check:
            issues = diag_mod.problems(result.diagnostics)
            if issues:
                warnings.warn(f"datasets[{k}]: convergence check failed: " + "; ".join(issues),
                              diag_mod.ConvergenceWarning, stacklevel=2)
    return models
