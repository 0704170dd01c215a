"""Grade one notebook: ask the child for every question's answers, then judge them here."""

from __future__ import annotations

import dataclasses
import os
import time

import torch

from autograder.data.mnist import ensure_mnist
from autograder.grading.notebook import SubmissionError, code_cells
from autograder.grading.results import Check, QuestionResult, SubmissionResult
from autograder.homeworks import Homework
from autograder.sandbox import runner
from autograder.sandbox.protocol import Limits


def grade(path: str, homework: Homework, limits: Limits = Limits(), name: str | None = None) -> SubmissionResult:
    started = time.monotonic()
    # One thread for the grader's own sums (references, gradcheck), as for the child's: a grade must not
    # depend on the worker count or the machine's cores, and workers must not oversubscribe them.
    torch.set_num_threads(1)
    name = name or os.path.basename(path)
    try:
        cells = code_cells(path)
    except SubmissionError as e:
        return ungraded(name, homework, str(e))
    plans = [(q, q.plan(homework.rng(q.name))) for q in homework.questions]
    requests = []
    for question, plan in plans:
        for request in plan.requests:
            request.group = question.name
            requests.append(request)
    execution = runner.run(cells, requests, limits, data_dir=ensure_mnist())
    questions, offset = [], 0
    for question, plan in plans:
        replies = execution.replies[offset: offset + len(plan.requests)]
        offset += len(plan.requests)
        questions.append(QuestionResult(question.name, question.points, _scaled(plan.score(replies), question.points)))
    return SubmissionResult(name, homework.name, questions, notes=execution.notes, log=execution.log,
                            isolation=execution.isolation, seconds=time.monotonic() - started,
                            cpu_seconds=execution.cpu_seconds)


def _scaled(checks: list[Check], points: float) -> list[Check]:
    """Checks carry weights; a question's checks share its points in proportion to them."""
    total = sum(c.points for c in checks)
    return [dataclasses.replace(c, points=points * c.points / total) for c in checks]


def ungraded(name: str, homework: Homework, reason: str) -> SubmissionResult:
    questions = [QuestionResult(q.name, q.points, [Check("submission", q.points, False, reason)]) for q in homework.questions]
    return SubmissionResult(name, homework.name, questions, status=f"Not graded: {reason}")
