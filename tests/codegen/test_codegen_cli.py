"""The ``codegen`` command and the checked-in generated 2-step RNN (graphs/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autograd_rnn.cli.main import main
from autograd_rnn.codegen.cli_source import model_source
from autograd_rnn.codegen.models import PARAMS, example_inputs, make_loss

GOLDEN = Path(__file__).resolve().parents[2] / "graphs" / "rnn_bptt_2steps.py"
REGENERATE = "autograd-rnn codegen --cell rnn --steps 2 -o graphs/rnn_bptt_2steps.py --overwrite"


def test_checked_in_two_step_rnn_source_is_current():
    assert GOLDEN.read_text() == model_source("rnn", 2, 4, 3, 2), (
        f"graphs/rnn_bptt_2steps.py is stale: regenerate with `{REGENERATE}`")


def test_checked_in_source_computes_the_engine_gradients():
    namespace: dict = {}
    exec(GOLDEN.read_text(), namespace)
    inputs = example_inputs("rnn", 2, 3, 4, 2, seed=5)
    arrays = [x.data if hasattr(x, "data") else x for x in inputs]
    value, grads = namespace["forward_backward"](*arrays)
    loss = make_loss("rnn")(*inputs)
    loss.backward()
    np.testing.assert_allclose(value, loss.data, atol=1e-12)
    for g, x in zip(grads, inputs[2:], strict=True):
        np.testing.assert_allclose(g, x.grad, atol=1e-12)
    assert [x.name for x in inputs[2:]] == list(PARAMS["rnn"])


def test_cli_writes_refuses_to_overwrite_and_overwrites(tmp_path, capsys):
    out = tmp_path / "lstm_bptt.py"
    assert main(["codegen", "--cell", "lstm", "--steps", "3", "-o", str(out)]) == 0
    text = out.read_text()
    assert "# --- lstm/layer0/t=3 ---" in text and "def forward_backward(" in text
    compile(text, str(out), "exec")
    assert main(["codegen", "--cell", "gru", "--steps", "3", "-o", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err and out.read_text() == text
    assert main(["codegen", "--cell", "gru", "--steps", "8", "--hidden", "5", "-o", str(out),
                 "--overwrite"]) == 0
    assert "for t in range(1, 9):" in out.read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".codegen-")]


def test_cli_rejects_bad_sizes(tmp_path, capsys):
    assert main(["codegen", "--steps", "0", "-o", str(tmp_path / "x.py")]) == 2
    assert "--steps must be >= 1" in capsys.readouterr().err
    assert main(["codegen", "-o", str(tmp_path)]) == 2
