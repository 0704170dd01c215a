"""``final_grades.csv`` in the layout of ``otter grade``: a points-per-question row, then one row a file.

Columns after otter's: ``isolation``, how the notebook's code was contained, then who submitted
it as far as the input says (a Gradescope export names the student; a bare notebook does not).
Text a submission supplied is neutralised for spreadsheets (see :mod:`.safe`); scores stay numbers.
"""

from __future__ import annotations

import csv

from autograder.homeworks import Homework
from autograder.intake import Submitter
from autograder.judging.results import SubmissionResult
from autograder.report import safe

SUBMITTER_COLUMNS = ["student", "email", "student_id", "submission_id"]


def columns(homework: Homework) -> list[str]:
    return ["file", *(q.name for q in homework.questions), "total_points_earned", "percent_correct", "grading_status",
            "isolation", *SUBMITTER_COLUMNS]


def write(path: str, homework: Homework, results: list[SubmissionResult], submitters: list[Submitter]) -> None:
    possible = sum(q.points for q in homework.questions)
    text = safe.for_sheet  # a field a submission named (file, status, who) never reads as a formula
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns(homework))
        writer.writerow(["points-per-question", *(_num(q.points) for q in homework.questions), _num(possible), 1, "--", "--",
                         *[""] * len(SUBMITTER_COLUMNS)])
        for r, who in zip(results, submitters, strict=True):
            scores = r.scores()
            writer.writerow([text(r.file), *(_num(scores[q.name]) for q in homework.questions), _num(r.total),
                             round(r.total / possible, 4), text(r.status), text(r.isolation),
                             *map(text, (who.name, who.email, who.student_id, who.submission_id))])


def _num(x: float) -> str:
    return f"{x:g}"
