"""Property: random values of every numeric option of every command either run, or are
refused with exit code 2 and one line on stderr, never a traceback or a warning. Values are
drawn from small valid sizes, zero and negatives, astronomically large sizes (which the memory
estimate must refuse before any work), and any float (NaN, infinities, subnormals, 1e308).

Kept fast: tiny base sizes, main() called in-process, and the step-through page's Graphviz
layouts replaced by a stub (the options' handling is under test, not dot). check-backward and
grade belong to tests/check."""

from __future__ import annotations

import os
import warnings

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from autograd_rnn.cli.main import main

MAX_EXAMPLES = int(os.environ.get("REL_CLI_MAX_EXAMPLES", 16))
SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

SIZE = st.one_of(st.integers(1, 3), st.integers(-3, 0), st.integers(2**40, 2**70))
HUGE_OR_BAD = st.one_of(st.integers(-3, 0), st.integers(2**40, 2**70))
SEED = st.one_of(st.integers(0, 3), st.integers(2**31, 2**70), st.integers(-(2**40), -1))
FLOAT = st.floats(allow_nan=True, allow_infinity=True)
VALID = {SIZE: st.integers(1, 3), SEED: st.integers(0, 2**70), FLOAT: st.floats(1e-6, 10.0),
         HUGE_OR_BAD: HUGE_OR_BAD}  # half of the examples draw only these: runs, mostly

BASE = {  # tiny runs; each drawn option is appended after these and wins
    "codegen": ["codegen", "--overwrite", "-o", "{tmp}/m.py"],
    "demo": ["demo", "--quiet", "--out", "{tmp}/demo"],
    "export": ["export", "--steps", "2", "--overwrite", "-o", "{tmp}/g.svg"],
    "gradcheck": ["gradcheck", "--steps", "2", "--hidden", "2", "--max-entries", "3"],
    "sample": ["sample", "--checkpoint", "{ckpt}", "--length", "3"],
    "trace": ["trace", "--steps", "1", "--hidden", "1", "--overwrite", "-o", "{tmp}/t.html"],
    "train": ["train", "--quiet", "--steps", "1", "--seq-len", "2", "--hidden", "2",
              "--batch", "2"],
}
OPTIONS = {
    "codegen": {"--steps": SIZE, "--hidden": SIZE, "--input": SIZE, "--batch": SIZE,
                "--output": SIZE},
    # a valid demo takes seconds: only values it must refuse (its runs: tests/test_demo.py)
    "demo": {"--steps": HUGE_OR_BAD, "--seed": SEED},
    "export": {"--steps": SIZE, "--hidden": SIZE, "--batch": SIZE, "--layers": SIZE,
               "--truncate": SIZE, "--wrap": SEED,
               "--max-nodes": SIZE, "--seed": SEED, "--weight-scale": FLOAT},
    "gradcheck": {"--steps": SIZE, "--hidden": SIZE, "--batch": SIZE, "--input-size": SIZE,
                  "--output-size": SIZE, "--layers": SIZE, "--seed": SEED,
                  "--max-entries": SIZE, "--eps": FLOAT, "--atol": FLOAT, "--rtol": FLOAT},
    "sample": {"--length": SIZE, "--seed": SEED, "--temperature": FLOAT},
    "trace": {"--steps": SIZE, "--hidden": SIZE, "--input": SIZE, "--batch": SIZE,
              "--seed": SEED, "--every": SIZE, "--max-frames": SIZE},
    "train": {"--seq-len": SIZE, "--hidden": SIZE, "--layers": SIZE, "--batch": SIZE,
              "--steps": SIZE, "--k1": SIZE, "--k2": SIZE, "--checkpoint-every": SIZE,
              "--seed": SEED, "--lr": FLOAT, "--clip": FLOAT, "--clip-value": FLOAT,
              "--dropout": FLOAT},
}
FAILED_RUN = {"gradcheck": "", "train": "stopped at step"}  # exit 1: a check or run failed


