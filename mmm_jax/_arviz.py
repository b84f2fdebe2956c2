"""ArviZ 0.2x / 1.x compatibility (from_dict signature; tail-ESS quantiles)."""
from __future__ import annotations

import arviz as az

ARVIZ_1 = int(az.__version__.split(".")[0]) >= 1
TAIL_PROB = (0.05, 0.95)  # Vehtari et al. (2021); arviz 1.x defaults to rcParams["stats.ci_prob"]


def from_dict(groups: dict, **kwargs):
    """``{group: {var: array}}`` -> InferenceData (0.x) or xarray DataTree (1.x)."""
    return az.from_dict(groups, **kwargs) if ARVIZ_1 else az.from_dict(**groups, **kwargs)
