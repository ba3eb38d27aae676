"""grade(): a class of cs231n-style submissions (tests/check/class_submissions, see its
README) graded in parallel, each check isolated: every correct file passes, every typical
bug gets its status and a diagnosis naming the cause; CSV, JSON and Gradescope outputs."""

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from autograd_rnn.check import CheckUsageError, check_backward, get_reference, grade
from autograd_rnn.check.loader import layer_inputs, load_function
from autograd_rnn.cli.main import main

CLASS = Path(__file__).with_name("class_submissions")
TIMEOUT = 4.0  # the endless loop's cost; every other check takes well under a second
LAYERS = ["rnn_step", "rnn", "lstm_step", "lstm", "word_embedding", "temporal_affine",
          "temporal_softmax_loss"]

# (student, layer) -> (status, text the message or a hint must contain); every other row of
# dana..mallory is "missing function", every row of alice, bob and chen passes.
EXPECTED = {
    ("dana", "rnn_step"): ("mismatch", "db is 1/3 times the expected gradient (divided by N = 3"),
    ("dana", "rnn"): ("mismatch", "dx is right only at the last timestep t = 3: the gradient "
                                  "coming back from later steps (dprev_h) is not added"),
    ("dana", "lstm_step"): ("mismatch", "your gates are in i, f, g, o order: use --layer "
                                        "lstm_step_ifgo or reorder them to i, f, o, g"),
    ("dana", "lstm"): ("mismatch", "your gates are in i, f, g, o order: use --layer lstm_ifgo"),
    ("eli", "word_embedding"): ("mismatch", "the indices that occur more than once in x: "
                                            "dW[x] += dout keeps one update per index"),
    ("eli", "temporal_affine"): ("passed", "passed"),
    ("eli", "temporal_softmax_loss"): ("mismatch", "dx is 3 times the expected gradient (N = 3 "
                                                   "times too large"),
    ("fatima", "rnn_step"): ("passed", "passed"),
    ("fatima", "rnn"): ("mismatch", "dx is right only at the last 2 timesteps"),
    ("fatima", "lstm_step"): ("raised", "backward lstm_step_backward raised ValueError"),
    ("fatima", "temporal_affine"): ("wrong shape", "returned dw of shape (7, 5), expected "
                                                   "(5, 7) (the shape of w): w's shape "
                                                   "transposed"),
    ("gus", "rnn_step"): ("wrong shape", "(6, 6) is the shape of Wh; are the gradients "
                                         "returned in the order dx, dprev_h, dWx, dWh, db?"),
    ("gus", "lstm_step"): ("wrong shape", "returned db of shape (3,), expected (24,) (the "
                                          "shape of b): (3,) is the batch size N: summed over "
                                          "the wrong axis?"),
    ("hana", "rnn_step"): ("wrong dtype", "dx, dprev_h, dWx, dWh, db are float32, not float64"),
    ("hana", "lstm_step"): ("wrong dtype", "forward output next_h, next_c are float32"),
    ("ivan", "rnn_step"): ("mismatch", "dx, dprev_h, dWx, dWh, db ignore the upstream gradient "
                                       "dnext_h"),
    ("ivan", "temporal_softmax_loss"): ("mismatch", "dx is wrong exactly where mask is False"),
    ("jade", "rnn_step"): ("wrong shape", "returned dprev_h of shape (1, 6), expected (3, 6) "
                                          "(the shape of prev_h): one row where there should "
                                          "be one per sample: summed over the batch"),
    ("jade", "temporal_softmax_loss"): ("mismatch", "forward output loss is 1/4 times the "
                                                    "reference's (divided by T = 4"),
    ("kim", "lstm_step"): ("raised", "backward lstm_step_backward raised SystemExit(0)"),
    ("kim", "lstm"): ("timed out", "timed out after 4 s while running backward"),
    ("leo", "rnn_step"): ("passed", "passed"),
    ("leo", "rnn"): ("exited", "ended while running backward with exit code 0"),
    ("leo", "word_embedding"): ("crashed", "crashed with SIGSEGV while running backward (at "),
    ("mallory", "rnn_step"): ("monkeypatch", "your code replaced numpy.abs"),
}


def test_the_class_is_graded_row_by_row(tmp_path):
    """One grading run of the whole class (kept in one test: a module fixture would run once
    per xdist worker)."""
    done = []
    result = grade(CLASS, LAYERS, workers=2, timeout=TIMEOUT,
                   progress=lambda k, n: done.append(k))
    assert result.students == sorted(p.name for p in CLASS.iterdir() if p.is_dir())
    assert len(result.rows) == len(result.students) * len(LAYERS)
    for row in result.rows:
        if row.student in ("alice", "bob", "chen"):
            want = ("passed", "passed")
        else:
            want = EXPECTED.get((row.student, row.layer), ("missing function", "no "))
        text = " | ".join([row.message, *row.hints])
        assert (row.status, want[1] in text) == (want[0], True), (row.student, row.layer, text)
        assert row.score == (1.0 if row.passed else 0.0) and row.max_score == 1.0
    assert not result and result.scores()["alice"] == 7 and result.scores()["mallory"] == 0
    assert done == list(range(1, sum(r.status != "missing function" for r in result.rows) + 1))
    assert "alice    ok" in str(result) and "kim lstm: timed out" in str(result)
    _check_csv_and_json(result, tmp_path)
    _check_gradescope_list(result)


