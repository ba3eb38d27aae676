"""Safe file output shared by every writer (checkpoints, DOT/SVG/HTML, JSON, source code).

A file is only ever replaced by a complete new one: content goes to a temporary file in the
same folder, is flushed to disk, then renamed over the target (``os.replace`` is atomic on
POSIX). An existing file is never replaced unless the caller says ``overwrite=True``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class FileExistsRefusal(FileExistsError):
    """The target exists and the caller did not allow overwriting it."""


def check_writable(path: str | os.PathLike, overwrite: bool) -> Path:
    """Return ``path`` as a Path after checking it may be written.

    Raises ``FileExistsRefusal`` if it exists and ``overwrite`` is False, and
    ``FileNotFoundError`` if its folder does not exist.
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a directory, expected a file path")
    if target.exists() and not overwrite:
        raise FileExistsRefusal(
            f"{target} already exists; pass overwrite=True (CLI: --overwrite) to replace it"
        )
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {folder} does not exist (for {target})")
    return target


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike, data: bytes, overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically; see the module docstring."""
    target = check_writable(path, overwrite)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(temporary, _default_mode())  # mkstemp makes 0600; use the umask like open()
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return target


def atomic_write_text(path: str | os.PathLike, text: str, overwrite: bool = True) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite=overwrite)
