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
    """Run one request's probe on the notebook names it targets (one name, or several joined by commas).

    Its ``options`` change the notebook's world for this call only (it runs in a fork of the kernel):
    ``substitute`` puts functions of the grader's (:class:`~autograder.sandbox.codec.GraderFunction`) in place of
    notebook names, ``inference`` runs the call in ``torch.inference_mode()``, where autograd cannot run."""
    import contextlib

    import torch

    probe = PROBES[request["probe"]]
    names = request["target"].split(",")
    for name in names:
        if name not in namespace:
            return {"error": f"NameError: {name!r} is not defined in the notebook", "missing": True}
    try:
        fresh = _FreshCopies(tensors)
        options = codec.decode(request["options"], fresh, {}, 0, build_function)
        namespace.update(options.get("substitute", {}))
        args = codec.decode(request["args"], fresh, {}, 0, build_function)
        kwargs = codec.decode(request["kwargs"], fresh, {}, 0, build_function)
        with torch.inference_mode() if options.get("inference") else contextlib.nullcontext():
            return probe(*[namespace[n] for n in names], *args, **kwargs)
    except BaseException as e:  # the student's exception is an answer too
        return {"error": _describe(e)}


def build_function(source: str, name: str, args: tuple):
    """A grader's function from its source (see codec.GraderFunction)."""
    scope = {"__name__": "grader"}
    exec(compile(source, f"<grader's {name}>", "exec"), scope)
    return scope[name](*args) if args else scope[name]


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
    where = next((f"{f.name}, line {f.lineno} of code {f.filename.strip('<>')}" for f in reversed(frames)
                  if f.filename.startswith("<cell ")), None)
    text = f"{type(e).__name__}: {e}"[:2000]
    return f"{text} (in {where})" if where else text


def call(fn, *args, **kwargs) -> dict:
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


def value(obj) -> dict:
    """The value bound to a name (for answers that are data, not functions)."""
    return {"value": obj, "observed": {}}


def each(fn, calls, method: str | None = None) -> dict:
    """``fn`` (or its attribute ``method``, such as a custom Function's ``apply``) called once per argument tuple of
    ``calls``: the list of what it returned."""
    fn = getattr(fn, method) if method else fn
    return {"value": [fn(*args) for args in calls], "observed": {}}


def vjp(function_class, x, grad_outputs) -> dict:
    """A custom ``autograd.Function`` applied to a fresh leaf ``x``: its output, and its
    vector-Jacobian product for each of ``grad_outputs`` (what gradcheck builds the Jacobian from)."""
    global _backward_calls
    import torch

    observed = {"is_function": isinstance(function_class, type) and issubclass(function_class, torch.autograd.Function)}
    x = x.detach().clone().requires_grad_(True)
    out = function_class.apply(x)
    node = out.grad_fn  # for a custom Function this is its ctx: what forward saved is kept there
    kept = list(getattr(node, "saved_tensors", ())) + [v for v in vars(node).values() if isinstance(v, torch.Tensor)] \
        if node is not None else []
    observed["saves_output"] = any(t.shape == out.shape and torch.equal(t.detach(), out.detach()) for t in kept)
    _backward_calls = 0
    products = [torch.autograd.grad(out, x, g, retain_graph=True)[0] for g in grad_outputs]
    observed["backward_calls_inside"] = _backward_calls - len(grad_outputs)
    return {"value": {"forward": out, "vjps": products}, "observed": observed}


def update(fn, values, grads, alpha) -> dict:
    """``fn(params, alpha)`` on fresh leaves whose ``.grad`` is set; what became of those same objects."""
    params = [v.clone().requires_grad_(True) for v in values]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    originals = list(params)
    returned = fn(params, alpha)
    observed = {
        "returned_none": returned is None,
        "grads_cleared": all(p.grad is None or not bool(p.grad.any()) for p in originals),
        "leaves": all(p.is_leaf and p.requires_grad for p in originals),
    }
    return {"value": [p.detach() for p in originals], "observed": observed}


def evaluate(fn, model, X) -> dict:
    """``fn(model, X)`` on a model of the grader's; records whether gradient mode was on in its forward."""
    import torch

    modes = []
    model.register_forward_pre_hook(lambda module, inputs: modes.append(torch.is_grad_enabled()))
    value = fn(model, X)
    return {"value": value, "observed": {"forward_grad_modes": modes}}


def module(cls, X, **init) -> dict:
    """Build ``cls(**init)`` and run it on ``X``: its output, its weights and its layers' types."""
    import torch

    model = cls(**init)
    observed = {"is_module": isinstance(model, torch.nn.Module)}
    if not observed["is_module"]:
        return {"value": None, "observed": observed}
    observed["layers"] = {name: type(layer).__name__ for name, layer in model.named_children()}
    return {"value": {"output": model(X), "state": dict(model.state_dict())}, "observed": observed}


def train(fn, model, *args, **kwargs) -> dict:
    """``fn(model, *args)`` on a model of the grader's: its return value, the weights it left in that
    same model, whether the model kept its parameter objects, and how many torch.optim optimizers were made."""
    import torch

    created = []
    original_init = torch.optim.Optimizer.__init__

    def counting_init(self, *a, **k):
        created.append(type(self).__name__)
        original_init(self, *a, **k)

    before = list(model.parameters())
    torch.optim.Optimizer.__init__ = counting_init
    try:
        returned = fn(model, *args, **kwargs)
    finally:
        torch.optim.Optimizer.__init__ = original_init
    after = list(model.parameters())
    observed = {"same_parameters": len(before) == len(after) and all(a is b for a, b in zip(before, after)),
                "optimizers": created}
    return {"value": {"returned": returned, "state": dict(model.state_dict())}, "observed": observed}


def train_fresh(cls, fn, *args, **kwargs) -> dict:
    """Build the notebook's own ``cls()`` (after the request's seed) and train it with ``fn``; its weights."""
    model = cls()
    fn(model, *args, **kwargs)
    return {"value": {"state": dict(model.state_dict())}, "observed": {}}


def figure(fn, *args) -> dict:
    """Call a plotting function; report whether it returned a Figure, and each axis's lines as data."""
    import numpy as np
    from matplotlib import pyplot
    from matplotlib.figure import Figure

    fig = fn(*args)
    if not isinstance(fig, Figure):
        return {"value": None, "observed": {"is_figure": False, "type": type(fig).__name__}}
    axes = [[{"label": str(line.get_label()),
              "x": np.asarray(line.get_xdata(), dtype=float).tolist(),
              "y": np.asarray(line.get_ydata(), dtype=float).tolist()} for line in ax.get_lines()]
            for ax in fig.axes]
    pyplot.close(fig)
    return {"value": axes, "observed": {"is_figure": True}}


PROBES = {"call": call, "value": value, "each": each, "vjp": vjp, "update": update, "evaluate": evaluate, "module": module,
          "train": train, "train_fresh": train_fresh, "figure": figure}
