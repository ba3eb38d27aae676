"""Damaged and foreign checkpoints: each is refused with one error naming the file and what
is wrong, through the Python API and through the CLI (exit 2, one line, no traceback).
Pickled objects inside a checkpoint are never loaded (``allow_pickle=False``)."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_rnn.cli.main import main
from autograd_rnn.train import CheckpointError, TrainConfig, Trainer, load_trained

SMALL = dict(task="sine", cell="rnn", seq_len=4, hidden=3, batch=2)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "good.npz"
    Trainer(TrainConfig(**SMALL)).run(2, checkpoint=path, progress=False)
    return path


def _arrays(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _one_line_usage_error(capsys, argv, *fragments):
    assert main(argv) == 2
    out = capsys.readouterr()
    assert out.err.count("\n") == 1 and "Traceback" not in out.err, out.err
    for fragment in fragments:
        assert fragment in out.err, out.err
    return out.err


def test_truncated_checkpoint(tmp_path, good):
    path = tmp_path / "cut.npz"
    raw = good.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="cut.npz.*not a readable .npz checkpoint"):
        load_trained(path)


def test_corrupted_bytes_fail_the_checksum(tmp_path, good):
    raw = bytearray(good.read_bytes())
    for i in range(200, 260):
        raw[i] ^= 0xFF
    path = tmp_path / "flipped.npz"
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="flipped.npz.*not a readable"):
        load_trained(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.npz"
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty.npz.*not a readable"):
        load_trained(path)


def test_npz_that_is_not_ours(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(CheckpointError, match="not an autograd-rnn checkpoint.*meta/format"):
        load_trained(path)


def test_pickled_object_inside_is_refused_not_loaded(tmp_path, good, monkeypatch):
    import pickle

    calls = []
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: calls.append(a) or {})
    monkeypatch.setattr(pickle, "load", lambda *a, **k: calls.append(a) or {})
    arrays = _arrays(good)
    arrays["param/W_y"] = np.array([{"payload": "code"}], dtype=object)
    path = tmp_path / "pickled.npz"
    np.savez(path, **arrays)
    with pytest.raises(
        CheckpointError, match="Object arrays cannot be loaded when allow_pickle=False"
    ):
        load_trained(path)
    with pytest.raises(CheckpointError, match="allow_pickle=False"):
        Trainer.from_checkpoint(path)
    assert calls == []


def test_checkpoint_of_a_wider_model_names_key_and_both_shapes(tmp_path, good):
    arrays = _arrays(good)
    wide = Trainer(TrainConfig(**{**SMALL, "hidden": 5})).model.state_dict()
    arrays.update({f"param/{k}": v for k, v in wide.items()})
    path = tmp_path / "wide.npz"
    np.savez(path, **arrays)
    with pytest.raises(
        CheckpointError,
        match=r"parameter 'rnn\.cells\.0\.W_x' has shape \(1, 5\) in the file "
        r"but \(1, 3\) in the model",
    ):
        load_trained(path)


def test_checkpoint_of_another_cell_names_the_missing_parameter(tmp_path, good):
    arrays = {k: v for k, v in _arrays(good).items() if not k.startswith("param/")}
    gru = Trainer(TrainConfig(**{**SMALL, "cell": "gru"})).model.state_dict()
    arrays.update({f"param/{k}": v for k, v in gru.items()})
    path = tmp_path / "gru.npz"
    np.savez(path, **arrays)
    with pytest.raises(
        CheckpointError,
        match=r"does not fit this model: (it has no parameter "
        r"'rnn\.cells\.0\.b_h'|parameter .* has shape)",
    ):
        load_trained(path)


def test_resume_with_another_architecture_names_the_setting(good):
    with pytest.raises(CheckpointError, match="trained with hidden=3, not 8"):
        Trainer.from_checkpoint(good, hidden=8)


def test_optimizer_state_of_wrong_shape_names_the_slot(tmp_path, good):
    arrays = _arrays(good)
    arrays["optim/v.0"] = np.zeros((7, 7))
    path = tmp_path / "optim.npz"
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match=r"'v\.0' has shape \(7, 7\)"):
        Trainer.from_checkpoint(path)


def test_cli_sample_truncated_checkpoint(tmp_path, capsys, good):
    path = tmp_path / "cut.npz"
    path.write_bytes(good.read_bytes()[:100])
    _one_line_usage_error(
        capsys, ["sample", "--checkpoint", str(path)], "cut.npz", "not a readable"
    )


def test_cli_sample_pickled_checkpoint(tmp_path, capsys, good):
    arrays = _arrays(good)
    arrays["meta/config"] = np.array({"task": "sine"}, dtype=object)
    path = tmp_path / "pickled.npz"
    np.savez(path, **arrays)
    _one_line_usage_error(capsys, ["sample", "--checkpoint", str(path)], "allow_pickle=False")


def test_cli_resume_other_architecture(tmp_path, capsys, good):
    _one_line_usage_error(
        capsys,
        [
            "train",
            "--resume",
            "--checkpoint",
            str(good),
            "--cell",
            "lstm",
            "--steps",
            "5",
            "--quiet",
        ],
        "trained with cell='rnn', not 'lstm'",
    )


def test_cli_resume_checkpoint_with_wrong_parameter_shapes(tmp_path, capsys, good):
    arrays = _arrays(good)
    arrays["param/W_y"] = np.zeros((9, 1))
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    _one_line_usage_error(
        capsys,
        ["train", "--resume", "--checkpoint", str(path), "--steps", "5", "--quiet"],
        "'W_y' has shape (9, 1) in the file but (3, 1) in the model",
    )
