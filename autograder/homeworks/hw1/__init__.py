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
    DTYPES, TRAINING, Asks, autograd_problem, bce_mixups, known_trajectory, trajectory_check, trajectory_problem, is_number, manual_violation, randn, requires_grad, shape_of, short,
    tensor_problem, uniform,
)
from autograder.homeworks.hw1 import reference as ref
from autograder.homeworks.mnist import MNIST_MEAN, MNIST_STD, split, test_set

# q11: the fixed split the accuracy bar was measured on, and the bar (reference accuracy minus 2 points).
Q11_SEED, Q11_SAMPLES, Q11_VAL = 1234, 4000, 1000
Q11_REFERENCE_ACCURACY = 0.88
Q11_BAR = round(Q11_REFERENCE_ACCURACY - 0.02, 3)


def q1(rng: random.Random) -> Plan:
    ask = Asks(rng)
    points = [(dtype, uniform(rng, rng.randint(5, 40), low=-3, high=3, dtype=dtype)) for dtype in DTYPES]
    grid = uniform(rng, rng.randint(2, 5), rng.randint(2, 6), low=-3, high=3)
    asked = [(x, ask.call("f", x), ask.call("df_manual", x, manual=True), ask.call("df_autograd", x)) for _, x in points]
    f_grid, df_grid = ask.call("f", grid), ask.call("df_manual", grid, manual=True)
    # df_autograd must differentiate f, whatever f is: for this call the grader puts a polynomial of its own in its place
    coefficients = [round(rng.uniform(-2, 2), 3) for _ in range(5)]
    x_other = uniform(rng, rng.randint(5, 30), low=-2, high=2)
    follows = ask.call("df_autograd", x_other, substitute={"f": ["polynomial", coefficients]})

    def score(r):
        manual = {i: "df_manual" for _, _, i, _ in asked} | {df_grid: "df_manual"}
        if violation := manual_violation(r, manual):
            return violation
        checks = []
        for x, i_f, i_df, i_auto in asked:
            at = f"at x of shape {shape_of(x)}"
            checks.append(check(f"f {short(x.dtype)}", 1, tensor_problem(r[i_f], ref.f(x.double()), x.dtype, f"f(x) {at}")))
            checks.append(check(f"df_manual {short(x.dtype)}", 1.5,
                                tensor_problem(r[i_df], ref.df(x.double()), x.dtype, f"df_manual(x) {at}", known=_derivative_mixups(x))))
            what = f"df_autograd(x) {at}"
            checks.append(check(f"df_autograd {short(x.dtype)}", 2, tensor_problem(
                r[i_auto], ref.df(x.double()), x.dtype, what, known=_derivative_mixups(x)) or autograd_problem(r[i_auto], what)))
        at = f"at x of shape {shape_of(grid)} (elementwise on a 2-D input)"
        checks.append(check("f elementwise", 0.5, tensor_problem(r[f_grid], ref.f(grid), grid.dtype, f"f(x) {at}")))
        problem = tensor_problem(r[df_grid], ref.df(grid), grid.dtype, f"df_manual(x) {at}", known=_derivative_mixups(grid))
        checks.append(check("df_manual gradcheck", 1.5, problem or compare.gradcheck_with(ref.f, (grid,), (r[df_grid].value,))))
        what = f"df_autograd(x) at x of shape {shape_of(x_other)}, with f replaced by a polynomial of the grader's"
        derivative = sum(k * c * x_other**(k - 1) for k, c in enumerate(coefficients) if k)
        checks.append(check("df_autograd follows f", 2, tensor_problem(r[follows], derivative, x_other.dtype, what, known=[
            (ref.df(x_other), "it is the derivative of x**3 - 3x, not of f: for this call the grader replaced f by another "
                              "function, which a gradient through autograd follows; call f inside df_autograd")])))
        return checks

    return Plan(ask.requests, score)


def _derivative_mixups(x) -> list:
    x = x.double()
    return [(ref.f(x), "it is f(x) itself, not its derivative"),
            (3 * x**2, "the derivative of -3x (the constant -3) is missing"),
            (x**2 - 3, "the power rule's factor 3 is missing: d/dx x**3 = 3 x**2")]


def _regression_data(rng: random.Random, dtype):
    n, d = rng.randint(20, 80), rng.randint(2, 9)
    X = randn(rng, n, d, dtype=dtype)
    return X, randn(rng, n, dtype=dtype), randn(rng, d, dtype=dtype)


