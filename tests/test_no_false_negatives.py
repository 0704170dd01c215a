"""No correct answer loses a point: independently written correct implementations of every graded
function, on the hidden inputs of random question seeds (random shapes, float32 and float64).

The answers are produced in this process by the sandbox's own probes and passed through the codec
as the child's are, then scored by the question's plan, as grading does.
"""

from __future__ import annotations

import json
import random

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.homeworks import Question, hw1, hw2
from autograder.sandbox import codec, probes
from autograder.sandbox.protocol import Reply

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
FEW = settings(max_examples=12, deadline=None)


@pytest.fixture(scope="module", autouse=True)
def counted_backward_passes():
    """The child counts autograd runs (the manual rule and the 'a backward pass ran' rule depend on it)."""
    probes.install_backward_counter()


def _copy(value):
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def answer(request, namespace: dict, folder) -> Reply:
    """What the child would reply to ``request`` with the notebook names ``namespace``: the request goes through the
    codec and the child's own :func:`probes.answer`, the reply back through the codec."""
    torch.manual_seed(request.seed)
    doc, tensors = request.document()
    saved = dict(namespace)
    try:
        reply = probes.answer(namespace, json.loads(json.dumps(doc)), tensors)
    finally:  # the child answers in a fork: what a call substituted is gone after it
        namespace.clear()
        namespace.update(saved)
    if "error" in reply:  # a crash of a correct implementation is a failure of this test, reported by score
        return Reply("missing" if reply.get("missing") else "error", error=reply["error"])
    codec.write(reply, str(folder / "reply.json"), str(folder / "reply.safetensors"))
    doc, infos = codec.read(str(folder / "reply.json"), str(folder / "reply.safetensors"))
    (folder / "reply.safetensors").unlink(missing_ok=True)
    return Reply("ok", value=doc.get("value"), observed=doc.get("observed") or {}, infos=infos)


def lost_points(declaration, seed: int, namespace: dict, folder) -> list[str]:
    plan = Question("q", 1, declaration).plan(random.Random(seed))
    checks = plan.judge([answer(request, namespace, folder) for request in plan.requests])
    return [f"{c.name}: {c.message}" for c in checks if not c.passed]


def in_float64(fn):
    """The same function computed in float64 internally, its results cast back to the input's dtype."""

    def wrapped(*args):
        dtype = next(a.dtype for a in args if isinstance(a, torch.Tensor))
        result = fn(*(a.double() if isinstance(a, torch.Tensor) else a for a in args))
        if isinstance(result, dict):
            return {k: v.to(dtype) for k, v in result.items()}
        if isinstance(result, tuple):
            return tuple(v.to(dtype) for v in result)
        return result.to(dtype)

    return wrapped


# hw1 q1 -----------------------------------------------------------------------------------------
# df_autograd differentiates whatever f the notebook holds when it is called (the grader substitutes one).

def df_autograd_backward(notebook):
    def df_autograd(x):
        x = x.detach().clone().requires_grad_(True)
        notebook["f"](x).sum().backward()
        return x.grad
    return df_autograd


def df_autograd_grad(notebook):
    def df_autograd(x):
        x = x.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(notebook["f"](x).sum(), x)
        return grad
    return df_autograd


def df_autograd_func(notebook):
    return lambda x: torch.func.vmap(torch.func.grad(lambda t: notebook["f"](t)))(x)


def notebook(**names) -> dict:
    """A namespace whose ``df_autograd`` (given as a function of the namespace) looks ``f`` up in it when called."""
    names["df_autograd"] = names["df_autograd"](names)
    return names


def f_looped(x):
    return torch.stack([v**3 - 3 * v for v in x.reshape(-1)]).reshape(x.shape)


def df_looped(x):
    return torch.stack([3 * v * v - 3 for v in x.reshape(-1)]).reshape(x.shape)


