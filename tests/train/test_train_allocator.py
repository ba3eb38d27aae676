"""``ar.train.keep_freed_memory``: glibc keeps freed memory in the process afterwards.

Each check runs in a fresh interpreter: the setting is process-wide and permanent.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from autograd_rnn.train.allocator import heap_free_bytes

MB = 1 << 20

pytestmark = pytest.mark.skipif(heap_free_bytes() is None, reason="needs glibc >= 2.33")

_PROBE = """
import numpy as np
from autograd_rnn.train.allocator import heap_free_bytes, keep_freed_memory
big = np.ones(16 << 17); del big      # 16 MiB: glibc's own threshold adapts to it
if {keep}:
    print(keep_freed_memory())
block = np.ones(24 << 17); del block  # 24 MiB, freed
print(heap_free_bytes())
"""


def _free_after_probe(keep: bool) -> tuple[str, int]:
    done = subprocess.run([sys.executable, "-c", _PROBE.format(keep=keep)], check=True,
                          capture_output=True, text=True, timeout=120)
    *messages, free = done.stdout.strip().splitlines()
    return "\n".join(messages), int(free)


def test_freed_block_stays_in_the_process_only_after_keep_freed_memory():
    _, free_default = _free_after_probe(keep=False)
    message, free_kept = _free_after_probe(keep=True)
    assert "glibc keeps freed memory" in message
    assert free_default < 24 * MB  # by default the 24 MiB block went back to the OS
    assert free_kept >= 24 * MB  # now it is kept for the next allocation


def test_cli_train_flag_reports_the_allocator(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "autograd_rnn", "train", "--steps", "2", "--seq-len", "5",
         "--hidden", "4", "--batch", "2", "--quiet", "--keep-freed-memory"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "allocator: glibc keeps freed memory" in done.stdout and "step 2" in done.stdout
