"""hw1's usual mistakes: for each, the answer it gives at the grader's inputs and what it means, for the feedback."""

from __future__ import annotations

import torch

from autograder.homeworks.hw1 import reference as ref
from autograder.homeworks.mnist import MNIST_MEAN, MNIST_STD
from autograder.judging import compare


def derivative(x) -> list:
    """q1: wrong derivatives of f."""
    x = x.double()
    return [(ref.f(x), "it is f(x) itself, not its derivative"),
            (3 * x**2, "the derivative of -3x (the constant -3) is missing"),
            (x**2 - 3, "the power rule's factor 3 is missing: d/dx x**3 = 3 x**2")]


def logistic_grad(X, y, w, b) -> tuple[list, list]:
    """q3: wrong (grad_w, grad_b) pairs: sigmoid'(z) = s(1 - s) where the loss's derivative s - y belongs; a sum for b."""
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


def accumulation(x, n_steps) -> list:
    """q6: the gradients of the n backward passes, left to accumulate."""
    return [(torch.stack([2 * (k + 1) * x for k in range(n_steps)]),
             "row k is k + 1 times 2x: the gradients accumulate across the backward passes; clear x.grad "
             "(x.grad = None or x.grad.zero_()) before each one")]


# q8: what each snippet teaches, for a wrong answer (the lecture's text is wrong about s1, s2 and s3).
SNIPPET_HINTS = {
    "s1": "The lecture says the in-place y += 1 raises; y = x * 2 saves nothing that y += 1 changes, so see what this torch does.",
    "s2": "z = y.detach() cuts the graph, so w = z * 3 does not require grad: what does w.backward() do then?",
    "s3": "W1 = torch.randn(..., requires_grad=True) * 0.01 is the result of a multiplication, not a leaf: "
          "autograd fills .grad only on leaves.",
    "s4": "Each backward() adds into x.grad; nothing clears it between the passes.",
    "s5": "backward() without an argument needs a scalar output; y here has two elements.",
}


def loader(X_train, y_train, X_val, y_val) -> list[list]:
    """q9: for each part of the split, what a loader with one of the usual mistakes returns in its place."""
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


def training(data, settings):
    """q10: the trajectories of the usual training mistakes, computed one at a time."""
    yield (ref.train_logistic(*data, **settings, accumulate=True)[2],
           "it follows gradients accumulated across the steps: clear w.grad and b.grad after each update "
           "(w.grad = None, or .zero_())")
    yield (ref.train_logistic(*data, **settings, log_before_update=True)[2],
           "it follows the metrics logged before the step's update: compute them right after it")


def one_loss_missing(reply, expected) -> str | None:
    """q12: the usual off-by-one of a list of losses: the one at the start, or the one after the last step, left out."""
    got = reply.value
    if reply.status != "ok" or not isinstance(got, torch.Tensor) or tuple(got.shape) != (expected.shape[0] - 1,):
        return None
    for part, which in ((expected[1:], "the loss at the starting point w = 0"), (expected[:-1], "the loss after the last step")):
        if compare.matches(got.detach().double(), part):
            return (f"gradient_descent_losses returned {got.shape[0]} losses, expected n_steps + 1 = {expected.shape[0]}: "
                    f"{which} is missing")
    return None


def step_size_limit(X) -> list:
    """q12: wrong stable step-size limits."""
    eigenvalues = torch.linalg.eigvalsh(X.T @ X / X.shape[0])
    n = X.shape[0]
    return [(2 / (n * eigenvalues.max()), "it is the limit for X^T X without the 1/n: the loss is a mean, so its Hessian is X^T X / n"),
            (1 / eigenvalues.max(), "it is half the limit, 1/L: gradient descent on a quadratic converges up to 2/L"),
            (2 / eigenvalues.min(), "it uses the smallest eigenvalue: the largest one, in the steepest direction, sets the limit")]
