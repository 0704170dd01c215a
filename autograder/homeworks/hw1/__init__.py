"""hw1, autograd and linear models: what each question asks of the notebook and how it is judged.

The contract is ASSIGNMENTS.md; the standard is :mod:`.reference`. Inputs are drawn at grading
time from the homework's seed, at sizes other than the notebook's, in float32 and float64.
"""

from __future__ import annotations

import random

import torch

from autograder.grading import compare
from autograder.grading.compare import check
from autograder.grading.results import Check
from autograder.homeworks import Homework, Plan, Question
from autograder.homeworks.asking import (
    DTYPES, Asks, autograd_problem, trajectory_problem, is_number, manual_violation, randn, requires_grad, shape_of, short,
    tensor_problem, uniform,
)
from autograder.homeworks.hw1 import reference as ref
from autograder.homeworks.mnist import split, test_set

TRAIN_SECONDS = 120.0

# q11: the fixed split the accuracy bar was measured on, and the bar (reference accuracy minus 2 points).
Q11_SEED, Q11_SAMPLES, Q11_VAL = 1234, 4000, 1000
Q11_REFERENCE_ACCURACY = 0.88
Q11_BAR = round(Q11_REFERENCE_ACCURACY - 0.02, 3)


def q1(rng: random.Random) -> Plan:
    ask = Asks(rng)
    points = [(dtype, uniform(rng, rng.randint(5, 40), low=-3, high=3, dtype=dtype)) for dtype in DTYPES]
    grid = uniform(rng, rng.randint(2, 5), rng.randint(2, 6), low=-3, high=3)
    asked = [(x, ask.call("f", x), ask.call("df_manual", x), ask.call("df_autograd", x)) for _, x in points]
    f_grid, df_grid = ask.call("f", grid), ask.call("df_manual", grid)

    def score(r):
        manual = {i: "df_manual" for _, _, i, _ in asked} | {df_grid: "df_manual"}
        if violation := manual_violation(r, manual):
            return violation
        checks = []
        for x, i_f, i_df, i_auto in asked:
            at = f"at x of shape {shape_of(x)}"
            checks.append(check(f"f {short(x.dtype)}", 1, tensor_problem(r[i_f], ref.f(x.double()), x.dtype, f"f(x) {at}")))
            checks.append(check(f"df_manual {short(x.dtype)}", 1.5,
                                tensor_problem(r[i_df], ref.df(x.double()), x.dtype, f"df_manual(x) {at}")))
            what = f"df_autograd(x) {at}"
            checks.append(check(f"df_autograd {short(x.dtype)}", 2,
                                tensor_problem(r[i_auto], ref.df(x.double()), x.dtype, what) or autograd_problem(r[i_auto], what)))
        at = f"at x of shape {shape_of(grid)} (elementwise on a 2-D input)"
        checks.append(check("f elementwise", 0.5, tensor_problem(r[f_grid], ref.f(grid), grid.dtype, f"f(x) {at}")))
        problem = tensor_problem(r[df_grid], ref.df(grid), grid.dtype, f"df_manual(x) {at}")
        checks.append(check("df_manual gradcheck", 1.5, problem or compare.gradcheck_with(ref.f, (grid,), (r[df_grid].value,))))
        return checks

    return Plan(ask.requests, score)


def _regression_data(rng: random.Random, dtype):
    n, d = rng.randint(20, 80), rng.randint(2, 9)
    X = randn(rng, n, d, dtype=dtype)
    return X, randn(rng, n, dtype=dtype), randn(rng, d, dtype=dtype)


def q2(rng: random.Random) -> Plan:
    ask = Asks(rng)
    cases = [_regression_data(rng, dtype) for dtype in DTYPES]
    asked = [(c, ask.call("least_squares_loss", *c), ask.call("least_squares_grad", *c)) for c in cases]

    def score(r):
        if violation := manual_violation(r, {i: "least_squares_grad" for _, _, i in asked}):
            return violation
        checks = []
        for (X, y, w), i_loss, i_grad in asked:
            dtype, at = X.dtype, f"for X, y, w of shapes {shape_of(X, y, w)}"
            X64, y64, w64 = X.double(), y.double(), w.double()
            checks.append(check(f"loss {short(dtype)}", 1.5, tensor_problem(
                r[i_loss], ref.least_squares_loss(X64, y64, w64), dtype, f"least_squares_loss {at}")))
            problem = tensor_problem(r[i_grad], ref.least_squares_grad(X64, y64, w64), dtype, f"least_squares_grad {at}")
            if problem is None and dtype == torch.float64:
                problem = compare.gradcheck_with(lambda w_: ref.least_squares_loss(X64, y64, w_), (w64,), (r[i_grad].value,))
            checks.append(check(f"gradient {short(dtype)}", 3.5, problem))
        return checks

    return Plan(ask.requests, score)


