"""One run per checkpoint file: ``checkpoint_lock(path)`` holds ``<path>.lock`` while a run
writes ``path``.

The lock file sits beside the checkpoint and holds the owner's process id and host name. It
is also locked with ``flock`` while held, so a run killed with SIGKILL leaves a *stale* lock:
the kernel released its flock, and the next run takes the file over. A second live run on
the same path is refused with ``CheckpointLockedError`` naming the owner's process id. Where
``flock`` is missing (not POSIX), a lock whose process no longer exists on this host is
stale. Locks are re-entrant within a process (``Trainer.save`` inside ``Trainer.run``).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


class CheckpointLockedError(RuntimeError):
    """Another live run is writing this checkpoint (CLI exit code 2)."""


_held: dict[str, list[int]] = {}  # lock path -> [file descriptor, depth]


def lock_path(checkpoint: str | os.PathLike) -> Path:
    """``<checkpoint>.lock``, beside the file a symlinked checkpoint points to."""
    return Path(os.path.realpath(checkpoint) + ".lock")


def _owner(text: str) -> tuple[int | None, str]:
    pid, _, host = text.strip().partition(" ")
    return (int(pid) if pid.isdigit() else None), host


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def _refuse(checkpoint, lock: Path, text: str) -> CheckpointLockedError:
    pid, host = _owner(text)
    who = f"process {pid}" if pid is not None else "another process"
    where = f" on {host}" if host and host != socket.gethostname() else ""
    return CheckpointLockedError(
        f"checkpoint {os.fspath(checkpoint)} is being written by another run ({who}{where}, "
        f"lock file {lock}); wait for it to finish or use another --checkpoint (delete "
        f"{lock} only if no such run exists)"
    )


def _acquire(checkpoint, lock: Path) -> int:
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise _refuse(checkpoint, lock, os.pread(fd, 256, 0).decode(
                        "utf-8", "replace")) from None
            else:
                pid, host = _owner(os.pread(fd, 256, 0).decode("utf-8", "replace"))
                if pid is not None and pid != os.getpid() and (
                        host != socket.gethostname() or _alive(pid)):
                    raise _refuse(checkpoint, lock, f"{pid} {host}")
            try:  # the lock file may have been removed (released) since it was opened
                same = os.stat(lock).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
            return fd
        except BaseException:
            os.close(fd)
            raise


@contextmanager
def checkpoint_lock(checkpoint: str | os.PathLike) -> Iterator[Path]:
    """Hold the lock of ``checkpoint`` for the block; raises ``CheckpointLockedError`` when
    another live run holds it. Yields the lock file's path."""
    lock = lock_path(checkpoint)
    key = os.fspath(lock)
    if key in _held:
        _held[key][1] += 1
    else:
        _held[key] = [_acquire(checkpoint, lock), 1]
    try:
        yield lock
    finally:
        _held[key][1] -= 1
        if _held[key][1] == 0:
            fd, _ = _held.pop(key)
            try:
                os.unlink(lock)  # while still flock-ed: no one can take it half-removed
            except FileNotFoundError:
                pass
            os.close(fd)
