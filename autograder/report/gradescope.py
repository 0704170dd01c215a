"""Gradescope's ``results.json``: one test entry per question with its score and its reasons, and the
whole report (without images) as the submission's output."""

from __future__ import annotations

from autograder.grading.results import QuestionResult, SubmissionResult
from autograder.report import feedback


def question_output(q: QuestionResult) -> str:
    lines = [f"{q.name}: {q.score:g} / {q.points:g}"]
    lines += [f"  {line}" for line in feedback.question_lines(q)]
    return "\n".join(lines)


def results_json(result: SubmissionResult, visibility: str = "after_published") -> dict:
    doc = {
        "score": result.total,
        "tests": [
            {"name": q.name, "score": q.score, "max_score": q.points, "visibility": visibility, "output": question_output(q)}
            for q in result.questions
        ],
        "output": output(result),
        "extra_data": {"isolation": result.isolation, "grading_status": result.status},
    }
    return doc


def output(result: SubmissionResult) -> str:
    """What Gradescope shows above the tests: the report, without the notebook's output (it may print hidden inputs)."""
    return feedback.markdown(result, log=False)
