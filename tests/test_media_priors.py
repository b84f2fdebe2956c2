"""Media priors by what people know (mmm_jax.media_priors): the prior is on exactly what the
outputs report, it holds exactly, and the unit-free ones are unit-free."""

from __future__ import annotations

import numpy as np
import numpyro.distributions as dist
import pytest
from numpyro.infer.util import log_density

import mmm_jax as mj
from mmm_jax import posterior as post
from mmm_jax.fit import _problem
from mmm_jax.model import make_model
from mmm_jax.spec import MEDIA_PRIOR_SITES, ModelSpec
from tests.prior_fits import prior_result

COLUMNS = {"date": "date", "target": "sales", "media": ["tv", "search", "social"],
           "controls": ["price"]}


def _per_draw(model, media_prior):
    """``(D, C)`` per-draw values of what ``contribution_share()``, ``roi()`` and
    ``marginal_roi()`` summarise (the same computations, before the summary)."""
    spend = model._total_spend()
    if media_prior == "contribution":
        return model._total_contribution_draws() / float(np.sum(model.data.target))
    if media_prior == "roi":
        return model._total_contribution_draws() / spend
    totals = post.marginal_totals(model._draws(), model._unit_media(), model._target_scale(),
                                  config=model.config, n_geos=model._n_geos())
    return np.asarray(totals, np.float64) / spend


@pytest.mark.parametrize("geo", [False, True], ids=["national", "geo"])
@pytest.mark.parametrize("media_prior", ["contribution", "roi", "mroi"])
@pytest.mark.parametrize("time_varying", [False, True], ids=["constant", "tv"])
def test_the_prior_site_is_what_the_outputs_report(national_data, geo_data, geo, media_prior,
                                                   time_varying):
    """beta is solved so that the prior's quantity equals the reported one, draw by draw
    (float32 model, float64 report: 1e-4 relative)."""
    data = geo_data if geo else national_data
    spec = ModelSpec(media_prior=media_prior, time_varying_media=time_varying)
    model = mj.MMM(spec=spec)._set_result(prior_result(spec, data, n=3))
    site = MEDIA_PRIOR_SITES[media_prior]
    expected = np.asarray(model.samples[site][0], np.float64)
    np.testing.assert_allclose(_per_draw(model, media_prior), expected, rtol=1e-4)


@pytest.mark.parametrize("media_prior", ["contribution", "roi", "mroi"])
def test_the_declared_prior_holds_exactly(national_data, media_prior):
    """The sampler's proposal is corrected: the joint density's dependence on the quantity is
    exactly prior.log_prob (the difference between two priors at one point equals the
    difference of their log densities there)."""
    site = MEDIA_PRIOR_SITES[media_prior]
    a = ModelSpec(media_prior=media_prior, priors={site: dist.HalfNormal(0.3)})
    b = ModelSpec(media_prior=media_prior, priors={site: dist.Exponential(2.0)})
    p = _problem(a, national_data)
    point = {k: v[0, 0] for k, v in prior_result(a, national_data, n=1).samples.items()}
    la = log_density(make_model(a, p.dims), (p.inputs, p.y), {}, point)[0]
    lb = log_density(make_model(b, p.dims), (p.inputs, p.y), {}, point)[0]
    value = np.asarray(point[site], np.float64)
    want = (dist.HalfNormal(0.3).log_prob(value) - dist.Exponential(2.0).log_prob(value)).sum()
    np.testing.assert_allclose(float(la - lb), float(want), rtol=1e-4, atol=1e-3)


def test_a_prior_for_another_parameterisation_names_the_fix():
    with pytest.raises(ValueError, match="needs media_prior='roi'"):
        ModelSpec(priors={"roi": dist.LogNormal(0.2, 0.9)})
    with pytest.raises(ValueError, match="media_prior"):
        mj.MMM(media_prior="price")
    ModelSpec(media_prior="roi", priors={"roi": dist.LogNormal(0.2, 0.9)})  # fine


@pytest.fixture(scope="module")
def unit_fits():
    """The default model and the coefficient prior fitted on a dataset, on the same data
    with the KPI x 1000, and with one channel's spend x 1000 (same seed)."""
    df, _ = mj.simulate(seed=3, n_periods=104)
    kpi = df.assign(sales=df["sales"] * 1000.0)
    spend = df.assign(search=df["search"] * 1000.0)
    settings = dict(num_warmup=150, num_samples=150, num_chains=2, seed=5, progress_bar=False,
                    check=False)
    out = {}
    for prior in ("contribution", "coefficient"):
        out[prior] = [mj.MMM(media_prior=prior).fit(
            mj.MMMData.from_dataframe(frame, **COLUMNS), **settings).roi()
            for frame in (df, kpi, spend)]
    return out


@pytest.mark.parametrize("media_prior", ["contribution", "coefficient"])
def test_units_do_not_change_the_answer(unit_fits, media_prior):
    """Unit-free priors: the KPI x 1000 multiplies every ROI by 1000, one channel's spend x
    1000 divides that channel's ROI by 1000, and nothing else moves (the unit-scale problem
    is the same to float32 rounding, so the draws are the same; 1e-6 relative)."""
    base, kpi, spend = unit_fits[media_prior]
    np.testing.assert_allclose(kpi.to_numpy(), 1000.0 * base.to_numpy(), rtol=1e-6)
    scale = np.array([1.0, 1e-3, 1.0])[:, None]  # tv, search, social
    np.testing.assert_allclose(spend.to_numpy(), scale * base.to_numpy(), rtol=1e-6)