def _logistic_data(rng: random.Random, dtype, extreme: bool):
    n, d = rng.randint(20, 80), rng.randint(2, 9)
    X, w = randn(rng, n, d), randn(rng, d)
    b = randn(rng, 1)
    y = (torch.rand(n, generator=torch.Generator().manual_seed(rng.randrange(2**31))) < 0.5).double()
    if extreme:  # every logit is +-1000: naive log(sigmoid) gives inf, BCELoss's clamp a wrong value
        b = torch.zeros(1, dtype=torch.float64)
        X = X * (1000.0 / (X @ w).abs()).unsqueeze(1)
    return X.to(dtype), y.to(dtype), w.to(dtype), b.to(dtype)


def q3(rng: random.Random) -> Plan:
    ask = Asks(rng)
    cases = [_logistic_data(rng, dtype, False) for dtype in DTYPES]
    extremes = [_logistic_data(rng, dtype, True) for dtype in DTYPES]
    asked = [(c, ask.call("logistic_loss", *c), ask.call("logistic_grad", *c)) for c in cases]
    asked_extreme = [(c, ask.call("logistic_loss", *c)) for c in extremes]

    def score(r):
        if violation := manual_violation(r, {i: "logistic_grad" for _, _, i in asked}):
            return violation
        checks = []
        for (X, y, w, b), i_loss, i_grad in asked:
            dtype, at = X.dtype, f"for X, y, w, b of shapes {shape_of(X, y, w, b)}"
            X64, y64, w64, b64 = (t.double() for t in (X, y, w, b))
            checks.append(check(f"loss {short(dtype)}", 1.5, tensor_problem(
                r[i_loss], ref.logistic_loss(X64, y64, w64, b64), dtype, f"logistic_loss {at}")))
            checks.append(check(f"gradient {short(dtype)}", 4, _logistic_grad_problem(r[i_grad], (X64, y64, w64, b64), dtype, at)))
        for (X, y, w, b), i_loss in asked_extreme:
            dtype = X.dtype
            what = f"logistic_loss at logits of +-1000 ({short(dtype)}, X of shape {tuple(X.shape)})"
            expected = ref.logistic_loss(*(t.double() for t in (X, y, w, b)))
            checks.append(check(f"loss at +-1000 {short(dtype)}", 1, tensor_problem(r[i_loss], expected, dtype, what)))
        return checks

    return Plan(ask.requests, score)


def _logistic_grad_problem(reply, point, dtype, at) -> str | None:
    what = f"logistic_grad {at}"
    if problem := compare.reply_problem(reply, what):
        return problem
    if not (isinstance(reply.value, tuple) and len(reply.value) == 2) and not (
            isinstance(reply.value, list) and len(reply.value) == 2):
        return f"{what} returned {type(reply.value).__name__}, expected the tuple (grad_w, grad_b)"
    X, y, w, b = point
    expected_w, expected_b = ref.logistic_grad(X, y, w, b)
    rtol, atol = compare.tolerances(dtype)
    got_w, got_b = reply.value
    problem = (compare.tensor_mismatch(got_w, expected_w, dtype, rtol, atol, f"grad_w {at}")
               or compare.tensor_mismatch(got_b, expected_b, dtype, rtol, atol, f"grad_b {at}"))
    if problem is None and dtype == torch.float64:
        problem = compare.gradcheck_with(lambda w_, b_: ref.logistic_loss(X, y, w_, b_), (w, b), (got_w, got_b))
    return problem


def _pitfall(name: str, expected, make_inputs, describe) -> Question:
    """q4-q7: a repaired snippet, judged on fresh inputs of other sizes; it must still use autograd."""

    def plan(rng: random.Random) -> Plan:
        ask = Asks(rng)
        cases = [make_inputs(rng, dtype) for dtype in DTYPES for _ in range(2)]
        asked = [(args, ask.call(name, *args)) for args in cases]

        def score(r):
            checks = []
            for args, i in asked:
                what = f"{name}({describe(args)})"
                dtype = args[0].dtype
                problem = tensor_problem(r[i], expected(*[a.double() if isinstance(a, torch.Tensor) else a for a in args]), dtype, what)
                checks.append(check(what, 1, problem or autograd_problem(r[i], what)))
            return checks

        return Plan(ask.requests, score)

    return plan


