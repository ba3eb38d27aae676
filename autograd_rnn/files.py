"""The one writer every output goes through (checkpoints, DOT/SVG/HTML, JSON, source code).

Rules (the README's "Files" section says the same):

- A file is only ever replaced by a complete new one: content goes to a hidden temporary file
  in the same folder, is flushed to disk, then renamed over the target (``os.replace`` is
  atomic on POSIX). A crash or a full disk leaves the old file whole and no temporary behind.
- An existing file is never replaced unless the caller says ``overwrite=True`` (CLI:
  ``--overwrite``); without it, a file that appears while writing is not clobbered either.
- The target must be a regular file or not exist yet: a directory, device, FIFO or socket is
  refused before anything is written (``NotARegularFileError``, ``IsADirectoryError``).
- A symbolic link is followed: the file it points to is replaced atomically and the link
  stays a link (a dangling link creates its target). The link itself is never replaced.
- The folder must exist: a missing folder is refused (``MissingFolderError``), never created
  (commands whose option *is* a folder, ``demo --out`` and ``gallery --out``, create it).
- Every error names the path the caller gave, never the temporary file.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path


class FileExistsRefusal(FileExistsError):
    """The target exists and the caller did not allow overwriting it."""


class NotARegularFileError(OSError):
    """The target exists but is a device, FIFO or socket, which a write would destroy."""


class MissingFolderError(FileNotFoundError):
    """The folder of the target does not exist (folders are never created implicitly)."""


class FolderNotWritableError(PermissionError):
    """The folder of the target cannot be written (permissions, read-only file system)."""


class WriteFailedError(OSError):
    """Writing failed half-way (e.g. a full disk); the previous file, if any, is intact.

    The message names the caller's path; ``errno`` is the underlying error's."""


_KINDS = ((stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
          (stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISSOCK, "socket"))


def file_kind(mode: int) -> str:
    """'character device', 'FIFO (named pipe)', ... for an ``st_mode`` of a special file."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "special file"


def resolve_target(path: str | os.PathLike) -> Path:
    """The file a write to ``path`` replaces: ``path`` itself, or the end of its chain of
    symbolic links. Raises ``NotARegularFileError`` for a symlink loop."""
    target = Path(path)
    if not target.is_symlink():
        return target
    resolved = Path(os.path.realpath(target))
    try:
        os.stat(resolved)
    except FileNotFoundError:
        pass  # a dangling link: its target is created
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise NotARegularFileError(f"{os.fspath(path)} is a symbolic link loop") from None
        raise
    return resolved


def check_writable(path: str | os.PathLike, overwrite: bool) -> Path:
    """Check that ``path`` may be written now; returns it as a Path (not resolved).

    Raises ``IsADirectoryError`` / ``NotARegularFileError`` when it exists and is not a
    regular file, ``FileExistsRefusal`` when it exists and ``overwrite`` is False,
    ``MissingFolderError`` when its folder does not exist and ``FolderNotWritableError``
    when the folder cannot be written. Every message names ``path``.
    """
    given = Path(path)
    target = resolve_target(given)
    via = f" (a link to {target})" if target != given else ""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{given}{via} is a directory, expected a file path")
    if mode is not None and not stat.S_ISREG(mode):
        raise NotARegularFileError(f"{given}{via} is a {file_kind(mode)}, not a regular file; "
                                   "refusing to replace it (give the path of a file)")
    if mode is not None and not overwrite:
        raise FileExistsRefusal(
            f"{given} already exists; pass --overwrite (overwrite=True in Python) to replace it"
        )
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise MissingFolderError(f"folder {folder} does not exist (for {given}); create it "
                                 "first: files are never written into new folders")
    if not os.access(folder, os.W_OK):
        reason = "read-only file system" if _read_only(folder) else "permission denied"
        raise FolderNotWritableError(f"cannot write {given}: folder {folder} is not writable "
                                     f"({reason})")
    return given


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _default_mode() -> int:
    umask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(umask)
    return 0o666 & ~umask


def _failed(given: Path, error: OSError) -> WriteFailedError:
    failure = WriteFailedError(f"cannot write {given}: {error.strerror or error}")
    failure.errno = error.errno
    return failure


def atomic_write_bytes(path: str | os.PathLike, data: bytes, overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` by the rules of the module docstring; returns ``path``.

    Raises the refusals of ``check_writable`` before writing anything, and
    ``WriteFailedError`` (naming ``path``) when the disk fails while writing.
    """
    given = check_writable(path, overwrite)
    target = resolve_target(given)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=target.parent)
    except OSError as error:
        raise _failed(given, error) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.chmod(temporary, _default_mode())  # mkstemp makes 0600; use the umask
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        check_writable(given, overwrite)  # still a regular file (or absent) right now
        _move_into_place(temporary, target, overwrite, given)
    except BaseException as error:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        refusal = isinstance(error, (FileExistsError, NotARegularFileError, IsADirectoryError,
                                     MissingFolderError, FolderNotWritableError))
        if isinstance(error, OSError) and not refusal:
            raise _failed(given, error) from None
        raise
    return given


def _move_into_place(temporary: str, target: Path, overwrite: bool, given: Path) -> None:
    """Rename the finished temporary over ``target``; without ``overwrite`` a hard link
    makes the step fail, rather than clobber, if a file appeared at ``target`` meanwhile."""
    if overwrite:
        os.replace(temporary, target)
        return
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise FileExistsRefusal(f"{given} appeared while it was being written; it was left "
                                "as it is (pass --overwrite to replace it)") from None
    except OSError:  # no hard links on this file system: rename (checked just before)
        os.replace(temporary, target)
    else:
        os.unlink(temporary)


def atomic_write_text(path: str | os.PathLike, text: str, overwrite: bool = True) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see ``atomic_write_bytes``)."""
    return atomic_write_bytes(path, text.encode("utf-8"), overwrite=overwrite)
