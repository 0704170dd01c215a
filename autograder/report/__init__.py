"""What a grading leaves behind, written through here alone: per submission, as it finishes, ``results/<stem>.json``
(Gradescope's layout) and ``feedback/<stem>.md``; per batch, ``final_grades.csv`` and the summary."""

from __future__ import annotations

import os

from autograder.homeworks import Homework
from autograder.intake import Submitter
from autograder.judging.results import SubmissionResult
from autograder.report import feedback, gradescope, sheet, summary


def submission(out: str, stem: str, result: SubmissionResult) -> None:
    write_atomically(os.path.join(out, "results", stem + ".json"), gradescope.results_text(result))
    feedback.write(os.path.join(out, "feedback"), stem, result)


def batch(out: str, homework: Homework, results: list[SubmissionResult], submitters: list[Submitter]) -> str:
    """The grade sheet and the summary of a whole batch; returns the summary's text."""
    sheet.write(os.path.join(out, "final_grades.csv"), homework, results, submitters)
    return summary.write(out, homework, results)


def write_atomically(path: str, text: str) -> None:
    """Write beside ``path``, then rename: an interrupted write never leaves half a file under its name."""
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(partial, path)
