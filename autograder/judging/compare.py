"""Comparisons of a returned value with the reference, each a :class:`Check` with a message.

Values are compared in float64 after checking type, shape and dtype exactly (no broadcasting).
Messages say what was compared, at what size and dtype, and how far off it was; they never show
the expected value of a hidden input.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from autograder.judging.results import Check
from autograder.judging.torch_errors import error_hint
from autograder.sandbox.protocol import Reply


def describe(t: torch.Tensor) -> str:
    return f"shape {tuple(t.shape)} {short(t.dtype)}"


def reply_problem(reply: Reply, what: str) -> str | None:
    """Why a reply carries no value to compare, or None when it does."""
    if reply.status == "ok":
        return None
    if reply.status == "missing":
        return f"{what}: not defined in the notebook"
    if reply.status == "error":
        return f"{what} raised {reply.error}{error_hint(reply.error)}"
    return f"{what}: {reply.error}"


Known = tuple[torch.Tensor, str]
"""A wrong answer the grader recognises, computed from the same inputs, and what it means."""


def tensor_mismatch(got, expected: torch.Tensor, dtype: torch.dtype, rtol: float, atol: float, what: str,
                    n: int | None = None, known: Sequence[Known] = ()) -> str | None:
    """Why ``got`` is not ``expected`` (a tensor of ``dtype`` and the same shape, close in float64), or None.

    A wrong value is diagnosed where possible: as one of the ``known`` wrong answers the caller computed
    from the same inputs, else as the expected value times a constant (``n``, the number of examples,
    names the 1/n of a mean).
    """
    if not isinstance(got, torch.Tensor):
        return f"{what} returned {type(got).__name__}, expected a tensor of {describe(expected.to(dtype))}"
    if tuple(got.shape) != tuple(expected.shape):
        return f"{what} returned shape {tuple(got.shape)}, expected {tuple(expected.shape)}{shape_hint(got, expected)}"
    if got.dtype != dtype:
        return f"{what} returned dtype {short(got.dtype)}, expected {short(dtype)} (the input's){dtype_hint(got.dtype, dtype)}"
    g, e = got.detach().to(torch.float64), expected.to(torch.float64)
    finite = bool(torch.isfinite(g).all())
    err = (g - e).abs()
    if finite and bool((err <= atol + rtol * e.abs()).all()):
        return None
    if not finite:
        problem = f"{what} has nan or inf entries"
    else:
        rel = float((err / (e.abs() + atol)).max())
        problem = (f"{what} is off: max abs error {float(err.max()):.3g}, max relative error {rel:.3g} "
                   f"(tolerance rtol {rtol:g}, atol {atol:g})")
    return problem + (known_hint(g, e, rtol, atol, known) or scale_hint(g, e, n))


def matches(got: torch.Tensor, candidate: torch.Tensor) -> bool:
    """``got`` is ``candidate`` to float32 precision, nan and inf where ``candidate`` has them."""
    c = candidate.to(torch.float64)
    if got.shape != c.shape:
        return False
    finite = torch.isfinite(c)
    if not torch.equal(finite, torch.isfinite(got)):
        return False
    return bool(torch.allclose(got[finite], c[finite], rtol=1e-3, atol=1e-5))


def known_hint(got: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float, known: Sequence[Known]) -> str:
    """"; <meaning>" of the first known wrong answer ``got`` is (one the right answer is not), else ""."""
    for candidate, meaning in known:
        c = candidate.to(torch.float64)
        right_too = bool(torch.isfinite(c).all()) and bool(((c - expected).abs() <= atol + rtol * expected.abs()).all())
        if not right_too and matches(got, c):
            return f"; {meaning}"
    return ""


def scale_hint(got: torch.Tensor, expected: torch.Tensor, n: int | None = None) -> str:
    """When ``got`` is ``expected`` times one constant, say so and name the usual cause of that constant."""
    if expected.numel() < 2 or float(expected.abs().max()) == 0 or not bool(torch.isfinite(got).all()):
        return ""
    c = float((got * expected).sum() / (expected * expected).sum())
    if abs(c - 1) < 1e-3 or not bool(torch.allclose(got, c * expected, rtol=1e-3, atol=1e-6)):
        return ""
    if abs(c + 1) < 1e-3:
        return "; it is the expected value with its sign flipped (y - prediction where prediction - y belongs, or a lost minus)"
    causes = [(2.0, "it is twice the expected value: a factor 2 too many (the 0.5 of the loss cancels the 2 from the square)"),
              (0.5, "it is half the expected value: the factor 2 from differentiating the square is missing")]
    if n and n > 2:
        causes += [(float(n), f"it is n = {n} times the expected value: did you forget the 1/n of the mean (a sum where a mean belongs)?"),
                   (1.0 / n, f"it is 1/n = 1/{n} of the expected value: a mean where a sum belongs, or a division by n twice")]
    cause = next((cause for factor, cause in causes if abs(abs(c) / factor - 1) < 1e-3), None)
    if cause:
        return f"; {cause}" + (" (and its sign is flipped)" if c < 0 else "")
    return f"; it is {c:.4g} times the expected value (a constant factor lost or added: a 1/n of a mean, a 2 from a square?)"


def shape_hint(got: torch.Tensor, expected: torch.Tensor) -> str:
    """The usual cause of a wrong shape: a kept or missing dimension of size 1, a transpose, a broadcast."""
    g, e = tuple(got.shape), tuple(expected.shape)
    values_right = ""
    if got.numel() == expected.numel() and got.dim() <= 2:
        flat = got.detach().to(torch.float64)
        same = bool(torch.allclose(flat.reshape(e), expected.to(torch.float64), rtol=1e-3, atol=1e-5))
        transposed = len(e) == 2 and g == e[::-1] and bool(
            torch.allclose(flat.T, expected.to(torch.float64), rtol=1e-3, atol=1e-5))
        values_right = " (the values are right, only the shape is not)" if same or transposed else ""
    if [s for s in g if s != 1] == [s for s in e if s != 1]:
        return (f": a dimension of size 1 too many or too few (a column (k, 1) where (k,) belongs, keepdim=True, "
                f"or a missing .reshape){values_right}")
    if len(g) == 2 and g == e[::-1]:
        return f": a transposed result (swap the operands or the .T){values_right}"
    if len(g) > len(e) and (g[:len(e)] == e or g[len(g) - len(e):] == e):
        return (": a broadcast-shaped result: a column (k, 1) and a 1-D (k,) tensor combined into a matrix; "
                "keep targets and predictions both 1-D")
    return ""


def dtype_hint(got: torch.dtype, expected: torch.dtype) -> str:
    if got == torch.float32 and expected == torch.float64:
        return ": a result built in a tensor made without dtype= (torch.zeros(d) and torch.tensor([...]) are float32) or a .float()"
    if got == torch.float64 and expected == torch.float32:
        return ": computed in float64 and not cast back (.to(x.dtype))"
    return ""


def short(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


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
