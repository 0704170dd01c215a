"""hw9, squares: the declarations of the smallest homework, two questions (the instructor's guide adds it to a copy
of the package as ``autograder/homeworks/hw9/__init__.py``)."""

from __future__ import annotations

import random

from autograder.homeworks import Homework, Plan
from autograder.judging.asking import DTYPES, Asks, shape_of, short, tensor_problem, uniform
from autograder.judging.compare import check


def q1(rng: random.Random) -> Plan:
    ask = Asks(rng)
    asked = [(x, ask.call("square", x)) for x in (uniform(rng, rng.randint(3, 20), low=-2, high=2, dtype=d) for d in DTYPES)]

    def score(r):
        return [check(f"square {short(x.dtype)}", 1, tensor_problem(r[i], x.double() ** 2, x.dtype, f"square(x) at x of shape {shape_of(x)}"))
                for x, i in asked]

    return Plan(ask.requests, score)


def q2(rng: random.Random) -> Plan:
    ask = Asks(rng)
    asked = [(x, ask.call("dsquare", x, manual=True)) for x in (uniform(rng, rng.randint(3, 20), low=-2, high=2, dtype=d) for d in DTYPES)]

    def score(r):
        return [check(f"dsquare {short(x.dtype)}", 1, tensor_problem(r[i], 2 * x.double(), x.dtype, f"dsquare(x) at x of shape {shape_of(x)}"))
                for x, i in asked]

    return Plan(ask.requests, score)


HOMEWORK = Homework.declared("hw9", {"q1": q1, "q2": q2}, seed=9)
