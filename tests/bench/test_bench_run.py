"""bench.run end to end on a tiny configuration (no timing assertions), and its gradient gate.

The benchmark must (a) refuse to time an engine whose gradients differ from the hand-written
BPTT, (b) run on a micro row and write results.json / results.md with a passed gradient
check, engine and hand-written timings and memory, and (c) work without PyTorch.
"""
import json

import numpy as np
import pytest

from bench import engine_models as em
from bench import handwritten as hw
from bench import run

MICRO = run.ROWS["micro"]
TIGHT = 1e-10  # engine vs hand-written: same sums, different order


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
@pytest.mark.parametrize("record", [False, True])
def test_engine_models_match_handwritten(kind, record):
    params, x, targets = run.problem(kind, (6, 3, 4, 5, 7))
    ref_loss, ref = run.REFERENCE[kind][1](params, x, targets)
    loss, grads = em.engine_step(kind, params, x, targets, record_gradients=record)
    assert loss == pytest.approx(ref_loss, rel=TIGHT)
    assert set(grads) == set(ref)
    assert run.max_rel_error(grads, ref) < TIGHT


def test_engine_models_record_graph_with_scopes_and_names():
    params, x, targets = run.problem("lstm", (3, 2, 4, 5, 6))
    loss, leaves = em.build_loss("lstm", params, x, targets)
    nodes = em.ar.reachable([loss])
    scopes = {n.scope for n in nodes}
    assert {"lstm/layer0/t=1", "lstm/layer0/t=3", "output"} <= scopes
    names = {n.name for n in nodes if n.name}
    assert {"h_1", "h_3", "c_2", "W_x", "b_y"} <= names


def test_max_rel_error_catches_a_wrong_gradient():
    params = hw.rnn_params(3, 4, 5)
    good = {k: v.copy() for k, v in params.items()}
    bad = {k: v.copy() for k, v in params.items()}
    bad["W_h"][0, 0] += 1e-3
    assert run.max_rel_error(good, params) == 0.0
    assert run.max_rel_error(bad, params) > run.GRAD_RTOL
    assert run.max_rel_error({}, params) == 1.0


def test_wrong_engine_aborts_before_timing(monkeypatch, tmp_path, capsys):
    real_step = em.step

    def wrong_step(*args, **kwargs):
        loss, grads = real_step(*args, **kwargs)
        return loss, {k: g * 1.001 for k, g in grads.items()}

    monkeypatch.setattr(em, "step", wrong_step)
    out = tmp_path / "results.json"
    code = run.main(["--rows", "micro", "--kinds", "rnn", "--repeats", "1", "--graph-nodes",
                     "20", "--no-torch", "--no-compile", "--in-process", "--out", str(out)])
    assert code == 1
    assert "gradients differ" in capsys.readouterr().err
    assert not out.exists()


_SABOTAGE = """
import bench.engine_models as em
_real = em.step
def _wrong(*args, **kwargs):
    loss, grads = _real(*args, **kwargs)
    return loss, {k: g * 1.001 for k, g in grads.items()}
em.step = _wrong
"""


def test_wrong_engine_in_a_row_process_aborts_the_run(monkeypatch, tmp_path, capsys):
    """Rows run in their own processes by default: a child's failed gate stops the run."""
    (tmp_path / "sitecustomize.py").write_text(_SABOTAGE)  # runs first in every child
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    out = tmp_path / "results.json"
    code = run.main(["--rows", "micro", "--kinds", "rnn", "--repeats", "1", "--graph-nodes",
                     "20", "--no-torch", "--no-compile", "--out", str(out)])
    assert code == 1
    assert "gradients differ" in capsys.readouterr().err
    assert not out.exists()


def test_benchmark_runs_on_a_micro_row_and_writes_results(tmp_path, capsys):
    out = tmp_path / "results.json"
    code = run.main(["--rows", "micro", "--repeats", "1", "--graph-nodes", "60",
                     "--out", str(out)])
    assert code == 0
    results = json.loads(out.read_text())
    assert [(r["kind"], r["row"]) for r in results["rows"]] == [("rnn", "micro"),
                                                               ("lstm", "micro")]
    for row in results["rows"]:
        assert row["grad_check"] == "passed"
        assert row["grad_max_rel_error"]["engine"] < run.GRAD_RTOL
        assert row["grad_max_rel_error"]["engine_record"] < run.GRAD_RTOL
        for key in ("engine", "engine_record", "handwritten"):
            assert row["times"][key]["median_s"] > 0
            assert row["peak_bytes"][key] > 0
        assert row["graph"]["nodes"] > 4 * MICRO[0]
    assert results["export"]["nodes"] >= 60
    assert any(v["target"].startswith("DOT export") for v in results["targets"])
    markdown = (tmp_path / "results.md").read_text()
    assert "| rnn | micro (4, 2, 3, 5, 4) |" in markdown
    assert "### Targets" in capsys.readouterr().out
    assert results["protocol"] == "each row in its own process"


def test_in_process_protocol_gives_the_same_structure(tmp_path):
    out = tmp_path / "results.json"
    code = run.main(["--rows", "micro", "--kinds", "lstm", "--repeats", "1", "--graph-nodes",
                     "20", "--no-torch", "--in-process", "--out", str(out)])
    assert code == 0
    results = json.loads(out.read_text())
    assert results["protocol"] == "one process"
    assert results["rows"][0]["grad_check"] == "passed"
    assert results["rows"][0]["times"]["engine"]["median_s"] > 0


def test_benchmark_without_torch_says_so(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(run.tr, "torch_available", lambda: False)
    results = run.run_benchmark(["micro"], kinds=["rnn"], repeats=1, use_compile=False,
                                graph_nodes=20, out=None, log=lambda *_: None)
    assert results["torch"].startswith("not installed")
    row = results["rows"][0]
    assert "torch_primitive" not in row["times"] and "torch_fused" not in row["times"]
    assert np.isfinite(row["times"]["engine"]["median_s"])


def test_cli_rejects_unknown_rows(capsys):
    with pytest.raises(SystemExit) as info:
        run.main(["--rows", "huge"])
    assert info.value.code == 2
    assert "huge" in capsys.readouterr().err