HW1_Q1 = {
    "vectorised": notebook(f=lambda x: x**3 - 3 * x, df_manual=lambda x: 3 * x**2 - 3, df_autograd=df_autograd_backward),
    "looped": notebook(f=f_looped, df_manual=df_looped, df_autograd=df_autograd_grad),
    "float64 inside": notebook(f=in_float64(lambda x: x**3 - 3 * x), df_manual=in_float64(lambda x: 3 * x**2 - 3),
                               df_autograd=lambda ns: in_float64(df_autograd_backward(ns))),
    "factored": notebook(f=lambda x: x * (x - 3**0.5) * (x + 3**0.5), df_manual=lambda x: 3 * (x - 1) * (x + 1),
                         df_autograd=df_autograd_func),
}


@pytest.mark.parametrize("style", HW1_Q1)
@FEW
@given(seed=SEEDS)
def test_hw1_q1(tmp_path_factory, style, seed):
    assert lost_points(hw1.q1, seed, HW1_Q1[style], tmp_path_factory.mktemp("q")) == []


# hw1 q2 -----------------------------------------------------------------------------------------

def ls_grad_looped(X, y, w):
    grad = torch.zeros_like(w)
    for x_i, y_i in zip(X, y):
        grad = grad + (x_i @ w - y_i) * x_i
    return grad / X.shape[0]


HW1_Q2 = {
    "vectorised": {"least_squares_loss": lambda X, y, w: 0.5 * ((X @ w - y) ** 2).mean(),
                   "least_squares_grad": lambda X, y, w: X.T @ (X @ w - y) / X.shape[0]},
    "looped": {"least_squares_loss": lambda X, y, w: sum(0.5 * (x_i @ w - y_i) ** 2 for x_i, y_i in zip(X, y)) / X.shape[0],
               "least_squares_grad": ls_grad_looped},
    "float64 inside": {"least_squares_loss": in_float64(lambda X, y, w: 0.5 * F.mse_loss(X @ w, y)),
                       "least_squares_grad": in_float64(lambda X, y, w: X.T @ (X @ w - y) / X.shape[0])},
    "normal equations": {"least_squares_loss": lambda X, y, w: (X @ w - y).square().sum() / (2 * X.shape[0]),
                         "least_squares_grad": lambda X, y, w: (X.T @ X @ w - X.T @ y) / X.shape[0]},
}


@pytest.mark.parametrize("style", HW1_Q2)
@FEW
@given(seed=SEEDS)
def test_hw1_q2(tmp_path_factory, style, seed):
    assert lost_points(hw1.q2, seed, HW1_Q2[style], tmp_path_factory.mktemp("q")) == []


# hw1 q3 -----------------------------------------------------------------------------------------

def logistic_grad_vectorised(X, y, w, b):
    r = torch.sigmoid(X @ w + b) - y
    return X.T @ r / X.shape[0], r.mean().reshape(1)


def logistic_grad_looped(X, y, w, b):
    grad_w, grad_b = torch.zeros_like(w), torch.zeros_like(b)
    for x_i, y_i in zip(X, y):
        r = torch.special.expit(x_i @ w + b) - y_i
        grad_w, grad_b = grad_w + r * x_i, grad_b + r
    return grad_w / X.shape[0], grad_b / X.shape[0]


