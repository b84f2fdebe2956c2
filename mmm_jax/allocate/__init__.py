"""Budget allocation over a future horizon on the posterior of a fitted MMM.

Data flow: fitted model -> :mod:`~mmm_jax.allocate.setup` (horizon shape, geo shares, cost per
media unit) -> :mod:`~mmm_jax.allocate.response` (per-draw response surface, pure JAX) ->
:mod:`~mmm_jax.allocate.solver` (objective, projected Adam, multi-start; projections in
:mod:`~mmm_jax.allocate.projection`) -> :mod:`~mmm_jax.allocate.report` ->
:class:`BudgetResult` (saved and loaded as JSON by :mod:`~mmm_jax.allocate.serialize`).
:class:`AllocatorMixin` gives :class:`mmm_jax.MMM` its ``optimize_budget``,
``evaluate_budget`` and ``budget_response`` methods; :class:`AllocationOptions` holds their
options (:mod:`~mmm_jax.allocate.options`), and the setups they build are cached per fit
result (:func:`~mmm_jax.allocate.engine.budget_setup`, see :mod:`mmm_jax.caches`).
"""

from mmm_jax.allocate.mixin import AllocatorMixin
from mmm_jax.allocate.options import AllocationOptions
from mmm_jax.allocate.result import BudgetResult

__all__ = ["AllocationOptions", "AllocatorMixin", "BudgetResult"]