def q2(rng: random.Random) -> Plan:
    ask = Asks(rng)
    cases = [_regression_data(rng, dtype) for dtype in DTYPES]
    asked = [(c, ask.call("least_squares_loss", *c), ask.call("least_squares_grad", *c, manual=True)) for c in cases]

    def score(r):
        if violation := manual_violation(r, {i: "least_squares_grad" for _, _, i in asked}):
            return violation
        checks = []
        for (X, y, w), i_loss, i_grad in asked:
            dtype, at = X.dtype, f"for X, y, w of shapes {shape_of(X, y, w)}"
            X64, y64, w64 = X.double(), y.double(), w.double()
            loss = ref.least_squares_loss(X64, y64, w64)
            checks.append(check(f"loss {short(dtype)}", 1.5, tensor_problem(
                r[i_loss], loss, dtype, f"least_squares_loss {at}", known=[
                    (2 * loss, "it is twice the expected value: the 0.5 in front of the mean is missing"),
                    (loss * X.shape[0], f"it is n = {X.shape[0]} times the expected value: a sum where the mean belongs")])))
            problem = tensor_problem(r[i_grad], ref.least_squares_grad(X64, y64, w64), dtype, f"least_squares_grad {at}",
                                     n=X.shape[0])
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
    asked = [(c, ask.call("logistic_loss", *c), ask.call("logistic_grad", *c, manual=True)) for c in cases]
    asked_extreme = [(c, ask.call("logistic_loss", *c)) for c in extremes]

    def score(r):
        if violation := manual_violation(r, {i: "logistic_grad" for _, _, i in asked}):
            return violation
        checks = []
        for (X, y, w, b), i_loss, i_grad in asked:
            dtype, at = X.dtype, f"for X, y, w, b of shapes {shape_of(X, y, w, b)}"
            X64, y64, w64, b64 = (t.double() for t in (X, y, w, b))
            checks.append(check(f"loss {short(dtype)}", 1.5, tensor_problem(
                r[i_loss], ref.logistic_loss(X64, y64, w64, b64), dtype, f"logistic_loss {at}",
                known=bce_mixups(X64 @ w64 + b64, y64))))
            checks.append(check(f"gradient {short(dtype)}", 4, _logistic_grad_problem(r[i_grad], (X64, y64, w64, b64), dtype, at)))
        for (X, y, w, b), i_loss in asked_extreme:
            dtype = X.dtype
            what = f"logistic_loss at logits of +-1000 ({short(dtype)}, X of shape {tuple(X.shape)})"
            X64, y64, w64, b64 = (t.double() for t in (X, y, w, b))
            checks.append(check(f"loss at +-1000 {short(dtype)}", 1, tensor_problem(
                r[i_loss], ref.logistic_loss(X64, y64, w64, b64), dtype, what, known=bce_mixups(X64 @ w64 + b64, y64))))
        return checks

    return Plan(ask.requests, score)


def _logistic_grad_mixups(X, y, w, b) -> tuple[list, list]:
    """Wrong (grad_w, grad_b) pairs: sigmoid'(z) = s(1 - s) where the loss's derivative s - y belongs; a sum for b."""
    n, s = X.shape[0], torch.sigmoid(X @ w + b)
    derivative = ("it equals the gradient with sigmoid'(z) = s(1 - s) in place of s - y: that is the sigmoid's "
                  "derivative, not the loss's (for the cross-entropy the s(1 - s) cancels, leaving s - y)")
    squared = ("it equals the gradient of the squared error through the sigmoid, (s - y) s(1 - s): for the "
               "cross-entropy the s(1 - s) cancels, leaving s - y")
    known_w = [(X.T @ (s * (1 - s)) / n, derivative), (X.T @ ((s - y) * s * (1 - s)) / n, squared)]
    known_b = [((s * (1 - s)).mean().reshape(1), derivative), (((s - y) * s * (1 - s)).mean().reshape(1), squared),
               ((s - y).sum().reshape(1), f"it is n = {n} times the expected value: a sum where the mean belongs"),
               (torch.zeros(1, dtype=X.dtype), "grad_b is all zeros: the bias gradient is missing (it is mean(s - y))")]
    return known_w, known_b


