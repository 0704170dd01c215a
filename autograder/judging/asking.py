"""Building blocks the homeworks share: hidden inputs, requests, and the usual checks."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Hashable, Mapping, Sequence

import torch

from autograder.judging import compare, gradcheck
from autograder.judging.compare import check
from autograder.judging.results import Check
from autograder.sandbox.protocol import Reply, Request

DTYPES = (torch.float32, torch.float64)
TRAINING = 6.0  # a training call's time limit, in graded calls' limits
METRIC_KEYS = ("iterations", "train_loss", "train_acc", "val_loss", "val_acc")


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
    """Collects the requests of one question, each under the key its reply is read by (its target unless
    ``key=`` says otherwise: a question that asks one function several times names each call)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.asked: dict[Hashable, Request] = {}

    def probe(self, probe: str, target: str, *args, key: Hashable = None, cost: float = 1.0, seed: int | None = None,
              manual: bool = False, substitute: dict | None = None, **kwargs) -> None:
        """Ask the child to run ``probe`` on the notebook name(s) ``target`` (names joined by commas); ``cost`` is
        its time limit in graded calls' limits. A ``manual`` call runs where autograd cannot; ``substitute`` maps
        notebook names to the grader's functions (:class:`~autograder.sandbox.codec.GraderFunction`) that take
        their place for this call."""
        key = target if key is None else key
        if key in self.asked:
            raise ValueError(f"two requests of one question under the key {key!r}")
        seed = self.rng.randrange(2**31) if seed is None else seed
        options = {"inference": True} if manual else {}
        if substitute:
            options["substitute"] = substitute
        self.asked[key] = Request(probe, target, args, kwargs, seed=seed, cost=cost, options=options)

    def call(self, target: str, *args, key: Hashable = None, cost: float = 1.0, manual: bool = False,
             substitute: dict | None = None, **kwargs) -> None:
        self.probe("call", target, *args, key=key, cost=cost, manual=manual, substitute=substitute, **kwargs)

    def value(self, target: str) -> None:
        self.probe("value", target)


def tensor_problem(reply: Reply, expected: torch.Tensor, dtype: torch.dtype, what: str,
                   tol: tuple[float, float] | None = None, n: int | None = None,
                   known: Sequence[compare.Known] = ()) -> str | None:
    """Why the reply is not ``expected`` as a tensor of ``dtype``, or None (``n`` and ``known`` diagnose it)."""
    rtol, atol = tol or compare.tolerances(dtype)
    return compare.reply_problem(reply, what) or compare.tensor_mismatch(reply.value, expected, dtype, rtol, atol, what, n, known)


def reply_item(reply: Reply, key) -> Reply:
    """One entry of a dict reply, as a reply of its own (so the tensor checks apply to it)."""
    return Reply("ok", value=reply.value[key], infos=reply.infos)


def bce_mixups(z: torch.Tensor, y: torch.Tensor) -> list[compare.Known]:
    """The usual wrong mean binary cross-entropies of logits ``z`` (float64): the log of the sigmoid (inf or nan
    at large logits), BCELoss's clamped log, a sum where the mean belongs."""
    s = torch.sigmoid(z)
    naive = -(y * torch.log(s) + (1 - y) * torch.log(1 - s)).mean()
    stable = "softplus(z) - y*z, or F.binary_cross_entropy_with_logits"
    return [(naive, f"log(sigmoid(z)) underflows: sigmoid(-1000) is 0 and log(0) = -inf; write the loss as {stable}"),
            (torch.nn.functional.binary_cross_entropy(s, y),
             f"that is BCELoss's value, whose log is clamped at -100: wrong for large logits; use the logits form, {stable}"),
            ((torch.nn.functional.softplus(z) - y * z).sum(), f"it is n = {z.shape[0]} times the expected value: a sum where the mean belongs")]


NO_GRAPH = "does not require grad and does not have a grad_fn"  # what a backward pass says where autograd cannot run


def manual_violation(replies: Mapping[Hashable, Reply], names: dict[Hashable, str]) -> list[Check] | None:
    """The rule for manual functions (``names``: the keys of their replies, and the functions): autograd inside one
    scores the whole question 0.

    Judged by behaviour first: a manual call runs in ``torch.inference_mode()``, where a backward pass finds no
    graph and fails. A count of backward passes, kept inside the notebook's own process, catches what gets around
    that (``torch.func``); being observed there, it catches mistakes, not forgeries."""
    for key, name in names.items():
        reply = replies[key]
        if reply.status == "error" and NO_GRAPH in reply.error:
            return [Check("manual gradients", 1.0, False,
                          f"{name} needed autograd, which cannot run where the grader calls manual gradients "
                          f"(torch.inference_mode()): {reply.error}. Manual means computed by hand from the formula, "
                          f"without .backward(), torch.autograd or torch.func: this question scores 0.")]
        if compare.used_autograd(reply):
            return [Check("manual gradients", 1.0, False,
                          f"{name} ran a backward pass (autograd). Manual means computed by hand from the "
                          f"formula, without .backward(), torch.autograd or torch.func: this question scores 0.")]
    return None


