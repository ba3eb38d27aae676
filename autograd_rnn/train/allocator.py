"""``keep_freed_memory()``: let the C allocator keep freed memory for the next step (glibc).

A training step allocates its graph's arrays and frees them all after backward. With
glibc's defaults the freed top of the heap goes back to the OS after every step and blocks
of 128 KiB or more come from fresh ``mmap`` calls, so the next step page-faults the same
memory in again. On the benchmark's small and large rows that is a noticeable share of a
step (figures in ``bench/README.md``). PyTorch's CPU tuning guide gives
the same advice (swap in jemalloc/tcmalloc); this is the glibc-only, no-install version.

It changes the whole process (every later allocation, not only this library's) and cannot
be undone, so nothing calls it for you: call it once at the start of a training script, or
pass ``autograd-rnn train --keep-freed-memory``.
"""

from __future__ import annotations

import ctypes
import ctypes.util

# glibc mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3

MMAP_THRESHOLD = 32 << 20  # blocks up to 32 MiB come from the heap (glibc's maximum)
TRIM_THRESHOLD = 1 << 30  # keep up to 1 GiB of freed heap top
TOP_PAD = 64 << 20  # grow the heap in 64 MiB steps


def keep_freed_memory() -> str:
    """Tell glibc to keep freed memory in the process (``mallopt``): blocks up to 32 MiB
    from the heap, no trimming of the heap top below 1 GiB, 64 MiB growth steps.

    Returns what was set, or why nothing was (another C library, e.g. musl or macOS:
    harmless, the defaults stay). Safe to call more than once.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return "default allocator (no glibc mallopt here)"
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = (mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
          and mallopt(M_TOP_PAD, TOP_PAD))
    if not ok:
        return "default allocator (glibc mallopt refused the settings)"
    return "glibc keeps freed memory: mmap threshold 32 MB, trim threshold 1 GB, top pad 64 MB"


def heap_free_bytes() -> int | None:
    """Bytes of freed memory glibc holds in its main heap (``mallinfo2().fordblks``), or
    None without glibc >= 2.33. Lets tests and users see the setting's effect."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallinfo2 = libc.mallinfo2
    except (OSError, AttributeError):
        return None

    class _Mallinfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]

    mallinfo2.restype = _Mallinfo2
    return int(mallinfo2().fordblks)
