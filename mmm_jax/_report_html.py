"""The report's HTML skeleton: inline CSS and a small self-check script, no external files.

The script records on ``<body>`` how many images the page has (``data-images``), how many
failed to decode (``data-broken-images``, from ``naturalWidth == 0``) and any script or
resource error (``data-errors``), so a headless browser's ``--dump-dom`` can verify the page.
"""

from __future__ import annotations

import string

CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       margin: 0 auto; max-width: 1180px; padding: 0 24px 48px; color: #222; }
header { border-bottom: 2px solid #1f77b4; margin-bottom: 8px; }
h1 { margin: 24px 0 4px; font-size: 26px; }
h2 { margin-top: 36px; border-bottom: 1px solid #ddd; padding-bottom: 4px; font-size: 20px; }
.meta { color: #666; font-size: 13px; margin: 0 0 12px; }
nav a { margin-right: 14px; font-size: 14px; color: #1f77b4; text-decoration: none; }
table { border-collapse: collapse; margin: 10px 0; font-size: 13px; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f4f6f8; }
table.facts td { text-align: left; }
img { max-width: 100%; height: auto; display: block; margin: 12px 0; }
.badge { display: inline-block; padding: 3px 12px; border-radius: 12px; color: white;
         font-weight: bold; font-size: 15px; }
.pass { background: #2ca02c; } .fail { background: #d62728; }
.ok { color: #2ca02c; } .bad { color: #d62728; font-weight: bold; }
.note { color: #555; font-size: 13px; }
footer { margin-top: 40px; color: #888; font-size: 12px; }
"""

SCRIPT = """
(function () {
  var errors = [];
  window.addEventListener("error", function (e) {
    errors.push(e.message || ("failed to load " + (e.target && (e.target.src || e.target.href))));
    document.body.dataset.errors = String(errors.length);
  }, true);
  function check() {
    var imgs = Array.prototype.slice.call(document.images);
    var broken = imgs.filter(function (i) { return !i.complete || i.naturalWidth === 0; });
    document.body.dataset.images = String(imgs.length);
    document.body.dataset.brokenImages = String(broken.length);
    document.body.dataset.errors = String(errors.length);
    document.body.dataset.checked = "true";
  }
  if (document.readyState === "complete") { check(); }
  else { window.addEventListener("load", check); }
})();
"""

PAGE = string.Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>$css</style>
</head>
<body data-checked="false">
<header>
<h1>$title</h1>
<p class="meta">$meta</p>
<nav>$nav</nav>
</header>
$sections
<footer>$footer</footer>
<script>$script</script>
</body>
</html>
""")


def page(*, title: str, meta: str, sections: list[tuple[str, str, str]], footer: str) -> str:
    """The full page. ``sections`` are ``(id, heading, inner HTML)``; all text pre-escaped."""
    nav = "".join(f'<a href="#{sid}">{heading}</a>' for sid, heading, _ in sections)
    body = "\n".join(f'<section id="{sid}">\n<h2>{heading}</h2>\n{inner}\n</section>'
                     for sid, heading, inner in sections)
    return PAGE.substitute(title=title, meta=meta, nav=nav, sections=body, footer=footer,
                           css=CSS, script=SCRIPT)