def _drawn(command):
    """Each option either left at its default or given a drawn value (demo's --steps always:
    its default, 300 steps, is a whole demo run)."""
    required = {"--steps": OPTIONS["demo"]["--steps"]} if command == "demo" else {}
    optional = {k: v for k, v in OPTIONS[command].items() if k not in required}
    valid = {k: VALID[v] for k, v in optional.items()}
    return st.one_of(st.fixed_dictionaries(required, optional=optional),
                     st.fixed_dictionaries(required, optional=valid))


@pytest.fixture(scope="module")
def chars_checkpoint(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("prop") / "chars.npz"
    assert main(["train", "--quiet", "--task", "chars", "--steps", "1", "--seq-len", "3",
                 "--hidden", "2", "--checkpoint", str(path)]) == 0
    return str(path)


@pytest.fixture
def no_layouts(monkeypatch):
    import autograd_rnn.viz.html_page as html_page

    monkeypatch.setattr(html_page, "render_svgs", lambda sources, **kw: ["<svg/>"] * len(sources))


def test_every_numeric_option_is_drawn():
    from autograd_rnn.cli.main import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    for name, parser in commands.items():
        numeric = {a.option_strings[-1] for a in parser._actions
                   if a.type is not None and a.option_strings}
        if name in ("check-backward", "grade"):
            continue
        assert numeric == set(OPTIONS.get(name, {})), (name, numeric)


@pytest.mark.parametrize("command", sorted(OPTIONS))
def test_numeric_options_run_or_exit_2_with_one_line(command, tmp_path, capsys, no_layouts,
                                                     chars_checkpoint):
    @SETTINGS
    @given(values=_drawn(command))
    def check(values):
        argv = [a.replace("{tmp}", str(tmp_path)).replace("{ckpt}", chars_checkpoint)
                for a in BASE[command]]
        argv += [f"{option}={value!r}" for option, value in values.items()]
        capsys.readouterr()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = main(argv)
        out, err = capsys.readouterr()
        event(f"exit {code}")
        if os.environ.get("REL_CLI_LOG"):  # to see how many examples ran, refused, failed
            with open(os.environ["REL_CLI_LOG"], "a") as log:
                log.write(f"{command} {code}\n")
        assert "Traceback" not in err, (argv, err)
        assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], (
            argv, [str(w.message) for w in caught])
        if code == 0:
            assert err == "", (argv, err)
            return
        assert code in (1, 2), (argv, code, err)
        if code == 1:
            assert command in FAILED_RUN and FAILED_RUN[command] in err + out, (argv, err)
        if code == 2 and len(values) == 1:  # the one option given is the one blamed
            assert next(iter(values)) in err, (argv, err)
        if err:
            assert err.count("\n") == 1 and err.startswith(f"autograd-rnn {command}: error: "), (
                argv, err)
        else:
            assert code == 1 and command == "gradcheck", (argv, out)

    check()


# caps and periods: a huge value means "no limit" (and 0 means "all" for these two)
NO_LIMIT = {"--truncate", "--max-nodes", "--max-entries", "--every", "--max-frames", "--k1",
            "--k2", "--checkpoint-every"}
ZERO_MEANS_ALL = {("gradcheck", "--max-entries"), ("trace", "--max-frames")}
ONE_HUGE = [(command, option, value) for command in sorted(OPTIONS)
            for option, strategy in OPTIONS[command].items() if strategy in (SIZE, HUGE_OR_BAD)
            for value in (2**40, 2**70, 0)]


@pytest.mark.parametrize(("command", "option", "value"), ONE_HUGE,
                         ids=[f"{c}{o}={v}" for c, o, v in ONE_HUGE])
def test_one_bad_size_is_blamed_by_name(command, option, value, tmp_path, capsys, no_layouts,
                                        chars_checkpoint):
    """Every size option alone at an astronomical or zero value: exit 2, and the error names
    that option (a regression: a huge --layers once made export blame --steps); caps and
    periods run instead, as 'no limit'."""
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{ckpt}", chars_checkpoint)
            for a in BASE[command]] + [f"{option}={value}"]
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    runs = (value > 0 and option in NO_LIMIT) or (value == 0 and (command, option) in
                                                  ZERO_MEANS_ALL)
    if runs:
        assert code == 0 and err == "", (argv, code, err)
    else:
        assert code == 2 and option in err, (argv, code, err)
