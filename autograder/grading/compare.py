"""Comparisons of a returned value with the reference, each a :class:`Check` with a message.

Values are compared in float64 after checking type, shape and dtype exactly (no broadcasting).
Messages say what was compared, at what size and dtype, and how far off it was; they never show
the expected value of a hidden input.
"""

from __future__ import annotations

import torch

from autograder.grading.results import Check
from autograder.sandbox.runner import Reply


def describe(t: torch.Tensor) -> str:
    return f"shape {tuple(t.shape)} {str(t.dtype).replace('torch.', '')}"


def reply_problem(reply: Reply, what: str) -> str | None:
    """Why a reply carries no value to compare, or None when it does."""
    if reply.status == "ok":
        return None
    if reply.status == "missing":
        return f"{what}: not defined in the notebook"
    if reply.status == "error":
        return f"{what} raised {reply.error}"
    return f"{what}: {reply.error}"


def tensor_mismatch(got, expected: torch.Tensor, dtype: torch.dtype, rtol: float, atol: float, what: str) -> str | None:
    """Why ``got`` is not ``expected`` (a tensor of ``dtype`` and the same shape, close in float64), or None."""
    if not isinstance(got, torch.Tensor):
        return f"{what} returned {type(got).__name__}, expected a tensor of {describe(expected.to(dtype))}"
    if tuple(got.shape) != tuple(expected.shape):
        return f"{what} returned shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    if got.dtype != dtype:
        return f"{what} returned dtype {str(got.dtype).replace('torch.', '')}, expected {str(dtype).replace('torch.', '')} (the input's)"
    g, e = got.to(torch.float64), expected.to(torch.float64)
    if not torch.isfinite(g).all():
        return f"{what} has nan or inf entries"
    err = (g - e).abs()
    if bool((err <= atol + rtol * e.abs()).all()):
        return None
    rel = float((err / (e.abs() + atol)).max())
    return (f"{what} is off: max abs error {float(err.max()):.3g}, max relative error {rel:.3g} "
            f"(tolerance rtol {rtol:g}, atol {atol:g}){scale_hint(g, e)}")


def scale_hint(got: torch.Tensor, expected: torch.Tensor) -> str:
    """When ``got`` is ``expected`` times one constant, say so: a lost factor is the usual cause."""
    if expected.numel() < 2 or float(expected.abs().max()) == 0:
        return ""
    c = float((got * expected).sum() / (expected * expected).sum())
    if abs(c - 1) < 1e-3 or not bool(torch.allclose(got, c * expected, rtol=1e-3, atol=1e-6)):
        return ""
    if abs(c + 1) < 1e-3:
        return "; it is the expected value with its sign flipped"
    return f"; it is {c:.4g} times the expected value (a constant factor lost or added: a 1/n of a mean, a 2 from a square?)"


def tolerances(dtype: torch.dtype) -> tuple[float, float]:
    """rtol, atol for a result computed in ``dtype`` (float32 work needs looser ones)."""
    return (1e-4, 1e-5) if dtype == torch.float32 else (1e-9, 1e-10)


def check(name: str, points: float, problem: str | None, success: str = "") -> Check:
    return Check(name, points, problem is None, success if problem is None else problem)


def used_autograd(reply: Reply) -> bool:
    return reply.status == "ok" and reply.observed.get("backward_calls", 0) > 0


def gradcheck_with(reference, point: tuple, student_grads: tuple) -> str | None:
    """Run ``torch.autograd.gradcheck`` on ``reference`` at ``point`` with the student's gradients as
    its backward: the numerical Jacobian of the reference must match the student's values.

    ``reference`` maps the float64 tensors of ``point`` to a tensor that is either a scalar (then
    ``student_grads`` holds its gradient in each input) or elementwise in a single input (then the
    one entry of ``student_grads`` is the elementwise derivative).
    """

    class StudentGradient(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *inputs):
            return reference(*inputs)

        @staticmethod
        def backward(ctx, grad_output):
            return tuple(grad_output * g.to(torch.float64) for g in student_grads)

    inputs = tuple(p.detach().to(torch.float64).requires_grad_(True) for p in point)
    try:
        torch.autograd.gradcheck(StudentGradient.apply, inputs, eps=1e-6, atol=1e-5, rtol=1e-4)
    except Exception as e:  # GradcheckError or a shape error: the gradient disagrees with the reference
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return f"gradcheck against the reference failed: {first}"
    return None