def own_gradcheck(values: Reply, function: str, gradient: Reply, gradient_name: str, point, which, vjps_of, names,
                  output=lambda value: value) -> str | None:
    """Why gradcheck fails for the student's pair, or None: their ``gradient`` (a reply whose value ``vjps_of`` turns
    into one vector-Jacobian product per differentiated input) against their ``function``, whose values at
    :func:`gradcheck.points` of ``point`` are the reply ``values`` (``output`` turns each into the differentiated value)."""
    if values.status != "ok":
        return f"your {function} could not be evaluated around the point: {compare.reply_problem(values, function)}"
    if gradient.status != "ok":
        return compare.reply_problem(gradient, gradient_name)
    try:
        vjps = vjps_of(gradient.value)
    except (TypeError, ValueError, KeyError, AttributeError, RuntimeError) as e:
        return f"{gradient_name}'s value cannot be used ({e})"
    return gradcheck.run(values.value, point, which, vjps, names, output)


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


def trajectory_problem(metrics: dict, expected: dict, data, what) -> str | None:
    """Why training metrics leave the reference trajectory on ``data`` (X_train, y_train, X_val, y_val), or None.

    Losses agree to rtol 1e-4 (float32 and float64 work both pass); accuracies may differ by two images.
    """
    missing = [k for k in METRIC_KEYS if k not in metrics]
    if missing:
        return f"{what}: metrics lacks the keys {', '.join(missing)}"
    for key in METRIC_KEYS:
        got = metrics[key]
        if not isinstance(got, list) or not all(is_number(v) for v in got):
            return f"{what}: metrics[{key!r}] must be a list of Python floats (use .item())"
        if len(got) != len(expected[key]):
            return f"{what}: metrics[{key!r}] has {len(got)} entries, expected {len(expected[key])} (one per logged step, step % log_every == 0)"
    if [int(v) for v in metrics["iterations"]] != expected["iterations"]:
        return f"{what}: metrics['iterations'] should list the logged steps 0, log_every, 2*log_every, ..."
    for key, n in (("train_loss", 0), ("val_loss", 0), ("train_acc", data[0].shape[0]), ("val_acc", data[2].shape[0])):
        got, want = torch.tensor(metrics[key], dtype=torch.float64), torch.tensor(expected[key], dtype=torch.float64)
        allowed = 2.0 / n + 1e-9 if n else 1e-5 + 1e-4 * want.abs()
        off = (got - want).abs() > allowed
        if bool(off.any()):
            first = int(off.nonzero()[0])
            return (f"{what}: metrics[{key!r}] leaves the reference trajectory at logged step "
                    f"{expected['iterations'][first]} (off by {float((got - want).abs()[first]):.3g})")
    return None


def trajectory_check(name: str, points: float, problem: str | None, metrics, expected: dict, data, what: str,
                     mixups) -> Check:
    """The check of a training run's ``metrics`` against the reference's ``expected`` on ``data``, unless an earlier
    ``problem`` already fails it. A run off the trajectory is named when it follows one of the wrong trajectories
    that ``mixups()`` yields as (metrics, meaning) pairs (each computed only when the ones before it do not match).
    The check carries the student's curves beside the reference's, for the feedback."""
    if problem is None:
        problem = trajectory_problem(metrics, expected, data, what)
        if problem:
            problem += next((f"; {meaning}" for wrong, meaning in mixups() if trajectory_problem(metrics, wrong, data, "") is None), "")
    else:
        metrics = None
    return dataclasses.replace(check(name, points, problem), curves=curves(metrics, expected))


def accuracy_check(accuracy: float, test_images: int, bar: float, reference: float, measured: str = "",
                   unseen_by: str = "the function", advice: str = "") -> Check:
    """The check of a trained model's accuracy on test images it never saw, against the bar (the reference's
    accuracy less a margin); ``measured`` says what was measured, ``advice`` ends the message of a miss."""
    of = f" of {measured}" if measured else ""
    if accuracy >= bar:
        return Check("test accuracy", 1, True, f"accuracy{of} on the {test_images:,} unseen test images: {accuracy:.1%} (bar {bar:.1%})")
    return Check("test accuracy", 1, False, f"accuracy{of} on the {test_images:,} test images {unseen_by} never saw: {accuracy:.1%}, "
                                            f"below the bar of {bar:.1%} (the reference reaches {reference:.1%}){advice}")


def curves(metrics, expected: dict) -> dict | None:
    """The returned metrics that can be drawn (lists of numbers as long as ``iterations``) and the reference's."""
    if not isinstance(metrics, dict) or not isinstance(metrics.get("iterations"), list):
        return None
    steps = len(metrics["iterations"])
    drawable = {key: [float(v) for v in metrics[key]] for key in METRIC_KEYS
                if isinstance(metrics.get(key), list) and len(metrics[key]) == steps
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in metrics[key])}
    if "iterations" not in drawable or len(drawable) == 1:
        return None
    return {"student": drawable, "reference": {key: [float(v) for v in expected[key]] for key in METRIC_KEYS}}
