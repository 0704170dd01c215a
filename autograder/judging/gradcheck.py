"""``torch.autograd.gradcheck`` on the student's own pair: their function and their hand-written gradient.

The student's code never runs in the grader, so the notebook evaluates its function at every point
gradcheck will ask for (:func:`points`: the centre, then each element of each differentiated input
moved by -eps and +eps, as gradcheck moves it) and returns the values. Here those values are
replayed as the forward of an ``autograd.Function`` whose backward is the student's gradient, and
gradcheck compares the two: a gradient that is right for the student's function passes, whether or
not that function is the one asked for. A function that does not change around the point (a constant,
whose zero gradient any zeros would match) earns nothing.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence

import torch

from autograder.judging.results import Check

EPS = 1e-6
# torch.autograd.gradcheck is the function; the module that defines its error is shadowed by it
GradcheckError = importlib.import_module("torch.autograd.gradcheck").GradcheckError


def points(args: Sequence, which: Sequence[int], eps: float = EPS) -> list[tuple]:
    """The argument tuples gradcheck evaluates at: ``args`` (float64 tensors where ``which`` points), then for each
    index in ``which`` and each element of that argument, the element minus ``eps`` and plus ``eps``."""
    found = [tuple(args)]
    for j in which:
        flat = args[j].reshape(-1)
        for i in range(flat.numel()):
            for sign in (-1, 1):
                moved = args[j].detach().clone()
                moved.view(-1)[i] = flat[i] + sign * eps
                found.append((*args[:j], moved, *args[j + 1:]))
    return found


def run(values: list, args: Sequence, which: Sequence[int], vjps: Sequence[Callable], names: Sequence[str],
        output: Callable = lambda value: value, eps: float = EPS) -> str | None:
    """Why gradcheck fails for the function whose values at :func:`points` are ``values`` and whose gradient in
    ``args[which[k]]`` is ``vjps[k]`` (a grad_output -> input gradient map), or None when it passes. ``output``
    turns what the function returned into the differentiated value (a loss computed from predictions, say);
    ``names`` names the differentiated inputs in the message."""
    centre = [args[j].detach().to(torch.float64) for j in which]
    table = {}
    try:
        keys = [None] + [(k, i, sign) for k in range(len(which)) for i in range(centre[k].numel()) for sign in (-1, 1)]
        for key, value in zip(keys, values, strict=True):
            table[key] = _as_float64(output(value))
    except (TypeError, ValueError, RuntimeError) as e:
        return f"gradcheck could not use what the function returned: {e}"
    if all(torch.equal(value, table[None]) for value in table.values()):
        return "the function does not change around the point (a constant): there is no gradient for gradcheck to check"

    def lookup(inputs):
        moved = [(k, t) for k, t in enumerate(inputs) if not torch.equal(t, centre[k])]
        if not moved:
            return table[None]
        ((k, t),) = moved
        (i,) = (t != centre[k]).reshape(-1).nonzero()[0].tolist()
        return table[(k, i, 1 if float(t.reshape(-1)[i]) > float(centre[k].reshape(-1)[i]) else -1)]

    class Replayed(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *inputs):
            return lookup(inputs).clone()

        @staticmethod
        def backward(ctx, grad_output):
            return tuple(vjp(grad_output) for vjp in vjps)

    inputs = tuple(c.clone().requires_grad_(True) for c in centre)
    try:
        torch.autograd.gradcheck(Replayed.apply, inputs, eps=eps, atol=1e-5, rtol=1e-3, check_undefined_grad=False)
    except GradcheckError as e:
        k = re.search(r"with respect to input (\d+)", str(e))
        where = f" for {names[int(k.group(1))]}" if k else ""
        return f"gradcheck failed{where}: the numerical and the analytical Jacobian differ"
    except (RuntimeError, ValueError) as e:  # a gradient of the wrong shape or dtype, say
        return f"gradcheck could not compare them: {str(e).strip().splitlines()[0][:300]}"
    return None


def elementwise(gradient: torch.Tensor) -> list[Callable]:
    """The vector-Jacobian product of one input whose function acts elementwise, or whose output is a scalar."""
    return [lambda g: g * gradient]


def from_rows(rows: Sequence[torch.Tensor], shape=None) -> list[Callable]:
    """The vector-Jacobian product of one input, the Jacobian given by its rows (the gradient the student's code
    gives at each one-hot grad_output), reshaped to the input's ``shape`` where it is not a vector."""
    matrix = torch.stack([row.reshape(-1) for row in rows])
    if shape is None:
        return [lambda g: g.reshape(-1) @ matrix]
    return [lambda g: (g.reshape(-1) @ matrix).reshape(shape)]


def _as_float64(value) -> torch.Tensor:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = torch.tensor(float(value))
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"a {type(value).__name__}, not a tensor")
    if value.dtype != torch.float64:
        raise TypeError(f"dtype {str(value.dtype).replace('torch.', '')} for float64 inputs (gradcheck needs float64)")
    return value.detach()


def verdict(name: str, points: float, failure: str | None, function_right: bool, gradient_right: bool,
            function: str, gradient: str) -> Check:
    """The check that ``gradient`` is the gradient of a function: of the student's own ``function`` (gradcheck
    passed: ``failure`` is None), or of the function asked for (``gradient_right``). The message says which
    of the two is wrong."""
    if failure is None:
        note = "" if function_right else f" (your {function} is not the function asked for, see above: the gradient is right for yours)"
        return Check(name, points, True, f"gradcheck: {gradient} is the gradient of your {function}{note}")
    if gradient_right:
        return Check(name, points, True, f"{gradient} is the gradient of the function asked for; your {function} is not "
                                         f"that function (see above), so gradcheck against it fails")
    if function_right:
        why = f"your {function} is right, so {gradient} is what is wrong"
    else:
        why = f"neither {gradient} nor your {function} is right"
    return Check(name, points, False, f"gradcheck of {gradient} against your {function}: {failure}; {why}")
