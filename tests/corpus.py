"""A corpus is a folder of submissions for one assignment with ``expected.json`` beside them.

``expected.json`` maps each file name to what grading must give it::

    {"about": "what the submission does", "status": "Completed",
     "scores": {"q1": 10, ...},                 # the exact score of every question
     "says": {"q3": "a phrase"},                # optional: words the question's feedback must contain
     "otter_run": true}                         # optional: also graded through ``otter run`` with the zip

The corpus is graded once, through the CLI as a TA types it, on first use.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from conftest import autograder

from autograder.homeworks import load


def read_sheet(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class Corpus:
    def __init__(self, folder: Path, assignment: str, limits=("--timeout", "120", "--call-timeout", "10")):
        self.folder, self.assignment, self.limits = Path(folder), assignment, tuple(limits)
        self.expected = json.loads((self.folder / "expected.json").read_text())
        self.questions = [q.name for q in load(assignment).questions]
        self._graded = None

    def names(self, key: str | None = None) -> list[str]:
        return sorted(n for n, want in self.expected.items() if key is None or want.get(key))

    def graded(self, tmp_path_factory):
        """(output folder, the finished CLI process, {file: CSV row}), graded on the first call."""
        if self._graded is None:
            out = tmp_path_factory.mktemp(f"graded-{self.folder.parent.name}-{self.folder.name}")
            done = autograder("grade", "--assignment", self.assignment, self.folder, "-o", out, "-j", "2", *self.limits)
            assert done.returncode == 0, done.stderr
            self._graded = out, done, {row["file"]: row for row in read_sheet(out / "final_grades.csv")}
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
        for question, phrase in want.get("says", {}).items():
            if phrase.lower() not in outputs.get(question, "").lower():
                problems.append(f"{question}'s feedback lacks {phrase!r}: {outputs.get(question, '')!r}")
        return problems
