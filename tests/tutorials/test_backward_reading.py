"""Notebook 01 reads the engine's reference backward loop line by line: every line it quotes
in bold must still be in ``backward_pass``, and the reading's code spans must cover every
statement of the loop's body, so the reading cannot go stale."""

import inspect
import re
from pathlib import Path

import nbformat

from autograd_rnn.core.backward import backward_pass

NOTEBOOK = Path(__file__).resolve().parents[2] / "tutorials" / "01_autodiff_from_scratch.ipynb"
BOLD = re.compile(r"\*\*`([^`]+)`\*\*")
SPAN = re.compile(r"`([^`]+)`")


def _reading() -> str:
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    texts = [c.source for c in cells
             if c.cell_type == "markdown" and "Read it top to bottom" in c.source]
    assert len(texts) == 1, "notebook 01 has one cell reading backward_pass"
    return texts[0]


def _quoted(span: str) -> str:
    """A quote up to its '...' (the rest of the line left out)."""
    return span.split("...")[0].strip()


def _statements() -> list[str]:
    """The loop's lines after the docstring, without comments and continuation lines."""
    body = inspect.getsource(backward_pass).split('"""')[-1]
    lines = [line.split("  #")[0].strip() for line in body.splitlines()]
    return [line for line in lines if line and not line.startswith("strict=")]


def test_every_bold_quote_is_a_line_of_the_loop():
    source = inspect.getsource(backward_pass)
    quotes = BOLD.findall(_reading())
    assert len(quotes) >= 8
    for quote in quotes:
        assert _quoted(quote) in source, f"notebook 01 quotes {quote!r}, not in backward_pass"


def test_the_reading_covers_every_statement():
    spans = [_quoted(s) for s in SPAN.findall(_reading())]
    spans = [s for s in spans if len(s) >= 10]
    unread = [s for s in _statements() if s not in ("continue", "checked: set = set()")
              and not any(q in s or s in q for q in spans)]
    assert not unread, f"statements of backward_pass that notebook 01 does not read: {unread}"


def test_the_notebook_prints_the_loop_from_its_source():
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    assert any(c.cell_type == "code" and "inspect.getsource(backward_pass)" in c.source
               for c in cells)
