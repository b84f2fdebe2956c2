"""Plots: each returns a Figure that renders, with the content its docstring promises."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import numpyro.distributions as dist  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mmm_jax import plot as mp  # noqa: E402
from mmm_jax.model import site_shapes  # noqa: E402
from mmm_jax.plot._common import png_bytes  # noqa: E402
from mmm_jax.plot.priors import sample_prior  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


FACTORS = [0.5, 2.0, 1.0]


def _allocation(model, factor=None, periods=13):
    """A real BudgetResult: the spend of the last ``periods`` periods (its reference), scaled
    per channel, scored by ``evaluate_budget``."""
    base = model.evaluate_budget(None, periods).spend
    factor = np.ones(len(base)) if factor is None else np.asarray(factor)
    return model.evaluate_budget(base * factor, periods)


@pytest.fixture(scope="module")
def allocation(small_national):
    return _allocation(small_national, FACTORS)


@pytest.fixture(scope="module")
def figures(small_national, allocation):
    return mp.all_figures(small_national, allocation)


def test_every_plot_is_a_figure_that_renders(figures):
    assert set(figures) == {"fit", "decomposition", "roi", "response_curves", "adstock",
                            "priors", "convergence", "budget"}
    for name, fig in figures.items():
        assert isinstance(fig, Figure), name
        assert png_bytes(fig, dpi=40).startswith(PNG), name


def test_model_fit_has_band_and_r2_mape_in_title(figures, small_national):
    ax = figures["fit"].axes[0]
    metrics = small_national.fit_metrics()
    title = ax.get_title()
    assert f"R² = {metrics['r2']:.3f}" in title and f"MAPE = {metrics['mape']:.1f}%" in title
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["90% predictive interval", "predicted (posterior mean)", "actual"]
    assert len(ax.collections) == 1  # the band
    actual = ax.get_lines()[1].get_ydata()
    np.testing.assert_array_equal(actual, small_national.data.target)


def test_decomposition_stacks_baseline_and_channels(figures, small_national):
    fig = figures["decomposition"]
    ax = fig.axes[0]
    assert len(ax.collections) == 1 + small_national.data.n_channels  # stacked layers
    labels = [t.get_text().split(" ")[0] for t in fig.legends[0].get_texts()]
    assert labels == ["baseline", "tv", "search", "social", "actual"]


def test_response_curves_mark_current_and_optimal_spend(figures, small_national, allocation):
    axes = _visible_axes(figures["response_curves"])
    assert [ax.get_title() for ax in axes] == list(small_national.data.channels)
    pace = small_national.data.spend.sum(0) / small_national.data.n_time
    planned = allocation.spend.to_numpy() / allocation.n_periods  # spend per period
    for ax, expected, plan in zip(axes, pace, planned, strict=True):
        lines = {line.get_label().split(" ")[0]: line for line in ax.get_lines()}
        change = plan / expected - 1
        assert f"({0.0 if abs(change) < 0.005 else change:+.0%} vs average)" in \
            lines["optimal"].get_label()
        current = lines["current"].get_xdata()[0]
        optimal = lines["optimal"].get_xdata()[0]
        assert current == pytest.approx(expected, rel=1e-6)
        assert optimal == pytest.approx(plan, rel=1e-6)


def test_response_curves_without_allocation_mark_only_current(small_national):
    fig = mp.response_curves(small_national, max_draws=50)
    for ax in _visible_axes(fig):
        labels = [line.get_label() for line in ax.get_lines()]
        assert "current" in labels and not any(lab.startswith("optimal") for lab in labels)


def test_roi_plot_has_both_metrics_per_channel(figures, small_national):
    ax = figures["roi"].axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(small_national.data.channels)
    assert len(ax.containers) == 2 * small_national.data.n_channels  # ROI and mROI bars


def test_adstock_decay_has_a_line_per_channel(figures, small_national):
    ax = figures["adstock"].axes[0]
    assert [line.get_label() for line in ax.get_lines()] == list(small_national.data.channels)
    w = small_national.adstock_weights(13)
    tv = w[w["channel"] == "tv"]["mean"].to_numpy()
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), tv)


def test_prior_posterior_has_a_panel_per_site(figures, small_national):
    sites = site_shapes(small_national.config, small_national._dims(small_national.data))
    axes = _visible_axes(figures["priors"])
    assert [ax.get_title() for ax in axes] == list(sites)
    beta = axes[list(sites).index("contribution_share")]  # the default media prior
    labels = [t.get_text() for t in beta.get_legend().get_texts()]
    assert labels == ["prior", "tv", "search", "social"]


@pytest.mark.parametrize("prior", [dist.Normal(0.5, 0.5), dist.HalfNormal(0.5),
                                   dist.LogNormal(0.0, 0.6), dist.Beta(2.0, 5.0),
                                   dist.Gamma(2.0, 0.5), dist.Laplace(1.0, 0.5)],
                         ids=lambda d: type(d).__name__)
def test_prior_samples_match_the_distribution(prior):
    draws = sample_prior(prior.expand((2,)), 20_000, seed=1)
    assert draws.shape == (20_000, 2)
    sd = float(np.sqrt(prior.variance))
    np.testing.assert_allclose(draws.mean(0), float(prior.mean), atol=5 * sd / np.sqrt(20_000))
    np.testing.assert_allclose(draws.std(0), sd, rtol=0.05)


def test_prior_draws_use_custom_priors(small_national):
    draws = mp.prior_draws(small_national, "alpha", 5000)
    assert draws.shape == (5000, 3)
    assert abs(draws.mean() - 0.5) < 0.02  # default Beta(2, 2)
    with pytest.raises(ValueError, match="no prior"):
        mp.prior_draws(small_national, "beta_raw")


def test_convergence_plot_states_the_verdict(figures, small_national):
    fig = figures["convergence"]
    verdict = "PASS" if small_national.diagnostics()["passed"] else "FAIL"
    assert fig.get_suptitle().startswith(f"Convergence {verdict}")
    rhat_ax, ess_ax, rank_ax = fig.axes
    assert len(rhat_ax.patches) == 15 and any("[tv]" in t.get_text()
                                              for t in rhat_ax.get_yticklabels())
    assert rank_ax.get_title().startswith("rank plot: ")


def test_budget_plot_shows_before_and_after(figures, allocation):
    spend_ax, kpi_ax = figures["budget"].axes
    assert len(spend_ax.patches) == 6  # current + optimal per channel
    changes = [t.get_text() for t in spend_ax.texts]
    assert changes == ["-50%", "+100%", "+0%"]
    lift = allocation.kpi["mean"] / allocation.reference_kpi["mean"] - 1
    assert kpi_ax.get_title() == f"Incremental KPI ({lift:+.1%})"
    # doubling search leaves the spend range of the history: its bar is hatched and named
    assert allocation.channels["outside_history"].tolist() == [False, True, False]
    assert [bool(p.get_hatch()) for p in spend_ax.patches[3:]] == [False, True, False]
    labels = [t.get_text() for t in spend_ax.get_legend().get_texts()]
    assert labels == ["current", "optimal", "outside the historical spend range"]


def test_budget_response_plot():
    budgets = np.array([1.0, 2.0, 3.0]) * 1e5
    table = pd.DataFrame({"kpi": [1.0, 1.6, 2.0], "kpi_hdi_low": [0.8, 1.2, 1.5],
                          "kpi_hdi_high": [1.2, 2.0, 2.5], "roi": [1.0, 0.8, 0.67],
                          "mroi": [0.7, 0.5, 0.3], "converged": True, "tv": [0.5, 1.0, 1.5],
                          "search": [0.5, 1.0, 1.5]}, index=pd.Index(budgets, name="budget"))
    fig = mp.budget_response(table * 1e5, current_budget=2e5)
    curve, mix = fig.axes
    np.testing.assert_allclose(curve.get_lines()[0].get_ydata(), table["kpi"] * 1e5)
    assert [t.get_text() for t in mix.get_legend().get_texts()] == ["tv", "search"]


def test_save_figures_writes_pngs(figures, tmp_path):
    paths = mp.save_figures({"roi": figures["roi"]}, tmp_path / "plots", dpi=30)
    assert paths["roi"].read_bytes().startswith(PNG)


def test_geo_plots_sum_over_geos(small_geo):
    fig = mp.model_fit(small_geo, max_draws=100)
    assert "sum of 5 geos" in fig.axes[0].get_title()
    np.testing.assert_allclose(fig.axes[0].get_lines()[1].get_ydata(),
                               small_geo.data.target.sum(0))
    priors = mp.prior_posterior(small_geo, ["intercept", "beta_geo_sd"])
    labels = [t.get_text() for t in priors.axes[0].get_legend().get_texts()]
    assert labels == ["prior", *small_geo.data.geos]
    assert png_bytes(mp.convergence(small_geo), dpi=30).startswith(PNG)
    assert png_bytes(mp.decomposition(small_geo), dpi=30).startswith(PNG)
