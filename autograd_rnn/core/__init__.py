"""Engine core: the Tensor, primitives, recording modes and the backward sweep."""
