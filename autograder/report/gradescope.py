"""Gradescope's ``results.json``: one test entry per question with its score and its reasons, and the
whole report (without images) as the submission's output.

The report is Markdown (``output_format: md``), every student string in it escaped; each question's
output is plain text (``output_format: text``), which Gradescope shows as it is.
"""

from __future__ import annotations

import json

from autograder.judging.results import QuestionResult, SubmissionResult
from autograder.report import feedback, safe


def question_output(q: QuestionResult) -> str:
    lines = [f"{q.name}: {q.score:g} / {q.points:g}"]
    lines += [f"  {safe.for_text(line)}" for line in feedback.question_lines(q)]
    return "\n".join(lines)


def results_json(result: SubmissionResult, visibility: str = "after_published") -> dict:
    return safe.in_json({
        "score": result.total,
        "output_format": "md",
        "tests": [
            {"name": q.name, "score": q.score, "max_score": q.points, "visibility": visibility,
             "output": question_output(q), "output_format": "text"}
            for q in result.questions
        ],
        "output": output(result),
        "extra_data": {"isolation": result.isolation, "grading_status": result.status},
    })


def results_text(result: SubmissionResult) -> str:
    return json.dumps(results_json(result), indent=2, ensure_ascii=False)


def output(result: SubmissionResult) -> str:
    """What Gradescope shows above the tests: the report, without the notebook's output (it may print hidden inputs)."""
    return feedback.markdown(result, log=False)
