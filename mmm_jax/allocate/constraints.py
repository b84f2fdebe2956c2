"""Per-channel bounds on the horizon spend: absolute, relative to a reference, or locked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mmm_jax.allocate.setup import channel_values

__all__ = ["channel_bounds", "check_feasible"]


def _pairs(spec, channels, what: str) -> dict:
    """``(low, high)`` for all channels, or ``{channel: (low, high)}`` -> dict of pairs."""
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        spec = channel_values(spec, channels, what)
    elif isinstance(spec, Sequence) and len(spec) == 2:
        spec = dict.fromkeys(channels, tuple(spec))
    else:
        raise ValueError(f"{what} must be a (low, high) pair for every channel or a dict "
                         f"{{channel: (low, high)}}, got {spec!r}")
    out = {}
    for name, pair in spec.items():
        if not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"{what}[{name!r}] = {pair!r} must be a (low, high) pair; use None "
                             "for an open side, e.g. (0.8, None)")
        low = 0.0 if pair[0] is None else float(pair[0])
        high = np.inf if pair[1] is None else float(pair[1])
        if not (np.isfinite(low) and low >= 0) or np.isnan(high) or high < low:
            raise ValueError(f"{what}[{name!r}] = {pair!r}: need 0 <= low <= high (finite low)")
        out[name] = (low, high)
    return out


def channel_bounds(channels, reference, *, bounds=None, relative_bounds=None, locked=None,
                   default_upper=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper bounds on each channel's horizon spend, and which channels are locked.

    Args:
        channels: channel names. reference: ``(C,)`` reference spend (relative bounds and
            locks without an amount refer to it).
        bounds: absolute ``(low, high)`` for every channel, or ``{channel: (low, high)}``
            (``None`` = open side).
        relative_bounds: the same as fractions of ``reference`` (``(0.8, 1.2)`` = +-20%).
        locked: channel names (held at ``reference``) or ``{channel: amount}``.
        default_upper: ``(C,)`` upper bounds where none is given (default ``inf``).

    Returns:
        ``(lower, upper, is_locked)``, each ``(C,)``; both kinds of bounds intersect.

    Raises:
        ValueError: unknown channel (named), bad pair, negative lock, empty intersection.

    Example:
        >>> low, high, lock = channel_bounds(("tv", "search"), np.array([10.0, 5.0]),
        ...                                  relative_bounds=(0.5, 2.0), locked=["search"])
        >>> low.tolist(), high.tolist(), lock.tolist()
        ([5.0, 5.0], [20.0, 5.0], [False, True])
    """
    n = len(channels)
    lower = np.zeros(n)
    upper = np.full(n, np.inf) if default_upper is None else np.array(default_upper, float)
    for name, (low, high) in _pairs(bounds, channels, "bounds").items():
        i = channels.index(name)
        lower[i] = low
        if np.isfinite(high):  # an explicit upper bound replaces the default cap
            upper[i] = high
    for name, (low, high) in _pairs(relative_bounds, channels, "relative_bounds").items():
        i = channels.index(name)
        lower[i] = max(lower[i], low * reference[i])
        if np.isfinite(high):
            upper[i] = min(upper[i], high * reference[i])
    is_locked = np.zeros(n, bool)
    if locked is not None:
        amounts = (channel_values(locked, channels, "locked") if isinstance(locked, Mapping)
                   else {name: None for name in _names(locked, channels)})
        for name, amount in amounts.items():
            i = channels.index(name)
            value = reference[i] if amount is None else float(amount)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"locked[{name!r}] = {amount!r} must be a finite amount >= 0")
            lower[i] = upper[i] = value
            is_locked[i] = True
    bad = np.flatnonzero(lower > upper)
    if bad.size:
        i = bad[0]
        raise ValueError(f"channel {channels[i]!r}: lower bound {lower[i]:.6g} exceeds upper "
                         f"bound {upper[i]:.6g} (absolute and relative bounds intersect); "
                         "widen one of them")
    return lower, upper, is_locked


def _names(locked, channels) -> list:
    if isinstance(locked, str) or not isinstance(locked, Sequence):
        raise ValueError(f"locked must be a list of channel names or a dict {{channel: "
                         f"amount}}, got {locked!r}")
    unknown = [k for k in locked if k not in channels]
    if unknown:
        raise ValueError(f"locked: unknown channel {unknown[0]!r}; the model's channels are "
                         f"{list(channels)}")
    return list(locked)


def check_feasible(lower, upper, budget, channels) -> None:
    """Raise ``ValueError`` when no plan within the bounds spends ``budget`` exactly.

    >>> check_feasible(np.zeros(2), np.ones(2), 3.0, ("tv", "search"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: budget 3 exceeds the sum of the upper bounds 2 (tv=1, search=1); raise the ...
    """
    if lower.sum() > budget * (1 + 1e-12):
        detail = ", ".join(f"{c}={v:.6g}" for c, v in zip(channels, lower, strict=True))
        raise ValueError(f"budget {budget:.6g} is below the sum of the lower bounds (and "
                         f"locked amounts) {lower.sum():.6g} ({detail}); lower them or raise "
                         "the budget")
    if upper.sum() < budget * (1 - 1e-12):
        detail = ", ".join(f"{c}={v:.6g}" for c, v in zip(channels, upper, strict=True))
        raise ValueError(f"budget {budget:.6g} exceeds the sum of the upper bounds "
                         f"{upper.sum():.6g} ({detail}); raise the upper bounds or lower the "
                         "budget")
