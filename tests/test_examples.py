"""The bundled example submissions, graded as a TA grades them: each gets exactly its expected grade."""

import csv
import json

import pytest
from conftest import ROOT, autograder, otter_run

from autograder.homeworks import NAMES, load

EXAMPLES = {name: ROOT / "examples" / name for name in NAMES}
EXPECTED = {name: json.loads((folder / "expected.json").read_text()) for name, folder in EXAMPLES.items()}
CASES = [(a, n) for a in NAMES for n in sorted(EXPECTED[a])]
# Short limits keep the hanging examples cheap; every other notebook finishes far inside them.
LIMITS = ("--timeout", "60", "--call-timeout", "10")


def questions(assignment):
    return [q.name for q in load(assignment).questions]


def read_sheet(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class Graded:
    """Each assignment's examples, graded once through the CLI on first use."""

    def __init__(self, tmp_path_factory):
        self.factory, self.done = tmp_path_factory, {}

    def __call__(self, assignment):
        if assignment not in self.done:
            out = self.factory.mktemp(f"graded-{assignment}")
            done = autograder("grade", "--assignment", assignment, EXAMPLES[assignment], "-o", out, "-j", "2", *LIMITS)
            assert done.returncode == 0, done.stderr
            self.done[assignment] = out, done, {row["file"]: row for row in read_sheet(out / "final_grades.csv")}
        return self.done[assignment]


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    return Graded(tmp_path_factory)


@pytest.mark.parametrize("assignment", NAMES)
def test_every_notebook_in_the_folder_has_an_expected_grade(assignment):
    assert {p.name for p in EXAMPLES[assignment].glob("*.ipynb")} == set(EXPECTED[assignment])


@pytest.mark.parametrize("assignment, name", CASES)
def test_each_example_gets_exactly_its_grade(graded, assignment, name):
    _, _, rows = graded(assignment)
    row, want = rows[name], EXPECTED[assignment][name]
    assert {q: float(row[q]) for q in questions(assignment)} == pytest.approx(want["scores"], abs=1e-4), want["about"]
    assert row["grading_status"] == want["status"]
    assert float(row["total_points_earned"]) == pytest.approx(sum(want["scores"].values()), abs=1e-3)


@pytest.mark.parametrize("assignment", NAMES)
def test_the_sheet_has_otter_grades_layout(graded, assignment):
    out, _, _ = graded(assignment)
    with open(out / "final_grades.csv", newline="") as f:
        header, points = next(csv.reader(f)), next(csv.reader(f))
    assert header == ["file", *questions(assignment), "total_points_earned", "percent_correct", "grading_status", "isolation"]
    assert points[0] == "points-per-question" and points[-4:] == ["100", "1", "--", "--"]


@pytest.mark.parametrize("assignment", NAMES)
def test_results_json_and_feedback_for_every_student(graded, assignment):
    out, done, _ = graded(assignment)
    for name, want in EXPECTED[assignment].items():
        stem = name.removesuffix(".ipynb")
        results = json.loads((out / "results" / f"{stem}.json").read_text())
        assert [t["name"] for t in results["tests"]] == questions(assignment)
        assert {t["name"]: t["score"] for t in results["tests"]} == pytest.approx(want["scores"], abs=1e-4)
        assert all(t["max_score"] > 0 and t["output"] for t in results["tests"])
        feedback = (out / "feedback" / f"{stem}.md").read_text()
        shown = next(line for line in feedback.splitlines() if line.startswith("**Score: "))
        assert float(shown.split()[1]) == pytest.approx(sum(want["scores"].values()), abs=1e-3)
    count = len(EXPECTED[assignment])
    assert f"[{count}/{count}]" in done.stderr
    assert done.stdout.splitlines()[0].split()[:3] == ["file", "q1", "q2"]


@pytest.mark.parametrize("assignment", NAMES)
def test_grading_again_gives_identical_scores(graded, assignment, tmp_path):
    _, _, rows = graded(assignment)
    again = [n for n, w in EXPECTED[assignment].items() if w["status"] == "Completed"][:3]
    done = autograder("grade", "--assignment", assignment, *(EXAMPLES[assignment] / n for n in again), "-o", tmp_path, *LIMITS)
    assert done.returncode == 0, done.stderr
    for row in read_sheet(tmp_path / "final_grades.csv")[1:]:
        assert row == rows[row["file"]]


@pytest.mark.parametrize("assignment, name", [(a, n) for a, n in CASES if EXPECTED[a][n].get("otter_run")])
def test_otter_run_with_the_zip_gives_the_same_scores(autograder_zip, tmp_path, assignment, name):
    results = otter_run(autograder_zip(assignment), EXAMPLES[assignment] / name, tmp_path)
    scores = {t["name"]: t["score"] for t in results["tests"] if t["name"] in questions(assignment)}
    assert scores == pytest.approx(EXPECTED[assignment][name]["scores"], abs=1e-4)
