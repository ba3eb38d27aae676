"""Limits before work: compare a run's estimated memory with what the machine has, and refuse
up front, with the numbers, when it cannot fit.

Commands build an ``Estimate`` from their arguments (``autograd_rnn.nn.footprint`` has the
sizes of an unrolled recurrent network) and call ``require_memory``; ``--force`` skips the
refusal. The memory available is the smallest of: MemAvailable in /proc/meminfo (or
MemFree + Buffers + Cached on kernels without it), the cgroup's memory limit minus its
usage (containers), and the address-space limit (``ulimit -v``) minus what this process
already maps; on systems without /proc, the physical memory size. When nothing can be read
the check is skipped (``available_memory()`` returns None).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

try:
    import resource
except ImportError:  # not on Windows
    resource = None

UNLIMITED = 1 << 60  # cgroup/rlimit values at or above this mean "no limit"


class MemoryLimitError(ValueError):
    """The estimated memory of a run exceeds the memory available (CLI exit code 2)."""


@dataclass
class Estimate:
    """Bytes a run needs, by part: ``parts[label] = (bytes, options that drive it)``."""

    what: str
    parts: dict[str, tuple[int, str]] = field(default_factory=dict)

    def add(self, label: str, nbytes: float, options: str = "") -> Estimate:
        self.parts[label] = (int(nbytes), options)
        return self

    @property
    def total(self) -> int:
        return sum(nbytes for nbytes, _ in self.parts.values())

    def largest(self) -> tuple[str, int, str]:
        label = max(self.parts, key=lambda k: self.parts[k][0])
        return label, *self.parts[label]

    def describe(self) -> str:
        """'81.2 GiB (parameters 74.5 GiB, graph of one sequence 6.7 GiB, ...)'."""
        shown = [f"{label} {human(n)}" for label, (n, _) in
                 sorted(self.parts.items(), key=lambda kv: -kv[1][0])
                 if n >= 0.01 * self.total]
        return f"{human(self.total)} ({', '.join(shown)})"


def human(nbytes: float) -> str:
    """Bytes in binary units: '512 B', '3.2 MiB', '74.5 GiB', '6.9 EiB'."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} EiB" if value < 1e6 else f"{nbytes:.2e} B"


def _meminfo(path: str = "/proc/meminfo") -> tuple[int, str] | None:
    try:
        fields = {}
        for line in Path(path).read_text().splitlines():
            name, _, rest = line.partition(":")
            fields[name] = int(rest.split()[0]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        return None
    if "MemAvailable" in fields:
        return fields["MemAvailable"], "MemAvailable in /proc/meminfo"
    parts = ("MemFree", "Buffers", "Cached")
    if all(p in fields for p in parts):
        return sum(fields[p] for p in parts), "MemFree + Buffers + Cached in /proc/meminfo"
    return None


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup(root: str = "/sys/fs/cgroup") -> tuple[int, str] | None:
    base = Path(root)
    for limit_file, usage_file in (("memory.max", "memory.current"),  # cgroup v2
                                   ("memory/memory.limit_in_bytes",
                                    "memory/memory.usage_in_bytes")):  # cgroup v1
        limit, usage = _read_int(base / limit_file), _read_int(base / usage_file)
        if limit is not None and limit < UNLIMITED and usage is not None:
            return max(limit - usage, 0), f"the cgroup's memory limit ({base / limit_file})"
    return None


def _address_space() -> tuple[int, str] | None:
    if resource is None:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft >= UNLIMITED:
        return None
    mapped = 0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                mapped = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return max(soft - mapped, 0), "the address-space limit (ulimit -v)"


def _physical() -> tuple[int, str] | None:
    try:
        return (os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"),
                "the physical memory size")
    except (ValueError, OSError, AttributeError):
        return None


def available_memory() -> tuple[int, str] | None:
    """(bytes available to this process, where that number comes from), or None."""
    found = [m for m in (_meminfo(), _cgroup(), _address_space()) if m is not None]
    if not found:
        physical = _physical()
        return physical
    return min(found, key=lambda m: m[0])


def require_memory(estimate: Estimate, *, force: bool = False,
                   available: tuple[int, str] | None = None) -> None:
    """Raise ``MemoryLimitError`` when ``estimate.total`` exceeds the memory available
    (``available_memory()`` unless given), unless ``force``. The message gives the estimate
    by part, the memory available and its source, and the options to reduce."""
    if force:
        return
    available = available_memory() if available is None else available
    if available is None or estimate.total <= available[0]:
        return
    _, _, options = estimate.largest()
    reduce = f"use a smaller {options}, or " if options else ""
    raise MemoryLimitError(
        f"{estimate.what} would need about {estimate.describe()} of memory, but "
        f"{human(available[0])} is available ({available[1]}): {reduce}pass --force to try "
        "anyway"
    )
