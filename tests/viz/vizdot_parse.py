"""A small structural parser for the DOT that ar.viz.to_dot writes (tests only).

Returns nodes {name: attrs}, edges [(tail, head, attrs)], clusters [{name, label, parent,
nodes}] and the graph attributes, so tests check structure rather than text."""

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

    def cluster_of(self, node: str) -> dict | None:
        for c in self.clusters:
            if node in c["nodes"]:
                return c
        return None


def parse_dot(source: str) -> Dot:
    dot = Dot()
    stack: list[dict | None] = []
    lines = source.strip().splitlines()
    assert lines[0].startswith("digraph") and lines[-1] == "}", "not a digraph"
    for raw in lines[1:-1]:
        line = raw.strip()
        m = re.fullmatch(r"subgraph (cluster_\d+) \{", line)
        if m:
            cluster = {"name": m.group(1), "label": None, "nodes": [],
                       "parent": stack[-1]["name"] if stack else None}
            dot.clusters.append(cluster)
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
            dot.nodes[m.group(1)] = parse_attrs(m.group(2) or "")
            if stack:
                stack[-1]["nodes"].append(m.group(1))
            continue
        m = re.fullmatch(r"(node|edge|graph) \[(.*)\]", line)
        if m:
            continue
        attrs = parse_attrs(line)
        if stack:
            stack[-1]["label"] = attrs.get("label", stack[-1]["label"])
        else:
            dot.graph.update(attrs)
    return dot
