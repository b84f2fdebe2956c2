"""Holdout periods: which observations a fit keeps out of its likelihood.

``model.fit(data, holdout=13)`` keeps the last 13 periods out; ``holdout`` may also be a
boolean mask over periods ``(T,)`` or, for geo models, over ``(geo, period)`` (True = held
out). The held-out observations stay in the data (their media still carry over into later
periods and the design still covers them); only their KPI is not fitted, so the posterior
predicts them out of sample. The unit-scale factors are computed from the whole history, as
for any fit; they only rescale the data and carry no information about the test KPI beyond
its mean level.
"""

from __future__ import annotations

import numpy as np

from mmm_jax.data import MMMData

__all__ = ["holdout_mask"]

MIN_TRAIN = 13  # fewest training periods (per geo) a holdout may leave


def holdout_mask(data: MMMData, holdout) -> np.ndarray | None:
    """The boolean mask of held-out observations, shaped like ``data.target``, or None.

    Args:
        data: the data being fitted. holdout: None, an integer number of final periods, or a
            boolean mask ``(T,)`` (or ``(G, T)`` for geo data).

    Raises:
        ValueError: a negative or too large count, a mask of the wrong shape or dtype, or a
            mask that leaves fewer than 13 training periods (names the first geo concerned).

    >>> import mmm_jax as mj
    >>> data = mj.MMMData.from_dataframe(mj.load_example("national"), date="date",
    ...     target="sales", media=["tv", "search", "social"], controls=["price"])
    >>> int(holdout_mask(data, 13).sum()), bool(holdout_mask(data, 13)[-1])
    (13, True)
    """
    if holdout is None:
        return None
    shape = data.target.shape
    if isinstance(holdout, bool | np.bool_ | str | bytes):
        raise ValueError(f"holdout={holdout!r}: give a number of final periods or a boolean "
                         "mask over periods")
    if np.ndim(holdout) == 0:
        try:
            n = int(holdout)
        except (TypeError, ValueError):
            raise ValueError(f"holdout={holdout!r} must be a number of final periods or a "
                             "boolean mask over periods") from None
        if n != holdout or n < 0 or n > data.n_time - MIN_TRAIN:
            raise ValueError(f"holdout={holdout!r} must be an integer between 0 and "
                             f"{data.n_time - MIN_TRAIN} (the fit keeps >= {MIN_TRAIN} of the "
                             f"{data.n_time} periods)")
        mask = np.zeros(data.n_time, bool)
        mask[data.n_time - n:] = True
    else:
        mask = np.asarray(holdout)
        if mask.dtype != bool:
            raise ValueError(f"holdout mask has dtype {mask.dtype}; pass booleans (True = "
                             "held out)")
        if mask.shape not in (shape, (data.n_time,)):
            want = f"({data.n_time},)" + (f" or {shape}" if data.is_geo else "")
            raise ValueError(f"holdout mask has shape {mask.shape}; it must be {want} "
                             "(periods, or geo x periods)")
    mask = np.broadcast_to(mask, shape).copy()
    train = (~mask).reshape(-1, data.n_time).sum(axis=1)
    if train.min() < MIN_TRAIN:
        where = f" for geo {data.geos[int(np.argmin(train))]!r}" if data.is_geo else ""
        raise ValueError(f"holdout leaves {int(train.min())} training periods{where}; keep at "
                         f"least {MIN_TRAIN}")
    return mask if mask.any() else None
