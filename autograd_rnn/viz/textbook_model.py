"""The data of the textbook view (see ``textbook.py``): boxes, arrows, the parameter table."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from autograd_rnn.core.tensor import Tensor


@dataclass
class TNode:
    """A box: ``kind`` is x, h, c, y, Lt (per-step loss), loss (a root) or cut."""

    kind: str
    row: str  # "x", "<layer path>:c", "<layer path>:h", "y", "Lt", "loss"
    column: int | None  # timestep (0 for h_0 / c_0); None: placed by the layout (roots)
    anchor: Tensor
    layer: str = ""
    name: str = ""  # DOT name, set by build_textbook
    detached_from_earlier: bool = False  # a cut node: an earlier chunk that is not drawn


@dataclass
class WeightUse:
    """A weight written on an arrow: ``contribution`` is this step's share of its gradient
    (None before backward); ``gates`` the gate names of the cell ("i f g o"), if any;
    ``label`` its name (the arrow's row tells layers apart)."""

    param: Tensor
    label: str
    contribution: np.ndarray | None
    gates: str = ""


@dataclass
class TArrow:
    src: TNode
    dst: TNode
    kind: str  # "data" (a gradient flows back), "const" (none needed) or "detached"
    grads: list = field(default_factory=list)  # gradient arrays sent back to src's tensors
    weights: list[WeightUse] = field(default_factory=list)

    @property
    def grad_norm(self) -> float | None:
        grads = [g for g in self.grads if g is not None]
        if not grads:
            return None
        return float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads)))


@dataclass
class ParamRow:
    """One line of the parameter table: the contributions per box, and their sum."""

    param: Tensor
    label: str
    contributions: list[tuple[TNode, np.ndarray]]
    uses: int = 0  # boxes (timesteps) using it, gradients recorded or not

    @property
    def total(self) -> np.ndarray | None:
        if not self.contributions:
            return None
        return np.sum([c for _, c in self.contributions], axis=0)


@dataclass
class Textbook:
    nodes: list[TNode]
    arrows: list[TArrow]
    params: list[ParamRow]
    rows: list[str]  # bottom to top
    columns: list[int]
    chunks: list[tuple[int, int]]  # (first, last) column of each truncated-BPTT chunk
    has_grads: bool

    def position(self, node: TNode) -> float:
        """Where ``node`` sits left to right: its column, or for a box without one (a
        root) the mean column of the boxes feeding it."""
        if node.column is not None:
            return float(node.column)
        cols = [a.src.column for a in self.arrows if a.dst is node and a.src.column is not None]
        return sum(cols) / len(cols) if cols else 0.0