def _logistic_grad_problem(reply, point, dtype, at) -> str | None:
    what = f"logistic_grad {at}"
    if problem := compare.reply_problem(reply, what):
        return problem
    if isinstance(reply.value, torch.Tensor):
        return f"{what} returned one tensor, expected the tuple (grad_w, grad_b): the bias gradient grad_b is missing"
    if not (isinstance(reply.value, tuple) and len(reply.value) == 2) and not (
            isinstance(reply.value, list) and len(reply.value) == 2):
        return f"{what} returned {type(reply.value).__name__}, expected the tuple (grad_w, grad_b)"
    X, y, w, b = point
    expected_w, expected_b = ref.logistic_grad(X, y, w, b)
    known_w, known_b = _logistic_grad_mixups(X, y, w, b)
    rtol, atol = compare.tolerances(dtype)
    got_w, got_b = reply.value
    problem = compare.tensor_mismatch(got_w, expected_w, dtype, rtol, atol, f"grad_w {at}", X.shape[0], known_w)
    if problem is None and (problem := compare.tensor_mismatch(got_b, expected_b, dtype, rtol, atol, f"grad_b {at}", X.shape[0], known_b)):
        problem += " (grad_w is right: only the bias gradient is wrong)"
    if problem is None and dtype == torch.float64:
        problem = compare.gradcheck_with(lambda w_, b_: ref.logistic_loss(X, y, w_, b_), (w, b), (got_w, got_b))
    return problem


def _pitfall(name: str, expected, make_inputs, describe, mixups=lambda *args: []) -> Question:
    """q4-q7: a repaired snippet, judged on fresh inputs of other sizes; it must still use autograd.

    ``mixups`` gives the known wrong answers for the same (float64) inputs.
    """

    def plan(rng: random.Random) -> Plan:
        ask = Asks(rng)
        cases = [make_inputs(rng, dtype) for dtype in DTYPES for _ in range(2)]
        asked = [(args, ask.call(name, *args)) for args in cases]

        def score(r):
            checks = []
            for args, i in asked:
                what = f"{name}({describe(args)})"
                dtype = args[0].dtype
                point = [a.double() if isinstance(a, torch.Tensor) else a for a in args]
                problem = tensor_problem(r[i], expected(*point), dtype, what, known=mixups(*point))
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
              lambda a: f"x of shape {shape_of(a[0])}, n_steps={a[1]}",
              lambda x, n: [(torch.stack([2 * (k + 1) * x for k in range(n)]),
                             "row k is k + 1 times 2x: the gradients accumulate across the backward passes; clear x.grad "
                             "(x.grad = None or x.grad.zero_()) before each one")])
q7 = _pitfall("fix_vector_backward", lambda x: 2 * x, _x, _describe_x)

# What the lecture's five snippets really do under the pinned torch (tests/test_hw1_pytorch_claims.py runs them),
# and the letter of the notebook's statement that explains each.
Q8_TRUTH = {"s1": 2.0, "s2": "error", "s3": "none", "s4": 6.0, "s5": "error"}
Q8_REASONS = {"s1": "A", "s2": "C", "s3": "D", "s4": "E", "s5": "F"}
Q8_LETTERS = "ABCDEFGH"


# What each snippet teaches, for a wrong answer (the lecture's text is wrong about s1, s2 and s3).
Q8_HINTS = {
    "s1": "The lecture says the in-place y += 1 raises; y = x * 2 saves nothing that y += 1 changes, so see what this torch does.",
    "s2": "z = y.detach() cuts the graph, so w = z * 3 does not require grad: what does w.backward() do then?",
    "s3": "W1 = torch.randn(..., requires_grad=True) * 0.01 is the result of a multiplication, not a leaf: "
          "autograd fills .grad only on leaves.",
    "s4": "Each backward() adds into x.grad; nothing clears it between the passes.",
    "s5": "backward() without an argument needs a scalar output; y here has two elements.",
}


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


def _reason(value):
    """A reason as its upper-case letter, or None when it is not one of the statements' letters."""
    if isinstance(value, str) and value.strip().upper() in tuple(Q8_LETTERS):
        return value.strip().upper()
    return None


def _answer_checks(reply, name: str, truth: dict, read, allowed: str, wrong: str, label: str) -> list[Check]:
    """One check per snippet of the dict ``name``, called "<snippet> <label>" (one for all five when there is no such dict)."""
    if problem := compare.reply_problem(reply, name):
        return [Check(name, len(truth), False, problem)]
    if not isinstance(reply.value, dict):
        return [Check(name, len(truth), False, f"{name} is a {type(reply.value).__name__}, expected a dict with keys s1 to s5")]
    checks = []
    for key, want in truth.items():
        got = read(reply.value.get(key)) if key in reply.value else None
        if key not in reply.value:
            message = f"{name} has no key {key!r}"
        elif got is None:
            message = f"{name}[{key!r}] is not {allowed}"
        else:
            message = f"{name}[{key!r}] {wrong} {Q8_HINTS[key]}"
        ok = got == want
        checks.append(Check(f"{key} {label}", 1, ok, "" if ok else message))
    return checks


