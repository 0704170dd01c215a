"""The bundled example submissions, graded as a TA grades them: each gets exactly its expected grade."""

import csv
import json

import pytest
from conftest import ROOT, autograder, otter_run

EXAMPLES = ROOT / "examples" / "hw1"
EXPECTED = json.loads((EXAMPLES / "expected.json").read_text())
QUESTIONS = [f"q{i}" for i in range(1, 12)]
# Short limits keep the hanging examples cheap; every other notebook finishes far inside them.
LIMITS = ("--timeout", "60", "--call-timeout", "10")


def read_sheet(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("graded")
    done = autograder("grade", "--assignment", "hw1", EXAMPLES, "-o", out, "-j", "2", *LIMITS)
    assert done.returncode == 0, done.stderr
    return out, done, {row["file"]: row for row in read_sheet(out / "final_grades.csv")}


def test_every_notebook_in_the_folder_has_an_expected_grade():
    assert {p.name for p in EXAMPLES.glob("*.ipynb")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_example_gets_exactly_its_grade(graded, name):
    _, _, rows = graded
    row, want = rows[name], EXPECTED[name]
    assert {q: float(row[q]) for q in QUESTIONS} == pytest.approx(want["scores"], abs=1e-4), want["about"]
    assert row["grading_status"] == want["status"]
    assert float(row["total_points_earned"]) == pytest.approx(sum(want["scores"].values()), abs=1e-3)


def test_the_sheet_has_otter_grades_layout(graded):
    out, _, _ = graded
    with open(out / "final_grades.csv", newline="") as f:
        header, points = next(csv.reader(f)), next(csv.reader(f))
    assert header == ["file", *QUESTIONS, "total_points_earned", "percent_correct", "grading_status"]
    assert points[0] == "points-per-question" and points[-3:] == ["100", "1", "--"]


def test_results_json_and_feedback_for_every_student(graded):
    out, _, _ = graded
    for name, want in EXPECTED.items():
        stem = name.removesuffix(".ipynb")
        results = json.loads((out / "results" / f"{stem}.json").read_text())
        assert [t["name"] for t in results["tests"]] == QUESTIONS
        assert {t["name"]: t["score"] for t in results["tests"]} == pytest.approx(want["scores"], abs=1e-4)
        assert all(t["max_score"] > 0 and t["output"] for t in results["tests"])
        assert f"Score: {sum(want['scores'].values()):g}"[:9] in (out / "feedback" / f"{stem}.md").read_text()


def test_progress_and_table_are_printed(graded):
    _, done, _ = graded
    assert f"[{len(EXPECTED)}/{len(EXPECTED)}]" in done.stderr
    assert done.stdout.splitlines()[0].split()[:3] == ["file", "q1", "q2"]


def test_grading_again_gives_identical_scores(graded, tmp_path):
    _, _, rows = graded
    again = [n for n, w in EXPECTED.items() if w["status"] == "Completed"][:3]
    done = autograder("grade", "--assignment", "hw1", *(EXAMPLES / n for n in again), "-o", tmp_path, *LIMITS)
    assert done.returncode == 0, done.stderr
    for row in read_sheet(tmp_path / "final_grades.csv")[1:]:
        assert row == rows[row["file"]]


@pytest.mark.parametrize("name", sorted(n for n, w in EXPECTED.items() if w.get("otter_run")))
def test_otter_run_with_the_zip_gives_the_same_scores(hw1_zip, tmp_path, name):
    results = otter_run(hw1_zip, EXAMPLES / name, tmp_path)
    scores = {t["name"]: t["score"] for t in results["tests"] if t["name"] in QUESTIONS}
    assert scores == pytest.approx(EXPECTED[name]["scores"], abs=1e-4)
