"""Gradescope's ``results.json``: one test entry per question with its score and its reasons."""

from __future__ import annotations

from autograder.grading.results import QuestionResult, SubmissionResult


def question_output(q: QuestionResult) -> str:
    lines = [f"{q.name}: {q.score:g} / {q.points:g}"]
    lines += [f"  {check_line(c)}" for c in q.checks]
    return "\n".join(lines)


def check_line(c) -> str:
    """One check as a line: what passed (and its note), or why it failed."""
    points = f"({c.earned:.3g} / {c.points:.3g})"
    if c.passed:
        return f"✅ {c.name} {points}" + (f": {c.message}" if c.message else "")
    return f"❌ {c.message or c.name} {points}"


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