def _some_shape(rng: random.Random) -> tuple[int, ...]:
    return rng.choice([(rng.randint(2, 30),), (rng.randint(2, 6), rng.randint(2, 6))])


def _x(rng, dtype):
    return (randn(rng, *_some_shape(rng), dtype=dtype),)


def _x_steps(rng, dtype):
    return randn(rng, *_some_shape(rng), dtype=dtype), rng.randint(2, 6)


def _sigmoid_square_grad(x):
    s = torch.sigmoid(x)
    return 2 * (s + 1) * s * (1 - s)


def _describe_x(args) -> str:
    return f"x of shape {shape_of(args[0])}"


q4 = _pitfall("fix_detach", lambda x: torch.full_like(x, 6.0), _x, _describe_x)
q5 = _pitfall("fix_inplace", _sigmoid_square_grad, _x, _describe_x)
q6 = _pitfall("fix_accumulation", lambda x, n: torch.stack([2 * x] * n), _x_steps,
              lambda a: f"x of shape {shape_of(a[0])}, n_steps={a[1]}")
q7 = _pitfall("fix_vector_backward", lambda x: 2 * x, _x, _describe_x)

# What the lecture's five snippets really do under the pinned torch (tests/test_hw1_pytorch_claims.py runs them).
Q8_TRUTH = {"s1": 2.0, "s2": "error", "s3": "none", "s4": 6.0, "s5": "error"}


def _prediction(value):
    """A prediction as a comparable value: a float, "error", "none", or None when it is not a prediction."""
    if value is None:
        return "none"
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if is_number(value):
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            return float(text)
        except ValueError:
            return text if text in ("error", "none") else None
    return None


def q8(rng: random.Random) -> Plan:
    ask = Asks(rng)
    i = ask.value("predictions")

    def score(r):
        reply = r[i]
        if problem := compare.reply_problem(reply, "predictions"):
            return [Check("predictions", 1, False, problem)]
        if not isinstance(reply.value, dict):
            return [Check("predictions", 1, False, f"predictions is a {type(reply.value).__name__}, expected a dict with keys s1 to s5")]
        checks = []
        for key, truth in Q8_TRUTH.items():
            got = _prediction(reply.value.get(key)) if key in reply.value else None
            if key not in reply.value:
                message = f"predictions has no key {key!r}"
            elif got is None:
                message = f"predictions[{key!r}] is not \"error\", \"none\" or a number"
            else:
                message = f"predictions[{key!r}] does not match what the snippet does: run it and look"
            ok = got == truth
            checks.append(Check(key, 1, ok, "" if ok else message))
        return checks

    return Plan(ask.requests, score)


def q9(rng: random.Random) -> Plan:
    ask = Asks(rng)
    calls = [(rng.randint(300, 900), rng.randint(50, 200), rng.randrange(10**6)), (5000, rng.randint(300, 600), rng.randrange(10**6))]
    asked = [(c, ask.call("load_mnist_odd_even", "data", *c, seconds=60)) for c in calls]

    def score(r):
        checks = []
        for (n, n_val, seed), i in asked:
            what = f"load_mnist_odd_even(root, n_samples={n}, n_val={n_val}, seed={seed})"
            checks.append(check(what, 1, _split_problem(r[i], split(n, n_val, seed), what)))
        return checks

    return Plan(ask.requests, score)


def _split_problem(reply, expected, what) -> str | None:
    if problem := compare.reply_problem(reply, what):
        return problem
    got = reply.value
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        return f"{what} returned {type(got).__name__}, expected (X_train, y_train, X_val, y_val)"
    for part, g, e in zip(("X_train", "y_train", "X_val", "y_val"), got, expected):
        if problem := compare.tensor_mismatch(g, e, torch.float32, 1e-5, 1e-6, f"{part} of {what}"):
            return problem
    return None


