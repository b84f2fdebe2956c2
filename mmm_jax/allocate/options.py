"""Allocation options: one frozen dataclass, the only place their defaults are written.

``model.optimize_budget(budget, n_periods, options=AllocationOptions(...))`` takes it whole,
and ``optimize_budget(..., objective="cvar")`` (also ``budget_response`` and
``evaluate_budget``) takes any of its fields as a keyword override
(:meth:`AllocationOptions.build`). The ``[allocation]`` table of ``mmm-jax fit`` is derived
from the fields (see :mod:`mmm_jax._schema`).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from mmm_jax._schema import at_least, build, fields, one_of, open_unit, option, validate
from mmm_jax.allocate.setup import FLIGHTINGS
from mmm_jax.metrics import HDI_PROB

__all__ = ["DEFAULT_RELATIVE_BOUNDS", "OBJECTIVES", "TOML_ENCODE", "AllocationOptions",
           "positive"]

OBJECTIVES = ("mean", "quantile", "cvar", "profit")
#: each channel within +-30% of its reference spend (see :class:`AllocationOptions`)
DEFAULT_RELATIVE_BOUNDS = (0.7, 1.3)
_PAIRS = "must be a (low, high) pair for every channel or a dict {channel: (low, high)}"


def _pair(value) -> tuple[float, float] | str:
    """``(low, high)`` with None -> 0 / inf, or the problem."""
    if isinstance(value, str | Mapping) or not isinstance(value, Sequence) or len(value) != 2:
        return _PAIRS
    if any(v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real))
           for v in value):
        return "must hold numbers (None for an open side)"
    low = 0.0 if value[0] is None else float(value[0])
    high = math.inf if value[1] is None else float(value[1])
    if not (math.isfinite(low) and low >= 0) or math.isnan(high) or high < low:
        return "needs 0 <= low <= high (finite low; None or inf: no upper bound)"
    return low, high


def _pairs(value):
    """A pair for all channels or ``{channel: pair}``, normalised, or the problem."""
    if isinstance(value, Mapping):
        out = {}
        for name, pair in value.items():
            found = _pair(pair)
            if isinstance(found, str):
                return f"{found}; {name!r} has {pair!r}"
            out[name] = found
        return out
    return _pair(value)


def _locked(value):
    if isinstance(value, Mapping):
        out = {}
        for name, amount in value.items():
            ok = amount is None or (isinstance(amount, numbers.Real)
                                    and not isinstance(amount, bool)
                                    and math.isfinite(amount) and amount >= 0)
            if not ok:
                return (f"must map each channel to a finite amount >= 0 (None: its reference "
                        f"spend); {name!r} has {amount!r}")
            out[name] = None if amount is None else float(amount)
        return out
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(
            isinstance(v, str) for v in value):
        return "must be a list of channel names or a dict {channel: amount}"
    return tuple(value)


def _mapping(value):
    if not isinstance(value, Mapping):
        return "must be a dict {channel: spend per media unit}"
    return dict(value)


#: field -> normaliser returning the stored value or the problem (a str)
_NORMALISE = {"bounds": _pairs, "relative_bounds": _pairs, "locked": _locked,
              "cost_per_unit": _mapping}


def _check(name):
    def check(value):
        found = _NORMALISE[name](value)
        return found if isinstance(found, str) else None
    return check


def positive(name: str, value, *, allow_none: bool = True):
    """``float(value)`` when it is a finite number > 0 (or None when allowed)."""
    if value is None and allow_none:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} must be a number > 0") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}={value!r} must be a finite number > 0")
    return value


@dataclasses.dataclass(frozen=True)
class AllocationOptions:
    """How :meth:`~mmm_jax.MMM.optimize_budget` searches, validated on construction.

    Attributes:
        bounds: absolute ``(low, high)`` spend per channel over the horizon, for all channels
            or as ``{channel: (low, high)}``; ``None`` = open side. Intersected with
            ``relative_bounds``; an upper bound here replaces the free-total cap.
        relative_bounds: the same as fractions of the reference plan (the historical mix at
            this budget; the historical spend of the last ``n_periods`` when the total is
            free). Default ``(0.7, 1.3)``: every channel within +-30% of it. The response
            curves are only measured near the spend the data cover; far from it they come
            from the curve's shape and the priors (in the demo an unbounded plan cuts TV from
            101k to 0 over a quarter), so the default keeps plans a planner can act on, like
            Meridian's +-30% for a fixed budget (lightweight_mmm uses +-20%). ``None``:
            unbounded (a pair that bounds nothing, e.g. ``(0, None)``, is stored as None).
        locked: channels held at their reference spend (list) or ``{channel: amount}``.
        objective: ``"mean"`` (posterior mean KPI), ``"quantile"`` (the ``level`` quantile),
            ``"cvar"`` (mean of the lowest ``level`` fraction of draws) or ``"profit"``
            (``value_per_kpi`` x mean KPI - spend; without a budget it chooses the budget).
        level: tail probability for ``"quantile"`` / ``"cvar"``.
        value_per_kpi: currency value of one KPI unit (profit).
        target_roi: flexible budget: the largest budget whose optimal plan keeps total ROI
            >= the target. target_mroi: flexible budget: each channel spends while its
            marginal ROI is >= the target. At most one flexible-budget rule (these two and
            ``objective="profit"``), and none together with a budget.
        flighting: ``"historical"`` (the recent weekly shape) or ``"free"`` (every period
            chosen). by_geo: choose spend per geo (geo models).
        cost_per_unit: ``{channel: spend per media unit}`` overrides (default: historical
            spend / media).
        tail: zero-spend periods after the horizon whose carryover is counted.
        max_draws: posterior draws used (evenly thinned; ``None`` = all).
        n_starts: optimiser starts. steps: most iterations. seed: seed of the random starts.
        hdi_prob: probability of the reported intervals.

    Raises:
        ValueError: naming the field, e.g. ``level=1.5 must be between 0 and 1 (exclusive)``.

    Example:
        >>> AllocationOptions().relative_bounds
        (0.7, 1.3)
        >>> AllocationOptions.build(None, relative_bounds=None, objective="cvar").objective
        'cvar'
        >>> AllocationOptions.build(None, relative_bound=None)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: unknown allocation option 'relative_bound'; did you mean 'relative_bounds'? ...
    """

    bounds: object = option(None, "any", "absolute (low, high) spend per channel over the "
                            "horizon", check=_check("bounds"), optional=True)
    relative_bounds: object = option(DEFAULT_RELATIVE_BOUNDS, "any", "(low, high) as fractions "
                                     "of the reference plan; None: unbounded",
                                     check=_check("relative_bounds"), optional=True)
    locked: object = option(None, "any", "channels held at their reference spend, or "
                            "{channel: amount}", check=_check("locked"), optional=True)
    objective: str = option("mean", "str", "what the plan maximises", check=one_of(OBJECTIVES))
    level: float = option(0.1, "float", "tail probability of quantile / cvar", check=open_unit)
    value_per_kpi: float = option(1.0, "float", "currency value of one KPI unit (profit)",
                                  check=at_least(0.0, strict=True))
    target_roi: float | None = option(None, "float", "flexible budget: keep total ROI >= this",
                                      check=at_least(0.0, strict=True), optional=True)
    target_mroi: float | None = option(None, "float", "flexible budget: spend while marginal "
                                       "ROI >= this", check=at_least(0.0, strict=True),
                                       optional=True)
    flighting: str = option("historical", "str", "spend per period: historical shape or free",
                            check=one_of(FLIGHTINGS))
    by_geo: bool = option(False, "bool", "choose spend per geo (geo models)")
    cost_per_unit: object = option(None, "any", "{channel: spend per media unit} overrides",
                                   check=_check("cost_per_unit"), optional=True)
    tail: int = option(13, "int", "zero-spend periods after the horizon that count",
                       check=at_least(0))
    max_draws: int | None = option(1000, "int", "posterior draws used (None: all)",
                                   check=at_least(1), optional=True)
    n_starts: int = option(4, "int", "optimiser starts", check=at_least(1))
    steps: int = option(50, "int", "most optimiser iterations", check=at_least(1))
    seed: int = option(0, "int", "seed of the random starts", check=at_least(0))
    hdi_prob: float = option(HDI_PROB, "float", "probability of the reported intervals",
                             check=open_unit)

    def __post_init__(self):
        for f in fields(self, persisted=False):  # numpy scalars behave as Python ones
            value = getattr(self, f.name)
            if isinstance(value, np.generic):
                object.__setattr__(self, f.name, value.item())
        validate(self)
        for name, normalise in _NORMALISE.items():
            if getattr(self, name) is not None:
                object.__setattr__(self, name, normalise(getattr(self, name)))
        if self.relative_bounds == (0.0, math.inf):
            object.__setattr__(self, "relative_bounds", None)
        targets = [k for k in ("target_roi", "target_mroi") if getattr(self, k) is not None]
        if len(targets) == 2 or (targets and self.objective == "profit"):
            raise ValueError("choose one flexible-budget rule: target_roi, target_mroi or "
                             "objective='profit'")

    @classmethod
    def build(cls, options: AllocationOptions | None = None, **overrides) -> AllocationOptions:
        """What the allocation methods run with: ``options`` (None: the defaults) with the
        keyword ``overrides`` replacing its fields. An unknown keyword raises ``ValueError``
        with a did-you-mean and the field names; a bad value, the field's own message."""
        return build(cls, options, overrides, "allocation option")

    def as_dict(self) -> dict:
        """Field name -> value (what a :class:`~mmm_jax.BudgetResult` records in settings)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def check_budget(self, budget) -> float | None:
        """The budget as a float (or None); it must be > 0 and not come with a target."""
        budget = positive("budget", budget)
        targets = [k for k in ("target_roi", "target_mroi") if getattr(self, k) is not None]
        if targets and budget is not None:
            raise ValueError(f"give either budget or {targets[0]}, not both: {targets[0]} "
                             "chooses the budget")
        return budget

    def check(self, model, budget=None, n_periods: int = 13) -> None:
        """The checks that need the model: fitted, ``by_geo`` only on a geo model, a valid
        budget (:meth:`check_budget`) and horizon.

        Raises:
            ValueError: naming the problem.
        """
        model._require_fit()
        self.check_budget(budget)
        if isinstance(n_periods, bool) or not isinstance(n_periods, numbers.Integral | float) \
                or int(n_periods) != n_periods or n_periods < 1:
            raise ValueError(f"n_periods={n_periods!r} must be an integer >= 1 (future "
                             "periods)")
        if self.by_geo and not model.data.is_geo:
            raise ValueError("by_geo=True needs a geo model; this model is national")


#: TOML has no null: ``relative_bounds=None`` (unbounded) is written ``[0.0, inf]``.
TOML_ENCODE = {"relative_bounds": lambda v: [0.0, math.inf] if v is None else v}
