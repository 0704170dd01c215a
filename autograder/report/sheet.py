"""``final_grades.csv`` in the layout of ``otter grade``: a points-per-question row, then one row a file.

Columns after otter's: ``isolation``, how the notebook's code was contained, then who submitted
it as far as the input says (a Gradescope export names the student; a bare notebook does not).
"""

from __future__ import annotations

import csv

from autograder.grading.results import SubmissionResult
from autograder.homeworks import Homework
from autograder.intake import Submitter

SUBMITTER_COLUMNS = ["student", "email", "student_id", "submission_id"]


def columns(homework: Homework) -> list[str]:
    return ["file", *(q.name for q in homework.questions), "total_points_earned", "percent_correct", "grading_status",
            "isolation", *SUBMITTER_COLUMNS]


def write(path: str, homework: Homework, results: list[SubmissionResult], submitters: list[Submitter]) -> None:
    possible = sum(q.points for q in homework.questions)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns(homework))
        writer.writerow(["points-per-question", *(_num(q.points) for q in homework.questions), _num(possible), 1, "--", "--",
                         *[""] * len(SUBMITTER_COLUMNS)])
        for r, who in zip(results, submitters, strict=True):
            scores = r.scores()
            writer.writerow([r.file, *(_num(scores[q.name]) for q in homework.questions), _num(r.total),
                             round(r.total / possible, 4), r.status, r.isolation,
                             who.name, who.email, who.student_id, who.submission_id])


def _num(x: float) -> str:
    return f"{x:g}"
