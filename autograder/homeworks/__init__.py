"""The homeworks: for each question, what to ask the notebook and how to judge its answers."""

from __future__ import annotations

import importlib
import json
import os
import random
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

from autograder.judging.asking import Asks, manual_violation
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


Replies = Mapping[Hashable, Reply]  # a question's replies, under the keys it asked them by
Score = Callable[[Replies], list[Check]]  # how a question judges its replies: checks whose points are weights


@dataclass
class Plan:
    """The requests of one question, under their keys, and how it judges their replies."""

    asked: dict[Hashable, Request]
    score: Score

    @property
    def requests(self) -> list[Request]:
        return list(self.asked.values())

    def judge(self, replies: Sequence[Reply]) -> list[Check]:
        """The checks of the replies to :attr:`requests`, in their order; grading scales the weights to the question's points.

        A question that asks for a manual gradient scores 0 when autograd computed it, whatever its checks say."""
        named = dict(zip(self.asked, replies, strict=True))
        manual = {key: request.target for key, request in self.asked.items() if request.options.get("inference")}
        return manual_violation(named, manual) or self.score(named)


@dataclass
class Question:
    """A question as its homework declares it: what it asks (drawing its hidden inputs from the rng of
    :class:`~autograder.judging.asking.Asks`) and, returned, how it judges the replies."""

    name: str
    points: float
    declaration: Callable[[Asks], Score]

    def plan(self, rng: random.Random) -> Plan:
        ask = Asks(rng)
        score = self.declaration(ask)
        return Plan(ask.asked, score)


@dataclass
class Homework:
    name: str
    questions: list[Question]
    seed: int
    data: Callable[[str], None] | None = None  # fills the folder ``data/`` beside the notebook with what it reads
    offline_data: Callable[[str], None] | None = None  # fills the student bundle's ``data/`` (see build/bundle.py)

    @classmethod
    def declared(cls, name: str, questions: dict[str, Callable[[Asks], Score]], seed: int,
                 data: Callable[[str], None] | None = None, offline_data: Callable[[str], None] | None = None) -> Homework:
        """The homework whose ``questions`` are declared in order (name: declaration), each worth the points of its master."""
        path = os.path.join(os.path.dirname(__file__), name, POINTS)
        try:
            with open(path, encoding="utf-8") as f:
                points = json.load(f)
        except OSError as e:
            raise NotBuilt(f"{name} has no {POINTS} yet: run `python -m autograder build --assignment {name}` ({e})") from e
        if list(points) != list(questions):
            raise LookupError(f"{name}: its master's questions {list(points)} are not its declarations' {list(questions)}")
        return cls(name, [Question(q, points[q], declaration) for q, declaration in questions.items()], seed, data, offline_data)

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
