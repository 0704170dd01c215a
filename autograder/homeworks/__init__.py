"""The homeworks: for each question, what to ask the notebook and how to judge its answers."""

from __future__ import annotations

import importlib
import json
import os
import random
import re
from dataclasses import dataclass
from typing import Callable

from autograder.judging.results import Check
from autograder.sandbox.protocol import Reply, Request



def _discovered() -> tuple[str, ...]:
    """A homework is a folder of this package holding its declarations (``__init__.py``), named as its master is."""
    here = os.path.dirname(__file__)
    names = [n for n in os.listdir(here) if os.path.isfile(os.path.join(here, n, "__init__.py"))]
    return tuple(sorted(names, key=lambda n: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", n)]))


NAMES = _discovered()
POINTS = "points.json"  # beside a homework's declarations: its questions' points, written by ``build`` from its master


class NotBuilt(LookupError):
    """A homework whose points ``build`` has not written yet (one being added)."""


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
    data: Callable[[str], None] | None = None  # fills the folder ``data/`` beside the notebook with what it reads

    @classmethod
    def declared(cls, name: str, plans: dict[str, Callable[[random.Random], Plan]], seed: int,
                 data: Callable[[str], None] | None = None) -> Homework:
        """The homework whose questions are ``plans`` (name: plan, in order), each worth the points of its master."""
        path = os.path.join(os.path.dirname(__file__), name, POINTS)
        try:
            with open(path, encoding="utf-8") as f:
                points = json.load(f)
        except OSError as e:
            raise NotBuilt(f"{name} has no {POINTS} yet: run `python -m autograder build --assignment {name}` ({e})") from e
        if list(points) != list(plans):
            raise LookupError(f"{name}: its master's questions {list(points)} are not its declarations' {list(plans)}")
        return cls(name, [Question(q, points[q], plan) for q, plan in plans.items()], seed, data)

    def rng(self, question: str) -> random.Random:
        return random.Random(f"{self.seed}/{self.name}/{question}")

    def plans(self) -> list[tuple[Question, Plan]]:
        """Every question with its plan; the hidden inputs are the same for every submission of the homework."""
        return [(q, q.plan(self.rng(q.name))) for q in self.questions]

    def graded_names(self) -> set[str]:
        """The names in the notebook that the questions call."""
        return {name for _, plan in self.plans() for request in plan.requests for name in request.target.split(",")}


def load(name: str) -> Homework:
    """The homework ``name``; LookupError when there is none, or when its points were never built."""
    if name not in NAMES:
        raise KeyError(f"unknown assignment {name!r} (known: {', '.join(NAMES)})")
    return importlib.import_module(f"autograder.homeworks.{name}").HOMEWORK
