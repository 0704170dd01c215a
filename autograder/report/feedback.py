"""A readable feedback file per student: the score of each question and every reason."""

from __future__ import annotations

from autograder.grading.results import SubmissionResult
from autograder.report.gradescope import check_line


def markdown(result: SubmissionResult) -> str:
    out = [f"# {result.assignment} feedback: {result.file}", "",
           f"**Score: {result.total:g} / {result.possible:g}**  ", f"Status: {result.status}  "]
    out += [f"Isolation: {result.isolation}", ""] if result.isolation else [""]
    if result.notes:
        out += ["While running the notebook:", *[f"- {n}" for n in result.notes], ""]
    out += ["| question | score | points |", "|---|---|---|"]
    out += [f"| {q.name} | {q.score:g} | {q.points:g} |" for q in result.questions]
    for q in result.questions:
        out += ["", f"## {q.name}: {q.score:g} / {q.points:g}", ""]
        out += [f"- {check_line(c)}" for c in q.checks]
    if result.log.strip():
        out += ["", "## Output of your notebook while grading (last part)", "", "```", result.log.strip()[-4000:], "```"]
    return "\n".join(out) + "\n"
