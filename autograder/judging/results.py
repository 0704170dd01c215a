"""What grading produces: checks with points and messages, grouped by question and submission."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Check:
    name: str
    points: float
    passed: bool
    message: str = ""
    # For a training check: {"student": metrics, "reference": metrics}, each a dict of equal-length
    # float lists keyed like asking.METRIC_KEYS (the student's holds only the keys that could be plotted).
    curves: dict | None = None

    @property
    def earned(self) -> float:
        return self.points if self.passed else 0.0


@dataclass
class QuestionResult:
    name: str
    points: float
    checks: list[Check]

    @property
    def score(self) -> float:
        return round(sum(c.earned for c in self.checks), 4)


@dataclass
class SubmissionResult:
    file: str
    assignment: str
    questions: list[QuestionResult]
    status: str = "Completed"
    notes: list[str] = field(default_factory=list)
    log: str = ""
    isolation: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # of the notebook's sandboxed processes (the grader's own work not included)

    @property
    def total(self) -> float:
        return round(sum(q.score for q in self.questions), 4)

    @property
    def possible(self) -> float:
        return sum(q.points for q in self.questions)

    def scores(self) -> dict[str, float]:
        return {q.name: q.score for q in self.questions}
