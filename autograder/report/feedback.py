"""The report for one student: the score of each question, every reason, and for the training
questions the student's curves drawn beside the reference's.

``write`` puts ``<stem>.md`` and one ``<stem>-<question>.png`` per question with curves into the
feedback folder. The same text without images (and without the notebook's output, which could
show hidden inputs printed by the student's code) is what Gradescope displays.
"""

from __future__ import annotations

import math
import os

from matplotlib.figure import Figure

from autograder.judging.results import Check, QuestionResult, SubmissionResult
from autograder.report import safe

# Each row of a question's figure: one axis per quantity, the train and validation lines on it.
PANELS = (("loss", ("train_loss", "val_loss")), ("accuracy", ("train_acc", "val_acc")))
COLORS = {"train": "tab:blue", "val": "tab:orange"}


def write(folder: str, stem: str, result: SubmissionResult) -> None:
    images = {}
    for q in result.questions:
        curved = [c for c in q.checks if c.curves]
        if curved:
            images[q.name] = f"{stem}-{q.name}.png"
            draw(curved, os.path.join(folder, images[q.name]))
    with open(os.path.join(folder, stem + ".md"), "w", encoding="utf-8") as f:
        f.write(markdown(result, images))


def markdown(result: SubmissionResult, images: dict[str, str] | None = None, log: bool = True) -> str:
    """The report; ``images`` maps a question to its figure's file name (relative to the report).

    Every line of text is escaped (it may quote the student's names, errors or output), the notebook's output
    sits in a code block it cannot close: only the report's own structure is Markdown."""
    images = images or {}
    md = safe.for_markdown
    out = [f"# {result.assignment} feedback: {md(result.file)}", "",
           f"**Score: {result.total:g} / {result.possible:g}**  ", f"Status: {md(result.status)}  "]
    out += [f"Isolation: {md(result.isolation)}", ""] if result.isolation else [""]
    if result.notes:
        out += ["While running the notebook:", *[f"- {md(n)}" for n in result.notes], ""]
    out += ["| question | score | points |", "|---|---|---|"]
    out += [f"| {q.name} | {q.score:g} | {q.points:g} |" for q in result.questions]
    for q in result.questions:
        out += ["", f"## {q.name}: {q.score:g} / {q.points:g}", ""]
        out += [f"- {md(line)}" for line in question_lines(q)]
        if q.name in images:
            out += ["", f"![{q.name}: your training curves (solid) and the reference's (dashed)]({images[q.name]})"]
        elif any(c.curves for c in q.checks):
            out += ["", "(The plot of these curves is in the feedback folder of the grading output.)"]
    if log and result.log.strip():
        tail = safe.for_file(_log_tail(result.log.strip()))
        fence = safe.fence(tail)
        out += ["", "## Output of your notebook while grading (last part)", "", fence, tail, fence]
    return safe.for_file("\n".join(out) + "\n")


def question_lines(q: QuestionResult) -> list[str]:
    """Every check of the question, then a summary of each set of training curves."""
    return [check_line(c) for c in q.checks] + [curves_line(c) for c in q.checks if c.curves]


def check_line(c: Check) -> str:
    """One check as a line: what passed (and its note), or why it failed."""
    points = f"({c.earned:.3g} / {c.points:.3g})"
    if c.passed:
        return f"✅ {c.name} {points}" + (f": {c.message}" if c.message else "")
    return f"❌ {c.message or c.name} {points}"


def curves_line(c: Check) -> str:
    """The last logged values of the student's metrics beside the reference's."""
    student, reference = c.curves["student"], c.curves["reference"]
    values = [f"{key.replace('_', ' ')} {_value(key, student[key][-1])} (reference {_value(key, reference[key][-1])})"
              for _, keys in PANELS for key in keys if key in student and student[key]]
    steps = f"{len(student['iterations'])} logged steps (reference {len(reference['iterations'])})"
    return f"{c.name} curves, last logged values: " + (", ".join(values) or "none") + f"; {steps}"


def _value(key: str, v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    return f"{100 * v:.1f}%" if key.endswith("_acc") else f"{v:.4g}"


def draw(checks: list[Check], path: str) -> None:
    """One row per check, loss on the left and accuracy on the right: the student's lines solid, the reference's dashed."""
    rows = len(checks)
    figure = Figure(figsize=(8, 3 * rows), dpi=80)
    # fixed margins: a layout engine would cost more than the drawing itself, for each student
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.25 / rows, top=1 - 0.2 / rows, wspace=0.25, hspace=0.45)
    axes = figure.subplots(rows, len(PANELS), squeeze=False)
    for row, c in zip(axes, checks):
        for ax, (quantity, keys) in zip(row, PANELS):
            for key in keys:
                split = key.split("_")[0]
                for whose, style in (("reference", "--"), ("student", "-")):
                    metrics = c.curves[whose]
                    if key in metrics:
                        ax.plot(metrics["iterations"], metrics[key], style, color=COLORS[split],
                                label=f"{'yours' if whose == 'student' else 'reference'} ({split})")
            ax.set_title(f"{c.name}: {quantity}", fontsize=9)
            ax.set_xlabel("step", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
    figure.savefig(path)


def _log_tail(log: str, keep: int = 4000) -> str:
    """The end of the output, saying how much was left out (the sandbox's own cap note included)."""
    if len(log) <= keep:
        return log
    return f"[output left out: only the last {keep} of {len(log)} characters are shown]\n" + log[-keep:]
