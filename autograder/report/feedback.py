"""A readable feedback file per student: the score of each question and every reason."""

from __future__ import annotations

from autograder.grading.results import SubmissionResult


def markdown(result: SubmissionResult) -> str:
    out = [f"# {result.assignment} feedback: {result.file}", "",
           f"**Score: {result.total:g} / {result.possible:g}**  ", f"Status: {result.status}", ""]
    if result.notes:
        out += ["While running the notebook:", *[f"- {n}" for n in result.notes], ""]
    out += ["| question | score | points |", "|---|---|---|"]
    out += [f"| {q.name} | {q.score:g} | {q.points:g} |" for q in result.questions]
    for q in result.questions:
        out += ["", f"## {q.name}: {q.score:g} / {q.points:g}", ""]
        for c in q.checks:
            mark = "✅" if c.passed else "❌"
            out.append(f"- {mark} {c.name} ({c.earned:.3g} / {c.points:.3g})" + (f": {c.message}" if c.message else ""))
    if result.log.strip():
        out += ["", "## Output of your notebook while grading (last part)", "", "```", result.log.strip()[-4000:], "```"]
    return "\n".join(out) + "\n"
