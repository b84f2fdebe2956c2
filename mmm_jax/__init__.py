"""mmm_jax: JAX-accelerated Bayesian media mix modelling.

Public names: :class:`MMMData`, :class:`MMM`, :class:`ModelSpec`, :class:`SamplerConfig`,
:class:`FitResult`, :func:`fit_many`, :class:`AllocationOptions`, :class:`BudgetResult`,
:func:`compare`, :func:`cross_validate`, :func:`load_example`, :func:`simulate`,
:func:`clear_caches`, :class:`ConvergenceWarning`, :class:`ParetoKWarning`.
"""

from mmm_jax._host_devices import use_host_cores

use_host_cores()  # before anything below creates JAX's CPU backend (MMM_JAX_HOST_DEVICES=1: off)

from mmm_jax._version import __version__  # noqa: E402
from mmm_jax.allocate import AllocationOptions, BudgetResult  # noqa: E402
from mmm_jax.caches import clear_caches  # noqa: E402
from mmm_jax.compare import ParetoKWarning, compare  # noqa: E402
from mmm_jax.data import MMMData  # noqa: E402
from mmm_jax.diagnostics import ConvergenceWarning  # noqa: E402
from mmm_jax.examples import load_example, load_example_truth  # noqa: E402
from mmm_jax.many import fit_many  # noqa: E402
from mmm_jax.mmm import MMM  # noqa: E402
from mmm_jax.result import FitResult  # noqa: E402
from mmm_jax.sampler_config import SamplerConfig  # noqa: E402
from mmm_jax.simulate import simulate  # noqa: E402
from mmm_jax.spec import ModelSpec  # noqa: E402
from mmm_jax.validation import cross_validate  # noqa: E402

__all__ = ["AllocationOptions", "BudgetResult", "ConvergenceWarning", "FitResult", "MMM",
           "MMMData", "ModelSpec", "ParetoKWarning", "SamplerConfig", "clear_caches", "compare",
           "cross_validate", "fit_many", "load_example", "load_example_truth", "simulate",
           "__version__"]
