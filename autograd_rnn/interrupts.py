"""SIGTERM handled like Ctrl-C.

A cluster scheduler, ``timeout`` or ``kill`` stops a program with SIGTERM, whose default
action ends the process on the spot: no final checkpoint, temporary files left behind.
Inside ``terminate_as_interrupt()`` a SIGTERM raises ``Terminated`` (a KeyboardInterrupt)
instead, so every ``except KeyboardInterrupt`` / ``finally`` runs: ``Trainer.run`` restores
the last completed step and saves it, writers remove their temporary files. Further SIGTERMs
while that cleanup runs are ignored (the cleanup is what the first one asked for).

>>> with terminate_as_interrupt():      # doctest: +SKIP
...     trainer.run(10_000, checkpoint="run.npz")
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM arrives inside ``terminate_as_interrupt``."""


_received: list[int] = []


def received_sigterm() -> bool:
    """True when a SIGTERM arrived inside the current (or last) ``terminate_as_interrupt``."""
    return bool(_received)


def _handler(signum, frame) -> None:
    first = not _received
    _received.append(signum)
    if first:
        raise Terminated(f"terminated by signal {signal.Signals(signum).name}")


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` once (later ones are ignored).

    Outside the main thread (where Python cannot install handlers) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received.clear()
    previous = signal.signal(signal.SIGTERM, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
