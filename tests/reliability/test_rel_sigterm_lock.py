"""SIGTERM (what a scheduler or ``timeout`` sends) is handled like Ctrl-C: the last completed
step is saved, "terminated at step N" is printed, exit 130, and the run resumes exactly. While
a run writes a checkpoint, ``<checkpoint>.lock`` (holding its pid) keeps a second run off the
file; a lock left by a killed run is stale and taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from autograd_rnn.cli.main import main
from autograd_rnn.interrupts import Terminated, terminate_as_interrupt
from autograd_rnn.train import TrainConfig, Trainer
from autograd_rnn.train.lock import CheckpointLockedError, checkpoint_lock, lock_path

SMALL = ["--seq-len", "4", "--hidden", "3", "--batch", "2", "--quiet"]
STARTUP_TIMEOUT = 60.0  # seconds for a child run to write its lock (a loaded CI machine)


def _start_long_run(checkpoint: Path, *extra: str) -> subprocess.Popen:
    """A training run in a child process that goes on until stopped; returns once it holds
    its checkpoint's lock (so it has started training)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "autograd_rnn", "train", "--steps", "10000000", *SMALL,
         "--checkpoint", str(checkpoint), "--checkpoint-every", "1000000", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not lock_path(checkpoint).exists():
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            pytest.fail(f"the child run did not start: {child.communicate()}")
        time.sleep(0.05)
    time.sleep(0.5)  # a few steps
    return child


def _step(checkpoint: Path) -> int:
    with np.load(checkpoint, allow_pickle=False) as data:
        return int(data["meta/step"])


def test_sigterm_saves_the_last_step_and_resumes(tmp_path, capsys):
    checkpoint = tmp_path / "run.npz"
    child = _start_long_run(checkpoint)
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=STARTUP_TIMEOUT)
    assert child.returncode == 130, (out, err)
    step = _step(checkpoint)
    assert step >= 1
    assert f"terminated (SIGTERM) at step {step}; checkpoint {checkpoint}" in out, out
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]  # no lock, no temporary
    assert main(["train", "--resume", "--checkpoint", str(checkpoint), "--steps",
                 str(step + 2), "--quiet"]) == 0
    assert _step(checkpoint) == step + 2


def test_a_second_run_on_a_locked_checkpoint_is_refused_until_the_lock_is_stale(tmp_path,
                                                                                capsys):
    checkpoint = tmp_path / "run.npz"
    child = _start_long_run(checkpoint, "--checkpoint-every", "1")  # the file exists too
    try:
        argv = ["train", "--steps", "2", *SMALL, "--overwrite", "--checkpoint", str(checkpoint)]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert f"being written by another run (process {child.pid}" in err, err
        resume = ["train", "--resume", "--steps", "99999999", "--quiet", "--checkpoint",
                  str(checkpoint)]
        assert main(resume) == 2
        assert f"(process {child.pid}" in capsys.readouterr().err
    finally:
        child.kill()  # SIGKILL: no cleanup, the lock file stays behind
        child.communicate(timeout=STARTUP_TIMEOUT)
    assert lock_path(checkpoint).exists()
    assert main(argv) == 0, capsys.readouterr().err  # stale: taken over
    assert not lock_path(checkpoint).exists()


def test_trainer_save_respects_another_process_lock(tmp_path):
    checkpoint = tmp_path / "run.npz"
    child = _start_long_run(checkpoint)
    try:
        trainer = Trainer(TrainConfig(seq_len=4, hidden=3, batch=2))
        with pytest.raises(CheckpointLockedError, match=f"process {child.pid}"):
            trainer.save(checkpoint, overwrite=True)
    finally:
        child.kill()
        child.communicate(timeout=STARTUP_TIMEOUT)


def test_lock_is_reentrant_and_removed_afterwards(tmp_path):
    checkpoint = tmp_path / "c.npz"
    with checkpoint_lock(checkpoint) as lock:
        assert lock.read_text().split()[0] == str(os.getpid())
        with checkpoint_lock(checkpoint):
            pass
        assert lock.exists()
    assert not lock.exists()
    trainer = Trainer(TrainConfig(seq_len=4, hidden=3, batch=2))
    trainer.run(2, checkpoint=checkpoint, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz"]


def test_a_symlinked_checkpoint_shares_its_targets_lock(tmp_path):
    (tmp_path / "link.npz").symlink_to("real.npz")
    assert lock_path(tmp_path / "link.npz") == lock_path(tmp_path / "real.npz")


def test_sigterm_raises_terminated_once_inside_the_block():
    with pytest.raises(Terminated):
        with terminate_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler raises here
    seen = []
    with terminate_as_interrupt():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        except Terminated:
            os.kill(os.getpid(), signal.SIGTERM)  # a second one during cleanup: ignored
            time.sleep(0.1)
            seen.append("cleaned up")
    assert seen == ["cleaned up"]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_every_command_reports_sigterm_with_exit_130(tmp_path, capsys, monkeypatch):
    def terminated(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)

    monkeypatch.setattr("autograd_rnn.codegen.cli_source.model_source", terminated)
    assert main(["codegen", "-o", str(tmp_path / "m.py")]) == 130
    assert capsys.readouterr().err == "autograd-rnn codegen: terminated (SIGTERM)\n"
    assert list(tmp_path.iterdir()) == []
