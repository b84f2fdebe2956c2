"""mmm_jax: JAX-accelerated Bayesian media mix modelling.

Public names: :class:`MMMData`, :class:`MMM`, :func:`load_example`, :func:`simulate`,
:func:`fit_many`, :class:`ConvergenceWarning`, :class:`BudgetResult`.
"""

from mmm_jax._host_devices import use_host_cores

use_host_cores()  # before anything below creates JAX's CPU backend

from mmm_jax.allocate import BudgetResult  # noqa: E402
from mmm_jax.data import MMMData  # noqa: E402
from mmm_jax.diagnostics import ConvergenceWarning  # noqa: E402
from mmm_jax.examples import load_example, load_example_truth  # noqa: E402
from mmm_jax.many import fit_many  # noqa: E402
from mmm_jax.mmm import MMM  # noqa: E402
from mmm_jax.simulate import simulate  # noqa: E402

__version__ = "0.1.0"

__all__ = ["BudgetResult", "ConvergenceWarning", "MMM", "MMMData", "fit_many", "load_example",
           "load_example_truth", "simulate", "__version__"]
