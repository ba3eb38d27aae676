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
