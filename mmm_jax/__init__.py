"""mmm_jax: JAX-accelerated Bayesian media mix modelling.

Public names: :class:`MMMData`, :class:`MMM`, :func:`load_example`, :func:`simulate`,
:func:`fit_many`, :class:`ConvergenceWarning`, :class:`BudgetResult`.
"""

from mmm_jax.allocate import BudgetResult
from mmm_jax.data import MMMData
from mmm_jax.diagnostics import ConvergenceWarning
from mmm_jax.examples import load_example, load_example_truth
from mmm_jax.many import fit_many
from mmm_jax.mmm import MMM
from mmm_jax.simulate import simulate

__version__ = "0.1.0"

__all__ = ["BudgetResult", "ConvergenceWarning", "MMM", "MMMData", "fit_many", "load_example",
           "load_example_truth", "simulate", "__version__"]
