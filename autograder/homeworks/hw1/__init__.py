"""hw1, autograd and linear models: what each question asks of the notebook and how it is judged.

Each question is declared as a function ``qN(ask)``: it draws its hidden inputs from ``ask.rng``
(the homework's seed, sizes other than the notebook's, float32 and float64), asks for the notebook's
answers under keys, and returns how it scores the replies under those keys. The contract is
ASSIGNMENTS.md; the standard is :mod:`.reference`; the usual mistakes, named in the feedback, are
in :mod:`.mistakes`.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import torch

from autograder.homeworks import Homework, Replies, Score
from autograder.homeworks.hw1 import mistakes
from autograder.homeworks.hw1 import reference as ref
from autograder.homeworks.mnist import all_images, split, test_set, training_images
from autograder.judging import compare
from autograder.judging import gradcheck
from autograder.judging.asking import (
    DTYPES, TRAINING, Asks, accuracy_check, autograd_problem, bce_mixups, is_number, own_gradcheck, randn, shape_of, short,
    tensor_problem, trajectory_check, uniform,
)
from autograder.judging.compare import check
from autograder.judging.results import Check
from autograder.sandbox.codec import GraderFunction

# Part C judges the loop apart from q3: its calls get the grader's logistic_loss and logistic_grad in place of the notebook's.
LOGISTIC = {"logistic_loss": GraderFunction.of(ref.logistic_loss), "logistic_grad": GraderFunction.of(ref.logistic_grad)}
WITH_GRADER_LOGISTIC = "with the grader's logistic_loss and logistic_grad in place of yours, so that q3 is not charged again"
# q12's gradient descent, likewise, runs with the grader's least squares in place of the notebook's (q2).
LEAST_SQUARES = {"least_squares_loss": GraderFunction.of(ref.least_squares_loss),
                 "least_squares_grad": GraderFunction.of(ref.least_squares_grad)}
WITH_GRADER_LEAST_SQUARES = "with the grader's least_squares_loss and least_squares_grad in place of yours, so that q2 is not charged again"

# q11: the fixed split the accuracy bar was measured on, and the bar (reference accuracy minus 2 points).
Q11_SEED, Q11_SAMPLES, Q11_VAL = 1234, 4000, 1000
Q11_REFERENCE_ACCURACY = 0.88
Q11_BAR = round(Q11_REFERENCE_ACCURACY - 0.02, 3)


def q1(ask: Asks) -> Score:
    rng = ask.rng
    points = {dtype: uniform(rng, rng.randint(5, 40), low=-3, high=3, dtype=dtype) for dtype in DTYPES}
    grid = uniform(rng, rng.randint(2, 5), rng.randint(2, 6), low=-3, high=3)
    for dtype, x in points.items():
        ask.call("f", x, key=("f", dtype))
        ask.call("df_manual", x, key=("df_manual", dtype), manual=True)
        ask.call("df_autograd", x, key=("df_autograd", dtype))
    ask.call("f", grid, key="f on a grid")
    ask.call("df_manual", grid, key="df_manual on a grid", manual=True)
    # df_autograd must differentiate f, whatever f is: for this call the grader puts a polynomial of its own in its place
    coefficients = [round(rng.uniform(-2, 2), 3) for _ in range(5)]
    x_other = uniform(rng, rng.randint(5, 30), low=-2, high=2)
    ask.call("df_autograd", x_other, key="df_autograd of another f", substitute={"f": GraderFunction.of(ref.polynomial, coefficients)})
    ask.probe("each", "f", gradcheck.points((grid,), [0]), key="f around the grid")

    def score(r: Replies) -> list[Check]:
        checks = []
        for dtype, x in points.items():
            at = f"at x of shape {shape_of(x)}"
            checks.append(check(f"f {short(dtype)}", 0.75, tensor_problem(r["f", dtype], ref.f(x.double()), dtype, f"f(x) {at}")))
            checks.append(check(f"df_manual {short(dtype)}", 1.5, tensor_problem(
                r["df_manual", dtype], ref.df(x.double()), dtype, f"df_manual(x) {at}", known=mistakes.derivative(x))))
            what = f"df_autograd(x) {at}"
            reply = r["df_autograd", dtype]
            checks.append(check(f"df_autograd {short(dtype)}", 1.5, tensor_problem(
                reply, ref.df(x.double()), dtype, what, known=mistakes.derivative(x)) or autograd_problem(reply, what)))
        at = f"at x of shape {shape_of(grid)} (elementwise on a 2-D input)"
        f_right = tensor_problem(r["f on a grid"], ref.f(grid), grid.dtype, f"f(x) {at}")
        checks.append(check("f elementwise", 0.5, f_right))
        df_right = tensor_problem(r["df_manual on a grid"], ref.df(grid), grid.dtype, f"df_manual(x) {at}")
        own = own_gradcheck(r["f around the grid"], "f", r["df_manual on a grid"], "df_manual", (grid,), [0],
                            gradcheck.elementwise, ["x"])
        checks.append(gradcheck.verdict("gradcheck of df_manual against f", 1, own, f_right is None, df_right is None, "f", "df_manual"))
        what = f"df_autograd(x) at x of shape {shape_of(x_other)}, with f replaced by a polynomial of the grader's"
        derivative = sum(k * c * x_other**(k - 1) for k, c in enumerate(coefficients) if k)
        checks.append(check("df_autograd follows f", 1, tensor_problem(r["df_autograd of another f"], derivative, x_other.dtype, what, known=[
            (ref.df(x_other), "it is the derivative of x**3 - 3x, not of f: for this call the grader replaced f by another "
                              "function, which a gradient through autograd follows; call f inside df_autograd")])))
        return checks

    return score


def _regression_data(rng: random.Random, dtype):
    n, d = rng.randint(20, 80), rng.randint(2, 9)
    X = randn(rng, n, d, dtype=dtype)
    return X, randn(rng, n, dtype=dtype), randn(rng, d, dtype=dtype)


def q2(ask: Asks) -> Score:
    cases = {dtype: _regression_data(ask.rng, dtype) for dtype in DTYPES}
    for dtype, data in cases.items():
        ask.call("least_squares_loss", *data, key=("loss", dtype))
        ask.call("least_squares_grad", *data, key=("gradient", dtype), manual=True)
    point = tuple(t.double() for t in cases[torch.float64])
    ask.probe("each", "least_squares_loss", gradcheck.points(point, [2]), key="loss around")

    def score(r: Replies) -> list[Check]:
        checks = []
        for dtype, (X, y, w) in cases.items():
            at = f"for X, y, w of shapes {shape_of(X, y, w)}"
            X64, y64, w64 = X.double(), y.double(), w.double()
            loss = ref.least_squares_loss(X64, y64, w64)
            checks.append(check(f"loss {short(dtype)}", 1.5, tensor_problem(
                r["loss", dtype], loss, dtype, f"least_squares_loss {at}", known=[
                    (2 * loss, "it is twice the expected value: the 0.5 in front of the mean is missing"),
                    (loss * X.shape[0], f"it is n = {X.shape[0]} times the expected value: a sum where the mean belongs")])))
            checks.append(check(f"gradient {short(dtype)}", 2.5, tensor_problem(
                r["gradient", dtype], ref.least_squares_grad(X64, y64, w64), dtype, f"least_squares_grad {at}", n=X.shape[0])))
        own = own_gradcheck(r["loss around"], "least_squares_loss", r["gradient", torch.float64], "least_squares_grad", point, [2],
                            gradcheck.elementwise, ["w"])
        checks.append(gradcheck.verdict("gradcheck of least_squares_grad against least_squares_loss", 2, own,
                                        checks[-2].passed, checks[-1].passed, "least_squares_loss", "least_squares_grad"))
        return checks

    return score


def _logistic_data(rng: random.Random, dtype, extreme: bool):
    n, d = rng.randint(20, 80), rng.randint(2, 9)
    X, w = randn(rng, n, d), randn(rng, d)
    b = randn(rng, 1)
    y = (torch.rand(n, generator=torch.Generator().manual_seed(rng.randrange(2**31))) < 0.5).double()
    if extreme:  # every logit is +-1000: naive log(sigmoid) gives inf, BCELoss's clamp a wrong value
        b = torch.zeros(1, dtype=torch.float64)
        X = X * (1000.0 / (X @ w).abs()).unsqueeze(1)
    return X.to(dtype), y.to(dtype), w.to(dtype), b.to(dtype)


def q3(ask: Asks) -> Score:
    cases = {dtype: _logistic_data(ask.rng, dtype, False) for dtype in DTYPES}
    extremes = {dtype: _logistic_data(ask.rng, dtype, True) for dtype in DTYPES}
    for dtype, data in cases.items():
        ask.call("logistic_loss", *data, key=("loss", dtype))
        ask.call("logistic_grad", *data, key=("gradient", dtype), manual=True)
    for dtype, data in extremes.items():
        ask.call("logistic_loss", *data, key=("loss at +-1000", dtype))
    point = tuple(t.double() for t in cases[torch.float64])
    ask.probe("each", "logistic_loss", gradcheck.points(point, [2, 3]), key="loss around")

    def score(r: Replies) -> list[Check]:
        checks, right = [], {}
        for dtype, (X, y, w, b) in cases.items():
            at = f"for X, y, w, b of shapes {shape_of(X, y, w, b)}"
            X64, y64, w64, b64 = (t.double() for t in (X, y, w, b))
            checks.append(check(f"loss {short(dtype)}", 1.5, tensor_problem(
                r["loss", dtype], ref.logistic_loss(X64, y64, w64, b64), dtype, f"logistic_loss {at}",
                known=bce_mixups(X64 @ w64 + b64, y64))))
            checks.append(check(f"gradient {short(dtype)}", 2.5, _logistic_grad_problem(r["gradient", dtype], (X64, y64, w64, b64), dtype, at)))
            right[dtype] = (checks[-2].passed, checks[-1].passed)
        for dtype, (X, y, w, b) in extremes.items():
            what = f"logistic_loss at logits of +-1000 ({short(dtype)}, X of shape {tuple(X.shape)})"
            X64, y64, w64, b64 = (t.double() for t in (X, y, w, b))
            checks.append(check(f"loss at +-1000 {short(dtype)}", 1, tensor_problem(
                r["loss at +-1000", dtype], ref.logistic_loss(X64, y64, w64, b64), dtype, what, known=bce_mixups(X64 @ w64 + b64, y64))))
        own = own_gradcheck(r["loss around"], "logistic_loss", r["gradient", torch.float64], "logistic_grad", point, [2, 3],
                            _pair_vjps, ["w", "b"])
        checks.append(gradcheck.verdict("gradcheck of logistic_grad against logistic_loss", 2, own, *right[torch.float64],
                                        "logistic_loss", "logistic_grad"))
        return checks

    return score


def _pair_vjps(grads) -> list:
    if not (isinstance(grads, (tuple, list)) and len(grads) == 2):
        raise TypeError(f"a {type(grads).__name__}, not the pair (grad_w, grad_b)")
    return [lambda g, grad=grad: g * grad for grad in grads]


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
    known_w, known_b = mistakes.logistic_grad(X, y, w, b)
    rtol, atol = compare.tolerances(dtype)
    got_w, got_b = reply.value
    problem = compare.tensor_mismatch(got_w, expected_w, dtype, rtol, atol, f"grad_w {at}", X.shape[0], known_w)
    if problem is None and (problem := compare.tensor_mismatch(got_b, expected_b, dtype, rtol, atol, f"grad_b {at}", X.shape[0], known_b)):
        problem += " (grad_w is right: only the bias gradient is wrong)"
    return problem


def _pitfall(name: str, expected, make_inputs, describe, mixups=lambda *args: []) -> Callable[[Asks], Score]:
    """q4-q7: a repaired snippet, judged on fresh inputs of other sizes; it must still use autograd.

    ``mixups`` gives the known wrong answers for the same (float64) inputs.
    """

    def declaration(ask: Asks) -> Score:
        cases = {(dtype, k): make_inputs(ask.rng, dtype) for dtype in DTYPES for k in range(2)}
        for key, args in cases.items():
            ask.call(name, *args, key=key)

        def score(r: Replies) -> list[Check]:
            checks = []
            for key, args in cases.items():
                what = f"{name}({describe(args)})"
                point = [a.double() if isinstance(a, torch.Tensor) else a for a in args]
                problem = tensor_problem(r[key], expected(*point), args[0].dtype, what, known=mixups(*point))
                checks.append(check(what, 1, problem or autograd_problem(r[key], what)))
            return checks

        return score

    return declaration


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
              lambda a: f"x of shape {shape_of(a[0])}, n_steps={a[1]}", mistakes.accumulation)
q7 = _pitfall("fix_vector_backward", lambda x: 2 * x, _x, _describe_x)

# What the lecture's five snippets really do under the pinned torch (tests/test_hw1_pytorch_claims.py runs them),
# and the letter of the notebook's statement that explains each.
Q8_TRUTH = {"s1": 2.0, "s2": "error", "s3": "none", "s4": 6.0, "s5": "error"}
Q8_REASONS = {"s1": "A", "s2": "C", "s3": "D", "s4": "E", "s5": "F"}
Q8_LETTERS = "ABCDEFGH"


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
            message = f"{name}[{key!r}] {wrong} {mistakes.SNIPPET_HINTS[key]}"
        ok = got == want
        checks.append(Check(f"{key} {label}", 1, ok, "" if ok else message))
    return checks


def q8(ask: Asks) -> Score:
    ask.value("predictions")
    ask.value("reasons")

    def score(r: Replies) -> list[Check]:
        return [*_answer_checks(r["predictions"], "predictions", Q8_TRUTH, _prediction, '"error", "none" or a number',
                                "does not match what the snippet does: run it and look.", "prediction"),
                *_answer_checks(r["reasons"], "reasons", Q8_REASONS, _reason, f"one of the letters {Q8_LETTERS[0]} to {Q8_LETTERS[-1]}",
                                "is not the statement that explains what the snippet does.", "reason")]

    return score


def q9(ask: Asks) -> Score:
    rng = ask.rng
    calls = [(rng.randint(300, 900), rng.randint(50, 200), rng.randrange(10**6)), (5000, rng.randint(300, 600), rng.randrange(10**6))]
    for arguments in calls:
        ask.call("load_mnist_odd_even", "data", *arguments, key=arguments, cost=3)

    def score(r: Replies) -> list[Check]:
        checks = []
        for n, n_val, seed in calls:
            what = f"load_mnist_odd_even(root, n_samples={n}, n_val={n_val}, seed={seed})"
            checks.append(check(what, 1, _split_problem(r[n, n_val, seed], split(n, n_val, seed), what)))
        return checks

    return score


def _split_problem(reply, expected, what) -> str | None:
    if problem := compare.reply_problem(reply, what):
        return problem
    got = reply.value
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        return f"{what} returned {type(got).__name__}, expected (X_train, y_train, X_val, y_val)"
    for part, g, e, known in zip(("X_train", "y_train", "X_val", "y_val"), got, expected, mistakes.loader(*expected)):
        if problem := compare.tensor_mismatch(g, e, torch.float32, 1e-5, 1e-6, f"{part} of {what}", known=known):
            return problem
    return None


def q10(ask: Asks) -> Score:
    rng = ask.rng
    data = split(rng.randint(900, 1300), rng.randint(200, 300), rng.randrange(10**6))
    settings = {"alpha": rng.choice([0.02, 0.05, 0.1]), "n_steps": rng.randint(60, 120), "log_every": rng.choice([5, 10, 20])}
    paths = {"manual path": False, "autograd path": True}
    for path, autograd in paths.items():
        ask.call("train_logistic", *data, **settings, use_autograd=autograd, key=path, cost=TRAINING, substitute=LOGISTIC)

    def score(r: Replies) -> list[Check]:
        expected = ref.train_logistic(*data, **settings)
        where = (f"on the grader's split ({data[0].shape[0]} train, {data[2].shape[0]} val images; "
                 f"alpha={settings['alpha']}, n_steps={settings['n_steps']}, log_every={settings['log_every']}; "
                 f"{WITH_GRADER_LOGISTIC})")
        checks = []
        for path, autograd in paths.items():
            what = f"train_logistic(..., use_autograd={autograd}) {where}"
            reply = r[path]
            problem = compare.reply_problem(reply, what) or _returned_triple_problem(reply.value, what)
            if problem is None:
                ran = reply.observed.get("backward_calls", 0)
                if autograd and ran == 0:
                    problem = f"{what} ran no backward pass: with use_autograd=True the gradient must come from backward()"
                elif not autograd and ran > 0:
                    problem = f"{what} ran a backward pass: with use_autograd=False the step must use logistic_grad"
            checks.append(trajectory_check(f"{path} trajectory", 6, problem, None if problem else reply.value[2], expected[2], data, what,
                                           lambda: mistakes.training(data, settings)))
            checks.append(check(f"{path} final w and b", 4, problem or _final_weights_problem(reply, expected, what)))
        return checks

    return score


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


def q11(ask: Asks) -> Score:
    X_train, y_train, X_val, y_val = split(Q11_SAMPLES, Q11_VAL, Q11_SEED)
    ask.call("train_logistic", X_train, y_train, X_val, y_val, cost=TRAINING, substitute=LOGISTIC)

    def score(r: Replies) -> list[Check]:
        what = (f"train_logistic on the grader's split ({X_train.shape[0]} train, {X_val.shape[0]} val images, defaults; "
                f"{WITH_GRADER_LOGISTIC})")
        reply = r["train_logistic"]
        problem = compare.reply_problem(reply, what) or _returned_triple_problem(reply.value, what)
        if problem is None:
            w, b = reply.value[0], reply.value[1]
            if not (isinstance(w, torch.Tensor) and isinstance(b, torch.Tensor) and tuple(w.shape) == (784,) and tuple(b.shape) == (1,)):
                problem = f"{what} must return w of shape (784,) and b of shape (1,)"
        if problem:
            return [Check("test accuracy", 1, False, problem)]
        X_test, y_test = test_set()
        accuracy = ref.accuracy(X_test, y_test, w.detach().float(), b.detach().float())
        return [accuracy_check(accuracy, len(X_test), Q11_BAR, Q11_REFERENCE_ACCURACY)]

    return score


# q12: the step sizes are these fractions of the stable limit 2/L, one side of it each.
Q12_FACTORS = (0.9, 1.1)


def q12(ask: Asks) -> Score:
    rng = ask.rng
    limits = {}
    for dtype in DTYPES:
        limits[dtype] = randn(rng, rng.randint(20, 80), rng.randint(2, 6), dtype=dtype)
        ask.call("step_size_limit", limits[dtype], key=("limit", dtype))
    n, d = rng.randint(30, 80), rng.randint(2, 6)
    X, y = randn(rng, n, d), randn(rng, n)
    n_steps, limit = rng.randint(30, 60), float(ref.step_size_limit(X))
    runs = {side: factor * limit for side, factor in zip(("below", "above"), Q12_FACTORS)}
    for side, alpha in runs.items():
        ask.call("gradient_descent_losses", X, y, alpha, n_steps, key=("losses", side), substitute=LEAST_SQUARES)

    def score(r: Replies) -> list[Check]:
        checks = []
        for dtype, X_ in limits.items():
            what = f"step_size_limit for X of shape {shape_of(X_)}"
            checks.append(check(f"limit {short(dtype)}", 1.5, tensor_problem(r["limit", dtype], ref.step_size_limit(X_.double()), dtype,
                                                                             what, known=mistakes.step_size_limit(X_.double()))))
        for side, alpha in runs.items():
            what = (f"gradient_descent_losses(X, y, alpha, n_steps={n_steps}) for X of shape {shape_of(X)} and alpha = "
                    f"{alpha / limit:g} * 2/L, {side} the limit ({WITH_GRADER_LEAST_SQUARES})")
            expected = ref.gradient_descent_losses(X, y, alpha, n_steps)
            reply = r["losses", side]
            checks.append(check(f"losses {side} 2/L", 2.5, mistakes.one_loss_missing(reply, expected) or
                                tensor_problem(reply, expected, X.dtype, what, tol=(1e-6, 1e-9))))
        return checks

    return score


HOMEWORK = Homework.declared("hw1", {
    "q1": q1, "q2": q2, "q3": q3, "q4": q4, "q5": q5, "q6": q6, "q7": q7, "q8": q8, "q9": q9, "q10": q10,
    "q11": q11, "q12": q12,
}, seed=20261126, data=training_images, offline_data=all_images)
