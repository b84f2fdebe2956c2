"""Check an HTML report in headless Chromium: console output, broken images, sections.

Used by ``tests/test_report.py`` and runnable by hand (also to refresh the README picture)::

    python -m tests.browser OUT/report.html --screenshot docs/report.png

Chromium (Debian: ``apt-get install -y chromium``) loads the page twice: once with
``--dump-dom`` (the DOM after the load event: the report's own script writes the number of
images, of broken images and of errors on ``<body>``) with console logging on stderr, and once
with ``--screenshot``. Any console message fails the check (the report logs nothing), as does an
``<img>`` that is not an embedded PNG that decodes to a non-empty image.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--virtual-time-budget=10000")
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class PageCheck(NamedTuple):
    """What the browser saw: the DOM, ``<body>`` data attributes, console lines, problems."""

    dom: str
    body: dict
    console: list
    problems: list


def find_chromium() -> str | None:
    """Path of a Chromium binary (``$MMM_JAX_CHROMIUM`` first), or None."""
    env = os.environ.get("MMM_JAX_CHROMIUM")
    if env:
        return env
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


def _run(binary: str, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="mmm-jax-chromium-") as profile:
        return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout, check=False)


def png_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` from a PNG's IHDR chunk; raises ValueError if not a PNG."""
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def image_problems(dom: str) -> list[str]:
    """Every ``<img>`` must be an embedded (data URI) PNG with a positive size."""
    problems = []
    for i, src in enumerate(re.findall(r'<img\b[^>]*\bsrc="([^"]*)"', dom)):
        prefix = "data:image/png;base64,"
        if not src.startswith(prefix):
            problems.append(f"image {i} is not an embedded PNG: {src[:60]!r}")
            continue
        try:
            width, height = png_size(base64.b64decode(src[len(prefix):], validate=True))
        except ValueError as err:
            problems.append(f"image {i} does not decode as PNG: {err}")
            continue
        if width == 0 or height == 0:
            problems.append(f"image {i} is empty ({width}x{height})")
    return problems


def check_page(path, *, screenshot=None, sections=(), size=(1200, 3000),
               binary: str | None = None, timeout: float = 90.0) -> PageCheck:
    """Load ``path`` in headless Chromium and list what is wrong with it.

    Args:
        path: the HTML file. screenshot: optional PNG path to write.
        sections: element ids the page must contain.
        size: window size of the screenshot. binary: Chromium (default :func:`find_chromium`).

    Returns:
        :class:`PageCheck`; ``problems`` is empty for a good page.
    """
    binary = binary or find_chromium()
    if binary is None:
        raise FileNotFoundError("Chromium not found; apt-get install -y chromium")
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} does not exist")
    url = Path(path).resolve().as_uri()
    dumped = _run(binary, ["--enable-logging=stderr", "--v=0", "--dump-dom", url], timeout)
    dom = dumped.stdout
    console = [line for line in dumped.stderr.splitlines() if ":CONSOLE" in line]
    problems = [f"console: {line.split('] ', 1)[-1]}" for line in console]
    match = re.search(r"<body\b([^>]*)>", dom)
    body = dict(re.findall(r'data-([\w-]+)="([^"]*)"', match.group(1))) if match else {}
    if dumped.returncode != 0 or not match:
        problems.append(f"chromium exited with {dumped.returncode} and no page: "
                        f"{dumped.stderr.strip().splitlines()[-1:]}")
    elif body.get("checked") != "true":
        problems.append("the page's load check never ran (script error or load timeout)")
    else:
        if body.get("broken-images") != "0":
            problems.append(f"{body.get('broken-images')} of {body.get('images')} images are "
                            "broken in the browser")
        if body.get("errors", "0") != "0":
            problems.append(f"{body['errors']} script or resource errors")
    problems += image_problems(dom)
    problems += [f"section #{s} is missing" for s in sections if f'id="{s}"' not in dom]
    if screenshot is not None:
        shot = _run(binary, [f"--window-size={size[0]},{size[1]}",
                             f"--screenshot={Path(screenshot).resolve()}", url], timeout)
        if not Path(screenshot).is_file():
            problems.append(f"no screenshot written (exit {shot.returncode})")
        else:
            try:
                png_size(Path(screenshot).read_bytes())
            except ValueError:
                problems.append("the screenshot is not a PNG")
    return PageCheck(dom=dom, body=body, console=console, problems=problems)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html")
    parser.add_argument("--screenshot", default=None)
    parser.add_argument("--size", default="1200,3000", help="window WIDTH,HEIGHT")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split(","))
    result = check_page(args.html, screenshot=args.screenshot, size=(width, height))
    print(f"{args.html}: {result.body.get('images', '?')} images, "
          f"{len(result.problems)} problems")
    for problem in result.problems:
        print(f"  {problem}")
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
