"""The grader's MNIST: the training and test images as the homeworks' loaders make them, cached."""

from __future__ import annotations

import functools
import os
import shutil

import torch

from autograder.data.mnist import FILES, copy_training_images, ensure_mnist, read

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def training_images(folder: str) -> None:
    """The notebook's ``data/``: MNIST's training images as torchvision lays them out (the test images stay here)."""
    copy_training_images(ensure_mnist(), folder)


def all_images(folder: str) -> None:
    """The offline bundle's ``data/``: the whole MNIST subset, test images included, as the notebook's data cell
    reads it without internet (the accuracies the notebooks quote for the subset are on its test images)."""
    source, raw = os.path.join(ensure_mnist(), "MNIST", "raw"), os.path.join(folder, "MNIST", "raw")
    os.makedirs(raw)
    for name in FILES:
        shutil.copyfile(os.path.join(source, name), os.path.join(raw, name))


def mnist_tensors(root, train: bool):
    """All images of one MNIST split as ToTensor() then Normalize() make them, flattened, with their digits."""
    pixels, digits = read(root, train)
    images = torch.from_numpy(pixels.copy()).reshape(len(pixels), -1).to(torch.float32).div(255)
    return (images - torch.tensor(MNIST_MEAN)) / torch.tensor(MNIST_STD), torch.from_numpy(digits.astype("int64"))


def load_mnist_odd_even(root, n_samples=5000, n_val=1000, seed=0):
    """hw1 q9 as specified: a seeded subsample of the training images, odd (1) / even (0), last n_val for validation."""
    images, digits = mnist_tensors(root, train=True)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:n_samples]
    X, y = images[order], (digits[order] % 2).to(torch.float32)
    return X[:-n_val], y[:-n_val], X[-n_val:], y[-n_val:]


@functools.lru_cache(maxsize=8)
def split(n_samples: int, n_val: int, seed: int):
    """The grader's own split of the training images (the same for every submission of a batch)."""
    return load_mnist_odd_even(ensure_mnist(), n_samples, n_val, seed)


@functools.lru_cache(maxsize=1)
def test_set():
    """The t10k images, normalised and flattened, with odd (1) / even (0) labels: never sent to a notebook."""
    images, digits = mnist_tensors(ensure_mnist(), train=False)
    return images, (digits % 2).to(torch.float32)
