"""Limits before work: every command that allocates by its arguments estimates its memory
first and refuses up front (exit 2, one line with the estimate, the memory available and the
option to reduce) unless --force; the estimates are checked against tracemalloc peaks; a
MemoryError that still happens is one line (exit 1), never a traceback."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from autograd_rnn import limits
from autograd_rnn.cli.main import main
from autograd_rnn.limits import Estimate, MemoryLimitError, human, require_memory
from autograd_rnn.nn.footprint import WORKING_BYTES, unrolled_estimate

GiB = 1 << 30
ERR_LOW, ERR_HIGH = 1.0, 3.0  # estimate / measured peak (plus the working memory)


@pytest.fixture
def machine_with_8_gib(monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: (8 * GiB, "a test machine"))


def _refused(capsys, argv, *fragments) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "would need about" in err and "8.0 GiB is available (a test machine)" in err, err
    assert "--force" in err
    for fragment in fragments:
        assert fragment in err, err
    return err


# ----- the cases, refused before any allocation ---------------------------------------
CASES = [
    (["train", "--hidden", "100000", "--steps", "1"], "use a smaller --hidden"),
    (["train", "--batch", "100000000", "--steps", "1"], "--batch"),
    (["train", "--seq-len", "10000000", "--steps", "1"], "use a smaller --seq-len"),
    (["train", "--layers", "1000000000", "--steps", "1"], "--layers"),
    (["train", "--steps", "100000000000"], "use a smaller --steps"),
    (["export", "--hidden", "100000", "-o", "{tmp}/e.svg"], "use a smaller --hidden"),
    (["export", "--steps", "100000000", "--format", "dot", "-o", "{tmp}/e.dot"], "--steps"),
    (["trace", "--steps", "10000000", "-o", "{tmp}/t.html"], "--steps"),
    (["trace", "--hidden", "1000000", "-o", "{tmp}/t.html"], "--hidden"),
    (["codegen", "--hidden", "1000000", "-o", "{tmp}/m.py"], "use a smaller --hidden"),
    (["codegen", "--steps", "100000000", "-o", "{tmp}/m.py"], "--steps"),
    (["gradcheck", "--input-size", "1000000000"], "parameters"),
    (["gradcheck", "--hidden", "1000000"], "--hidden"),
    (["demo", "--steps", "100000000000", "--out", "{tmp}/demo"], "--steps"),
]


@pytest.mark.parametrize("argv, fragment", CASES, ids=[" ".join(a[:3]) for a, _ in CASES])
def test_too_large_runs_are_refused_up_front(tmp_path, capsys, monkeypatch, machine_with_8_gib,
                                             argv, fragment):
    import autograd_rnn.nn.module as module

    def no_allocation(*args, **kwargs):
        raise AssertionError("a model was built before the limit was checked")

    monkeypatch.setattr(module.Module, "__init__", no_allocation)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    _refused(capsys, argv + (["--quiet"] if argv[0] in ("train", "demo") else []), fragment)
    assert list(tmp_path.iterdir()) == []


def test_sample_length_is_limited_too(tmp_path, capsys, machine_with_8_gib):
    checkpoint = tmp_path / "c.npz"
    assert main(["train", "--steps", "1", "--seq-len", "3", "--hidden", "2", "--quiet",
                 "--checkpoint", str(checkpoint)]) == 0
    capsys.readouterr()
    _refused(capsys, ["sample", "--checkpoint", str(checkpoint), "--length", str(10**12)],
             "--length")


def test_resume_with_a_huge_batch_is_refused(tmp_path, capsys, machine_with_8_gib):
    checkpoint = tmp_path / "c.npz"
    assert main(["train", "--steps", "1", "--seq-len", "3", "--hidden", "2", "--quiet",
                 "--checkpoint", str(checkpoint)]) == 0
    capsys.readouterr()
    _refused(capsys, ["train", "--resume", "--checkpoint", str(checkpoint), "--steps", "2",
                      "--batch", "100000000", "--quiet"], "--batch")


def test_force_starts_anyway(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: (1024, "a tiny test machine"))
    argv = ["codegen", "-o", str(tmp_path / "m.py")]
    assert main(argv) == 2 and "1.0 KiB is available" in capsys.readouterr().err
    assert main(argv + ["--force"]) == 0
    assert (tmp_path / "m.py").exists()


def test_no_refusal_when_the_memory_cannot_be_read(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: None)
    require_memory(Estimate("x").add("parameters", 10**30))  # no number to compare: runs


def test_the_message_names_the_parts_and_the_largest_parts_options():
    estimate = (Estimate("train").add("parameters", 74 * GiB, "--hidden")
                .add("graph of one sequence", 3 * GiB, "--seq-len"))
    with pytest.raises(MemoryLimitError) as caught:
        require_memory(estimate, available=(21 * GiB, "MemAvailable in /proc/meminfo"))
    assert str(caught.value) == (
        "train would need about 77.0 GiB (parameters 74.0 GiB, graph of one sequence 3.0 GiB) "
        "of memory, but 21.0 GiB is available (MemAvailable in /proc/meminfo): use a smaller "
        "--hidden, or pass --force to try anyway")
    require_memory(estimate, available=(80 * GiB, "test"))  # fits: no error
    require_memory(estimate, available=(1, "test"), force=True)


def test_human_units():
    assert [human(n) for n in (512, 3.2 * 2**20, 74.5 * GiB, 6.94 * 2**60)] == [
        "512 B", "3.2 MiB", "74.5 GiB", "6.9 EiB"]


# ----- where the number of available bytes comes from ----------------------------------------
def test_meminfo_available_and_its_fallback(tmp_path):
    info = tmp_path / "meminfo"
    info.write_text("MemTotal: 100 kB\nMemFree: 10 kB\nMemAvailable: 40 kB\nBuffers: 1 kB\n"
                    "Cached: 5 kB\n")
    assert limits._meminfo(str(info)) == (40 * 1024, "MemAvailable in /proc/meminfo")
    info.write_text("MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 1 kB\nCached: 5 kB\n")
    assert limits._meminfo(str(info)) == (16 * 1024,
                                          "MemFree + Buffers + Cached in /proc/meminfo")
    assert limits._meminfo(str(tmp_path / "missing")) is None


def test_cgroup_limits(tmp_path):
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "memory.current").write_text("100\n")
    assert limits._cgroup(str(tmp_path)) is None  # no limit
    (tmp_path / "memory.max").write_text("1000\n")
    assert limits._cgroup(str(tmp_path))[0] == 900
    v1 = tmp_path / "v1" / "memory"
    v1.mkdir(parents=True)
    (v1 / "memory.limit_in_bytes").write_text("5000\n")
    (v1 / "memory.usage_in_bytes").write_text("1000\n")
    assert limits._cgroup(str(tmp_path / "v1"))[0] == 4000


def test_available_memory_takes_the_smallest_source(monkeypatch):
    monkeypatch.setattr(limits, "_meminfo", lambda: (10 * GiB, "meminfo"))
    monkeypatch.setattr(limits, "_cgroup", lambda: (3 * GiB, "cgroup"))
    monkeypatch.setattr(limits, "_address_space", lambda: None)
    assert limits.available_memory() == (3 * GiB, "cgroup")
    monkeypatch.setattr(limits, "_cgroup", lambda: None)
    monkeypatch.setattr(limits, "_meminfo", lambda: None)
    monkeypatch.setattr(limits, "_physical", lambda: (64 * GiB, "the physical memory size"))
    assert limits.available_memory() == (64 * GiB, "the physical memory size")


def test_address_space_limit_is_read(monkeypatch):
    resource = pytest.importorskip("resource")
    monkeypatch.setattr(resource, "getrlimit", lambda which: (6 * GiB, resource.RLIM_INFINITY))
    available, source = limits._address_space()
    assert 0 < available < 6 * GiB and "ulimit -v" in source


# ----- a MemoryError that happens anyway ---------------------------------------------------------
def test_memory_error_is_one_line(tmp_path, capsys, monkeypatch):
    def allocate(*args, **kwargs):
        raise MemoryError("Unable to allocate 74.5 GiB for an array with shape (100000, 100000)")

    monkeypatch.setattr("autograd_rnn.codegen.cli_source.model_source", allocate)
    assert main(["codegen", "-o", str(tmp_path / "m.py")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "out of memory: Unable to allocate 74.5 GiB" in err


# ----- the estimates against measured peaks ---------------------------------------------------
def _peak(run) -> int:
    run()  # warm: imports and caches are not the run's memory
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    try:
        run()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _within(estimate: Estimate, peak: int) -> None:
    assert ERR_LOW * peak <= estimate.total <= ERR_HIGH * peak + WORKING_BYTES, (
        f"estimate {human(estimate.total)} vs measured {human(peak)}: {estimate.describe()}")


TRAINING = [("rnn", "sine", dict(seq_len=60, batch=16, hidden=32)),
            ("lstm", "chars", dict(seq_len=40, batch=8, hidden=32)),
            ("gru", "sine", dict(seq_len=4, batch=1, hidden=160, optimizer="sgd")),
            ("rnn", "chars", dict(seq_len=4, batch=1, hidden=160, optimizer="rmsprop")),
            ("lstm", "sine", dict(seq_len=30, batch=8, hidden=16, layers=2, k1=10, k2=15)),
            ("gru", "chars", dict(seq_len=30, batch=32, hidden=8))]


@pytest.mark.parametrize("cell, task, sizes", TRAINING, ids=[f"{c}-{t}" for c, t, _ in TRAINING])
def test_training_estimate_bounds_the_measured_peak(cell, task, sizes):
    from autograd_rnn.train import TrainConfig, Trainer, make_task
    from autograd_rnn.train.budget import training_estimate

    config = TrainConfig(task=task, cell=cell, **sizes)
    made = make_task(task)
    peak = _peak(lambda: Trainer(config, task=made).run(2, progress=False))
    _within(training_estimate(config, made.input_size, made.output_size, 2), peak)


@pytest.mark.parametrize("cell, task, seq_len, hidden", [("rnn", "sine", 300, 32),
                                                         ("lstm", "chars", 100, 48),
                                                         ("gru", "adding", 200, 16)])
def test_evaluation_estimate_bounds_the_measured_peak(cell, task, seq_len, hidden):
    from autograd_rnn.train import TrainConfig, Trainer, evaluate
    from autograd_rnn.train.budget import evaluation_estimate

    trainer = Trainer(TrainConfig(task=task, cell=cell, seq_len=seq_len, hidden=hidden))
    peak = _peak(lambda: evaluate(trainer.model, trainer.task, seq_len))
    _within(evaluation_estimate(trainer.config, trainer.task.input_size,
                                trainer.task.output_size), peak)


def test_a_long_evaluation_is_refused_too(capsys, machine_with_8_gib):
    # one training window of 2 steps fits; evaluating 256 sequences of 10 million does not
    _refused(capsys, ["train", "--seq-len", "10000000", "--k2", "2", "--batch", "1", "--steps",
                      "1", "--quiet"], "held-out evaluation", "--seq-len")


@pytest.mark.parametrize("cell, T, B, H", [("rnn", 60, 1, 3), ("lstm", 12, 8, 16),
                                           ("gru", 12, 16, 8), ("rnn", 4, 1, 160),
                                           ("lstm", 2, 1, 96), ("gru", 2, 1, 128)])
def test_command_estimates_bound_the_measured_peaks(cell, T, B, H):
    from autograd_rnn.check.model_check import check_engine_model
    from autograd_rnn.codegen.cli_source import model_source
    from autograd_rnn.core.backward import reachable
    from autograd_rnn.viz.budget import export_estimate
    from autograd_rnn.viz.examples import build_example

    def export_graph():  # what `export` draws: the example, every edge's gradient read
        example = build_example(cell, T, batch=B, hidden_size=H)
        for node in reachable(example.losses):
            node.edge_grads  # noqa: B018 (computed on first read: core/lazy_edges.py)

    _within(export_estimate(cell, T, B, H), _peak(export_graph))
    _within(unrolled_estimate("codegen", cell, steps=T, batch=B, input_size=3, hidden=H,
                              output_size=3, graph="compile", parameter_copies=2),
            _peak(lambda: model_source(cell, T, H, 3, B)))
    _within(unrolled_estimate("gradcheck", cell, steps=T, batch=B, input_size=3, hidden=H,
                              output_size=2),
            _peak(lambda: check_engine_model(cell, T, batch=B, input_size=3, hidden_size=H,
                                             output_size=2, max_entries=2)))


def test_trace_estimate_bounds_the_measured_peak(tmp_path):
    from autograd_rnn.viz.budget import trace_estimate
    from autograd_rnn.viz.trace_example import record_example

    def run():
        tape = record_example("lstm", 2, hidden_size=3, input_size=2, batch=1, max_frames=12)
        tape.to_html(tmp_path / "t.html", overwrite=True, workers=1)

    _within(trace_estimate("lstm", 2, 1, 2, 3, every=1, max_frames=12), _peak(run))