def _check_csv_and_json(result, tmp_path):
    result.write(tmp_path / "grades.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text())))
    assert len(rows) == len(result.rows)
    assert rows[0].keys() >= {"student", "layer", "status", "score", "max_score", "message"}
    dana = next(r for r in rows if r["student"] == "dana" and r["layer"] == "lstm_step")
    assert dana["status"] == "mismatch" and "gate" in dana["hints"]
    result.write(tmp_path / "grades.json")
    data = json.loads((tmp_path / "grades.json").read_text())
    assert data == json.loads(result.to_json()) and data[0]["student"] == "alice"
    with pytest.raises(FileExistsError):
        result.write(tmp_path / "grades.csv")
    with pytest.raises(CheckUsageError, match="cannot tell the format"):
        result.write(tmp_path / "grades.txt")


def _check_gradescope_list(result):
    data = json.loads(result.render("gradescope"))
    assert isinstance(data, list) and [d["student"] for d in data] == result.students
    kim = data[result.students.index("kim")]
    assert kim["score"] == 0 and len(kim["tests"]) == len(LAYERS)
    test = kim["tests"][LAYERS.index("lstm_step")]
    assert set(test) == {"name", "score", "max_score", "status", "output", "visibility"}
    assert test["name"] == "lstm_step" and test["status"] == "failed"
    assert "SystemExit(0)" in test["output"] and isinstance(kim["execution_time"], int)


@pytest.mark.parametrize("sizes", [dict(N=2, T=3, D=4, H=5, V=6),
                                   dict(N=5, T=6, D=3, H=2, V=9), dict(N=4, T=5, D=7, H=3, V=4)])
def test_correct_students_pass_at_other_sizes(sizes):
    """In this process (the class run covers the default sizes, isolated)."""
    for student in ("alice", "bob", "chen"):
        path = CLASS / student / "rnn_layers.py"
        for layer in LAYERS:
            f, b = get_reference(layer).functions[0]
            report = check_backward(load_function(f"{path}:{f}"),
                                    load_function(f"{path}:{b}") if b else None,
                                    layer_inputs(layer, 3, **sizes), layer=layer)
            assert report.status == "passed", (student, layer, sizes, report.summary)


def test_gradescope_object_for_one_submission(tmp_path):
    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copy(CLASS / "dana" / "rnn_layers.py", submission)
    (submission / "notes.py").write_text("x = 1\n")
    result = grade(submission, "rnn_step,rnn", workers=1, points={"rnn": 2.0})
    assert result.single and result.students == ["submission"]
    data = result.to_gradescope()
    assert isinstance(data, dict) and "student" not in data
    assert [(t["name"], t["max_score"]) for t in data["tests"]] == [("rnn_step", 1.0),
                                                                     ("rnn", 2.0)]
    assert "hint: dx is right only at the last timestep" in data["tests"][1]["output"]


def test_one_file_per_student(tmp_path):
    for student in ("alice", "ivan"):
        shutil.copy(CLASS / student / "rnn_layers.py", tmp_path / f"{student}.py")
    result = grade(tmp_path, ["rnn_step"], workers=2)
    assert result.students == ["alice", "ivan"] and not result.single
    assert [r.status for r in result.rows] == ["passed", "mismatch"]


def test_unreadable_file_and_graders_errors(tmp_path):
    (tmp_path / "zoe").mkdir()
    (tmp_path / "zoe" / "rnn_layers.py").write_text("def rnn_step_forward(x\n")
    (row,) = grade(tmp_path, ["rnn_step"]).rows
    assert row.status == "raised" and "SyntaxError at line 1" in row.message
    with pytest.raises(CheckUsageError, match="no reference layer named 'rnn_stp'"):
        grade(tmp_path, ["rnn_stp"])
    with pytest.raises(CheckUsageError, match="no such folder"):
        grade(tmp_path / "nowhere", ["rnn_step"])
    with pytest.raises(CheckUsageError, match="no submissions"):
        grade(tmp_path / "zoe" / "..", ["rnn_step"], layout="files")


def test_grade_command_exit_codes_and_outputs(tmp_path, capsys):
    folder = tmp_path / "class"
    shutil.copytree(CLASS / "alice", folder / "alice")
    out = tmp_path / "results.json"
    assert main(["grade", str(folder), "--layers", "rnn_step,temporal_softmax_loss",
                 "--gradescope", "-o", str(out), "-o", str(tmp_path / "g.csv")]) == 0
    assert json.loads(out.read_text())[0]["score"] == 2.0
    assert "2 of 2 checks passed" in capsys.readouterr().out
    assert main(["grade", str(folder), "--layers", "rnn_step", "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["grade", str(folder), "--layers", "rnn_step", "--gradescope"]) == 2
    assert main(["grade", str(folder), "--layers", "nope"]) == 2
    shutil.copytree(CLASS / "gus", folder / "gus")
    assert main(["grade", str(folder), "--layers", "rnn_step", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [(r["student"], r["status"]) for r in rows] == [("alice", "passed"),
                                                           ("gus", "wrong shape")]
