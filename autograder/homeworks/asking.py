"""Building blocks the homeworks share: hidden inputs, requests, and the usual checks."""

from __future__ import annotations

import math
import random

import torch

from autograder.grading import compare
from autograder.grading.results import Check
from autograder.sandbox.runner import Reply, Request

DTYPES = (torch.float32, torch.float64)


def generator(rng: random.Random) -> torch.Generator:
    return torch.Generator().manual_seed(rng.randrange(2**31))


def randn(rng: random.Random, *shape: int, dtype=torch.float64, scale: float = 1.0) -> torch.Tensor:
    return (torch.randn(*shape, generator=generator(rng), dtype=torch.float64) * scale).to(dtype)


def uniform(rng: random.Random, *shape: int, low: float, high: float, dtype=torch.float64) -> torch.Tensor:
    u = torch.rand(*shape, generator=generator(rng), dtype=torch.float64)
    return (low + (high - low) * u).to(dtype)


def short(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def shape_of(*tensors: torch.Tensor) -> str:
    return ", ".join(f"{tuple(t.shape)}" for t in tensors) + f" {short(tensors[0].dtype)}"


class Asks:
    """Collects the requests of one question; each ``call`` returns the index of its reply."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.requests: list[Request] = []

    def call(self, target: str, *args, seconds: float | None = None, **kwargs) -> int:
        self.requests.append(Request("call", target, args, kwargs, seed=self.rng.randrange(2**31), seconds=seconds))
        return len(self.requests) - 1

    def value(self, target: str) -> int:
        self.requests.append(Request("value", target))
        return len(self.requests) - 1


def tensor_problem(reply: Reply, expected: torch.Tensor, dtype: torch.dtype, what: str,
                   tol: tuple[float, float] | None = None) -> str | None:
    """Why the reply is not ``expected`` as a tensor of ``dtype``, or None."""
    rtol, atol = tol or compare.tolerances(dtype)
    return compare.reply_problem(reply, what) or compare.tensor_mismatch(reply.value, expected, dtype, rtol, atol, what)


def manual_violation(replies: list[Reply], names: dict[int, str]) -> list[Check] | None:
    """The rule for manual functions: autograd inside one scores the whole question 0."""
    for index, name in names.items():
        if compare.used_autograd(replies[index]):
            return [Check("manual gradients", 1.0, False,
                          f"{name} ran a backward pass (autograd). Manual means computed by hand from the "
                          f"formula, without .backward(), torch.autograd or torch.func: this question scores 0.")]
    return None


def requires_grad(reply: Reply) -> bool:
    info = reply.infos.get(id(reply.value))
    return bool(info and info.requires_grad)


def autograd_problem(reply: Reply, what: str) -> str | None:
    """A function that must compute through autograd: a backward pass ran, the input is left as it was."""
    if reply.status != "ok":
        return None  # the value check reports it
    seen = reply.observed
    if seen.get("backward_calls", 0) == 0:
        return f"{what} ran no backward pass: this question asks for the gradient through autograd, not a formula"
    if seen.get("inputs_modified"):
        return f"{what} modified its input tensor"
    if seen.get("inputs_grad_set") or seen.get("inputs_requires_grad_changed"):
        return f"{what} changed its input (set its .grad or requires_grad): work on a copy, e.g. x.detach().clone().requires_grad_(True)"
    if requires_grad(reply):
        return f"{what} returned a tensor that requires grad: return plain values (detach it)"
    return None


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
