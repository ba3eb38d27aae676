"""``Embedding`` (a lookup table of vectors) and ``one_hot`` for integer token ids."""

from __future__ import annotations

import numpy as np

from autograd_rnn.core.tensor import Tensor, value_of
from autograd_rnn.nn.init import check_size, make_rng
from autograd_rnn.nn.module import Module, Parameter


def _check_ids(indices, size: int, what: str) -> np.ndarray:
    ids = np.asarray(value_of(indices) if isinstance(indices, Tensor) else indices)
    if ids.dtype.kind == "f":
        if not np.all(ids == np.round(ids)):
            raise TypeError(f"{what} ids must be integers, got non-integral floats")
        ids = ids.astype(np.int64)
    elif ids.dtype.kind not in "iu":
        raise TypeError(f"{what} ids must be integers, got dtype {ids.dtype}")
    bad = (ids < 0) | (ids >= size)
    if np.any(bad):
        first = ids[bad].flat[0]
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise IndexError(
            f"{what}: id {int(first)} at position {where} is out of range for a vocabulary "
            f"of size {size} (valid ids are 0..{size - 1})"
        )
    return ids.astype(np.int64)


def one_hot(indices, depth: int, dtype=np.float64) -> np.ndarray:
    """Integer ids of any shape S -> array of shape S + (depth,) with a 1 at each id.

    >>> one_hot([2, 0], 3)
    array([[0., 0., 1.],
           [1., 0., 0.]])

    Raises IndexError naming the first id outside 0..depth-1 and the depth.
    """
    depth = check_size(depth, "depth")
    ids = _check_ids(indices, depth, "one_hot")
    out = np.zeros(ids.shape + (depth,), dtype=dtype)
    np.put_along_axis(out, ids[..., None], 1, axis=-1)
    return out


class Embedding(Module):
    """A trainable table: row ``i`` of ``weight`` (num_embeddings, dim) is token i's vector.

    ``embedding(ids)`` with integer ids of shape S returns weight[ids], shape S + (dim,);
    the gradient scatters back into the rows used (repeated ids add up). Equivalent to
    ``one_hot(ids, num_embeddings) @ weight`` without the big matrix product.
    Initial values are standard normal, like PyTorch.
    """

    def __init__(
        self,
        num_embeddings: int,
        dim: int,
        *,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = check_size(num_embeddings, "num_embeddings")
        self.dim = check_size(dim, "dim")
        gen = make_rng(rng, seed)
        self.weight = Parameter(gen.standard_normal((self.num_embeddings, self.dim)), "weight")

    def forward(self, indices) -> Tensor:
        ids = _check_ids(indices, self.num_embeddings, "Embedding")
        return self.weight[ids]

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.dim}"
