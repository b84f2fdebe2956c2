"""One self-contained HTML report of a fitted model (PNG plots embedded as data URIs).

Sections: data summary, convergence gate (pass/fail with the numbers), model fit, ROI table,
decomposition, response curves and adstock, the budget allocation (when one is given), prior vs
posterior, and the settings (every field of the model specification and the sampler, derived
from the fields). :func:`write_report` also writes each plot as a PNG file.

Example:
    >>> from mmm_jax.report import write_report
    >>> write_report(model, "out")  # doctest: +SKIP
    PosixPath('out/report.html')
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import pathlib

import numpy as np
import pandas as pd

from mmm_jax import _report_html, _schema
from mmm_jax import diagnostics as diag_mod
from mmm_jax.spec import ENCODE

__all__ = ["render", "write_report"]

_ALT = {
    "fit": "Actual vs predicted KPI with the 90% predictive band",
    "decomposition": "Baseline and channel contributions stacked over time",
    "roi": "ROI and marginal ROI per channel with 90% HDIs",
    "response_curves": "Response curves per channel with current and optimal spend",
    "adstock": "Adstock decay weights per lag",
    "priors": "Prior vs posterior per parameter",
    "convergence": "R-hat, ESS and a rank plot",
    "budget": "Spend per channel before and after the allocation",
}


def _e(x) -> str:
    return html.escape(str(x))


def _img(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    alt = _e(_ALT.get(name, name))
    return f'<img id="img-{name}" alt="{alt}" src="data:image/png;base64,{data}">'


def _table(rows: list[list], header: list[str] | None = None, css: str = "") -> str:
    head = ""
    if header:
        head = "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr></thead>"
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}>{head}<tbody>{body}</tbody></table>"


def _num(x, digits: int = 2) -> str:
    x = float(x)
    if not np.isfinite(x):
        return "&infin;" if x > 0 else "n/a"
    return f"{x:,.{digits}f}"


def _interval(mean, low, high, digits: int = 2) -> str:
    low, high = _num(low, digits), _num(high, digits)
    return f"{_num(mean, digits)} <span class='note'>[{low}, {high}]</span>"


# ------------------------------------------------------------------ sections
def _data_section(model) -> str:
    data = model.data
    dates = pd.DatetimeIndex(data.dates)
    target = np.asarray(data.target, dtype=np.float64)
    spend = np.asarray(data.spend).reshape(-1, data.n_channels)
    media = np.asarray(data.media).reshape(-1, data.n_channels)
    per_period = spend.sum(0) / data.n_time
    facts = [
        ["periods", f"{data.n_time} ({'weekly' if data.freq == 'W' else 'daily'})"],
        ["dates", f"{dates[0]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d}"],
        ["geos", _e(", ".join(data.geos)) if data.is_geo else "national"],
        ["KPI", f"{_e(data.target_name)}: total {_num(target.sum(), 0)}, mean per period "
                f"{_num(target.reshape(-1, data.n_time).sum(0).mean(), 0)}"],
        ["controls", _e(", ".join(data.control_names)) or "none"],
    ]
    rows = [[_e(c), _num(spend[:, j].sum(), 0), f"{spend[:, j].sum() / spend.sum():.1%}",
             _num(per_period[j], 0), f"{np.mean(media[:, j] == 0):.0%}"]
            for j, c in enumerate(data.channels)]
    return (_table(facts, css="facts") + _table(rows, ["channel", "total spend", "share of spend",
                                          "spend per period", "periods with no media"]))


def _gate_section(model) -> str:
    d = model.diagnostics()
    problems = diag_mod.problems(model.diagnostics(detail=True))
    verdict = "PASS" if d["passed"] else "FAIL"

    def row(name, value, rule, ok, where=""):
        mark = "<span class='ok'>&#10003;</span>" if ok else "<span class='bad'>&#10007;</span>"
        return [name, value, rule, mark, _e(where)]

    from mmm_jax.plot.convergence import parameter_labels

    worst = dict(zip(["worst_rhat", "worst_ess_bulk", "worst_ess_tail"],
                     parameter_labels(model, [d["worst_rhat"] or "", d["worst_ess_bulk"],
                                              d["worst_ess_tail"]]), strict=True))
    rhat_ok = d["num_chains"] > 1 and d["max_rhat"] <= diag_mod.RHAT_MAX
    rows = [
        row("max R-hat (rank-normalised split)", _num(d["max_rhat"], 4),
            f"&le; {diag_mod.RHAT_MAX}", rhat_ok, worst["worst_rhat"]),
        row("min bulk ESS", _num(d["min_ess_bulk"], 0), f"&ge; {diag_mod.ESS_MIN}",
            d["min_ess_bulk"] >= diag_mod.ESS_MIN, worst["worst_ess_bulk"]),
        row("min tail ESS", _num(d["min_ess_tail"], 0), f"&ge; {diag_mod.ESS_MIN}",
            d["min_ess_tail"] >= diag_mod.ESS_MIN, worst["worst_ess_tail"]),
        row("divergent transitions", str(d["divergences"]), "= 0", d["divergences"] == 0),
        row("draws at max tree depth", f"{d['tree_depth_saturation']:.1%}",
            f"&le; {diag_mod.TREE_DEPTH_SATURATION_MAX:.0%}",
            d["tree_depth_saturation"] <= diag_mod.TREE_DEPTH_SATURATION_MAX),
    ]
    s = model.sampler
    out = (f"<p><span id='gate' class='badge {verdict.lower()}'>{verdict}</span> "
           f"{d['num_chains']} chains &times; {d['num_draws']} draws "
           f"(after {s.num_warmup} warmup), {d['mean_steps']:.1f} leapfrog steps per draw</p>")
    out += _table(rows, ["check", "value", "rule", "", "worst parameter"])
    if problems:
        out += "<ul>" + "".join(f"<li>{_e(p)}</li>" for p in problems) + "</ul>"
        out += ("<p class='note'>Do not act on these estimates yet: run longer chains "
                "(more warmup and samples) or revisit the priors.</p>")
    return out + "<p class='note'>Per-parameter R-hat, ESS and a rank plot: see " \
                 "<a href='#diagnostics'>sampler diagnostics</a>.</p>"


def _fit_section(model, png: bytes) -> str:
    m = model.fit_metrics()
    return (f"<p>In-sample R&sup2; = <b>{m['r2']:.3f}</b>, MAPE = <b>{m['mape']:.2f}%</b> "
            "(posterior-mean expected KPI against the observed KPI).</p>" + _img("fit", png))


def _roi_section(summary: pd.DataFrame, png: bytes) -> str:
    rows = []
    for channel, r in summary.iterrows():
        rows.append([
            _e(channel), _num(r["spend"], 0),
            _interval(100 * r["share"], 100 * r["share_hdi_low"], 100 * r["share_hdi_high"], 1),
            _interval(r["roi"], r["roi_hdi_low"], r["roi_hdi_high"]),
            _interval(r["mroi"], r["mroi_hdi_low"], r["mroi_hdi_high"]),
            _interval(r["cost_per_kpi"], r["cost_per_kpi_hdi_low"], r["cost_per_kpi_hdi_high"],
                      3)])
    table = _table(rows, ["channel", "spend", "contribution share %", "ROI", "marginal ROI",
                          "cost per KPI"])
    return (table + "<p class='note'>Posterior mean [90% HDI]. ROI = incremental KPI over the "
            "history / spend; marginal ROI = extra KPI per extra unit of spend at the "
            "historical level.</p>" + _img("roi", png))


def _lift_section(model) -> str:
    """Measured vs modelled lift of the experiments the fit was calibrated with."""
    table = model.lift_test_fit()
    geo = "geo" in table.columns
    rows = [[_e(r["channel"]), *([_e(r["geo"])] if geo else []),
             f"{r['start']:%Y-%m-%d} &ndash; {r['end']:%Y-%m-%d}", _num(r["delta_spend"], 0),
             f"{_num(r['lift'], 0)} &plusmn; {_num(r['lift_sd'], 0)}",
             _interval(r["fitted"], r["fitted_hdi_low"], r["fitted_hdi_high"], 0),
             _num(r["z"], 2)] for _, r in table.iterrows()]
    header = ["channel", *(["geo"] if geo else []), "window", "extra spend", "measured lift",
              "fitted lift", "z"]
    return (_table(rows, header) + "<p class='note'>Each experiment enters the likelihood as "
            "Normal(measured | fitted, sd). Fitted: posterior mean [90% HDI] of the model's own "
            "counterfactual lift over the window and its carryover; z = (fitted - measured) / "
            "sd.</p>")


def _effectiveness_section(model) -> str:
    """The time-varying media effectiveness, about one row a quarter."""
    frame = model.media_effectiveness()
    step = max(1, len(frame) // 12)
    rows = [[f"{date:%Y-%m-%d}", _interval(r["mean"], r["hdi_low"], r["hdi_high"])]
            for date, r in frame.iloc[::-step][::-1].iterrows()]
    return (_table(rows, ["period", "effectiveness"]) + "<p class='note'>Multiplier of every "
            "channel's contribution, posterior mean [90% HDI]; 1 in the last period, which the "
            "allocator and forecasts use.</p>")


def _allocation_section(result, png: bytes) -> str:
    """A :class:`~mmm_jax.BudgetResult`: per-channel spend and KPI, how it was bounded and
    which channels leave the spend range of the history."""
    rows = []
    for channel, r in result.channels.iterrows():
        cur, opt = r["reference_spend"], r["spend"]
        observed = f"{_num(r['observed_low'], 0)} &ndash; {_num(r['observed_high'], 0)}"
        if r["outside_history"]:
            observed += " <span class='bad'>plan outside</span>"
        rows.append([_e(channel), _num(cur, 0), _num(opt, 0),
                     f"{opt / cur - 1:+.1%}" if cur > 0 else "new",
                     _num(r["reference_kpi"], 0),
                     _interval(r["kpi"], r["kpi_hdi_low"], r["kpi_hdi_high"], 0),
                     _num(r["mroi"], 3), _e(r["status"]), observed])
    header = ["channel", "current spend", "optimal spend", "change", "current KPI",
              "optimal KPI", "marginal ROI", "at bound", "observed spend per period"]
    s = result.settings
    fixed = s.get("budget") is not None and s.get("spend") != "given"
    against = ("the historical mix at the same budget" if fixed else
               f"the spend of the last {result.n_periods} periods")
    lift = result.lift
    lead = (f"<p>Budget {_num(result.budget, 0)} over {result.n_periods} periods. Expected "
            f"incremental KPI lift {_num(lift['mean'], 0)} [{_num(lift['hdi_low'], 0)}, "
            f"{_num(lift['hdi_high'], 0)}] ({100 * lift['relative']:+.2f}%) against "
            f"{against}.</p>")
    notes = "".join(f"<p class='{'bad' if n.startswith('Outside') else 'note'}'>{_e(n)}</p>"
                    for n in result.notes())
    return lead + notes + _table(rows, header) + _img("budget", png)


def _settings_section(result) -> str:
    """Every field of the fit's :class:`~mmm_jax.ModelSpec` and :class:`~mmm_jax.SamplerConfig`
    (derived from the fields, so a new option appears here by itself) and the seed."""
    rows = [[f"<code>model.{_e(name)}</code>", f"<code>{_e(value)}</code>", _e(doc)]
            for name, value, doc in _schema.rows(result.spec, ENCODE)]
    rows += [[f"<code>sampler.{_e(name)}</code>", f"<code>{_e(value)}</code>", _e(doc)]
             for name, value, doc in _schema.rows(result.sampler)]
    rows.append(["<code>seed</code>", f"<code>{result.seed}</code>", "seed of the fit"])
    return _table(rows, ["setting", "value", "meaning"], css="facts")


# ------------------------------------------------------------------ page
def render(model, *, allocation=None, title: str | None = None,
           figures: dict | None = None, dpi: int = 100) -> tuple[str, dict[str, bytes]]:
    """Build the report.

    Args:
        model: a fitted :class:`mmm_jax.MMM`.
        allocation: optional :class:`~mmm_jax.BudgetResult` (``model.optimize_budget(...)``).
        title: page title (default "mmm_jax report: <KPI>").
        figures: already built figures by name (default :func:`mmm_jax.plot.all_figures`).
        dpi: PNG resolution.

    Returns:
        ``(html, pngs)``: the page and the PNG bytes of each plot by name.
    """
    import mmm_jax
    from mmm_jax import plot

    model._require_fit()
    summary = model.channel_summary()
    if figures is None:
        figures = plot.all_figures(model, allocation, summary=summary)
    pngs = {name: plot.png_bytes(fig, dpi) for name, fig in figures.items()}
    title = title or f"mmm_jax report: {model.data.target_name}"
    c, s = model.config, model.sampler
    meta = (f"{_e(c.adstock)} adstock, {_e(c.saturation)} saturation, {_e(c.likelihood)} "
            f"likelihood; NUTS {s.num_chains} chains &times; ({s.num_warmup} + "
            f"{s.num_samples}), seed {model.seed}; generated "
            f"{_dt.datetime.now():%Y-%m-%d %H:%M} by mmm_jax {mmm_jax.__version__}")
    sections = [
        ("data", "Data", _data_section(model)),
        ("convergence", "Convergence gate", _gate_section(model)),
        ("fit", "Model fit", _fit_section(model, pngs["fit"])),
        ("roi", "ROI by channel", _roi_section(summary, pngs["roi"])),
        ("decomposition", "Decomposition", _img("decomposition", pngs["decomposition"])),
        ("response-curves", "Response curves and carryover",
         _img("response_curves", pngs["response_curves"]) + _img("adstock", pngs["adstock"])),
    ]
    if model.config.time_varying_media:
        sections.append(("effectiveness", "Media effectiveness over time",
                         _effectiveness_section(model)))
    if model.result.lift_tests is not None:
        sections.append(("lift-tests", "Lift-test calibration", _lift_section(model)))
    if allocation is not None:
        sections.append(("allocation", "Budget allocation",
                         _allocation_section(allocation, pngs["budget"])))
    sections.append(("priors", "Prior vs posterior", _img("priors", pngs["priors"])))
    sections.append(("diagnostics", "Sampler diagnostics",
                     _img("convergence", pngs["convergence"])))
    sections.append(("settings", "Settings", _settings_section(model.result)))
    page = _report_html.page(title=_e(title), meta=meta, sections=sections,
                             footer="Self-contained report: every image is embedded.")
    return page, pngs


def write_report(model, out_dir, *, allocation=None, title: str | None = None,
                 plots_dir: str | None = "plots", figures: dict | None = None,
                 dpi: int = 100) -> pathlib.Path:
    """Write ``out_dir/report.html`` and, unless ``plots_dir`` is None, each plot as
    ``out_dir/<plots_dir>/<name>.png``.

    Args:
        model: a fitted :class:`mmm_jax.MMM`. allocation: optional allocation result.
        out_dir: directory (created). title: page title. dpi: PNG resolution.
        figures: already built figures by name (default :func:`mmm_jax.plot.all_figures`).

    Returns:
        The path of ``report.html``.
    """
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    page, pngs = render(model, allocation=allocation, title=title, figures=figures, dpi=dpi)
    if plots_dir is not None:
        (out / plots_dir).mkdir(parents=True, exist_ok=True)
        for name, png in pngs.items():
            (out / plots_dir / f"{name}.png").write_bytes(png)
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
