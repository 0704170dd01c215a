"""``final_grades.csv`` in the layout of ``otter grade``: a points-per-question row, then one row a file.

One column more than otter's: ``isolation``, how the notebook's code was contained.
"""

from __future__ import annotations

import csv

from autograder.grading.results import SubmissionResult
from autograder.homeworks import Homework


def columns(homework: Homework) -> list[str]:
    return ["file", *(q.name for q in homework.questions), "total_points_earned", "percent_correct", "grading_status", "isolation"]


def write(path: str, homework: Homework, results: list[SubmissionResult]) -> None:
    possible = sum(q.points for q in homework.questions)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns(homework))
        writer.writerow(["points-per-question", *(_num(q.points) for q in homework.questions), _num(possible), 1, "--", "--"])
        for r in results:
            scores = r.scores()
            writer.writerow([r.file, *(_num(scores[q.name]) for q in homework.questions), _num(r.total),
                             round(r.total / possible, 4), r.status, r.isolation])


def _num(x: float) -> str:
    return f"{x:g}"