def q10(rng: random.Random) -> Plan:
    ask = Asks(rng)
    data = split(rng.randint(900, 1300), rng.randint(200, 300), rng.randrange(10**6))
    settings = {"alpha": rng.choice([0.02, 0.05, 0.1]), "n_steps": rng.randint(60, 120), "log_every": rng.choice([5, 10, 20])}
    manual = ask.call("train_logistic", *data, **settings, use_autograd=False, seconds=TRAIN_SECONDS)
    auto = ask.call("train_logistic", *data, **settings, use_autograd=True, seconds=TRAIN_SECONDS)

    def score(r):
        expected = ref.train_logistic(*data, **settings)
        where = (f"on the grader's split ({data[0].shape[0]} train, {data[2].shape[0]} val images; "
                 f"alpha={settings['alpha']}, n_steps={settings['n_steps']}, log_every={settings['log_every']})")
        checks = []
        for label, i, autograd in (("manual path", manual, False), ("autograd path", auto, True)):
            what = f"train_logistic(..., use_autograd={autograd}) {where}"
            reply = r[i]
            problem = compare.reply_problem(reply, what) or _returned_triple_problem(reply.value, what)
            if problem is None:
                ran = reply.observed.get("backward_calls", 0)
                if autograd and ran == 0:
                    problem = f"{what} ran no backward pass: with use_autograd=True the gradient must come from backward()"
                elif not autograd and ran > 0:
                    problem = f"{what} ran a backward pass: with use_autograd=False the step must use logistic_grad"
            metrics_problem = problem or trajectory_problem(reply.value[2], expected[2], data, what)
            checks.append(check(f"{label} trajectory", 8, metrics_problem))
            weights_problem = problem or _final_weights_problem(reply, expected, what)
            checks.append(check(f"{label} final w and b", 4, weights_problem))
        return checks

    return Plan(ask.requests, score)


def _returned_triple_problem(value, what) -> str | None:
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        return f"{what} returned {type(value).__name__}, expected the tuple (w, b, metrics)"
    if not isinstance(value[2], dict):
        return f"{what}: metrics is a {type(value[2]).__name__}, expected a dict"
    return None


def _final_weights_problem(reply, expected, what) -> str | None:
    w, b = reply.value[0], reply.value[1]
    for name, got, want in (("w", w, expected[0]), ("b", b, expected[1])):
        problem = compare.tensor_mismatch(got, want, torch.float32, 1e-3, 1e-5, f"the returned {name} of {what}")
        if problem:
            return problem
        info = reply.infos.get(id(got))
        if info and info.requires_grad:
            return f"the returned {name} of {what} requires grad: return it detached"
    return None


def q11(rng: random.Random) -> Plan:
    ask = Asks(rng)
    X_train, y_train, X_val, y_val = split(Q11_SAMPLES, Q11_VAL, Q11_SEED)
    i = ask.call("train_logistic", X_train, y_train, X_val, y_val, seconds=TRAIN_SECONDS)

    def score(r):
        what = f"train_logistic on the grader's split ({X_train.shape[0]} train, {X_val.shape[0]} val images, defaults)"
        reply = r[i]
        problem = compare.reply_problem(reply, what) or _returned_triple_problem(reply.value, what)
        if problem is None:
            w, b = reply.value[0], reply.value[1]
            if not (isinstance(w, torch.Tensor) and isinstance(b, torch.Tensor) and tuple(w.shape) == (784,) and tuple(b.shape) == (1,)):
                problem = f"{what} must return w of shape (784,) and b of shape (1,)"
            else:
                accuracy = ref.accuracy(*test_set(), w.detach().float(), b.detach().float())
                if accuracy < Q11_BAR:
                    problem = (f"accuracy on the 1,000 test images the function never saw: {accuracy:.1%}, "
                               f"below the bar of {Q11_BAR:.1%} (the reference reaches {Q11_REFERENCE_ACCURACY:.1%})")
                else:
                    return [Check("test accuracy", 1, True, f"accuracy on the 1,000 unseen test images: {accuracy:.1%} (bar {Q11_BAR:.1%})")]
        return [Check("test accuracy", 1, False, problem)]

    return Plan(ask.requests, score)


HOMEWORK = Homework("hw1", [
    Question("q1", 10, q1), Question("q2", 10, q2), Question("q3", 12, q3), Question("q4", 4, q4),
    Question("q5", 5, q5), Question("q6", 5, q6), Question("q7", 4, q7), Question("q8", 6, q8),
    Question("q9", 8, q9), Question("q10", 24, q10), Question("q11", 12, q11),
], seed=20261126)
