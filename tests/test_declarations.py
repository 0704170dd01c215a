"""A question's declaration: its requests under keys, its replies read back under the same keys, and the rule for
manual gradients applied to every request marked manual, whatever the question's own checks say."""

import random

import pytest

from autograder.homeworks import Question
from autograder.judging.asking import NO_GRAPH
from autograder.judging.results import Check
from autograder.sandbox.protocol import Reply


def declaration(ask):
    ask.call("f", 1.0, key="first")
    ask.call("f", 2.0, key="second")
    ask.call("df", 2.0, manual=True)

    def score(r):
        return [Check(key, 1, r[key].value == want) for key, want in (("first", 1), ("second", 4), ("df", 4))]

    return score


def test_replies_are_read_under_the_keys_they_were_asked_by():
    plan = Question("q", 3, declaration).plan(random.Random(0))
    assert [(r.target, r.args) for r in plan.requests] == [("f", (1.0,)), ("f", (2.0,)), ("df", (2.0,))]
    assert plan.requests[2].options == {"inference": True} and plan.requests[0].options == {}
    checks = plan.judge([Reply("ok", value=1), Reply("ok", value=4), Reply("ok", value=4)])
    assert [(c.name, c.passed) for c in checks] == [("first", True), ("second", True), ("df", True)]
    with pytest.raises(ValueError):  # a reply missing is the grader's error, never a shifted reading
        plan.judge([Reply("ok", value=1), Reply("ok", value=4)])


def test_autograd_in_a_manual_request_scores_the_question_0_whatever_its_checks_say():
    plan = Question("q", 3, declaration).plan(random.Random(0))
    failed = Reply("error", error=f"RuntimeError: element 0 of tensors {NO_GRAPH}")
    (check,) = plan.judge([Reply("ok", value=1), Reply("ok", value=4), failed])
    assert check.name == "manual gradients" and not check.passed and "scores 0" in check.message


def test_two_requests_of_one_question_under_one_key_are_refused():
    def clash(ask):
        ask.call("f", 1.0)
        ask.call("f", 2.0)
        return lambda r: []

    with pytest.raises(ValueError, match="under the key 'f'"):
        Question("q", 1, clash).plan(random.Random(0))
