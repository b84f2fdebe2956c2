"""What a fitted :class:`~mmm_jax.MMM` reports, in original units, with 90% HDIs."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from mmm_jax import export as export_mod
from mmm_jax import forecast as forecast_mod
from mmm_jax import posterior as post
from mmm_jax.metrics import HDI_PROB, fit_statistics, summarize
from mmm_jax.model import baseline, media_effects


class OutputsMixin:
    """Posterior summaries; mixed into :class:`mmm_jax.MMM` (needs ``data``, ``scales``,
    ``samples``, ``config``)."""

    # ------------------------------------------------------------ helpers
    def _draws(self, max_draws: int | None = None) -> dict:
        self._require_fit()
        return post.thin(post.flatten_draws(self.samples), max_draws)

    def _n_geos(self):
        return self.data.n_geos if self.data.is_geo else None

    def _unit_media(self):
        return self._inputs(self.data.dates, self.data.media, self.data.controls)["media"]

    def _target_scale(self):
        return jnp.asarray(self.scales.target, dtype=self._inputs_dtype())

    def _channel_index(self):
        return pd.Index(list(self.data.channels), name="channel")

    def _total_spend(self) -> np.ndarray:
        return self.data.spend.reshape(-1, self.data.n_channels).sum(axis=0)

    def _contribution_draws(self) -> np.ndarray:
        """``(D, [G,] T, C)`` contributions in KPI units."""
        return np.asarray(post.channel_contributions(
            self._draws(), self._unit_media(), self._target_scale(), config=self.config,
            n_geos=self._n_geos()), dtype=np.float64)

    def _total_contribution_draws(self) -> np.ndarray:
        c = self._contribution_draws()
        return c.reshape(c.shape[0], -1, c.shape[-1]).sum(axis=1)

    # ------------------------------------------------------------ channel metrics
    def roi(self, hdi_prob: float = HDI_PROB) -> pd.DataFrame:
        """Return on investment per channel: incremental KPI over the history / spend.

        Incremental KPI is the modelled contribution of the channel (the KPI minus the KPI with
        the channel's media set to zero, carryover within the history included).

        Returns:
            DataFrame indexed by channel with ``mean``, ``hdi_low``, ``hdi_high``.
        """
        return summarize(self._total_contribution_draws() / self._total_spend(),
                         self._channel_index(), hdi_prob)

    def marginal_roi(self, hdi_prob: float = HDI_PROB) -> pd.DataFrame:
        """Marginal ROI: extra KPI per extra unit of spend when a channel's spend is scaled up
        proportionally from its historical level (derivative by forward-mode autodiff).

        Returns:
            DataFrame indexed by channel with ``mean``, ``hdi_low``, ``hdi_high``.
        """
        d = np.asarray(post.marginal_totals(self._draws(), self._unit_media(),
                                            self._target_scale(), config=self.config,
                                            n_geos=self._n_geos()), dtype=np.float64)
        return summarize(d / self._total_spend(), self._channel_index(), hdi_prob)

    def cost_per_kpi(self, hdi_prob: float = HDI_PROB) -> pd.DataFrame:
        """Cost per incremental KPI unit (spend / incremental KPI) per channel.

        Draws with zero contribution give ``inf``; the mean is then ``inf``.
        """
        total = self._total_contribution_draws()
        with np.errstate(divide="ignore"):
            cpk = np.where(total > 0, self._total_spend() / np.maximum(total, 1e-300), np.inf)
        return summarize(cpk, self._channel_index(), hdi_prob)

    def contribution_share(self, hdi_prob: float = HDI_PROB) -> pd.DataFrame:
        """Share of the total KPI attributed to each channel (0..1)."""
        share = self._total_contribution_draws() / float(np.sum(self.data.target))
        return summarize(share, self._channel_index(), hdi_prob)

    def channel_summary(self, hdi_prob: float = HDI_PROB) -> pd.DataFrame:
        """One table: spend, contribution share, ROI, marginal ROI, cost per KPI (means and
        HDIs), indexed by channel."""
        parts = {"roi": self.roi(hdi_prob), "mroi": self.marginal_roi(hdi_prob),
                 "share": self.contribution_share(hdi_prob),
                 "cost_per_kpi": self.cost_per_kpi(hdi_prob)}
        out = pd.DataFrame({"spend": self._total_spend()}, index=self._channel_index())
        for name, frame in parts.items():
            for col in frame.columns:
                out[f"{name}_{col}" if col != "mean" else name] = frame[col]
        return out

    def media_effectiveness(self, hdi_prob: float = HDI_PROB) -> pd.DataFrame:
        """The time-varying media effectiveness (``time_varying_media=True``): the multiplier
        of every channel's contribution per period, 1 in the last period (and after it: the
        allocator and forecasts use the latest effectiveness).

        Returns:
            DataFrame indexed by date with ``mean``, ``hdi_low``, ``hdi_high``.

        Raises:
            ValueError: the model has no time-varying media.
        """
        self._require_fit()
        if not self.config.time_varying_media:
            raise ValueError("this model has constant media effectiveness; fit "
                             "MMM(time_varying_media=True) to estimate it over time")
        draws = np.asarray(self._draws()["media_tv"], np.float64)
        return summarize(draws, pd.DatetimeIndex(self.data.dates, name="date"), hdi_prob)

    def lift_test_fit(self, lift_tests=None, hdi_prob: float = HDI_PROB) -> pd.DataFrame:
        """Measured vs modelled lift of each lift test (Robyn's MAPE.LIFT check).

        Args:
            lift_tests: a table as for ``fit(data, lift_tests=...)``; default: the tests the
                model was calibrated with. Any table scores any fit, so an uncalibrated
                model can be checked against experiments it has not seen.

        Returns:
            The checked table plus ``fitted`` (posterior mean lift, KPI units),
            ``fitted_hdi_low``, ``fitted_hdi_high`` and ``z = (fitted - lift) / lift_sd``.

        Raises:
            ValueError: no table given and none used in the fit, or a bad row (named).
        """
        from mmm_jax.lift_tests import check_lift_tests, lift_inputs

        self._require_fit()
        table = self.result.lift_tests if lift_tests is None else lift_tests
        if table is None:
            raise ValueError("this model was fitted without lift tests; pass a table: "
                             "model.lift_test_fit(lift_df)")
        table = check_lift_tests(table, self.data)
        arrays = lift_inputs(table, self.data, self.scales, self._inputs_dtype())
        inputs = dict(self._inputs(self.data.dates, self.data.media, self.data.controls),
                      **arrays)
        unit = np.asarray(post.lift_draws(self._draws(), inputs, config=self.config,
                                          n_geos=self._n_geos()), np.float64)
        target = np.asarray(self.scales.target, np.float64)
        lift = unit * (target[arrays["lift_geo"]] if self.data.is_geo else target)
        summary = summarize(lift, pd.RangeIndex(len(table)), hdi_prob)
        out = table.copy()
        out["fitted"] = summary["mean"].to_numpy()
        out["fitted_hdi_low"] = summary["hdi_low"].to_numpy()
        out["fitted_hdi_high"] = summary["hdi_high"].to_numpy()
        out["z"] = (out["fitted"] - out["lift"]) / out["lift_sd"]
        return out

    # ------------------------------------------------------------ decomposition
    def contributions(self, *, by_geo: bool = False) -> pd.DataFrame:
        """Posterior-mean decomposition of the KPI per period, in KPI units.

        Args:
            by_geo: for geo models, one row per (geo, date) instead of the sum over geos.

        Returns:
            DataFrame with rows = dates (or (geo, date)), columns = ``baseline`` + channels;
            the row sums equal the posterior-mean expected KPI.
        """
        draws = self._draws()
        inputs = self._inputs(self.data.dates, self.data.media, self.data.controls)
        base = np.asarray(post.baselines(draws, inputs, self._target_scale(),
                                         config=self.config, n_geos=self._n_geos())).mean(0)
        media = self._contribution_draws().mean(0)
        cols = ["baseline", *self.data.channels]
        dates = pd.DatetimeIndex(self.data.dates, name=self.data.date_name)
        if not self.data.is_geo:
            return pd.DataFrame(np.column_stack([base, media]), index=dates, columns=cols)
        if not by_geo:
            return pd.DataFrame(np.column_stack([base.sum(0), media.sum(0)]), index=dates,
                                columns=cols)
        values = np.concatenate([base[..., None], media], axis=-1).reshape(-1, len(cols))
        index = pd.MultiIndex.from_product([list(self.data.geos), dates],
                                           names=[self.data.geo_name, self.data.date_name])
        return pd.DataFrame(values, index=index, columns=cols)

    def fit_metrics(self, *, by_split: bool | None = None):
        """How well the model fits the KPI.

        Args:
            by_split: ``False``: in-sample fit of the posterior-mean expected KPI as a dict
                ``{"r2", "mape"}`` (MAPE in percent). ``True``: a DataFrame indexed by
                ``split`` (``train``, and ``test`` for a holdout fit) scoring the posterior
                predictive distribution: ``n``, ``r2``, ``mape``, ``wmape``, ``crps`` and
                ``coverage`` of the 90% interval (:func:`mmm_jax.validation.split_metrics`).
                Default: the table for a holdout fit (``fit(data, holdout=...)``), else the
                dict.

        Example:
            >>> model.fit(data, holdout=13).fit_metrics().loc["test", "coverage"]
            ... # doctest: +SKIP
        """
        if by_split is None:
            by_split = self.result is not None and self.result.holdout is not None
        if by_split:
            from mmm_jax.validation import split_metrics

            return split_metrics(self)
        fitted = self.contributions(by_geo=True).sum(axis=1).to_numpy()
        return fit_statistics(self.data.target.ravel(), fitted)

    # ------------------------------------------------------------ curves
    def response_curves(self, multipliers=None, *, max_draws: int = 500,
                        hdi_prob: float = HDI_PROB) -> pd.DataFrame:
        """Incremental KPI over the history when each channel's spend is scaled.

        Args:
            multipliers: ``(M,)`` factors of historical spend (default 0, 0.05, ..., 2).
            max_draws: posterior draws used (evenly thinned) to bound the cost.

        Returns:
            Long DataFrame: ``channel``, ``multiplier``, ``spend`` (total), ``mean``,
            ``hdi_low``, ``hdi_high`` (incremental KPI), ``roi`` (mean / spend).
        """
        m = np.linspace(0.0, 2.0, 41) if multipliers is None else np.asarray(multipliers)
        if m.ndim != 1 or np.any(m < 0) or not np.all(np.isfinite(m)):
            raise ValueError("multipliers must be a 1-D array of finite values >= 0")
        totals = np.asarray(post.scaled_totals(
            self._draws(max_draws), self._unit_media(), self._target_scale(),
            jnp.asarray(m, dtype=self._inputs_dtype()), config=self.config,
            n_geos=self._n_geos()), dtype=np.float64)  # (D, M, C)
        frames = []
        spend = self._total_spend()
        for j, channel in enumerate(self.data.channels):
            s = summarize(totals[:, :, j], pd.RangeIndex(len(m)), hdi_prob)
            s.insert(0, "spend", m * spend[j])
            s.insert(0, "multiplier", m)
            s.insert(0, "channel", channel)
            with np.errstate(divide="ignore", invalid="ignore"):
                s["roi"] = np.where(s["spend"] > 0, s["mean"] / s["spend"], np.nan)
            frames.append(s)
        return pd.concat(frames, ignore_index=True)

    def adstock_weights(self, max_lag: int = 13, hdi_prob: float = HDI_PROB) -> pd.DataFrame:
        """Carryover: the share of a unit of media felt ``lag`` periods later, per channel.

        Returns:
            Long DataFrame: ``channel``, ``lag``, ``mean``, ``hdi_low``, ``hdi_high``.
        """
        w = np.asarray(post.decay_weights(self._draws(), self.config, self.data.n_channels,
                                          int(max_lag)), dtype=np.float64)  # (D, L, C)
        frames = []
        for j, channel in enumerate(self.data.channels):
            s = summarize(w[:, :, j], pd.RangeIndex(w.shape[1], name="lag"), hdi_prob)
            s = s.reset_index()
            s.insert(0, "channel", channel)
            frames.append(s)
        return pd.concat(frames, ignore_index=True)

    # ------------------------------------------------------------ prediction
    def predict(self, future: pd.DataFrame | None = None, *, seed: int = 0,
                include_noise: bool = True, max_draws: int | None = None) -> np.ndarray:
        """Posterior predictive KPI for future periods, carrying adstock over from history.

        Args:
            future: DataFrame with the date, media (and spend, controls, geo) columns for the
                periods right after the history (no target needed). ``None`` gives the
                in-sample posterior predictive over the history.
            seed: seed of the observation noise. include_noise: False gives the expected KPI.
            max_draws: thin the posterior to at most this many draws.

        Returns:
            ``(draws, time)`` national or ``(draws, time, geo)`` geo, in KPI units.

        Raises:
            ValueError: bad future data (names the column and date), or an unfitted model.

        Example:
            >>> future = df.iloc[-4:].assign(date=df["date"].iloc[-4:] + pd.Timedelta(weeks=4))
            ... # doctest: +SKIP
            >>> model.predict(future.drop(columns="sales")).shape  # doctest: +SKIP
            (4000, 4)
        """
        self._require_fit()
        draws = self._draws(max_draws)
        if future is None:
            dates, media, controls = self.data.dates, self.data.media, self.data.controls
            n_out = self.data.n_time
        else:
            fut = self.data.future_from_dataframe(future)
            dates = np.concatenate([self.data.dates, fut.dates])
            media = np.concatenate([self.data.media, fut.media], axis=-2)
            controls = np.concatenate([self.data.controls, fut.controls], axis=-2)
            n_out = fut.n_time
        inputs = self._inputs(dates, media, controls)
        mu = np.asarray(_expected(draws, inputs, self._target_scale(), self.config,
                                  self._n_geos(), n_out), dtype=np.float64)
        if include_noise:
            mu = mu + self._noise(draws, mu.shape, seed)
        return np.moveaxis(mu, 1, 2) if self.data.is_geo else mu

    def forecast(self, future: pd.DataFrame, *, hdi_prob: float = HDI_PROB,
                 max_draws: int | None = None, seed: int = 0,
                 include_noise: bool = True) -> pd.DataFrame:
        """Labelled forecast: the KPI and each channel's contribution in future periods.

        The future is appended to the history, so adstock carries over into it (as in
        :meth:`predict`, whose array contract this table summarises).

        Args:
            future: the periods right after the history, as for :meth:`predict`.
            hdi_prob: HDI probability. max_draws: thin the posterior to at most this many.
            seed: seed of the observation noise. include_noise: False makes ``kpi`` the
                expected KPI (then equal to ``expected_kpi``).

        Returns:
            DataFrame of ``T_f`` rows indexed by date (geo models: ``G * T_f`` rows, a
            MultiIndex (geo, date)) with columns ``kpi``, ``kpi_hdi_low``, ``kpi_hdi_high``
            (posterior predictive, with noise: mean of ``predict(future, seed=seed)``),
            ``expected_kpi`` and its HDI (no noise: ``predict(future,
            include_noise=False)``), ``baseline`` (mean) and, per channel, ``<channel>``,
            ``<channel>_hdi_low``, ``<channel>_hdi_high`` (contribution in KPI units).
            ``baseline`` plus the channel means equals ``expected_kpi``.

        Raises:
            ValueError: bad future data (names the column and date), or an unfitted model.

        Example:
            >>> future = df.iloc[-4:].assign(date=df["date"].iloc[-4:] + pd.Timedelta(weeks=4))
            ... # doctest: +SKIP
            >>> table = model.forecast(future.drop(columns="sales"))  # doctest: +SKIP
            >>> table[["kpi", "kpi_hdi_low", "kpi_hdi_high", "tv"]].shape  # doctest: +SKIP
            (4, 4)
        """
        return forecast_mod.forecast_frame(self, future, hdi_prob=hdi_prob, max_draws=max_draws,
                                           seed=seed, include_noise=include_noise)

    def export(self, path, future: pd.DataFrame | None = None, *, hdi_prob: float = HDI_PROB,
               max_draws: int | None = None) -> list:
        """Write the model's tables into directory ``path`` (created).

        Files: ``channel_summary.csv``, ``contributions.csv`` (by date; by geo and date for
        geo models), ``fit_metrics.csv`` and ``diagnostics.csv`` (``metric``, ``value``),
        ``forecast.csv`` (:meth:`forecast` of ``future``, when given) and ``model.xlsx`` with
        one sheet per table when openpyxl is installed (``mmm_jax[export]``; else skipped).
        Each file is written under a temporary name and renamed into place.

        Returns:
            The written paths (``pathlib.Path``).

        Raises:
            ValueError: bad future data or an unfitted model; nothing is written then.
        """
        return export_mod.export(self, path, future, hdi_prob=hdi_prob, max_draws=max_draws)

    def _noise(self, draws, shape, seed) -> np.ndarray:
        key = jax.random.PRNGKey(seed)
        sigma = np.asarray(draws["sigma"], dtype=np.float64) * self.scales.target
        sigma = sigma[..., None]  # (D, [G,] 1)
        if self.config.likelihood == "student_t":
            nu = np.asarray(draws["nu"], dtype=np.float64).reshape(-1, *([1] * (len(shape) - 1)))
            eps = np.asarray(jax.random.t(key, jnp.asarray(nu), shape), dtype=np.float64)
        else:
            eps = np.asarray(jax.random.normal(key, shape), dtype=np.float64)
        return eps * sigma


@functools.partial(jax.jit, static_argnames=("config", "n_geos", "n_future"))
def _expected(draws, inputs, target_scale, config, n_geos, n_future):
    """``(D, [G,] n_future)`` expected KPI for the last ``n_future`` periods of ``inputs``."""
    scale = target_scale[..., None] if n_geos is not None else target_scale

    def one(p):
        mu = baseline(p, inputs, config, n_geos)
        mu = mu + media_effects(p, inputs["media"], config, n_geos).sum(-1)
        return mu[..., -n_future:] * scale

    return jax.lax.map(one, draws, batch_size=256)
