"""The ``Module`` base class and ``Parameter``: named, trainable tensors grouped in a tree.

A module registers every ``Parameter`` and sub-``Module`` assigned as an attribute, in
assignment order. ``named_parameters()`` walks that tree (iteratively) and yields dotted
names such as ``"rnn.cells.0.W_h"``; ``state_dict()`` / ``load_state_dict()`` move the values
in and out as plain NumPy arrays, checking names and shapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from autograd_rnn.core.tensor import Tensor, value_of


class Parameter(Tensor):
    """A leaf tensor that requires grad and that a ``Module`` registers as trainable.

    >>> w = Parameter(np.zeros((3, 2)), name="W_x")   # float64 unless data is float
    """

    __slots__ = ()

    def __init__(self, data: Any, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=True, name=name, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter(" + super().__repr__()[len("tensor(") :]


class LoadResult(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class: subclasses assign parameters/submodules as attributes and define
    ``forward``; calling the module calls ``forward``.

    Attributes:
        training: True in training mode (``train()``), False after ``eval()``; dropout
            only acts in training mode.
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_members", {})
        object.__setattr__(self, "training", True)

    # ----- registration ------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        members = self.__dict__.get("_members")
        if members is None:
            raise AttributeError(
                f"{type(self).__name__}.__init__ must call super().__init__() before "
                f"assigning {name!r}"
            )
        if isinstance(value, (Parameter, Module)):
            members[name] = value
            self.__dict__.pop(name, None)
        else:
            members.pop(name, None)
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        members = self.__dict__.get("_members", {})
        if name in members:
            return members[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        if name in self._members:
            del self._members[name]
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter) -> Parameter:
        """Register ``param`` under ``name`` (same as ``setattr``, for computed names)."""
        if not isinstance(param, Parameter):
            raise TypeError(f"{name!r} must be a Parameter, got {type(param).__name__}")
        setattr(self, name, param)
        return param

    # ----- traversal ---------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, member in self._members.items():
            if isinstance(member, Module):
                yield name, member

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every descendant, depth-first in registration order."""
        stack = [(prefix, self)]
        seen: set[int] = set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{k}" if name else k, m) for k, m in module.named_children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs in registration order, each parameter once.

        The walk is iterative and follows the order in which attributes were assigned,
        interleaving a module's own parameters with its submodules' ones.
        """
        seen: set[int] = set()
        stack: list[tuple[str, Module | Parameter]] = [(prefix, self)]
        while stack:
            name, member = stack.pop()
            if isinstance(member, Parameter):
                if id(member) not in seen:
                    seen.add(id(member))
                    yield name, member
                continue
            kids = [(f"{name}.{k}" if name else k, m) for k, m in member._members.items()]
            stack.extend(reversed(kids))

    def parameters(self) -> list[Parameter]:
        """All parameters, in the order of ``named_parameters()``."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return int(sum(p.size for p in self.parameters()))

    # ----- gradients and modes -----------------------------------------------------------
    def zero_grad(self) -> None:
        """Clear ``.grad`` of every parameter (set to None)."""
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and every descendant; returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode (dropout off); returns self."""
        return self.train(False)

    # ----- state -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """{dotted name: copy of the parameter's array}, in ``named_parameters()`` order."""
        return {name: value_of(p).copy() for name, p in self.named_parameters()}  # a copy

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy arrays from ``state`` into the parameters, in place.

        Every value is checked before anything is written, so a failed load changes nothing.

        Raises:
            KeyError: (strict) keys missing from ``state`` or not in the module, all listed.
            ValueError: a shape mismatch, naming the key and both shapes.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict for {type(self).__name__} expects a mapping of parameter "
                f"name -> array (e.g. from state_dict()), got {type(state).__name__}"
            )
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise KeyError(f"load_state_dict for {type(self).__name__}: " + "; ".join(parts))
        staged = []
        for name, param in own.items():
            if name not in state:
                continue
            value = state[name]
            value = value_of(value) if isinstance(value, Tensor) else np.asarray(value)
            if value.shape != param.shape:
                raise ValueError(
                    f"load_state_dict for {type(self).__name__}: shape mismatch for {name!r}: "
                    f"the module has {param.shape}, the state dict has {value.shape}"
                )
            if value.dtype.kind not in "fiu":
                raise ValueError(f"load_state_dict: {name!r} has non-numeric dtype {value.dtype}")
            staged.append((param, value))
        for param, value in staged:
            np.copyto(param.data, value, casting="unsafe")
        return LoadResult(missing, unexpected)

    # ----- calling and printing ----------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        """One-line summary of the module's own settings, shown by ``repr``."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, member in self._members.items():
            if isinstance(member, Module):
                body = repr(member).replace("\n", "\n  ")
            else:
                body = f"Parameter{tuple(member.shape)}"
            lines.append(f"  ({name}): {body}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"


class ModuleList(Module):
    """A list of modules registered under the names "0", "1", ...

    >>> cells = ModuleList([RNNCell(3, 4), RNNCell(4, 4)])   # "0.W_x", "1.W_x", ...
    """

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList holds Modules, got {type(module).__name__}")
        setattr(self, str(len(self._members)), module)
        return self

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._members.values()))

    def __getitem__(self, index: int) -> Module:
        items = list(self._members.values())
        return items[index]
