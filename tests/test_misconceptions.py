"""The misconception corpus: submissions with one usual mistake each (most are the solution with that one change), graded as a TA grades
them. Each gets exactly its expected score per question, and its feedback names the mistake."""

import pytest
from conftest import ROOT, in_group
from corpus import Corpus

from autograder.homeworks import NAMES

CORPORA = {name: Corpus(ROOT / "tests" / "misconceptions" / name, name) for name in NAMES}
CASES = [(a, n) for a in NAMES for n in CORPORA[a].names()]


@pytest.mark.parametrize("assignment", NAMES)
def test_every_notebook_in_the_folder_has_an_expected_grade(assignment):
    assert {p.name for p in CORPORA[assignment].folder.glob("*.ipynb")} == set(CORPORA[assignment].expected)


@pytest.mark.parametrize("assignment", NAMES)
def test_each_notebook_names_one_mistake_and_what_its_feedback_says(assignment):
    for name, want in CORPORA[assignment].expected.items():
        assert want["about"] and want["says"], name
        assert set(want["says"]) <= set(want["scores"]), name


@pytest.mark.parametrize("assignment, name", [in_group(f"misconceptions-{a}", a, n) for a, n in CASES])
def test_each_mistake_gets_its_grade_and_its_diagnosis(tmp_path_factory, assignment, name):
    corpus = CORPORA[assignment]
    assert corpus.problems(tmp_path_factory, name) == [], corpus.expected[name]["about"]
