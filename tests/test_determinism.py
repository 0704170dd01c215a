"""Grades never depend on luck: nothing in the grading process draws from a random generator that the
worker threads of a batch share.

Every ``python -m autograder`` the tests start loads ``guards/sitecustomize.py``, which fails the command when
grading used torch's, numpy's or Python's global generator; these tests show that the guard itself can fail.
(That a whole corpus graded with other worker counts and orders gets the same grades is in ``test_examples.py``.)
"""

import gc
import random
import subprocess
import sys
import threading
import time

import pytest
import torch
from conftest import cli_env

from autograder.grading import syntax
from autograder.homeworks import load
from autograder.homeworks.hw2 import reference as ref
from autograder.sandbox.codec import TensorInfo
from autograder.sandbox.protocol import Reply


@pytest.mark.parametrize("draw, name", [
    ("import torch; torch.randn(1)", "torch's default generator"),
    ("import torch; torch.manual_seed(0)", "torch's default generator"),
    ("import numpy; numpy.random.rand()", "numpy.random"),
    ("import random; random.random()", "Python's random"),
])
def test_the_guard_fails_a_process_that_uses_a_global_generator(draw, name):
    done = subprocess.run([sys.executable, "-c", draw], env=cli_env(), capture_output=True, text=True)
    assert done.returncode == 70 and name in done.stderr


def test_the_guard_lets_a_process_with_generators_of_its_own_pass():
    own = "import torch, numpy, random; torch.randn(1, generator=torch.Generator()); numpy.random.default_rng(0).random(); random.Random(0).random()"
    done = subprocess.run([sys.executable, "-c", own], env=cli_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_hw2_q5_is_judged_alike_while_other_threads_plan_q10():
    """The race a batch had: q5's expected weights came from torch's global generator while another worker's
    q10 re-seeded it, so a right answer was marked wrong at random."""
    homework = load("hw2")
    q5, q10 = (next(q for q in homework.questions if q.name == name) for name in ("q5", "q10"))
    plan = q5.plan(homework.rng("q5"))
    right = []
    for request in plan.requests:
        weights = ref.leaf_init(*request.args)
        right.append(Reply("ok", value=weights, infos={id(t): TensorInfo(True, True, "cpu") for t in weights}))
    stop = threading.Event()

    def plan_q10():
        while not stop.is_set():
            q10.plan(random.Random(homework.rng("q10").random()))
            torch.randn(3)  # and a worker's own draws, as student-side code in the grader would make

    others = [threading.Thread(target=plan_q10) for _ in range(3)]
    for thread in others:
        thread.start()
    try:
        wrong = sum(not all(c.passed for c in q5.plan(homework.rng("q5")).judge(right)) for _ in range(100))
    finally:
        stop.set()
        for thread in others:
            thread.join()
    assert wrong == 0


class _Garbage:
    """A cycle whose collection runs Python code that lets another thread in, as the grading threads' garbage does
    (open files, processes, temporary folders): a thread switch in the middle of building a syntax tree."""

    def __init__(self):
        self.cycle = self

    def __del__(self):
        time.sleep(0)


def test_grading_threads_parsing_notebooks_at_once_do_not_trip_over_each_other():
    """One submission of hw2's corpus graded with -j 4 got "Grader error: SystemError: AST constructor recursion
    depth mismatch": CPython 3.11 keeps that depth per interpreter, not per thread (cpython gh-106905)."""
    cell = "\n".join(f"def f{i}(x):\n    return [(a, b) for a in range(x) for b in ({i}, x + {i}, [x, {{'k': x}}])]"
                     for i in range(200))
    failures = []

    def parse_again_and_again():
        for _ in range(30):
            for _ in range(5):
                _Garbage()
            try:
                syntax.parse(cell)
            except SystemError as e:
                failures.append(e)

    threshold = gc.get_threshold()
    gc.set_threshold(50, 1, 1)  # collections often, each a chance to switch threads
    try:
        threads = [threading.Thread(target=parse_again_and_again) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        gc.set_threshold(*threshold)
    assert failures == []
