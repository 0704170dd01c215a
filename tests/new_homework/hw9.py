"""hw9, squares: the declarations of the smallest homework, two questions (the instructor's guide adds it to a copy
of the package as ``autograder/homeworks/hw9/__init__.py``)."""

from __future__ import annotations

from autograder.homeworks import Homework, Replies, Score
from autograder.judging.asking import DTYPES, Asks, shape_of, short, tensor_problem, uniform
from autograder.judging.compare import check
from autograder.judging.results import Check


def q1(ask: Asks) -> Score:
    xs = {dtype: uniform(ask.rng, ask.rng.randint(3, 20), low=-2, high=2, dtype=dtype) for dtype in DTYPES}
    for dtype, x in xs.items():
        ask.call("square", x, key=dtype)

    def score(r: Replies) -> list[Check]:
        return [check(f"square {short(dtype)}", 1, tensor_problem(r[dtype], x.double() ** 2, dtype, f"square(x) at x of shape {shape_of(x)}"))
                for dtype, x in xs.items()]

    return score


def q2(ask: Asks) -> Score:
    xs = {dtype: uniform(ask.rng, ask.rng.randint(3, 20), low=-2, high=2, dtype=dtype) for dtype in DTYPES}
    for dtype, x in xs.items():
        ask.call("dsquare", x, key=dtype, manual=True)

    def score(r: Replies) -> list[Check]:
        return [check(f"dsquare {short(dtype)}", 1, tensor_problem(r[dtype], 2 * x.double(), dtype, f"dsquare(x) at x of shape {shape_of(x)}"))
                for dtype, x in xs.items()]

    return score


HOMEWORK = Homework.declared("hw9", {"q1": q1, "q2": q2}, seed=9)
