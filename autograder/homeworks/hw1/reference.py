"""The grader's own implementation of every hw1 function, the standard answers are judged by.

Written independently of the master notebook's solution; ``verify`` (the solution scores 100)
is the proof that the two agree.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def f(x):
    return x**3 - 3 * x


def df(x):
    return 3 * x**2 - 3


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


MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def mnist_tensors(root, train: bool):
    """All images of one MNIST split as ToTensor() then Normalize() make them, flattened, with their digits."""
    from torchvision import datasets

    data = datasets.MNIST(root, train=train, download=False)
    images = data.data.reshape(len(data), -1).to(torch.float32).div(255)
    return (images - torch.tensor(MNIST_MEAN)) / torch.tensor(MNIST_STD), data.targets


def load_mnist_odd_even(root, n_samples=5000, n_val=1000, seed=0):
    images, digits = mnist_tensors(root, train=True)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:n_samples]
    X, y = images[order], (digits[order] % 2).to(torch.float32)
    return X[:-n_val], y[:-n_val], X[-n_val:], y[-n_val:]


def load_mnist_test(root):
    """The t10k images, normalised and flattened, with odd (1) / even (0) labels."""
    images, digits = mnist_tensors(root, train=False)
    return images, (digits % 2).to(torch.float32)


def accuracy(X, y, w, b) -> float:
    return float(((torch.sigmoid(X @ w + b) >= 0.5).to(y.dtype) == y).to(torch.float64).mean())


def train_logistic(X_train, y_train, X_val, y_val, alpha=0.01, n_steps=1000, log_every=10):
    """Full-batch gradient descent on the logistic loss; metrics right after each logged update."""
    w = torch.zeros(X_train.shape[1], dtype=X_train.dtype)
    b = torch.zeros(1, dtype=X_train.dtype)
    metrics = {"iterations": [], "train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for step in range(n_steps):
        grad_w, grad_b = logistic_grad(X_train, y_train, w, b)
        w, b = w - alpha * grad_w, b - alpha * grad_b
        if step % log_every == 0:
            metrics["iterations"].append(step)
            metrics["train_loss"].append(float(logistic_loss(X_train, y_train, w, b)))
            metrics["train_acc"].append(accuracy(X_train, y_train, w, b))
            metrics["val_loss"].append(float(logistic_loss(X_val, y_val, w, b)))
            metrics["val_acc"].append(accuracy(X_val, y_val, w, b))
    return w, b, metrics
