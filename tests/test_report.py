"""The HTML report: self-contained, complete, numbers from the model, and clean in Chromium.

The browser checks need Debian's ``chromium`` (``apt-get install -y chromium``) and are skipped
without it.
"""

from __future__ import annotations

import base64
import re

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from mmm_jax import plot as mp  # noqa: E402
from mmm_jax.report import render, write_report  # noqa: E402
from tests.browser import check_page, find_chromium, png_size  # noqa: E402

SECTIONS = ["data", "convergence", "fit", "roi", "decomposition", "response-curves",
            "allocation", "priors", "diagnostics"]
needs_chromium = pytest.mark.skipif(find_chromium() is None,
                                    reason="chromium not installed (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def allocation(small_national):
    """A real BudgetResult: the last quarter's spend with tv halved and search doubled."""
    base = small_national.evaluate_budget(None, 13).spend
    return small_national.evaluate_budget(base * [0.5, 2.0, 1.0], 13)


@pytest.fixture(scope="module")
def optimum(small_national):
    """The default optimisation: bounded to +-30% of the historical mix."""
    return small_national.optimize_budget(None, 13)


@pytest.fixture(scope="module")
def figures(small_national, allocation):
    return mp.all_figures(small_national, allocation)


@pytest.fixture(scope="module")
def report(small_national, figures, allocation, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    path = write_report(small_national, out, allocation=allocation, figures=figures, dpi=60)
    return path, path.read_text(encoding="utf-8")


def test_report_and_plots_are_written(report):
    path, _ = report
    assert path.name == "report.html"
    plots = sorted(p.stem for p in (path.parent / "plots").glob("*.png"))
    assert plots == ["adstock", "budget", "convergence", "decomposition", "fit", "priors",
                     "response_curves", "roi"]


def test_report_is_self_contained(report):
    _, page = report
    sources = re.findall(r'<img\b[^>]*\bsrc="([^"]*)"', page)
    assert len(sources) == 8
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        width, height = png_size(base64.b64decode(src.split(",", 1)[1]))
        assert width > 100 and height > 100
    assert not re.search(r'(src|href)="(https?:|//)', page)
    assert "<link" not in page
    for section in SECTIONS:
        assert f'id="{section}"' in page


def test_report_states_the_gate_and_the_numbers(report, small_national, allocation):
    _, page = report
    d = small_national.diagnostics()
    verdict = "PASS" if d["passed"] else "FAIL"
    assert f"class='badge {verdict.lower()}'>{verdict}</span>" in page
    assert f"{d['max_rhat']:,.4f}" in page and f"{d['min_ess_bulk']:,.0f}" in page
    fit = small_national.fit_metrics()
    assert f"R&sup2; = <b>{fit['r2']:.3f}</b>" in page
    roi = small_national.roi()
    for channel, row in roi.iterrows():
        assert f"<td>{channel}</td>" in page
        assert f"{row['mean']:,.2f} <span class='note'>[{row['hdi_low']:,.2f}" in page
    assert "<td>periods</td><td>156 (weekly)</td>" in page
    lift = allocation.lift
    assert (f"Expected incremental KPI lift {lift['mean']:,.0f} [{lift['hdi_low']:,.0f}, "
            f"{lift['hdi_high']:,.0f}] ({100 * lift['relative']:+.2f}%)") in page
    assert "+100.0%" in page  # search doubled in the allocation table
    # doubled search leaves the spend range of the history: flagged in the table and a note
    assert allocation.channels["outside_history"].tolist() == [False, True, False]
    assert page.count("<span class='bad'>plan outside</span>") == 1
    assert "Outside the spend range of the history: search (" in page


def test_report_states_the_default_bound(small_national, figures, optimum):
    page, _ = render(small_national, figures=figures, allocation=optimum, dpi=30)
    assert ("Each channel bounded to ±30% of the historical mix at this budget "
            "(relative_bounds=(0.7, 1.3)); relative_bounds=None for unbounded.") in page
    assert "against the historical mix at the same budget" in page


def test_report_without_allocation_has_no_allocation_section(small_national, figures):
    no_budget = {k: v for k, v in figures.items() if k != "budget"}
    page, pngs = render(small_national, figures=no_budget, dpi=30)
    assert 'id="allocation"' not in page and "budget" not in pngs
    assert page.count("<img ") == 7


def test_report_escapes_text(small_national, figures, allocation):
    page, _ = render(small_national, figures=figures, title="<script>alert(1)</script>",
                     allocation=allocation, dpi=30)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


@needs_chromium
def test_report_loads_cleanly_in_headless_chromium(report, tmp_path):
    path, _ = report
    shot = tmp_path / "report.png"
    result = check_page(path, screenshot=shot, sections=SECTIONS, size=(1200, 3000))
    assert result.problems == []
    assert result.body["images"] == "8" and result.body["broken-images"] == "0"
    assert png_size(shot.read_bytes()) == (1200, 3000)


@needs_chromium
def test_browser_check_catches_console_errors_and_broken_images(tmp_path):
    bad = tmp_path / "bad.html"
    good_png = base64.b64encode(mp.png_bytes(mp.Figure(figsize=(1, 1)), 20)).decode()
    bad.write_text(
        "<!DOCTYPE html><html><body data-checked='false'>"
        f"<img src='data:image/png;base64,{good_png}'><img src='missing.png'>"
        "<script>console.error('boom'); undefinedFunction();</script>"
        "<script>window.addEventListener('load', function () {"
        "var imgs = Array.prototype.slice.call(document.images);"
        "document.body.dataset.images = String(imgs.length);"
        "document.body.dataset.brokenImages = String(imgs.filter(function (i) {"
        "return i.naturalWidth === 0; }).length);"
        "document.body.dataset.checked = 'true'; });</script></body></html>")
    problems = check_page(bad, sections=["fit"]).problems
    text = "\n".join(problems)
    assert "boom" in text and "undefinedFunction" in text
    assert "1 of 2 images are broken" in text
    assert "not an embedded PNG: 'missing.png'" in text
    assert "section #fit is missing" in text
