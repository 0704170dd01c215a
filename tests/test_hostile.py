"""A class folder with hostile submissions in it, graded as a TA grades it: every submission gets its row,
every file written is valid UTF-8, nothing a student wrote reaches a terminal, a spreadsheet or Gradescope's
page as anything but text, and the grader's own failure on one submission costs only that one.

The batch is ``tests/hostile/hw1/`` (notebooks with ``expected.json``) and, made here because of their size
or their shape, a notebook whose JSON nests 100,000 deep, one of 60,000 cells, the solution's cells copied
into a notebook without otter's metadata, hw2's solution handed in for hw1, and a Gradescope export whose
students are named like spreadsheet formulas.
"""

import csv
import json
import time
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, autograder, otter_run, total
from corpus import Corpus

from autograder import report
from autograder.grading import batch
from autograder.grading.grade import NOT_FROM_TEMPLATE
from autograder.homeworks import Homework, Question, load
from autograder.intake import Submission
from autograder.judging.results import Check
from autograder.report import safe
from autograder.sandbox.protocol import Limits

pytestmark = pytest.mark.xdist_group("hostile")  # its tests share one grading of the corpus: one worker runs them all

CORPUS = Corpus(ROOT / "tests" / "hostile" / "hw1", "hw1")
ESC = "\x1b"
FORMULAS = {  # submission folder: (name, sid, email), as Gradescope's export would hold them
    "submission_901": ('=HYPERLINK("http://x.example", "click")', "@SUM(1+1)", "+cmd@example.edu"),
    "submission_902": ("-2+3", "-42", "@example.edu"),
}


