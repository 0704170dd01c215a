"""The grader's own implementation of every hw1 function, the standard answers are judged by.

Written independently of the master notebook's solution; ``verify`` (the solution scores 100)
is the proof that the two agree. (q9's loader is :func:`autograder.homeworks.mnist.load_mnist_odd_even`.)

The grader also puts some of these functions in the notebook's place for one call (a question judged
apart from another question's function), so this module imports nothing but torch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def f(x):
    return x**3 - 3 * x


def df(x):
    return 3 * x**2 - 3


def polynomial(coefficients):
    """x -> sum of c_k x**k, elementwise: the f that df_autograd must follow."""
    return lambda x: sum(c * x**k for k, c in enumerate(coefficients))


def least_squares_loss(X, y, w):
    return 0.5 * ((X @ w - y) ** 2).mean()


def least_squares_grad(X, y, w):
    return X.T @ (X @ w - y) / X.shape[0]


def logistic_loss(X, y, w, b):
    z = X @ w + b
    return (F.softplus(z) - y * z).mean()


def logistic_grad(X, y, w, b):
    r = torch.sigmoid(X @ w + b) - y
    return X.T @ r / X.shape[0], r.mean().reshape(1)


def accuracy(X, y, w, b) -> float:
    return float(((torch.sigmoid(X @ w + b) >= 0.5).to(y.dtype) == y).to(torch.float64).mean())


def train_logistic(X_train, y_train, X_val, y_val, alpha=0.01, n_steps=1000, log_every=10,
                   accumulate=False, log_before_update=False):
    """Full-batch gradient descent on the logistic loss; metrics right after each logged update.

    ``accumulate`` and ``log_before_update`` make two usual mistakes, so that grading can recognise
    them: gradients summed across the steps (never cleared), metrics logged before the update.
    """
    w = torch.zeros(X_train.shape[1], dtype=X_train.dtype)
    b = torch.zeros(1, dtype=X_train.dtype)
    sum_w, sum_b = torch.zeros_like(w), torch.zeros_like(b)
    metrics = {"iterations": [], "train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for step in range(n_steps):
        grad_w, grad_b = logistic_grad(X_train, y_train, w, b)
        if accumulate:
            sum_w, sum_b = sum_w + grad_w, sum_b + grad_b
            grad_w, grad_b = sum_w, sum_b
        before = (w, b)
        w, b = w - alpha * grad_w, b - alpha * grad_b
        if step % log_every == 0:
            logged_w, logged_b = before if log_before_update else (w, b)
            metrics["iterations"].append(step)
            metrics["train_loss"].append(float(logistic_loss(X_train, y_train, logged_w, logged_b)))
            metrics["train_acc"].append(accuracy(X_train, y_train, logged_w, logged_b))
            metrics["val_loss"].append(float(logistic_loss(X_val, y_val, logged_w, logged_b)))
            metrics["val_acc"].append(accuracy(X_val, y_val, logged_w, logged_b))
    return w, b, metrics


def step_size_limit(X):
    """2 / L, with L the largest eigenvalue of X^T X / n: the Hessian of the mean least-squares loss."""
    return 2 / torch.linalg.eigvalsh(X.T @ X / X.shape[0]).max()


def gradient_descent_losses(X, y, alpha, n_steps):
    """The least-squares loss at w = 0 and after each of ``n_steps`` gradient steps of size ``alpha``."""
    w = torch.zeros(X.shape[1], dtype=X.dtype)
    losses = [least_squares_loss(X, y, w)]
    for _ in range(n_steps):
        w = w - alpha * least_squares_grad(X, y, w)
        losses.append(least_squares_loss(X, y, w))
    return torch.stack(losses)
