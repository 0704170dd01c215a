"""Grading is deterministic: one submission graded three times gives byte-identical results."""

from conftest import ROOT, autograder

SUBMISSION = ROOT / "examples" / "hw1" / "correct-loops-and-autograd-grad.ipynb"


def test_three_gradings_of_one_submission_are_identical(tmp_path):
    outputs = []
    for run in range(3):
        out = tmp_path / f"run{run}"
        done = autograder("grade", "-a", "hw1", SUBMISSION, "-o", out, "-j", "1")
        assert done.returncode == 0, done.stderr
        stem = SUBMISSION.stem
        outputs.append(((out / "final_grades.csv").read_bytes(), (out / "results" / f"{stem}.json").read_bytes()))
    assert outputs[0] == outputs[1] == outputs[2]
