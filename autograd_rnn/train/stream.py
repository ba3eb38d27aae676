"""``TextStream``: read a text as B parallel streams with the hidden state carried across
training steps (min-char-rnn style), instead of random windows that start from a zero state.

The text is cut into B equal contiguous segments; stream b reads segment b from its start,
``seq_len`` characters per training step. The final hidden state of one step (detached: no
gradient crosses steps) is the initial state of the next, so the model learns dependencies
longer than ``seq_len`` the way a character-level model is classically trained. When the
segments are used up every stream starts over from its segment's start with a zero state
(a new epoch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_rnn.core.tensor import Tensor, tensor


class TextStream:
    """Positions and carried state of ``batch`` streams over a text of ``n_chars`` ids.

    Attributes:
        starts: (B,) first index of each stream's segment.
        segment: characters per segment (each stream reads windows of seq_len + 1 ids).
        position: offset of the next window inside every segment.
        state: the carried recurrent state as NumPy arrays (a tuple: (h,) or (h, c), each
            (layers * dirs, B, H)), or None at the start of an epoch.
    """

    def __init__(self, n_chars: int, batch: int, seq_len: int) -> None:
        segment = (n_chars - 1) // batch
        if segment < seq_len:
            raise ValueError(
                f"streaming needs at least batch * seq_len + 1 = {batch * seq_len + 1} "
                f"characters ({batch} streams of {seq_len} steps), the text has {n_chars}; "
                "use a smaller --batch or --seq-len, a longer text, or random windows"
            )
        self.seq_len = seq_len
        self.segment = segment
        self.starts = np.arange(batch, dtype=np.int64) * segment
        self.position = 0
        self.state: tuple[np.ndarray, ...] | None = None

    def next_window(self) -> np.ndarray:
        """(seq_len + 1, B) text indices of every stream's next window; starts a new epoch
        (position 0, state None) when a segment has no full window left."""
        if self.position + self.seq_len > self.segment:
            self.position = 0
            self.state = None
        steps = np.arange(self.seq_len + 1, dtype=np.int64)[:, None]
        window = self.starts[None, :] + self.position + steps
        self.position += self.seq_len
        return window

    def initial_state(self) -> Any:
        """The carried state as tensors for ``model(x, state)``: None, a tensor, or (h, c)."""
        if self.state is None:
            return None
        parts = tuple(tensor(s) for s in self.state)
        return parts[0] if len(parts) == 1 else parts

    def keep(self, final_state: Any) -> None:
        """Remember a step's final state (a Tensor or tuple of Tensors) as arrays."""
        parts = final_state if isinstance(final_state, (tuple, list)) else (final_state,)
        self.state = tuple(np.array(p.data if isinstance(p, Tensor) else p) for p in parts)

    # ----- checkpoints -----------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """The stream's position and state for a checkpoint ("position", "state/<i>")."""
        out = {"position": np.array(self.position, dtype=np.int64)}
        for i, s in enumerate(self.state or ()):
            out[f"state/{i}"] = s.copy()
        return out

    def load(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore what ``arrays`` saved; an empty dict (a run without streaming) restarts."""
        self.position = int(arrays.get("position", 0))
        parts = [arrays[f"state/{i}"] for i in range(len(arrays)) if f"state/{i}" in arrays]
        self.state = tuple(np.array(p) for p in parts) or None
        if self.position > self.segment:
            raise ValueError(f"stream position {self.position} is beyond the segment length "
                             f"{self.segment} of this text and batch")
        batch = self.starts.size
        if self.state is not None and any(s.ndim != 3 or s.shape[1] != batch for s in self.state):
            shapes = [s.shape for s in self.state]
            raise ValueError(f"the saved stream state has shapes {shapes}, which do not fit "
                             f"{batch} streams (expected (layers, {batch}, hidden))")
