"""Checkpoints: one ``.npz`` file (loadable with ``allow_pickle=False``) holding everything a
run needs to continue exactly where it stopped.

Keys: ``param/<dotted name>`` (model parameters), ``optim/<key>`` (optimizer state dict),
``history/<name>`` (float arrays), ``meta/format``, ``meta/step``, ``meta/config`` (JSON),
``meta/rng`` (JSON of the NumPy Generator state), ``meta/np_random/<i>`` (the legacy global
``np.random`` state, for modules that draw from it), ``meta/dropout_rng`` (JSON list: the
generator of each recurrent layer with dropout) and ``data/text`` (UTF-8 bytes of the
training text, for the character task). Files are written atomically: a crash mid-write
leaves the previous checkpoint intact and no partial file.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from autograd_rnn.files import atomic_write_bytes

FORMAT = "autograd-rnn-checkpoint-1"
REQUIRED = ("meta/step", "meta/config", "meta/rng")  # besides meta/format


class CheckpointError(ValueError):
    """A checkpoint is unreadable or does not fit the model/optimizer it is loaded into."""


def save_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], overwrite: bool = False):
    """Write ``arrays`` to ``path`` as an uncompressed .npz, atomically (temp + os.replace).

    Raises ``FileExistsError`` if ``path`` exists and ``overwrite`` is False.
    """
    for key, value in arrays.items():
        if not isinstance(value, np.ndarray) or value.dtype.kind == "O":
            raise TypeError(f"checkpoint entry {key!r} must be a non-object NumPy array")
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return atomic_write_bytes(path, buffer.getvalue(), overwrite=overwrite)


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read every array of a checkpoint (``allow_pickle=False``) into a dict.

    Raises FileNotFoundError for a missing file, CheckpointError for a file that is not an
    autograd-rnn checkpoint.
    """
    if os.path.isdir(path):
        raise IsADirectoryError(f"checkpoint {os.fspath(path)!r} is a directory, not a file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint {os.fspath(path)!r} does not exist")
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic[:2] != b"PK":  # every .npz is a zip archive; NumPy would guess "pickle" instead
        raise CheckpointError(
            f"{os.fspath(path)!r} is not a readable .npz checkpoint (not a zip archive: "
            "corrupted, truncated at the start, or another kind of file)"
        )
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, Mapping):  # a single .npy array, not an .npz archive
            raise ValueError(f"it holds one {type(data).__name__}, not named arrays")
        with data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise CheckpointError(
            f"{os.fspath(path)!r} is not a readable .npz checkpoint ({error})"
        ) from None
    fmt = str(arrays.get("meta/format", ""))
    if fmt != FORMAT:
        raise CheckpointError(
            f"{os.fspath(path)!r} is not an autograd-rnn checkpoint (meta/format is "
            f"{fmt or 'missing'!r}, expected {FORMAT!r})"
        )
    missing = [k for k in REQUIRED if k not in arrays]
    if missing:
        raise CheckpointError(f"checkpoint {os.fspath(path)!r} is incomplete: no {missing}")
    try:
        if not isinstance(config_of(arrays), dict):
            raise ValueError("not a JSON object")
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise CheckpointError(
            f"checkpoint {os.fspath(path)!r}: meta/config is not valid JSON ({error})"
        ) from None
    return arrays


def rng_to_json(rng: np.random.Generator) -> str:
    """The full state of a NumPy Generator as JSON (its big integers survive exactly)."""
    return json.dumps(rng.bit_generator.state)


def rng_from_json(text: str) -> np.random.Generator:
    state = json.loads(text)
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def pack(
    *,
    params: Mapping[str, np.ndarray],
    optimizer_state: Mapping[str, np.ndarray],
    step: int,
    config: Mapping[str, Any],
    rng: np.random.Generator | str,
    history: Mapping[str, Any],
    text: str | None = None,
    np_random_state: tuple | None = None,
    stream: Mapping[str, np.ndarray] | None = None,
    dropout_rngs: list[str] | None = None,
) -> dict[str, np.ndarray]:
    """Flatten a training state into the checkpoint's key -> array layout. ``rng`` is a
    Generator or its ``rng_to_json`` text; ``np_random_state`` defaults to the current
    ``np.random.get_state()``; ``stream``: a ``TextStream``'s arrays (streamed text);
    ``dropout_rngs``: the ``rng_to_json`` of each dropout layer's generator."""
    out: dict[str, np.ndarray] = {
        "meta/format": np.array(FORMAT),
        "meta/step": np.array(step, dtype=np.int64),
        "meta/config": np.array(json.dumps(dict(config), sort_keys=True)),
        "meta/rng": np.array(rng if isinstance(rng, str) else rng_to_json(rng)),
    }
    legacy = np.random.get_state() if np_random_state is None else np_random_state
    out["meta/np_random/keys"] = np.asarray(legacy[1], dtype=np.uint32)
    out["meta/np_random/rest"] = np.array([legacy[2], legacy[3], legacy[4]], dtype=np.float64)
    for name, value in params.items():
        out[f"param/{name}"] = np.array(value, copy=True)
    for name, value in optimizer_state.items():
        out[f"optim/{name}"] = np.array(value, copy=True)
    for name, value in history.items():
        out[f"history/{name}"] = np.asarray(value, dtype=np.float64)
    if text is not None:
        out["data/text"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()
    for name, value in (stream or {}).items():
        out[f"stream/{name}"] = np.array(value, copy=True)
    if dropout_rngs:
        out["meta/dropout_rng"] = np.array(json.dumps(list(dropout_rngs)))
    return out


def dropout_rngs_of(arrays: Mapping[str, np.ndarray]) -> list[str]:
    """The saved dropout generators' states ([] for a run without dropout)."""
    text = arrays.get("meta/dropout_rng")
    return [] if text is None else list(json.loads(str(text)))


def section(arrays: Mapping[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The entries under ``prefix/`` with the prefix removed."""
    head = prefix + "/"
    return {k[len(head):]: v for k, v in arrays.items() if k.startswith(head)}


def config_of(arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    return json.loads(str(arrays["meta/config"]))


def text_of(arrays: Mapping[str, np.ndarray]) -> str | None:
    data = arrays.get("data/text")
    return None if data is None else data.tobytes().decode("utf-8")


def restore_np_random(arrays: Mapping[str, np.ndarray]) -> None:
    """Put the legacy global ``np.random`` state back as it was when saved."""
    keys = arrays.get("meta/np_random/keys")
    if keys is None:
        return
    pos, has_gauss, cached = arrays["meta/np_random/rest"]
    np.random.set_state(("MT19937", keys, int(pos), int(has_gauss), float(cached)))


def check_params_fit(path: str, saved: Mapping[str, np.ndarray], model: Any) -> None:
    """Raise one CheckpointError naming the first mismatching parameter key or shape."""
    own = dict(model.named_parameters())
    for name, param in own.items():
        if name not in saved:
            raise CheckpointError(
                f"checkpoint {path!r} does not fit this model: it has no parameter {name!r} "
                f"(it has {sorted(saved)[:6]}{'...' if len(saved) > 6 else ''})"
            )
        if saved[name].shape != param.data.shape:
            raise CheckpointError(
                f"checkpoint {path!r} does not fit this model: parameter {name!r} has shape "
                f"{saved[name].shape} in the file but {param.data.shape} in the model"
            )
    extra = sorted(set(saved) - set(own))
    if extra:
        raise CheckpointError(
            f"checkpoint {path!r} does not fit this model: unexpected parameter {extra[0]!r}"
        )
