"""The report each student gets: every question's score and reasons, and the training curves beside the reference's."""

import json
import re

import pytest
from conftest import ROOT, autograder, otter_run
from matplotlib.image import imread

from autograder.judging.asking import curves
from autograder.judging.results import Check, QuestionResult, SubmissionResult
from autograder.report import feedback, gradescope
from autograder.report.safe import for_markdown as md

EXAMPLE = "wrong-q10-logs-before-the-update"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The example whose training logs before each update, graded through the CLI."""
    out = tmp_path_factory.mktemp("graded")
    done = autograder("grade", "-a", "hw1", ROOT / "examples" / "hw1" / f"{EXAMPLE}.ipynb", "-o", out, "-j", "1")
    assert done.returncode == 0, done.stderr
    report = (out / "feedback" / f"{EXAMPLE}.md").read_text()
    results = json.loads((out / "results" / f"{EXAMPLE}.json").read_text())
    return out, report, results


def check_lines(results):
    """Every line Gradescope shows under a question: its checks, then its curve summaries."""
    return [line.strip() for test in results["tests"] for line in test["output"].splitlines()[1:]]


def test_report_has_every_question_score_and_message(graded):
    _, report, results = graded
    for test in results["tests"]:
        assert f"## {test['name']}: {test['score']:g} / {test['max_score']:g}" in report
    lines = check_lines(results)
    assert len(lines) > len(results["tests"])
    assert all(f"- {md(line)}" in report for line in lines)  # every line is escaped: it may quote the student
    assert md("metrics['train_loss'] leaves the reference trajectory at logged step 0") in report


def test_training_question_gets_a_figure_of_its_curves(graded):
    out, report, _ = graded
    images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", report)
    assert images == [f"{EXAMPLE}-q10.png"]
    pixels = imread(out / "feedback" / images[0])
    assert pixels.shape[0] == 2 * 3 * 80 and pixels.shape[1] == 8 * 80  # two rows (manual, autograd) of 8 x 3 in at 80 dpi
    assert pixels[..., :3].std() > 0.1  # not a blank image
    assert md("manual path trajectory curves, last logged values: train loss") in report


def test_gradescope_output_is_the_report_as_text(graded):
    _, report, results = graded
    output = results["output"]
    assert output.splitlines()[2] == report.splitlines()[2] and output.splitlines()[2].startswith("**Score: ")
    assert all(md(line) in output for line in check_lines(results))
    assert "(The plot of these curves is in the feedback folder of the grading output.)" in output
    assert "Output of your notebook" not in output  # the notebook's prints could show hidden inputs
    q10 = next(t for t in results["tests"] if t["name"] == "q10")
    assert "autograd path trajectory curves, last logged values:" in q10["output"]


def test_otter_run_shows_the_same_report(graded, autograder_zip, tmp_path):
    _, report, _ = graded
    results = otter_run(autograder_zip("hw1"), ROOT / "examples" / "hw1" / f"{EXAMPLE}.ipynb", tmp_path)
    output = results["output"]
    assert output.splitlines()[2] == report.splitlines()[2]
    assert md("autograd path trajectory curves, last logged values:") in output and "Output of your notebook" not in output


def test_report_without_curves_is_complete_and_draws_nothing(tmp_path):
    crashed = Check("trajectory", 8, False, "train_model(...) raised RuntimeError: boom")
    result = SubmissionResult("nb.ipynb", "hw2", [QuestionResult("q10", 16, [crashed, Check("no torch.optim", 2, True)])])
    feedback.write(str(tmp_path), "nb", result)
    assert [p.name for p in tmp_path.iterdir()] == ["nb.md"]
    report = (tmp_path / "nb.md").read_text()
    assert "**Score: 2 / 16**" in report and "## q10: 2 / 16" in report
    assert f"- {md('❌ train_model(...) raised RuntimeError: boom (0 / 8)')}" in report and f"- {md('✅ no torch.optim (2 / 2)')}" in report
    assert gradescope.results_json(result)["output"] == feedback.markdown(result, log=False)


REFERENCE = {"iterations": [0, 5], "train_loss": [0.6, 0.5], "train_acc": [0.7, 0.8], "val_loss": [0.65, 0.55], "val_acc": [0.6, 0.7]}


def test_curves_keep_only_what_can_be_drawn():
    assert curves(REFERENCE, REFERENCE) == {"student": REFERENCE, "reference": REFERENCE}
    partial = {"iterations": [0, 5], "train_loss": [0.6, float("nan")], "val_loss": [0.6], "train_acc": "high", "val_acc": [True, False]}
    student = curves(partial, REFERENCE)["student"]
    assert sorted(student) == ["iterations", "train_loss"] and student["train_loss"][0] == 0.6
    assert curves({"iterations": [0, 5]}, REFERENCE) is None
    assert curves("not a dict", REFERENCE) is None
