"""A corpus is a folder of submissions for one assignment with ``expected.json`` beside them.

``expected.json`` maps each file name to what grading must give it::

    {"about": "what the submission does", "status": "Completed",
     "scores": {"q1": 10, ...},                 # the exact score of every question
     "says": {"q3": "a phrase"},                # optional: words the question's feedback must contain, or a
                                                # list of phrases of which it must contain one (where two limits
                                                # can both stop a step, whichever fires first)
     "otter_run": true}                         # optional: also graded through ``otter run`` with the zip

The corpus is graded once, through the CLI as a TA types it, on first use; other gradings of it (other
worker counts, other orders of the files) can be asked for and compared.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from conftest import GRADING_LIMITS, autograder

from autograder.homeworks import load


def read_sheet(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# A cell may take 12 s of CPU time (a fifth of --timeout), a graded call 10 s: every correct notebook's slowest
# cell takes at most 5 s here, and every row about a time limit spins or waits for far longer than its limit (the
# per-example loop of examples/hw2/correct-loops-where-setup-context takes 20 to 30 s), so that no expectation
# depends on the machine's speed or its load.
LIMITS = ("--timeout", str(GRADING_LIMITS["timeout"]), "--call-timeout", str(GRADING_LIMITS["call_timeout"]))


class Corpus:
    def __init__(self, folder: Path, assignment: str, limits=LIMITS, jobs: int = 2, order: int | None = None):
        """``jobs`` and ``order`` are those of the shared grading (see :meth:`grade`)."""
        self.folder, self.assignment, self.limits = Path(folder), assignment, tuple(limits)
        self.jobs, self.order = jobs, order
        self.expected = json.loads((self.folder / "expected.json").read_text())
        self.questions = [q.name for q in load(assignment).questions]
        self._graded = None

    def names(self, key: str | None = None) -> list[str]:
        return sorted(n for n, want in self.expected.items() if key is None or want.get(key))

    def grade(self, tmp_path_factory, jobs: int, order: int | None = None):
        """Grade the corpus through the CLI with ``jobs`` workers: the folder, or with ``order`` its notebooks one
        by one in an order shuffled by that seed. Returns (output folder, the finished CLI process, {file: CSV row})."""
        paths = [self.folder]
        if order is not None:
            paths = sorted(self.folder.rglob("*.ipynb"))
            random.Random(order).shuffle(paths)
        out = tmp_path_factory.mktemp(f"graded-{self.folder.parent.name}-{self.folder.name}-j{jobs}")
        done = autograder("grade", "--assignment", self.assignment, *paths, "-o", out, "-j", str(jobs), *self.limits)
        assert done.returncode == 0, done.stderr
        return out, done, {row["file"]: row for row in read_sheet(out / "final_grades.csv")}

    def graded(self, tmp_path_factory):
        """The shared grading, done on the first call."""
        if self._graded is None:
            self._graded = self.grade(tmp_path_factory, self.jobs, self.order)
        return self._graded

    def results(self, out: Path, name: str) -> dict:
        return json.loads((out / "results" / f"{Path(name).stem}.json").read_text())

    def problems(self, tmp_path_factory, name: str) -> list[str]:
        """How the grade of ``name`` differs from what ``expected.json`` says (empty when it does not)."""
        out, _, rows = self.graded(tmp_path_factory)
        want, row = self.expected[name], rows[name]
        problems = [f"{q}: got {row[q]}, expected {want['scores'][q]:g}" for q in self.questions
                    if abs(float(row[q]) - want["scores"][q]) > 1e-4]
        if row["grading_status"] != want["status"]:
            problems.append(f"status {row['grading_status']!r}, expected {want['status']!r}")
        outputs = {t["name"]: t["output"] for t in self.results(out, name)["tests"]}
        for question, phrases in want.get("says", {}).items():
            said = outputs.get(question, "").lower()
            if not any(phrase.lower() in said for phrase in ([phrases] if isinstance(phrases, str) else phrases)):
                problems.append(f"{question}'s feedback lacks {phrases!r}: {outputs.get(question, '')!r}")
        return problems
