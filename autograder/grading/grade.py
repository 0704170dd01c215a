"""Grade one notebook: ask the child for every question's answers, then judge them here."""

from __future__ import annotations

import ast
import dataclasses
import functools
import os
import time

import torch

from autograder.grading import syntax
from autograder.homeworks import NAMES, Homework, NotBuilt, load
from autograder.intake import notebook
from autograder.judging.results import Check, QuestionResult, SubmissionResult
from autograder.report.safe import one_line
from autograder.sandbox import isolation, runner
from autograder.sandbox.protocol import Limits

NOT_FROM_TEMPLATE = ("this notebook lacks the metadata of the notebook handed out (were its cells copied into a new "
                     "notebook?); it was graded all the same, by the names it defines")


def grade(path: str, homework: Homework, limits: Limits = Limits(), name: str | None = None,
          level: isolation.Isolation | None = None) -> SubmissionResult:
    """The result of ``path`` for ``homework``; its code runs at ``level`` (default: the strongest that works here)."""
    started = time.monotonic()
    # One thread for the grader's own sums (references, gradcheck), as for the child's: a grade must not
    # depend on the worker count or the machine's cores, and workers must not oversubscribe them.
    torch.set_num_threads(1)
    name = name or os.path.basename(path)
    try:
        submitted = notebook.read(path)
    except notebook.SubmissionError as e:
        return ungraded(name, homework, str(e))
    if other := _other_homework(submitted.cells, homework):
        return ungraded(name, homework, other)
    plans = homework.plans()
    requests = []
    for question, plan in plans:
        for request in plan.requests:
            request.group = question.name
            requests.append(request)
    execution = runner.run(submitted.cells, requests, limits, data=homework.data, level=level)
    questions, offset = [], 0
    for question, plan in plans:
        replies = execution.replies[offset: offset + len(plan.requests)]
        offset += len(plan.requests)
        questions.append(QuestionResult(question.name, question.points, _scaled(plan.judge(replies), question.points)))
    notes = ([] if submitted.from_template else [NOT_FROM_TEMPLATE]) + execution.notes
    return SubmissionResult(name, homework.name, questions, notes=notes, log=execution.log,
                            isolation=execution.isolation, seconds=time.monotonic() - started,
                            cpu_seconds=execution.cpu_seconds)


def _scaled(checks: list[Check], points: float) -> list[Check]:
    """Checks carry weights; a question's checks share its points in proportion to them."""
    total = sum(c.points for c in checks)
    return [dataclasses.replace(c, points=points * c.points / total) for c in checks]


def ungraded(name: str, homework: Homework, reason: str) -> SubmissionResult:
    questions = [QuestionResult(q.name, q.points, [Check("submission", q.points, False, reason)]) for q in homework.questions]
    return SubmissionResult(name, homework.name, questions, status=f"Not graded: {reason}")


def failed(name: str, homework: Homework, error: BaseException) -> SubmissionResult:
    """The result of a submission on which the grader itself failed: every question 0, and why."""
    what = one_line(f"{type(error).__name__}: {error}")
    reason = f"the grader failed on this submission ({what}); it is not graded: tell the course staff"
    questions = [QuestionResult(q.name, q.points, [Check("grader error", q.points, False, reason)]) for q in homework.questions]
    return SubmissionResult(name, homework.name, questions, status=f"Grader error: {what}")


def _other_homework(cells: list[str], homework: Homework) -> str:
    """Why the notebook is clearly another homework's (it defines most of that one's graded functions and hardly
    any of this one's), or ""."""
    defined = _defined_names(cells)
    mine = _graded_names(homework.name)
    for other in NAMES:
        try:
            theirs = _graded_names(other) - mine
        except NotBuilt:  # a homework being added
            continue
        found, ours = defined & theirs, defined & mine
        if other != homework.name and theirs and 2 * len(found) >= len(theirs) and 4 * len(ours) <= len(mine):
            shown = ", ".join(sorted(found)[:4])
            return (f"this is a {other} notebook (it defines {shown}, ..., {len(found)} of {other}'s {len(theirs)} "
                    f"graded functions, and {len(ours)} of {homework.name}'s {len(mine)}): submit it to {other}, "
                    f"or grade it with --assignment {other}")
    return ""


@functools.cache
def _graded_names(assignment: str) -> frozenset[str]:
    return frozenset(load(assignment).graded_names())


def _defined_names(cells: list[str]) -> set[str]:
    """The names the cells' top-level statements define, read without running anything (magics made Python first)."""
    from IPython.core.inputtransformer2 import TransformerManager

    transform = TransformerManager().transform_cell
    names: set[str] = set()
    for source in cells:
        try:
            tree = syntax.parse(transform(source))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names