def q8(rng: random.Random) -> Plan:
    ask = Asks(rng)
    predictions, reasons = ask.value("predictions"), ask.value("reasons")

    def score(r):
        return [*_answer_checks(r[predictions], "predictions", Q8_TRUTH, _prediction, '"error", "none" or a number',
                                "does not match what the snippet does: run it and look.", "prediction"),
                *_answer_checks(r[reasons], "reasons", Q8_REASONS, _reason, f"one of the letters {Q8_LETTERS[0]} to {Q8_LETTERS[-1]}",
                                "is not the statement that explains what the snippet does.", "reason")]

    return Plan(ask.requests, score)


def q9(rng: random.Random) -> Plan:
    ask = Asks(rng)
    calls = [(rng.randint(300, 900), rng.randint(50, 200), rng.randrange(10**6)), (5000, rng.randint(300, 600), rng.randrange(10**6))]
    asked = [(c, ask.call("load_mnist_odd_even", "data", *c, cost=3)) for c in calls]

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
    for part, g, e, known in zip(("X_train", "y_train", "X_val", "y_val"), got, expected, _loader_mixups(*expected)):
        if problem := compare.tensor_mismatch(g, e, torch.float32, 1e-5, 1e-6, f"{part} of {what}", known=known):
            return problem
    return None


def _loader_mixups(X_train, y_train, X_val, y_val) -> list[list]:
    """For each part of the split, what a loader with one of the usual mistakes returns in its place."""
    n_val = X_val.shape[0]
    X, y = torch.cat([X_train, X_val]), torch.cat([y_train, y_val])
    pixels = X * MNIST_STD + MNIST_MEAN
    front = "the validation rows are the first n_val, expected the last n_val (X[-n_val:])"
    swapped = "odd and even are swapped: odd is 1 (label % 2)"

    def parts(train: bool) -> tuple[list, list]:
        mine, front_part = (slice(None, -n_val), slice(n_val, None)) if train else (slice(-n_val, None), slice(None, n_val))
        images = [(pixels[mine], "the images are not normalised: add transforms.Normalize((0.1307,), (0.3081,)) after ToTensor()"),
                  (255 * pixels[mine], "the pixels run from 0 to 255: ToTensor() scales them to [0, 1], then Normalize"),
                  ((X[mine] - MNIST_MEAN) / MNIST_STD, "the images are normalised twice"),
                  (X[front_part], front)]
        return images, [(y[front_part], front), (1 - y[mine], swapped)]

    return [*parts(True), *parts(False)]


def q10(rng: random.Random) -> Plan:
    ask = Asks(rng)
    data = split(rng.randint(900, 1300), rng.randint(200, 300), rng.randrange(10**6))
    settings = {"alpha": rng.choice([0.02, 0.05, 0.1]), "n_steps": rng.randint(60, 120), "log_every": rng.choice([5, 10, 20])}
    manual = ask.call("train_logistic", *data, **settings, use_autograd=False, cost=TRAINING)
    auto = ask.call("train_logistic", *data, **settings, use_autograd=True, cost=TRAINING)

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
            if metrics_problem and not problem:
                metrics_problem += known_trajectory(reply.value[2], lambda: _training_mixups(data, settings), data)
            checks.append(trajectory_check(f"{label} trajectory", 8, metrics_problem, None if problem else reply.value[2], expected[2]))
            weights_problem = problem or _final_weights_problem(reply, expected, what)
            checks.append(check(f"{label} final w and b", 4, weights_problem))
        return checks

    return Plan(ask.requests, score)


def _training_mixups(data, settings):
    """The trajectories of the usual training mistakes, computed one at a time."""
    yield (ref.train_logistic(*data, **settings, accumulate=True)[2],
           "it follows gradients accumulated across the steps: clear w.grad and b.grad after each update "
           "(w.grad = None, or .zero_())")
    yield (ref.train_logistic(*data, **settings, log_before_update=True)[2],
           "it follows the metrics logged before the step's update: compute them right after it")


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
    i = ask.call("train_logistic", X_train, y_train, X_val, y_val, cost=TRAINING)

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
