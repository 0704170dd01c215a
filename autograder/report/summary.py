"""The class at a glance: statistics of the totals and of each question, and a histogram of the totals.

Written into the output folder as ``summary.txt`` (what ``grade`` prints), ``summary.json``
(the same figures for scripts) and ``histogram.png``.
"""

from __future__ import annotations

import json
import os
import statistics

from autograder.homeworks import Homework
from autograder.judging.results import SubmissionResult


def figures(homework: Homework, results: list[SubmissionResult]) -> dict:
    totals = [r.total for r in results]
    possible = sum(q.points for q in homework.questions)
    questions = {}
    for q in homework.questions:
        scores = [r.scores().get(q.name, 0.0) for r in results]
        mean = statistics.fmean(scores) if scores else 0.0
        questions[q.name] = {"points": q.points, "mean": round(mean, 4), "percent": _percent(mean, q.points)}
    return {
        "assignment": homework.name,
        "submissions": len(results),
        "not_graded": sum(1 for r in results if r.status.startswith("Not graded")),
        "possible": possible,
        "mean": round(statistics.fmean(totals), 4) if totals else 0.0,
        "median": round(statistics.median(totals), 4) if totals else 0.0,
        "min": min(totals, default=0.0),
        "max": max(totals, default=0.0),
        "questions": questions,
    }


def text(summary: dict) -> str:
    p = summary["possible"]
    lines = [
        f"{summary['assignment']}: {summary['submissions']} submission(s), {summary['not_graded']} not graded (counted as 0)",
        f"total out of {p:g}: mean {summary['mean']:.4g} ({_percent(summary['mean'], p):.1f}%), "
        f"median {summary['median']:.4g}, min {summary['min']:.4g}, max {summary['max']:.4g}",
        "per question: average / points (percent of full marks)",
    ]
    lines += [f"  {name:>4}: {q['mean']:6.3g} / {q['points']:<4g} ({q['percent']:5.1f}%)" for name, q in summary["questions"].items()]
    return "\n".join(lines)


def write(out: str, homework: Homework, results: list[SubmissionResult]) -> str:
    """Write summary.txt, summary.json and histogram.png into ``out``; return the text."""
    summary = figures(homework, results)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write(text(summary) + "\n")
    histogram(os.path.join(out, "histogram.png"), homework.name, [r.total for r in results], summary["possible"])
    return text(summary)


def histogram(path: str, title: str, totals: list[float], possible: float) -> None:
    from matplotlib.figure import Figure  # a bare Figure renders with Agg and never opens a window
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(7, 4), dpi=100)
    axes = figure.subplots()
    axes.hist(totals, bins=20, range=(0, possible), color="#4c72b0", edgecolor="white")
    axes.set(title=f"{title}: totals of {len(totals)} submission(s)", xlabel=f"total points (out of {possible:g})",
             ylabel="submissions", xlim=(0, possible))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    figure.savefig(path)


def _percent(x: float, of: float) -> float:
    return round(100 * x / of, 1) if of else 0.0
