"""The bundled example submissions, graded as a TA grades them: each gets exactly its expected grade."""

import csv
import difflib
import json

import pytest
from conftest import ROOT, autograder, in_group, otter_run
from corpus import Corpus, read_sheet

from autograder.homeworks import NAMES

# hw2's corpus is shared with the test that grades it again with other worker counts and orders.
CORPORA = {name: Corpus(ROOT / "examples" / name, name) for name in NAMES}
CORPORA["hw2"] = Corpus(ROOT / "examples" / "hw2", "hw2", jobs=4, order=1)
CASES = [(a, n) for a in NAMES for n in CORPORA[a].names()]
# the tests that read a homework's shared grading run on one worker; each homework's may run on its own
EACH = [in_group(f"examples-{a}", a) for a in NAMES]


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    return lambda assignment: CORPORA[assignment].graded(tmp_path_factory)


@pytest.mark.parametrize("assignment", NAMES)
def test_every_notebook_in_the_folder_has_an_expected_grade(assignment):
    assert {p.name for p in CORPORA[assignment].folder.glob("*.ipynb")} == set(CORPORA[assignment].expected)


@pytest.mark.parametrize("assignment, name", [in_group(f"examples-{a}", a, n) for a, n in CASES])
def test_each_example_gets_exactly_its_grade(tmp_path_factory, graded, assignment, name):
    corpus = CORPORA[assignment]
    assert corpus.problems(tmp_path_factory, name) == [], corpus.expected[name]["about"]
    _, _, rows = graded(assignment)
    assert float(rows[name]["total_points_earned"]) == pytest.approx(sum(corpus.expected[name]["scores"].values()), abs=1e-3)


@pytest.mark.parametrize("assignment", EACH)
def test_the_sheet_has_otter_grades_layout(graded, assignment):
    out, _, _ = graded(assignment)
    with open(out / "final_grades.csv", newline="") as f:
        header, points = next(csv.reader(f)), next(csv.reader(f))
    otters = ["file", *CORPORA[assignment].questions, "total_points_earned", "percent_correct", "grading_status"]
    assert header == [*otters, "isolation", "student", "email", "student_id", "submission_id"]
    assert points[0] == "points-per-question" and points[len(otters) - 3: len(otters) + 1] == ["100", "1", "--", "--"]


@pytest.mark.parametrize("assignment", EACH)
def test_results_json_and_feedback_for_every_student(graded, assignment):
    out, done, _ = graded(assignment)
    for name, want in CORPORA[assignment].expected.items():
        stem = name.removesuffix(".ipynb")
        results = CORPORA[assignment].results(out, name)
        assert [t["name"] for t in results["tests"]] == CORPORA[assignment].questions
        assert {t["name"]: t["score"] for t in results["tests"]} == pytest.approx(want["scores"], abs=1e-4)
        assert all(t["max_score"] > 0 and t["output"] for t in results["tests"])
        feedback = (out / "feedback" / f"{stem}.md").read_text()
        shown = next(line for line in feedback.splitlines() if line.startswith("**Score: "))
        assert float(shown.split()[1]) == pytest.approx(sum(want["scores"].values()), abs=1e-3)
    count = len(CORPORA[assignment].expected)
    assert f"[{count}/{count}]" in done.stderr
    assert done.stdout.splitlines()[0].split()[:3] == ["file", "q1", "q2"]


@pytest.mark.xdist_group("examples-hw1")
def test_grading_again_gives_identical_scores(graded, tmp_path):
    _, _, rows = graded("hw1")
    corpus = CORPORA["hw1"]
    again = ["correct-terse-functional.ipynb", "wrong-q3-log-of-sigmoid.ipynb"]
    done = autograder("grade", "--assignment", "hw1", *(corpus.folder / n for n in again), "-o", tmp_path, "-j", "1", *corpus.limits)
    assert done.returncode == 0, done.stderr
    for row in read_sheet(tmp_path / "final_grades.csv")[1:]:
        assert row == rows[row["file"]]


@pytest.mark.xdist_group("examples-hw2")
def test_neither_the_worker_count_nor_the_order_changes_a_grade(tmp_path_factory, graded):
    """hw2's corpus graded with -j 4 (more workers than this machine's cores) in two shuffled orders, and with -j 1
    in the folder's order: every sheet row and every results.json is the same, byte for byte."""
    corpus = CORPORA["hw2"]
    first_out, _, first_rows = graded("hw2")
    for jobs, order in ((4, 2), (1, None)):
        out, _, rows = corpus.grade(tmp_path_factory, jobs, order)
        assert rows == first_rows, f"-j {jobs}, order {order}"
        for results in (first_out / "results").iterdir():
            again = out / "results" / results.name
            assert again.read_bytes() == results.read_bytes(), f"-j {jobs}, order {order}: {results.name}\n{differences(results, again)}"


def differences(first, again) -> str:
    """The lines in which two results.json differ, their reports' lines apart."""
    def lines(path):
        return json.dumps(json.loads(path.read_text()), indent=1, ensure_ascii=False).replace("\\n", "\n").splitlines()
    return "\n".join(difflib.unified_diff(lines(first), lines(again), lineterm="", n=0))[:4000]


@pytest.mark.parametrize("assignment, name", [(a, n) for a, n in CASES if CORPORA[a].expected[n].get("otter_run")])
def test_otter_run_with_the_zip_gives_the_same_scores(autograder_zip, tmp_path, assignment, name):
    results = otter_run(autograder_zip(assignment), CORPORA[assignment].folder / name, tmp_path)
    scores = {t["name"]: t["score"] for t in results["tests"] if t["name"] in CORPORA[assignment].questions}
    assert scores == pytest.approx(CORPORA[assignment].expected[name]["scores"], abs=1e-4)
