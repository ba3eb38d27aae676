"""The self-contained step-through HTML page: frames rendered to SVG and inlined.

The page has no external resources (no ``src``/``href`` to the network, no server needed):
every frame's SVG and caption sit in one JSON block read by a few lines of plain JavaScript
that drive Previous/Next buttons, a slider and the arrow keys (Home/End jump to the ends).
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograd_rnn.files import atomic_write_text, check_writable
from autograd_rnn.viz.render import layout_robust

_SLOT = re.compile(r"%(TITLE|N|FRAMES)%")
_PROLOGUE = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", re.S)


def render_svg(source: str) -> str:
    """Render DOT ``source`` to an SVG string (the ``<svg>`` element only, ready to inline).

    Layouts that Graphviz cannot do as drawn fall back to simpler styles
    (``render.layout_robust``): the nodes, edges and labels are the same. Raises
    ``GraphvizNotFoundError`` (with install instructions) when ``dot`` is missing, and the
    first error if nothing lays out.
    """
    return _render(source, 0)[0]


def _render(source: str, start: int) -> tuple[str, int]:
    """(svg, index of the simplification used), trying ``SIMPLIFICATIONS[start:]``."""
    svg, level = layout_robust(source, "svg", start=start)
    return _PROLOGUE.sub("", svg.decode("utf-8")).strip(), level


def render_svgs(sources: Sequence[str], *, workers: int | None = None) -> list[str]:
    """Render many DOT sources, in parallel threads (each ``dot`` is its own process).

    Once a frame needed a simplification (see ``render_svg``), later frames start from it:
    no time lost on layouts that fail, and consecutive frames keep the same style.
    """
    workers = workers or min(8, os.cpu_count() or 1)
    start = [0]

    def one(source: str) -> str:
        svg, level = _render(source, start[0])
        start[0] = max(start[0], level)
        return svg

    if workers <= 1 or len(sources) <= 1:
        return [one(s) for s in sources]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, sources))


def write_step_page(
    path: str | Path,
    frames: Sequence,
    *,
    title: str,
    engine: str = "svg",
    overwrite: bool = False,
    workers: int | None = None,
) -> Path:
    """Render ``frames`` (objects with ``.caption``, ``.kind`` and ``.source`` DOT) and write
    the page atomically to ``path``; returns the path.

    Raises ``FileExistsError`` if ``path`` exists and ``overwrite`` is false, ``ValueError``
    for an unknown ``engine`` (only ``"svg"``: SVG rendered by ``dot`` and inlined).
    """
    if engine != "svg":
        raise ValueError(f"engine must be 'svg' (frames inlined as SVG), got {engine!r}")
    path = check_writable(path, overwrite)  # fail before the slow rendering
    svgs = render_svgs([f.source for f in frames], workers=workers)
    page = build_page(title, [f.caption for f in frames], svgs, kinds=[f.kind for f in frames])
    return atomic_write_text(path, page, overwrite=overwrite)


def build_page(
    title: str, captions: Sequence[str], svgs: Sequence[str], *, kinds: Sequence[str] = ()
) -> str:
    """The page's HTML text for parallel lists of captions and inline SVG strings."""
    if len(captions) != len(svgs) or not svgs:
        raise ValueError(
            f"need one caption per SVG and at least one frame, got {len(captions)} captions "
            f"and {len(svgs)} SVGs"
        )
    kinds = list(kinds) or ["" for _ in svgs]
    if len(kinds) != len(svgs):
        raise ValueError(f"need one kind per frame, got {len(kinds)} for {len(svgs)} frames")
    data = [
        {"caption": c, "kind": k, "svg": s} for c, k, s in zip(captions, kinds, svgs, strict=True)
    ]
    # "</" inside a <script> block would end it early; "<\/" is the same JSON string.
    payload = json.dumps(data, ensure_ascii=True).replace("</", "<\\/").replace("<!--", "<\\!--")
    values = {"TITLE": html.escape(title), "N": str(len(svgs) - 1), "FRAMES": payload}
    return _SLOT.sub(lambda m: values[m.group(1)], _TEMPLATE)  # one pass: no re-expansion


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%TITLE%</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1rem 2rem; color: #222; }
  h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
  #controls { display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; }
  #controls button { font-size: 1rem; padding: .3rem .9rem; }
  #slider { flex: 1; min-width: 12rem; }
  #counter { font-variant-numeric: tabular-nums; min-width: 8rem; }
  #caption { margin: .6rem 0; padding: .4rem .6rem; border-left: 4px solid #999;
             background: #f6f6f6; font-family: ui-monospace, monospace; }
  #caption.forward { border-color: #0072b2; }
  #caption.backward { border-color: #d55e00; }
  #stage.fit svg { max-width: 100%; height: auto; }
  #stage { overflow: auto; }
  .hint { color: #777; font-size: .85rem; }
</style>
</head>
<body>
<h1>%TITLE%</h1>
<div id="controls">
  <button id="prev" type="button" title="previous frame (left arrow)">&#9664; Previous</button>
  <button id="next" type="button" title="next frame (right arrow)">Next &#9654;</button>
  <input id="slider" type="range" min="0" max="%N%" value="0" aria-label="frame">
  <span id="counter"></span>
  <label><input id="fit" type="checkbox" checked> fit to width</label>
</div>
<div id="caption"></div>
<div id="stage" class="fit"></div>
<p class="hint">Keys: &larr; / &rarr; step, Home / End jump. Forward frames add the newest
node; backward frames send a gradient along the highlighted edge.</p>
<script id="frames-data" type="application/json">%FRAMES%</script>
<script>
(function () {
  "use strict";
  var frames = JSON.parse(document.getElementById("frames-data").textContent);
  var stage = document.getElementById("stage");
  var caption = document.getElementById("caption");
  var counter = document.getElementById("counter");
  var slider = document.getElementById("slider");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var current = -1;
  function show(k) {
    k = Math.max(0, Math.min(frames.length - 1, k));
    if (k === current) { return; }
    current = k;
    var frame = frames[k];
    stage.innerHTML = frame.svg;
    stage.setAttribute("data-frame", String(k));
    caption.textContent = frame.caption;
    caption.className = frame.kind;
    counter.textContent = "frame " + (k + 1) + " / " + frames.length;
    slider.value = String(k);
    prev.disabled = k === 0;
    next.disabled = k === frames.length - 1;
  }
  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  document.getElementById("fit").addEventListener("change", function (event) {
    stage.className = event.target.checked ? "fit" : "";
  });
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10)); });
  document.addEventListener("keydown", function (event) {
    if (event.target.tagName === "INPUT") { return; }
    if (event.key === "ArrowRight") { show(current + 1); }
    else if (event.key === "ArrowLeft") { show(current - 1); }
    else if (event.key === "Home") { show(0); }
    else if (event.key === "End") { show(frames.length - 1); }
    else { return; }
    event.preventDefault();
  });
  show(0);
}());
</script>
</body>
</html>
"""
