"""The grade command's edges, as a TA meets them: help, bad paths, broken files beside good ones."""

from conftest import autograder
from corpus import read_sheet

from autograder.homeworks import load


def test_help_lists_the_three_commands():
    done = autograder("--help")
    assert done.returncode == 0
    assert all(word in done.stdout for word in ("build", "verify", "grade"))


def test_a_missing_path_is_an_error_and_nothing_is_written(tmp_path):
    done = autograder("grade", "--assignment", "hw1", tmp_path / "nope.ipynb", "-o", tmp_path / "out")
    assert done.returncode == 2
    assert "no such file" in done.stderr and "nope.ipynb" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_folder_without_notebooks_is_an_error(tmp_path):
    done = autograder("grade", "--assignment", "hw1", tmp_path, "-o", tmp_path / "out")
    assert done.returncode == 2 and "no notebooks found" in done.stderr


def test_an_unknown_assignment_is_refused(tmp_path):
    done = autograder("grade", "--assignment", "hw9", tmp_path)
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_broken_files_get_a_row_each_and_the_batch_goes_on(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "binary.ipynb").write_bytes(bytes(range(256)))
    (subs / "list.ipynb").write_text("[1, 2, 3]")
    (subs / "no-code.ipynb").write_text('{"cells": [{"cell_type": "markdown", "source": "hi"}], "metadata": {}}')
    done = autograder("grade", "--assignment", "hw1", subs, "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    rows = {row["file"]: row for row in read_sheet(tmp_path / "out" / "final_grades.csv")}
    statuses = {"binary.ipynb": "Not graded: not a notebook (binary file)",
                "list.ipynb": "Not graded: not a notebook (no list of cells)", "no-code.ipynb": "Completed"}
    questions = [q.name for q in load("hw1").questions]
    for name, status in statuses.items():
        assert rows[name]["grading_status"] == status
        assert [rows[name][q] for q in questions] == ["0"] * len(questions), name
        assert float(rows[name]["total_points_earned"]) == 0
    feedback = (tmp_path / "out" / "feedback" / "no-code.md").read_text()
    assert "not defined in the notebook" in feedback
