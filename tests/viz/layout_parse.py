"""Lay out DOT with Graphviz and read the result back (tests only).

``laid_out(source)`` runs ``dot -v -Tjson`` once and returns ``Layout``: the drawing's size
in points, every node's centre, size, label and font size, every cluster's box and label,
the edges, and the crossing count dot itself reports ("mincross <graph>: N crossings").
Coordinates are Graphviz's: points, y growing upwards.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field

import pytest

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` is not installed")
_CROSSINGS = re.compile(r"^mincross [^:]+: (\d+) crossings", re.MULTILINE)


@dataclass
class Node:
    name: str
    x: float
    y: float
    width: float  # points
    height: float
    label: str
    fontsize: float
    style: str = ""

    @property
    def first_line(self) -> str:
        return self.label.split("\\n")[0].split("\n")[0]


@dataclass
class Layout:
    width: float
    height: float
    crossings: int
    nodes: dict[str, Node] = field(default_factory=dict)
    clusters: list[dict] = field(default_factory=list)  # {"name", "label", "bb": (x0,y0,x1,y1)}
    edges: list[dict] = field(default_factory=list)  # {"tail", "head", "attrs"}
    fontsizes: list[float] = field(default_factory=list)  # every font size used for text
    graph: dict = field(default_factory=dict)

    def find(self, pattern: str) -> list[Node]:
        """Nodes whose label's first line matches ``pattern`` (a regular expression)."""
        rx = re.compile(pattern)
        return [n for n in self.nodes.values() if rx.match(n.first_line)]

    def one(self, pattern: str) -> Node:
        found = self.find(pattern)
        assert len(found) == 1, (pattern, [n.first_line for n in found])
        return found[0]


def laid_out(source: str) -> Layout:
    done = subprocess.run(["dot", "-v", "-Tjson"], input=source.encode(), capture_output=True,
                          check=True, timeout=120)
    data = json.loads(done.stdout)
    stderr = done.stderr.decode("utf-8", "replace")
    bb = [float(v) for v in data["bb"].split(",")]
    layout = Layout(bb[2] - bb[0], bb[3] - bb[1], sum(int(n) for n in _CROSSINGS.findall(stderr)),
                    graph=data)
    default_font = float(data.get("fontsize", 14))
    ids = {}
    for obj in data.get("objects", []):
        if "nodes" in obj or obj.get("name", "").startswith("cluster"):
            if obj.get("name", "").startswith("cluster"):
                box = tuple(float(v) for v in obj["bb"].split(","))
                layout.clusters.append({"name": obj["name"], "label": obj.get("label", ""),
                                        "bb": box})
                if obj.get("label"):
                    layout.fontsizes.append(float(obj.get("fontsize", default_font)))
            continue
        if "pos" not in obj:
            continue
        x, y = (float(v) for v in obj["pos"].split(","))
        node = Node(obj["name"], x, y, float(obj["width"]) * 72, float(obj["height"]) * 72,
                    obj.get("label", ""), float(obj.get("fontsize", 14)), obj.get("style", ""))
        layout.nodes[obj["name"]] = node
        ids[obj["_gvid"]] = obj["name"]
        if "invis" not in node.style and node.label:
            layout.fontsizes.append(node.fontsize)
    for edge in data.get("edges", []):
        attrs = {k: v for k, v in edge.items() if not k.startswith("_")}
        layout.edges.append({"tail": ids.get(edge["tail"]), "head": ids.get(edge["head"]),
                             "attrs": attrs})
        if attrs.get("label") and attrs.get("style") != "invis":
            layout.fontsizes.append(float(attrs.get("fontsize", 14)))
    if data.get("label"):
        layout.fontsizes.append(float(data.get("fontsize", 14)))
    return layout


def html_font_sizes(label: str) -> list[float]:
    """The point-size values inside an HTML-like label (none: the node's own size)."""
    return [float(v) for v in re.findall(r'point-size="([\d.]+)"', label)]


def column(layout: Layout, name: str, steps: int = 1000) -> list[Node]:
    """The boxes named <name>_1, <name>_2, ... (their first label line), in t order; not
    "h_3 (detached)", the copy after a cut."""
    pattern = rf"{name}_{{}}($| = |  \()"
    return [layout.one(pattern.format(t)) for t in range(1, steps + 1)
            if layout.find(pattern.format(t))]


def bands(nodes: list[Node]) -> list[list[Node]]:
    """``nodes`` grouped by height (one group per band), top band first, each left to right."""
    rows: dict[int, list[Node]] = {}
    for n in nodes:
        rows.setdefault(round(n.y), []).append(n)
    return [sorted(rows[y], key=lambda n: n.x) for y in sorted(rows, reverse=True)]


def check_textbook(layout: Layout, steps: int, states: str = "h", full: bool = True) -> list:
    """The textbook view's geometry, wrapped or not: the states ``<states>_t`` form bands,
    top to bottom, each reading left to right in t order; a band's boxes all lie below the
    band above; ``h_0`` is left of the first band. With ``full`` (not compact) every column
    is x_t below h_t below y_t, straight, and each step loss L_t sits above its y_t. Returns
    the bands (lists of t)."""
    hs = column(layout, states, steps)
    assert len(hs) == steps, (states, [n.first_line for n in hs])
    t_of = {id(n): t for t, n in enumerate(hs, start=1)}
    groups = bands(hs)
    ts = [[t_of[id(n)] for n in g] for g in groups]
    assert [t for g in ts for t in g] == list(range(1, steps + 1)), ts  # t order, by bands
    first = groups[0][0]
    h0 = layout.one(rf"{states}_0($|  \()")
    assert h0.x < first.x and abs(h0.y - first.y) < 2
    if full:
        xs, ys, losses = column(layout, "x", steps), column(layout, "y", steps), column(
            layout, "L", steps)
        assert len(xs) == steps and len(ys) == steps
        loss_at = {int(n.first_line.split("_")[1].split()[0]): n for n in losses}
        for t in range(1, steps + 1):
            x, h, y = xs[t - 1], hs[t - 1], ys[t - 1]
            assert abs(x.x - h.x) < 2 and abs(h.x - y.x) < 2, t  # straight up the column
            assert x.y < h.y < y.y, t  # x_t at the bottom, h_t in the middle, y_t above
            if t in loss_at:
                assert loss_at[t].y > y.y and abs(loss_at[t].x - y.x) < 2, t
    boxes = [n for n in layout.nodes.values() if "invis" not in n.style and n.label
             and not n.label.startswith("<")]
    band_of = {}
    for k, g in enumerate(ts):
        for t in g:
            band_of[t] = k
    for k in range(len(groups) - 1):  # every box of band k+1 lies below every box of band k
        upper = [n for n in boxes if _step(n) is not None and band_of.get(_step(n)) == k]
        lower = [n for n in boxes if _step(n) is not None and band_of.get(_step(n)) == k + 1]
        assert max(n.y + n.height / 2 for n in lower) < min(n.y - n.height / 2 for n in upper)
    return ts


def _step(node: Node) -> int | None:
    m = re.match(r"^[xhcyL]_(\d+)($| = |  \()", node.first_line)
    return int(m.group(1)) if m else None


def dot_crossings(source: str) -> int:
    """Dot's own crossing count (``dot -v``), without laying out to JSON."""
    done = subprocess.run(["dot", "-v", "-Tcanon", "-o", "/dev/null"], input=source.encode(),
                          capture_output=True, check=True, timeout=120)
    return sum(int(n) for n in _CROSSINGS.findall(done.stderr.decode("utf-8", "replace")))