def logistic_loss_where(X, y, w, b):
    z = X @ w + b
    return (torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()


HW1_Q3 = {
    "softplus": {"logistic_loss": lambda X, y, w, b: (F.softplus(X @ w + b) - y * (X @ w + b)).mean(),
                 "logistic_grad": logistic_grad_vectorised},
    "logsigmoid, looped": {"logistic_loss": lambda X, y, w, b: -(y * F.logsigmoid(X @ w + b) + (1 - y) * F.logsigmoid(-(X @ w + b))).mean(),
                           "logistic_grad": logistic_grad_looped},
    "float64 inside": {"logistic_loss": in_float64(lambda X, y, w, b: F.binary_cross_entropy_with_logits(X @ w + b, y)),
                       "logistic_grad": in_float64(logistic_grad_vectorised)},
    "where-stable": {"logistic_loss": logistic_loss_where,
                     "logistic_grad": lambda X, y, w, b: (X.T @ (torch.sigmoid(X @ w + b) - y) / len(y),
                                                          (torch.sigmoid(X @ w + b) - y).sum(0, keepdim=True) / len(y))},
}


@pytest.mark.parametrize("style", HW1_Q3)
@FEW
@given(seed=SEEDS)
def test_hw1_q3(tmp_path_factory, style, seed):
    assert lost_points(hw1.q3, seed, HW1_Q3[style], tmp_path_factory.mktemp("q")) == []


# hw1 q4-q7 --------------------------------------------------------------------------------------

def accumulation_zeroed(x, n_steps):
    x = x.detach().clone().requires_grad_(True)
    rows = []
    for _ in range(n_steps):
        (x**2).sum().backward()
        rows.append(x.grad.clone())
        x.grad.zero_()
    return torch.stack(rows)


def accumulation_grad(x, n_steps):
    x = x.detach().clone().requires_grad_(True)
    return torch.stack([torch.autograd.grad((x**2).sum(), x)[0] for _ in range(n_steps)])


def inplace_fixed(x):
    x = x.detach().clone().requires_grad_(True)
    ((torch.sigmoid(x) + 1) ** 2).sum().backward()
    return x.grad


def vector_backward(x):
    x = x.detach().clone().requires_grad_(True)
    y = x**2
    y.backward(torch.ones_like(y))
    return x.grad


def detach_fixed(x):
    x = x.detach().clone().requires_grad_(True)
    (3 * (2 * x)).sum().backward()
    return x.grad


def detach_grad(x):
    x = x.detach().clone().requires_grad_(True)
    return torch.autograd.grad((3 * (2 * x)).sum(), x)[0]


PITFALLS = {
    "backward": {"fix_detach": detach_fixed, "fix_inplace": inplace_fixed, "fix_accumulation": accumulation_zeroed,
                 "fix_vector_backward": vector_backward},
    "autograd.grad": {"fix_detach": detach_grad, "fix_inplace": in_float64(inplace_fixed), "fix_accumulation": accumulation_grad,
                      "fix_vector_backward": lambda x: vector_backward(x.double()).to(x.dtype)},
}


@pytest.mark.parametrize("style", PITFALLS)
@pytest.mark.parametrize("question", [hw1.q4, hw1.q5, hw1.q6, hw1.q7])
@settings(max_examples=5, deadline=None)
@given(seed=SEEDS)
def test_hw1_pitfalls(tmp_path_factory, style, question, seed):
    assert lost_points(question, seed, PITFALLS[style], tmp_path_factory.mktemp("q")) == []


# hw2 q1, q2, q4 ---------------------------------------------------------------------------------

def forward_vectorised(X, W1, b1, w2, b2):
    return torch.tanh(X @ W1.T + b1) @ w2 + b2


def forward_looped(X, W1, b1, w2, b2):
    return torch.stack([torch.tanh(W1 @ x + b1) @ w2 for x in X]) + b2


def backprop_vectorised(X, W1, b1, w2, dz):
    H = torch.tanh(X @ W1.T + b1)
    G = torch.outer(dz, w2) * (1 - H**2)
    return {"W1": G.T @ X, "b1": G.sum(0), "w2": H.T @ dz, "b2": dz.sum().reshape(1)}


def backprop_looped(X, W1, b1, w2, dz):
    """Per example, through the pre-activation's tanh written as 1 - tanh(a)**2 = 1 / cosh(a)**2."""
    grads = {"W1": torch.zeros_like(W1), "b1": torch.zeros_like(b1), "w2": torch.zeros_like(w2), "b2": torch.zeros(1, dtype=X.dtype)}
    for x, d in zip(X, dz):
        a = W1 @ x + b1
        g = d * w2 / torch.cosh(a) ** 2
        grads = {"W1": grads["W1"] + torch.outer(g, x), "b1": grads["b1"] + g,
                 "w2": grads["w2"] + d * torch.tanh(a), "b2": grads["b2"] + d}
    return grads


def backprop_einsum(X, W1, b1, w2, dz):
    H = torch.tanh(torch.einsum("nd,hd->nh", X, W1) + b1)
    G = torch.einsum("n,h,nh->nh", dz, w2, 1 - H * H)
    return {"W1": torch.einsum("nh,nd->hd", G, X), "b1": torch.einsum("nh->h", G),
            "w2": torch.einsum("nh,n->h", H, dz), "b2": torch.einsum("n->", dz).unsqueeze(0)}


def regression(backprop, forward):
    return lambda X, y, W1, b1, w2, b2: backprop(X, W1, b1, w2, 2 * (forward(X, W1, b1, w2, b2) - y) / X.shape[0])


def classifier(backprop, forward):
    return lambda X, y, W1, b1, w2, b2: backprop(X, W1, b1, w2, (torch.sigmoid(forward(X, W1, b1, w2, b2)) - y) / len(y))


HW2_PART_A = {
    "vectorised": (forward_vectorised, backprop_vectorised),
    "looped": (forward_looped, backprop_looped),
    "einsum, float64 inside": (in_float64(lambda X, W1, b1, w2, b2: F.linear(torch.tanh(F.linear(X, W1, b1)), w2.unsqueeze(0)).squeeze(1) + b2),
                               backprop_einsum),
}


def hw2_names(style: str) -> dict:
    forward, backprop = HW2_PART_A[style]
    gradients = in_float64 if "float64" in style else (lambda fn: fn)
    return {"mlp_forward": forward, "mlp_grads": gradients(regression(backprop, forward)),
            "classifier_grads": gradients(classifier(backprop, forward))}


@pytest.mark.parametrize("style", HW2_PART_A)
@pytest.mark.parametrize("question", [hw2.q1, hw2.q2, hw2.q4])
@FEW
@given(seed=SEEDS)
def test_hw2_part_a(tmp_path_factory, style, question, seed):
    assert lost_points(question, seed, hw2_names(style), tmp_path_factory.mktemp("q")) == []


# hw2 q3 -----------------------------------------------------------------------------------------

class TanhSavesOutput(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = torch.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (1 - out * out)


class TanhSetupContext(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return torch.tanh(x.double()).to(x.dtype)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output - grad_output * out.double().square().to(out.dtype)


@pytest.mark.parametrize("cls", [TanhSavesOutput, TanhSetupContext])
@FEW
@given(seed=SEEDS)
def test_hw2_q3(tmp_path_factory, cls, seed):
    assert lost_points(hw2.q3, seed, {"Tanh": cls}, tmp_path_factory.mktemp("q")) == []


# hw2 q6, q8 -------------------------------------------------------------------------------------

def update_in_place(params, alpha):
    with torch.no_grad():
        for p in params:
            p -= alpha * p.grad
    for p in params:
        p.grad = None


def update_sub_and_zero(params, alpha):
    for p in params:
        p.data.sub_(p.grad.data, alpha=alpha)
        p.grad.zero_()


STABLE_BCE = {
    "softplus": lambda z, y: (F.softplus(z) - y * z).mean(),
    "logits api": F.binary_cross_entropy_with_logits,
    "logsigmoid, float64 inside": in_float64(lambda z, y: -(y * F.logsigmoid(z) + (1 - y) * F.logsigmoid(-z)).mean()),
    "where": lambda z, y: torch.where(z > 0, z * (1 - y) + torch.log1p(torch.exp(-z)), torch.log1p(torch.exp(z)) - z * y).mean(),
}


@pytest.mark.parametrize("style", STABLE_BCE)
@FEW
@given(seed=SEEDS)
def test_hw2_q8(tmp_path_factory, style, seed):
    assert lost_points(hw2.q8, seed, {"fix_stable_bce": STABLE_BCE[style]}, tmp_path_factory.mktemp("q")) == []


@pytest.mark.parametrize("update", [update_in_place, update_sub_and_zero])
@settings(max_examples=5, deadline=None)
@given(seed=SEEDS)
def test_hw2_q6(tmp_path_factory, update, seed):
    assert lost_points(hw2.q6, seed, {"fix_update": update}, tmp_path_factory.mktemp("q")) == []


# hw1 q12 ----------------------------------------------------------------------------------------

def limit_from_singular_values(X):
    return 2 * X.shape[0] / torch.linalg.svdvals(X)[0] ** 2


def losses_preallocated(X, y, alpha, n_steps):
    w = X.new_zeros(X.shape[1])
    losses = X.new_empty(n_steps + 1)
    for step in range(n_steps + 1):
        residual = X @ w - y
        losses[step] = 0.5 * (residual @ residual) / X.shape[0]
        w = w - alpha * (X.T @ residual) / X.shape[0]
    return losses


HW1_Q12 = {
    "eigvalsh": {"step_size_limit": lambda X: 2 / torch.linalg.eigvalsh(X.T @ X / X.shape[0]).max(),
                 "gradient_descent_losses": lambda X, y, alpha, n: torch.stack(_descent(X, y, alpha, n))},
    "singular values, preallocated": {"step_size_limit": limit_from_singular_values, "gradient_descent_losses": losses_preallocated},
}


def _descent(X, y, alpha, n_steps, loss=lambda X, y, w: 0.5 * ((X @ w - y) ** 2).mean()):
    w, losses = torch.zeros(X.shape[1], dtype=X.dtype), []
    for _ in range(n_steps):
        losses.append(loss(X, y, w))
        w = w - alpha * X.T @ (X @ w - y) / X.shape[0]
    return losses + [loss(X, y, w)]


@pytest.mark.parametrize("style", HW1_Q12)
@FEW
@given(seed=SEEDS)
def test_hw1_q12(tmp_path_factory, style, seed):
    assert lost_points(hw1.q12, seed, dict(HW1_Q12[style]), tmp_path_factory.mktemp("q")) == []


# hw2 q13 ----------------------------------------------------------------------------------------

def jacobian_by_backward(fn, x):
    rows = []
    for i in range(fn(x).numel()):
        leaf = x.detach().clone().requires_grad_(True)
        out = fn(leaf)
        out.backward(torch.nn.functional.one_hot(torch.tensor(i), out.numel()).to(out.dtype))
        rows.append(leaf.grad)
    return torch.stack(rows)


def jacobian_by_grad(fn, x):
    leaf = x.detach().clone().requires_grad_(True)
    out = fn(leaf)
    return torch.stack([torch.autograd.grad(out, leaf, e, retain_graph=True)[0] for e in torch.eye(out.numel(), dtype=out.dtype)])


HW2_Q13 = {
    "formula": {"softmax": lambda x: torch.softmax(x, dim=0),
                "softmax_vjp": lambda x, v: (s := torch.softmax(x, dim=0)) * (v - v @ s),
                "jacobian_from_vjps": jacobian_by_grad},
    "the Jacobian formed": {"softmax": lambda x: (e := torch.exp(x - x.max())) / e.sum(),
                            "softmax_vjp": lambda x, v: v @ (torch.diag(s := torch.softmax(x, dim=0)) - torch.outer(s, s)),
                            "jacobian_from_vjps": jacobian_by_backward},
}


@pytest.mark.parametrize("style", HW2_Q13)
@FEW
@given(seed=SEEDS)
def test_hw2_q13(tmp_path_factory, style, seed):
    assert lost_points(hw2.q13, seed, dict(HW2_Q13[style]), tmp_path_factory.mktemp("q")) == []
