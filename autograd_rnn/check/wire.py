"""Messages from an isolated check process to the grader, without pickle.

A message is a 4-byte header length, a JSON header, then optionally an ``.npz`` archive of
arrays (read back with ``allow_pickle=False``). Unpickling what the student's process sent
could run its code in the grader; JSON and raw arrays cannot. ``run_from_message`` checks the
arrays against what the grader expects before a ``StudentRun`` is built from them.
"""

from __future__ import annotations

import io
import json

import numpy as np

from autograd_rnn.check.student_run import StudentRun

MAX_MESSAGE_BYTES = 256 * 2**20
MODES = ("single", "multi", "packed", "loss")


class WireError(ValueError):
    """A message that does not decode or does not hold what it must."""


def encode(header: dict, arrays: dict[str, np.ndarray] | None = None) -> bytes:
    head = json.dumps(header).encode("utf-8")
    body = io.BytesIO()
    if arrays:
        np.savez(body, **arrays)
    return len(head).to_bytes(4, "big") + head + body.getvalue()


def decode(data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    try:
        n = int.from_bytes(data[:4], "big")
        header = json.loads(data[4:4 + n].decode("utf-8"))
        arrays = {}
        if len(data) > 4 + n:
            with np.load(io.BytesIO(data[4 + n:]), allow_pickle=False) as archive:
                arrays = {k: archive[k] for k in archive.files}
    except Exception as error:  # noqa: BLE001 (anything malformed is reported the same way)
        raise WireError(f"undecodable message ({type(error).__name__}: {error})") from None
    if not isinstance(header, dict) or not isinstance(header.get("kind"), str):
        raise WireError("message without a kind")
    return header, arrays


def run_message(run: StudentRun) -> bytes:
    arrays = {f"out{k}": o for k, o in enumerate(run.outputs)}
    arrays["base"] = np.asarray(run.base, dtype=np.float64)
    for k, n in enumerate(run.grads):
        arrays[f"grad{k}"] = run.grads[n]
        arrays[f"plus{k}"] = run.plus[n]
        arrays[f"minus{k}"] = run.minus[n]
    return encode({"kind": "result", "mode": run.mode, "outputs": len(run.outputs),
                   "wrt": list(run.grads)}, arrays)


def run_from_message(header: dict, arrays: dict, shapes: dict[str, tuple],
                     counts: dict[str, int]) -> StudentRun:
    """The run a result message describes, if its gradients have the inputs' ``shapes`` and
    its probes the expected ``counts`` of entries; ``WireError`` otherwise."""
    wrt = list(shapes)
    outputs = header.get("outputs")
    if header.get("mode") not in MODES or header.get("wrt") != wrt or \
            not isinstance(outputs, int) or outputs < 1:
        raise WireError("result header does not match the check")
    try:
        outs = [arrays[f"out{k}"] for k in range(outputs)]
        base = float(arrays["base"])
        grads, plus, minus = {}, {}, {}
        for k, n in enumerate(wrt):
            grads[n], plus[n], minus[n] = arrays[f"grad{k}"], arrays[f"plus{k}"], \
                arrays[f"minus{k}"]
    except (KeyError, TypeError, ValueError) as error:
        raise WireError(f"result lacks {error}") from None
    for n in wrt:
        if grads[n].shape != tuple(shapes[n]) or grads[n].dtype.kind not in "fiu":
            raise WireError(f"gradient d{n} has shape {grads[n].shape}, dtype {grads[n].dtype}")
        if plus[n].shape != (counts[n],) or minus[n].shape != (counts[n],):
            raise WireError(f"probes of {n} do not cover the {counts[n]} planned entries")
    if any(o.dtype.kind not in "fiu" for o in outs):
        raise WireError("non-numeric forward output")
    return StudentRun(header["mode"], outs, grads, plus, minus, base)