def code_cell(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


def notebook(cells: list[dict], metadata: dict | None = None) -> str:
    return json.dumps({"cells": cells, "metadata": metadata if metadata is not None else {"otter": {"assignment_name": "hw1"}},
                       "nbformat": 4, "nbformat_minor": 5})


def make_batch(folder: Path) -> list[Path]:
    """The files a TA hands to ``grade``: the corpus folder, the made notebooks, the export."""
    made = folder / "made"
    made.mkdir()
    (made / "nesting-bomb.ipynb").write_text('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}")
    solution = json.loads((ROOT / "solutions" / "hw1.ipynb").read_text())
    q1 = next(c for c in solution["cells"] if c["cell_type"] == "code" and "def df_autograd" in "".join(c["source"]))
    many = [code_cell("x = 1") for _ in range(59_999)] + [code_cell("import torch\n" + "".join(q1["source"]))]
    (made / "sixty-thousand-cells.ipynb").write_text(notebook(many))
    copied = [code_cell("".join(c["source"])) for c in solution["cells"] if c["cell_type"] == "code"]
    (made / "copied-into-a-new-notebook.ipynb").write_text(notebook(copied, metadata={}))
    (made / "hw2-handed-in-for-hw1.ipynb").write_bytes((ROOT / "solutions" / "hw2.ipynb").read_bytes())
    export = folder / "export.zip"
    metadata = "".join(f"{folder_name}:\n  :submitters:\n  - :name: {json.dumps(name)}\n    :sid: {json.dumps(sid)}\n"
                       f"    :email: {json.dumps(email)}\n" for folder_name, (name, sid, email) in FORMULAS.items())
    tiny = notebook([code_cell("def f(x):\n    return x**3 - 3 * x")])
    with zipfile.ZipFile(export, "w") as z:
        z.writestr("assignment_1_export/submission_metadata.yml", metadata)
        for folder_name in FORMULAS:
            z.writestr(f"assignment_1_export/{folder_name}/hw1.ipynb", tiny)
    return [CORPUS.folder, made, export]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    paths = make_batch(folder)
    started = time.monotonic()
    done = autograder("grade", "--assignment", "hw1", *paths, "-o", folder / "out", "-j", "2", *CORPUS.limits)
    seconds = time.monotonic() - started
    with open(folder / "out" / "final_grades.csv", newline="", encoding="utf-8") as f:
        rows = {row["file"]: row for row in csv.DictReader(f)}
    return folder / "out", done, rows, seconds


def test_the_whole_batch_is_graded_and_says_so(graded):
    out, done, rows, _ = graded
    assert done.returncode == 0, done.stderr
    expected = set(CORPUS.expected) | {"nesting-bomb.ipynb", "sixty-thousand-cells.ipynb", "copied-into-a-new-notebook.ipynb",
                                       "hw2-handed-in-for-hw1.ipynb"}
    assert expected <= set(rows) and len(rows) == 1 + len(expected) + len(FORMULAS)
    assert (out / "summary.txt").exists() and (out / "histogram.png").exists()


@pytest.mark.parametrize("name", CORPUS.names())
def test_each_hostile_notebook_gets_its_grade(tmp_path_factory, graded, name):
    out, _, rows, _ = graded
    want, row = CORPUS.expected[name], rows[name]
    assert row["grading_status"] == want["status"]
    assert {q: float(row[q]) for q in CORPUS.questions} == pytest.approx(want["scores"])
    outputs = {t["name"]: t["output"] for t in CORPUS.results(out, name)["tests"]}
    for question, phrase in want["says"].items():
        assert phrase in outputs[question]


def test_made_notebooks_get_their_rows(graded):
    out, _, rows, seconds = graded
    assert rows["nesting-bomb.ipynb"]["grading_status"] == "Not graded: not a notebook (its JSON nests deeper than any notebook does)"
    many = rows["sixty-thousand-cells.ipynb"]
    assert (many["grading_status"], many["q1"], many["total_points_earned"]) == ("Completed", "10", "10")
    copied = rows["copied-into-a-new-notebook.ipynb"]
    assert copied["total_points_earned"] == "100" and copied["grading_status"] == "Completed"
    assert safe.for_markdown(NOT_FROM_TEMPLATE) in (out / "feedback" / "copied-into-a-new-notebook.md").read_text()
    other = rows["hw2-handed-in-for-hw1.ipynb"]
    assert other["total_points_earned"] == "0"
    assert other["grading_status"].startswith("Not graded: this is a hw2 notebook (it defines ")
    print(f"the batch of {len(rows) - 1} submissions took {seconds:.0f} s")


def test_every_file_written_is_valid_utf8_without_nul_or_lone_surrogates(graded):
    out, _, _, _ = graded
    for path in out.rglob("*"):
        if path.suffix in (".md", ".json", ".csv", ".txt"):
            text = path.read_bytes().decode("utf-8")  # raises if not UTF-8
            assert "\x00" not in text, path
            if path.suffix == ".json":
                strings = json.dumps(json.loads(text), ensure_ascii=False)
                strings.encode("utf-8")  # a lone surrogate in a decoded string cannot be encoded


def test_nothing_reaches_the_terminal_raw(graded):
    _, done, _, _ = graded
    assert ESC not in done.stdout + done.stderr and "\x00" not in done.stdout + done.stderr


def test_no_field_a_submission_named_reads_as_a_formula_and_numbers_stay_numbers(graded):
    _, _, rows, _ = graded
    by_id = {row["submission_id"]: row for row in rows.values() if row["submission_id"]}
    first, second = by_id["901"], by_id["902"]
    assert first["student"] == "'" + FORMULAS["submission_901"][0] and first["file"].startswith("_HYPERLINK")
    assert first["student_id"] == "'@SUM(1+1)" and first["email"] == "'+cmd@example.edu"
    assert second["student"] == second["file"] == "'-2+3" and second["student_id"] == "-42"
    assert second["email"] == "'@example.edu"
    assert first["q1"] == first["total_points_earned"] and float(first["q1"]) > 0  # scores are numbers, untouched


def test_gradescope_shows_the_report_as_markdown_with_every_student_string_escaped(graded):
    out, _, _, _ = graded
    results = CORPUS.results(out, "markup-everywhere.ipynb")
    assert results["output_format"] == "md" and {t["output_format"] for t in results["tests"]} == {"text"}
    report = results["output"]
    for raw in ("[click](", "![img](", "<script>", "**bold**", "| a | b |", "www.x.example", "[**see here**]", "<img src=x"):
        assert raw not in report, raw
    assert safe.for_markdown("<script>alert(1)</script>") in report
    feedback = (out / "feedback" / "markup-everywhere.md").read_text()
    fence = next(line for line in feedback.splitlines() if line.startswith("```"))
    assert len(fence) > 4, "the notebook's printed fence cannot close the report's code block"


@pytest.mark.parametrize("name", ["surrogate-in-an-error.ipynb", "markup-everywhere.ipynb"])
def test_otter_run_gives_hostile_strings_a_results_json(autograder_zip, tmp_path, name):
    results = otter_run(autograder_zip("hw1"), CORPUS.folder / name, tmp_path)
    assert results["output_format"] == "md"
    scores = {t["name"]: t["score"] for t in results["tests"] if t["name"] in CORPUS.questions}
    assert scores == pytest.approx(CORPUS.expected[name]["scores"])


def test_otter_run_grades_cells_copied_into_a_new_notebook_as_grade_does(autograder_zip, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    make_batch(folder)
    results = otter_run(autograder_zip("hw1"), folder / "made" / "copied-into-a-new-notebook.ipynb", tmp_path)
    assert total(results) == 100
    assert safe.for_markdown(NOT_FROM_TEMPLATE) in results["output"]


def test_the_graders_own_failure_on_one_submission_costs_only_that_one(tmp_path):
    """A question whose judging raises on one notebook's answer (a grader bug that notebook triggers)."""
    hw1 = load("hw1")
    q1 = next(q for q in hw1.questions if q.name == "q1")

    def fragile(ask):
        ask.value("answer")

        def score(replies):
            if replies["answer"].value == "boom":
                raise KeyError("an answer the judging did not foresee")
            return [Check("value", 1, replies["answer"].status == "ok")]

        return score

    homework = Homework("hw1", [q1, Question("q2", 5, fragile)], seed=1)
    submissions = []
    for name, answer in (("boom.ipynb", "'boom'"), ("calm.ipynb", "'calm'")):
        (tmp_path / name).write_text(notebook([code_cell(f"answer = {answer}")]))
        submissions.append(Submission(name, str(tmp_path / name)))
    out = tmp_path / "out"
    with open(tmp_path / "progress", "w") as progress:
        results = batch.grade_all(submissions, homework, str(out), 2, Limits(), progress=progress)
    report.batch(str(out), homework, results, [s.submitter for s in submissions])
    boom, calm = results
    assert boom.status.startswith("Grader error: KeyError: ") and boom.total == 0
    assert calm.status == "Completed" and calm.scores()["q2"] == 5
    assert "Grader error" in json.loads((out / "results" / "boom.json").read_text())["extra_data"]["grading_status"]
    assert "the grader failed on this submission" in (out / "feedback" / "boom.md").read_text()
    assert "an answer the judging did not foresee" in (tmp_path / "progress").read_text()  # the traceback, for the TA
    with open(out / "final_grades.csv", newline="") as f:
        assert [row[0] for row in csv.reader(f)][2:] == ["boom.ipynb", "calm.ipynb"]


def test_the_cli_says_when_the_grader_failed_on_a_submission(tmp_path):
    """The exit status when a submission's row says "Grader error": a report that cannot be written is one."""
    (tmp_path / "a.ipynb").write_text(notebook([code_cell("x = 1")]))
    out = tmp_path / "out"
    (out / "feedback").mkdir(parents=True)
    (out / "feedback" / "a.md").mkdir()  # where the report must go: writing it fails
    done = autograder("grade", "-a", "hw1", tmp_path / "a.ipynb", "-o", out)
    assert done.returncode == 3, done.stderr
    assert "the grader failed on 1 submission(s)" in done.stderr
    with open(out / "final_grades.csv", newline="") as f:
        assert list(csv.DictReader(f))[1]["grading_status"].startswith("Grader error: IsADirectoryError")
