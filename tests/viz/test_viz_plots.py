"""Plots: gradient norm per timestep (log scale) and training curves are written."""

import pytest

pytest.importorskip("matplotlib")

from autograd_rnn.viz import plot_gradient_norms, plot_training_curves, vanishing_curves  # noqa: E402


def test_gradient_norm_plot_png_and_reproducible_svg(tmp_path):
    curves = vanishing_curves(steps=10, hidden_size=4)
    assert set(curves) == {"rnn", "lstm (forget bias 1)", "gru"}
    png = plot_gradient_norms(curves, tmp_path / "g.png")
    assert png.read_bytes().startswith(b"\x89PNG")
    a = plot_gradient_norms(curves, tmp_path / "a.svg").read_bytes()
    b = plot_gradient_norms(curves, tmp_path / "b.svg").read_bytes()
    assert a == b and b"<svg" in a
    with pytest.raises(FileExistsError):
        plot_gradient_norms(curves, png)


@pytest.mark.parametrize("history", [
    [3.0, 2.0, 1.5, 1.2],
    [{"step": i, "loss": 1.0 / (i + 1), "val_loss": 1.5 / (i + 1)} for i in range(5)],
    {"loss": [1.0, 0.5], "grad_norm": [2.0, 1.0]},
])
def test_training_curves(tmp_path, history):
    path = plot_training_curves(history, tmp_path / "train.svg", log_y=True)
    assert b"<svg" in path.read_bytes()


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        plot_training_curves([], tmp_path / "x.png")
    with pytest.raises(ValueError, match="format"):
        plot_gradient_norms({"rnn": [1.0]}, tmp_path / "x.bmp")
    with pytest.raises(ValueError, match="empty"):
        plot_gradient_norms({}, tmp_path / "x.png")
