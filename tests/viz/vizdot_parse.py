"""A small structural parser for the DOT that ar.viz.to_dot writes (tests only).

Returns nodes {name: attrs}, edges [(tail, head, attrs)], clusters [{name, label, parent,
nodes}], other subgraphs (rank rows) and the graph attributes, so tests check structure
rather than text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ID = r'(?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9_.]+)'


def _value(text: str, i: int) -> tuple[str, int]:
    if text[i] == '"':
        j = i + 1
        while text[j] != '"':
            j += 2 if text[j] == "\\" else 1
        return text[i + 1 : j], j + 1
    if text[i] == "<":
        depth, j = 0, i
        while True:
            depth += {"<": 1, ">": -1}.get(text[j], 0)
            j += 1
            if depth == 0:
                return text[i:j], j
    m = re.compile(r"[^\s\]]+").match(text, i)
    return m.group(0), m.end()


def parse_attrs(text: str) -> dict[str, str]:
    attrs, i = {}, 0
    while i < len(text):
        if text[i] in " \t,":
            i += 1
            continue
        m = re.compile(r"([A-Za-z_]+)=").match(text, i)
        if m is None:
            raise ValueError(f"cannot parse attributes at {text[i:i + 40]!r}")
        attrs[m.group(1)], i = _value(text, m.end())
    return attrs


@dataclass
class Dot:
    graph: dict = field(default_factory=dict)
    nodes: dict = field(default_factory=dict)
    edges: list = field(default_factory=list)
    clusters: list = field(default_factory=list)
    subgraphs: list = field(default_factory=list)  # non-cluster subgraphs (rank rows)

    def cluster_of(self, node: str) -> dict | None:
        """The innermost cluster defining ``node``."""
        found = None
        for c in self.clusters:
            if node in c["nodes"]:
                found = c
        return found

    def first(self, prefix: str) -> str:
        """The name of the only node whose label starts with ``prefix``."""
        (name,) = [k for k, a in self.nodes.items() if a.get("label", "").startswith(prefix)]
        return name


def parse_dot(source: str) -> Dot:
    dot = Dot()
    stack: list[dict | None] = []
    lines = source.strip().splitlines()
    assert lines[0].startswith("digraph") and lines[-1] == "}", "not a digraph"
    for raw in lines[1:-1]:
        line = raw.strip()
        m = re.fullmatch(r"subgraph (\w+) \{", line)
        if m:
            cluster = {"name": m.group(1), "label": None, "nodes": [], "attrs": {},
                       "parent": _parent(stack)}
            if m.group(1).startswith("cluster"):
                dot.clusters.append(cluster)
            else:  # a rank=same row: its lines only name nodes defined elsewhere
                dot.subgraphs.append(cluster)
            stack.append(cluster)
            continue
        if line == "}":
            stack.pop()
            continue
        m = re.fullmatch(rf"({_ID}) -> ({_ID})(?: \[(.*)\])?", line)
        if m:
            dot.edges.append((m.group(1), m.group(2), parse_attrs(m.group(3) or "")))
            continue
        m = re.fullmatch(rf"({_ID})(?: \[(.*)\])?", line)
        if m and m.group(1) not in ("node", "edge", "graph"):
            dot.nodes.setdefault(m.group(1), {}).update(parse_attrs(m.group(2) or ""))
            if stack:
                stack[-1]["nodes"].append(m.group(1))
            continue
        m = re.fullmatch(r"(node|edge|graph) \[(.*)\]", line)
        if m:
            continue
        attrs = parse_attrs(line)
        if stack:
            stack[-1]["attrs"].update(attrs)
            stack[-1]["label"] = attrs.get("label", stack[-1]["label"])
        else:
            dot.graph.update(attrs)
    return dot


def _parent(stack: list) -> str | None:
    clusters = [c for c in stack if c["name"].startswith("cluster")]
    return clusters[-1]["name"] if clusters else None
