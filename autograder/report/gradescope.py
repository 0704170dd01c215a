"""Gradescope's ``results.json``: one test entry per question with its score and its reasons."""

from __future__ import annotations

from autograder.grading.results import QuestionResult, SubmissionResult


def question_output(q: QuestionResult) -> str:
    lines = [f"{q.name}: {q.score:g} / {q.points:g}"]
    for c in q.checks:
        mark = "passed" if c.passed else "failed"
        lines.append(f"  [{mark}] {c.name} ({c.earned:.3g} / {c.points:.3g})" + (f": {c.message}" if c.message else ""))
    return "\n".join(lines)


def results_json(result: SubmissionResult, visibility: str = "after_published") -> dict:
    doc = {
        "score": result.total,
        "tests": [
            {"name": q.name, "score": q.score, "max_score": q.points, "visibility": visibility, "output": question_output(q)}
            for q in result.questions
        ],
        "output": summary(result),
        "extra_data": {"isolation": result.isolation, "grading_status": result.status},
    }
    return doc


def summary(result: SubmissionResult) -> str:
    lines = [f"{result.assignment}: {result.total:g} / {result.possible:g}", f"status: {result.status}"]
    if result.isolation:
        lines.append(f"isolation: {result.isolation}")
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines)
