"""hw1, autograd and linear models: what each question asks of the notebook and how it is judged.

The contract is ASSIGNMENTS.md; the standard is :mod:`.reference`. Inputs are drawn at grading
time from the homework's seed, at sizes other than the notebook's, in float32 and float64.
"""

from __future__ import annotations

import random

import torch

from autograder.homeworks import Homework, Plan
from autograder.homeworks.hw1 import reference as ref
from autograder.homeworks.mnist import MNIST_MEAN, MNIST_STD, split, test_set, training_images
from autograder.judging import compare
from autograder.judging import gradcheck
from autograder.judging.asking import (
    DTYPES, TRAINING, Asks, autograd_problem, bce_mixups, known_trajectory, own_gradcheck, trajectory_check, trajectory_problem,
    is_number, manual_violation, randn, requires_grad, shape_of, short, tensor_problem, uniform,
)
from autograder.judging.compare import check
from autograder.judging.results import Check
from autograder.sandbox.codec import GraderFunction

# Part C judges the loop apart from q3: its calls get the grader's logistic_loss and logistic_grad in place of the notebook's.
LOGISTIC = {"logistic_loss": GraderFunction.of(ref.logistic_loss), "logistic_grad": GraderFunction.of(ref.logistic_grad)}
WITH_GRADER_LOGISTIC = "with the grader's logistic_loss and logistic_grad in place of yours, so that q3 is not charged again"

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
    follows = ask.call("df_autograd", x_other, substitute={"f": GraderFunction.of(ref.polynomial, coefficients)})
    f_around = ask.probe("each", "f", gradcheck.points((grid,), [0]))

    def score(r):
        manual = {i: "df_manual" for _, _, i, _ in asked} | {df_grid: "df_manual"}
        if violation := manual_violation(r, manual):
            return violation
        checks = []
        for x, i_f, i_df, i_auto in asked:
            at = f"at x of shape {shape_of(x)}"
            checks.append(check(f"f {short(x.dtype)}", 0.75, tensor_problem(r[i_f], ref.f(x.double()), x.dtype, f"f(x) {at}")))
            checks.append(check(f"df_manual {short(x.dtype)}", 1.5,
                                tensor_problem(r[i_df], ref.df(x.double()), x.dtype, f"df_manual(x) {at}", known=_derivative_mixups(x))))
            what = f"df_autograd(x) {at}"
            checks.append(check(f"df_autograd {short(x.dtype)}", 1.5, tensor_problem(
                r[i_auto], ref.df(x.double()), x.dtype, what, known=_derivative_mixups(x)) or autograd_problem(r[i_auto], what)))
        at = f"at x of shape {shape_of(grid)} (elementwise on a 2-D input)"
        f_right = tensor_problem(r[f_grid], ref.f(grid), grid.dtype, f"f(x) {at}")
        checks.append(check("f elementwise", 0.5, f_right))
        df_right = tensor_problem(r[df_grid], ref.df(grid), grid.dtype, f"df_manual(x) {at}")
        own = own_gradcheck(r[f_around], "f", r[df_grid], "df_manual", (grid,), [0],
                            lambda df: [lambda g: g * df], ["x"])
        checks.append(gradcheck.verdict("gradcheck of df_manual against f", 1, own, f_right is None, df_right is None, "f", "df_manual"))
        what = f"df_autograd(x) at x of shape {shape_of(x_other)}, with f replaced by a polynomial of the grader's"
        derivative = sum(k * c * x_other**(k - 1) for k, c in enumerate(coefficients) if k)
        checks.append(check("df_autograd follows f", 1, tensor_problem(r[follows], derivative, x_other.dtype, what, known=[
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
    point = tuple(t.double() for t in cases[-1])
    around = ask.probe("each", "least_squares_loss", gradcheck.points(point, [2]))

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
            checks.append(check(f"gradient {short(dtype)}", 2.5, tensor_problem(
                r[i_grad], ref.least_squares_grad(X64, y64, w64), dtype, f"least_squares_grad {at}", n=X.shape[0])))
        (_, i_loss, i_grad) = asked[-1]
        own = own_gradcheck(r[around], "least_squares_loss", r[i_grad], "least_squares_grad", point, [2],
                            lambda grad: [lambda g: g * grad], ["w"])
        checks.append(gradcheck.verdict("gradcheck of least_squares_grad against least_squares_loss", 2, own,
                                        checks[-2].passed, checks[-1].passed, "least_squares_loss", "least_squares_grad"))
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
    point = tuple(t.double() for t in cases[-1])
    around = ask.probe("each", "logistic_loss", gradcheck.points(point, [2, 3]))

    def score(r):
        if violation := manual_violation(r, {i: "logistic_grad" for _, _, i in asked}):
            return violation
        checks, right = [], {}
        for (X, y, w, b), i_loss, i_grad in asked:
            dtype, at = X.dtype, f"for X, y, w, b of shapes {shape_of(X, y, w, b)}"
            X64, y64, w64, b64 = (t.double() for t in (X, y, w, b))
            checks.append(check(f"loss {short(dtype)}", 1.5, tensor_problem(
                r[i_loss], ref.logistic_loss(X64, y64, w64, b64), dtype, f"logistic_loss {at}",
                known=bce_mixups(X64 @ w64 + b64, y64))))
            checks.append(check(f"gradient {short(dtype)}", 2.5, _logistic_grad_problem(r[i_grad], (X64, y64, w64, b64), dtype, at)))
            right[dtype] = (checks[-2].passed, checks[-1].passed)
        for (X, y, w, b), i_loss in asked_extreme:
            dtype = X.dtype
            what = f"logistic_loss at logits of +-1000 ({short(dtype)}, X of shape {tuple(X.shape)})"
            X64, y64, w64, b64 = (t.double() for t in (X, y, w, b))
            checks.append(check(f"loss at +-1000 {short(dtype)}", 1, tensor_problem(
                r[i_loss], ref.logistic_loss(X64, y64, w64, b64), dtype, what, known=bce_mixups(X64 @ w64 + b64, y64))))
        own = own_gradcheck(r[around], "logistic_loss", r[asked[-1][2]], "logistic_grad", point, [2, 3], _pair_vjps, ["w", "b"])
        checks.append(gradcheck.verdict("gradcheck of logistic_grad against logistic_loss", 2, own, *right[torch.float64],
                                        "logistic_loss", "logistic_grad"))
        return checks

    return Plan(ask.requests, score)


def _pair_vjps(grads) -> list:
    if not (isinstance(grads, (tuple, list)) and len(grads) == 2):
        raise TypeError(f"a {type(grads).__name__}, not the pair (grad_w, grad_b)")
    return [lambda g, grad=grad: g * grad for grad in grads]


def _logistic_grad_mixups(X, y, w, b) -> tuple[list, list]:
    """Wrong (grad_w, grad_b) pairs: sigmoid'(z) = s(1 - s) where the loss's derivative s - y belongs; a sum for b."""
    n, s = X.shape[0], torch.sigmoid(X @ w + b)
    derivative = ("it equals the gradient with the sigmoid's derivative s(1 - s) where the loss's derivative in z belongs: "
                  "that is the sigmoid's own derivative; differentiate the cross-entropy itself in z, through the logarithms")
    squared = ("it equals the gradient of the squared error through the sigmoid, not of the cross-entropy: differentiate "
               "the cross-entropy in z, through the logarithms")
    known_w = [(X.T @ (s * (1 - s)) / n, derivative), (X.T @ ((s - y) * s * (1 - s)) / n, squared)]
    known_b = [((s * (1 - s)).mean().reshape(1), derivative), (((s - y) * s * (1 - s)).mean().reshape(1), squared),
               ((s - y).sum().reshape(1), f"it is n = {n} times the expected value: a sum where the mean belongs"),
               (torch.zeros(1, dtype=X.dtype), "grad_b is all zeros: the bias gradient is missing (b moves every logit)")]
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
    manual = ask.call("train_logistic", *data, **settings, use_autograd=False, cost=TRAINING, substitute=LOGISTIC)
    auto = ask.call("train_logistic", *data, **settings, use_autograd=True, cost=TRAINING, substitute=LOGISTIC)

    def score(r):
        expected = ref.train_logistic(*data, **settings)
        where = (f"on the grader's split ({data[0].shape[0]} train, {data[2].shape[0]} val images; "
                 f"alpha={settings['alpha']}, n_steps={settings['n_steps']}, log_every={settings['log_every']}; "
                 f"{WITH_GRADER_LOGISTIC})")
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
            checks.append(trajectory_check(f"{label} trajectory", 6, metrics_problem, None if problem else reply.value[2], expected[2]))
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
    i = ask.call("train_logistic", X_train, y_train, X_val, y_val, cost=TRAINING, substitute=LOGISTIC)

    def score(r):
        what = (f"train_logistic on the grader's split ({X_train.shape[0]} train, {X_val.shape[0]} val images, defaults; "
                f"{WITH_GRADER_LOGISTIC})")
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


# q12: the step sizes are these fractions of the stable limit 2/L, one side of it each.
Q12_FACTORS = (0.9, 1.1)


def q12(rng: random.Random) -> Plan:
    ask = Asks(rng)
    limits = [(X, ask.call("step_size_limit", X)) for X in (randn(rng, rng.randint(20, 80), rng.randint(2, 6), dtype=dtype)
                                                         for dtype in DTYPES)]
    n, d = rng.randint(30, 80), rng.randint(2, 6)
    X, y = randn(rng, n, d), randn(rng, n)
    n_steps, limit = rng.randint(30, 60), float(ref.step_size_limit(X))
    runs = [(factor * limit, ask.call("gradient_descent_losses", X, y, factor * limit, n_steps, substitute=LEAST_SQUARES))
            for factor in Q12_FACTORS]

    def score(r):
        checks = []
        for X_, i in limits:
            what = f"step_size_limit for X of shape {shape_of(X_)}"
            checks.append(check(f"limit {short(X_.dtype)}", 1.5, tensor_problem(r[i], ref.step_size_limit(X_.double()), X_.dtype, what,
                                                                                  known=_limit_mixups(X_.double()))))
        for (alpha, i), side in zip(runs, ("below", "above")):
            what = (f"gradient_descent_losses(X, y, alpha, n_steps={n_steps}) for X of shape {shape_of(X)} and alpha = "
                    f"{alpha / limit:g} * 2/L, {side} the limit ({WITH_GRADER_LEAST_SQUARES})")
            expected = ref.gradient_descent_losses(X, y, alpha, n_steps)
            checks.append(check(f"losses {side} 2/L", 2.5, _one_loss_missing(r[i], expected) or
                                tensor_problem(r[i], expected, X.dtype, what, tol=(1e-6, 1e-9))))
        return checks

    return Plan(ask.requests, score)


def _one_loss_missing(reply, expected) -> str | None:
    """The usual off-by-one of a list of losses: the one at the start, or the one after the last step, left out."""
    got = reply.value
    if reply.status != "ok" or not isinstance(got, torch.Tensor) or tuple(got.shape) != (expected.shape[0] - 1,):
        return None
    for part, which in ((expected[1:], "the loss at the starting point w = 0"), (expected[:-1], "the loss after the last step")):
        if compare.matches(got.detach().double(), part):
            return (f"gradient_descent_losses returned {got.shape[0]} losses, expected n_steps + 1 = {expected.shape[0]}: "
                    f"{which} is missing")
    return None


LEAST_SQUARES = {"least_squares_loss": GraderFunction.of(ref.least_squares_loss),
                 "least_squares_grad": GraderFunction.of(ref.least_squares_grad)}
WITH_GRADER_LEAST_SQUARES = "with the grader's least_squares_loss and least_squares_grad in place of yours, so that q2 is not charged again"


def _limit_mixups(X) -> list:
    eigenvalues = torch.linalg.eigvalsh(X.T @ X / X.shape[0])
    n = X.shape[0]
    return [(2 / (n * eigenvalues.max()), f"it is the limit for X^T X without the 1/n: the loss is a mean, so its Hessian is X^T X / n"),
            (1 / eigenvalues.max(), "it is half the limit, 1/L: gradient descent on a quadratic converges up to 2/L"),
            (2 / eigenvalues.min(), "it uses the smallest eigenvalue: the largest one, in the steepest direction, sets the limit")]


HOMEWORK = Homework.declared("hw1", {
    "q1": q1, "q2": q2, "q3": q3, "q4": q4, "q5": q5, "q6": q6, "q7": q7, "q8": q8, "q9": q9, "q10": q10,
    "q11": q11, "q12": q12,
}, seed=20261126, data=training_images)
