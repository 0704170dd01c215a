"""What the child can be asked to do with the notebook's names, and what it observes meanwhile.

Each probe returns a plain dict: ``{"value": ..., "observed": {...}}`` or ``{"error": "..."}``.
Observations (how many backward passes ran, whether inputs were modified, ...) are facts about
the call that the parent's checks use; the parent decides what they mean.
"""

from __future__ import annotations

import traceback

from autograder.sandbox import codec

_backward_calls = 0


def install_backward_counter() -> None:
    """Count every run of the autograd engine (``backward()``, ``autograd.grad``, ``torch.func``)."""
    from torch.autograd import variable

    engine = variable.Variable._execution_engine

    class CountingEngine:
        def run_backward(self, *args, **kwargs):
            global _backward_calls
            _backward_calls += 1
            return engine.run_backward(*args, **kwargs)

        def __getattr__(self, name):
            return getattr(engine, name)

    variable.Variable._execution_engine = CountingEngine()


def answer(namespace: dict, request: dict, tensors: dict) -> dict:
    probe = PROBES[request["probe"]]
    target = request["target"]
    if target not in namespace:
        return {"error": f"NameError: {target!r} is not defined in the notebook", "missing": True}
    try:
        fresh = _FreshCopies(tensors)
        args = codec.decode(request["args"], fresh, {}, 0)
        kwargs = codec.decode(request["kwargs"], fresh, {}, 0)
        return probe(namespace[target], args, kwargs)
    except BaseException as e:  # the student's exception is an answer too
        return {"error": _describe(e)}


class _FreshCopies(dict):
    """Each call gets its own copy of the inputs it names, so no call sees another's changes."""

    def __init__(self, tensors: dict):
        super().__init__()
        self._tensors = tensors

    def get(self, key, default=None):
        if key not in self and key in self._tensors:
            self[key] = self._tensors[key].clone()
        return super().get(key, default)


def _describe(e: BaseException) -> str:
    frames = traceback.extract_tb(e.__traceback__)
    where = next((f"{f.name}, line {f.lineno}" for f in reversed(frames) if f.filename.startswith("<cell")), None)
    text = f"{type(e).__name__}: {e}"[:2000]
    return f"{text} (in {where})" if where else text


def call(fn, args, kwargs) -> dict:
    """Call ``fn(*args, **kwargs)`` and observe backward passes and changes to tensor arguments."""
    global _backward_calls
    import torch

    inputs = [a for a in list(args) + list(kwargs.values()) if isinstance(a, torch.Tensor)]
    before = [a.detach().clone() for a in inputs]
    flags = [a.requires_grad for a in inputs]
    _backward_calls = 0
    value = fn(*args, **kwargs)
    observed = {
        "backward_calls": _backward_calls,
        "inputs_modified": any(
            a.shape != b.shape or not torch.equal(a.detach(), b) for a, b in zip(inputs, before)
        ),
        "inputs_grad_set": any(a.grad is not None for a in inputs),
        "inputs_requires_grad_changed": any(a.requires_grad != f for a, f in zip(inputs, flags)),
    }
    return {"value": value, "observed": observed}


def value(obj, args, kwargs) -> dict:
    """The value bound to a name (for answers that are data, not functions)."""
    return {"value": obj, "observed": {}}


PROBES = {"call": call, "value": value}
