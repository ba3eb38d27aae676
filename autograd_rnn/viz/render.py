"""Writing diagrams to files: ``render(roots, path, format=None, **to_dot_options)``.

Files are written atomically (a temporary file in the same folder, then ``os.replace``) and
an existing file is never overwritten unless ``overwrite=True``. Without Graphviz's ``dot``
program the DOT source is still saved (next to ``path``, suffix ``.dot``) and
``GraphvizNotFoundError`` says how to install Graphviz.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import graphviz

from autograd_rnn.files import atomic_write_bytes, check_writable
from autograd_rnn.viz.dot import to_dot
from autograd_rnn.viz.errors import (
    INSTALL_HINT,
    GraphTooLargeError,
    GraphvizNotFoundError,
    LayoutFailedError,
)

FORMATS = ("svg", "png", "pdf", "dot")
LAYOUT_TIMEOUT = 120.0  # seconds before a layout is declared too large


def write_atomic(path: str | os.PathLike, data: bytes | str, overwrite: bool = False) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` with ``autograd_rnn.files``' one
    writer: atomic, never into a missing folder, never over a non-regular file.

    Raises ``FileExistsError`` if ``path`` exists and ``overwrite`` is False.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    return Path(atomic_write_bytes(path, payload, overwrite=overwrite))


def resolve_format(path: str | os.PathLike, format: str | None) -> str:  # noqa: A002
    """The output format: ``format`` if given, else the file suffix (svg, png, pdf, dot)."""
    fmt = format or Path(path).suffix.lstrip(".").lower()
    if fmt == "gv":
        fmt = "dot"
    if fmt not in FORMATS:
        raise ValueError(
            f"cannot tell the format of {str(path)!r}: use a suffix or format= among {FORMATS}"
        )
    return fmt


def dot_source(graph: graphviz.Digraph) -> str:
    """The DOT text of ``graph`` (ends with a newline)."""
    return graph.source


def layout(source: str, fmt: str, timeout: float = LAYOUT_TIMEOUT) -> bytes:
    """Run ``dot -T<fmt>`` on ``source``; clear errors when dot is missing or too slow."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError(f"Graphviz's `dot` program was not found on PATH: "
                                    f"{INSTALL_HINT}")
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=source.encode("utf-8"),
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise GraphTooLargeError(
            f"Graphviz did not finish laying out the graph within {timeout:.0f} s: draw "
            "detail='cells' (one node per cell per timestep) or save the DOT source only "
            "(format='dot')"
        ) from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        first = message.splitlines()[0] if message else "no message"
        raise LayoutFailedError(f"Graphviz's dot -T{fmt} failed (exit {done.returncode}): "
                                f"{first}; draw detail='textbook' or 'cells', or save the DOT "
                                "source only (format='dot')")
    return done.stdout


_GROUP = re.compile(r' group=(?:"[^"]*"|[^\s\]]+)')
_INVISIBLE_CHAIN = re.compile(r"\n\t+\S+ -> \S+ \[(?:minlen=\d+ )?style=invis weight=10\]")


def _no_groups(source: str) -> str:
    return _GROUP.sub("", source)


def _no_chains(source: str) -> str:
    return _INVISIBLE_CHAIN.sub("", _no_groups(source))


def _no_clusters(source: str) -> str:
    return _no_chains(source).replace("subgraph cluster_", "subgraph plain_")


def _straight_edges(source: str) -> str:
    """Edges drawn as straight lines: Graphviz's spline router fails on some stacked
    bidirectional layouts ("in routesplines, illegal values of prev 1 and next 1")."""
    head, brace, rest = source.partition("{")
    return f"{head}{brace}\n\tsplines=line{rest}"


SIMPLIFICATIONS = (lambda s: s, _no_groups, _no_chains, _no_clusters, _straight_edges,
                   lambda s: _straight_edges(_no_clusters(s)))


def layout_robust(source: str, fmt: str, timeout: float = LAYOUT_TIMEOUT,
                  start: int = 0) -> tuple[bytes, int]:
    """``layout`` with fallbacks; returns (output, index of the simplification used).

    Graphviz (2.42/2.43 at least) sometimes cannot lay out graphs that combine clusters,
    ``group`` hints and heavy invisible chain edges ("trouble in init_rank", "lost edge"),
    e.g. bidirectional or stacked layers at op level. Then the first simplification that
    lays out is used: without the ``group`` hints, then also without the invisible chain
    edges, then without cluster boxes, then the full graph with straight edges (the spline
    router's "routesplines" failures), then both. Nodes, edges and labels stay the same. Raises
    ``GraphvizNotFoundError`` when ``dot`` is missing and the first error if nothing works.
    """
    first_error = None
    for level in range(start, len(SIMPLIFICATIONS)):
        try:
            return layout(SIMPLIFICATIONS[level](source), fmt, timeout), level
        except GraphvizNotFoundError:
            raise
        except LayoutFailedError as error:  # (GraphTooLargeError propagates)
            first_error = first_error or error
    raise first_error


def render(
    roots,
    path: str | os.PathLike,
    format: str | None = None,  # noqa: A002 (graphviz's name)
    *,
    overwrite: bool = False,
    timeout: float = LAYOUT_TIMEOUT,
    **to_dot_options,
) -> Path:
    """Draw the graph behind ``roots`` into ``path`` (svg, png, pdf or dot); returns the path.

    ``to_dot_options`` are those of ``to_dot`` (detail: "auto", "textbook", "ops" or
    "cells"; group, rankdir, show_values, show_grads, show_shapes, bus, wrap, compact,
    title, ...). For
    format "dot" there is no node limit unless ``max_nodes``
    is given. Without ``dot`` the source is saved to ``path`` with suffix ``.dot`` and
    ``GraphvizNotFoundError`` is raised.
    """
    path = Path(path)
    fmt = resolve_format(path, format)
    check_writable(path, overwrite)  # before the (possibly slow) layout
    if fmt == "dot":
        to_dot_options.setdefault("max_nodes", None)
    source = dot_source(to_dot(roots, **to_dot_options))
    if fmt == "dot":
        return write_atomic(path, source, overwrite=overwrite)
    try:
        data, _ = layout_robust(source, fmt, timeout)
    except GraphvizNotFoundError as error:
        saved = path.with_suffix(".dot")
        try:
            write_atomic(saved, source, overwrite=overwrite)
            where = (f"The DOT source was saved to {saved}; render it later with "
                     f"`dot -T{fmt} {saved} -o {path}`")
        except FileExistsError:
            where = f"The DOT source was not saved: {saved} exists (pass overwrite=True)"
        raise GraphvizNotFoundError(f"cannot render {path.name}: {error}. {where}") from None
    return write_atomic(path, data, overwrite=overwrite)
