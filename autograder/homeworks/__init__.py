"""The homeworks: for each question, what to ask the notebook and how to judge its answers."""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass
from typing import Callable

from autograder.grading.results import Check
from autograder.sandbox.protocol import Reply, Request

NAMES = ("hw1", "hw2")


@dataclass
class Plan:
    """The requests of one question, and the function that turns their replies into checks.

    Check points are weights; grading scales them to the question's points.
    """

    requests: list[Request]
    score: Callable[[list[Reply]], list[Check]]


@dataclass
class Question:
    name: str
    points: float
    plan: Callable[[random.Random], Plan]


@dataclass
class Homework:
    name: str
    questions: list[Question]
    seed: int

    def rng(self, question: str) -> random.Random:
        return random.Random(f"{self.seed}/{self.name}/{question}")

    def plans(self) -> list[tuple[Question, Plan]]:
        """Every question with its plan; the hidden inputs are the same for every submission of the homework."""
        return [(q, q.plan(self.rng(q.name))) for q in self.questions]

    def graded_names(self) -> set[str]:
        """The names in the notebook that the questions call."""
        return {name for _, plan in self.plans() for request in plan.requests for name in request.target.split(",")}


def load(name: str) -> Homework:
    if name not in NAMES:
        raise KeyError(f"unknown assignment {name!r} (known: {', '.join(NAMES)})")
    return importlib.import_module(f"autograder.homeworks.{name}").HOMEWORK
