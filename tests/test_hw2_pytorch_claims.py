"""Every statement hw2's notebook makes about PyTorch's behaviour, executed against the installed torch.

Each test quotes (in its docstring) the statement of ``assignments/hw2/hw2.ipynb`` it backs. Most
tests need only torch; the tests that re-run code taken from the master notebook itself (the
solutions, the broken Part B bodies, the lecture's plotting helper, the provided training code) read
the notebook as JSON. Two tests use matplotlib (the q11 figure), and the statements about MNIST skip
when torchvision or the offline data are missing.
"""

import inspect
import functools
import json
import math
import os
import sys
import warnings

import pytest
from master_notebook import ROOT, cells, solution_sources, student_version
import torch
import torch.nn.functional as F

# torch.autograd.gradcheck is the function; its module (which defines GradcheckError) is shadowed by it
GradcheckError = sys.modules["torch.autograd.gradcheck"].GradcheckError

MASTER = ROOT / "assignments" / "hw2" / "hw2.ipynb"


_cells = functools.partial(cells, "hw2")
_solution_sources = functools.partial(solution_sources, "hw2")
_student_version = student_version


def _without_markers(src):
    """A solution cell as the solution notebook shows it: the BEGIN/END SOLUTION lines removed."""
    return "\n".join(line for line in src.splitlines() if not line.strip() in ("# BEGIN SOLUTION", "# END SOLUTION"))


def _code_cell(start):
    """The first code cell (outside the solution blocks too) whose source starts with ``start``."""
    for kind, src in _cells():
        if kind == "code" and src.startswith(start):
            return src
    raise AssertionError(f"the notebook has no code cell starting with {start!r}")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@pytest.fixture(scope="module")
def solution():
    ns = {"torch": torch, "plt": _pyplot()}
    for src in _solution_sources():
        exec(src, ns)
    return ns


@pytest.fixture(scope="module")
def broken():
    """The Part B functions as the student template ships them (the prompt bodies)."""
    ns = {"torch": torch}
    for src in _solution_sources():
        if "# BEGIN PROMPT" in src:
            exec(_student_version(src), ns)
    return ns


def _params(g, h, d, dtype=torch.float64):
    return {"W1": torch.randn(h, d, generator=g, dtype=dtype), "b1": torch.randn(h, generator=g, dtype=dtype),
            "w2": torch.randn(h, generator=g, dtype=dtype), "b2": torch.randn(1, generator=g, dtype=dtype)}


# --------------------------------------------------------------------------------------------
# Part A: the network and backpropagation
# --------------------------------------------------------------------------------------------

def test_linear_stores_out_by_in_and_computes_x_weight_t_plus_bias():
    """A.1: "nn.Linear(d, h) stores its weight with shape (out, in) = (h, d) and computes x @ weight.T + bias";
    "Z = X @ W1.T + b1 (the bias of shape (h,) is broadcast over the n rows)", "p = H @ w2 + b2" of shape (n,)."""
    layer = torch.nn.Linear(3, 5)
    assert layer.weight.shape == (5, 3) and layer.bias.shape == (5,)
    X = torch.randn(4, 3)
    Z = X @ layer.weight.T + layer.bias
    assert Z.shape == (4, 5) and torch.allclose(layer(X), Z)
    w2, b2 = torch.randn(5), torch.randn(1)
    p = torch.tanh(Z) @ w2 + b2
    assert p.shape == (4,)


def test_lecture_nonlinear_model_is_this_network(solution):
    """A.1: "The lecture's NonlinearModel is this network with d = 1 and h = 10 (with linear2 playing w2 and b2)"."""
    class NonlinearModel(torch.nn.Module):  # the lecture's code
        def __init__(self):
            super().__init__()
            self.linear1 = torch.nn.Linear(1, 10)
            self.linear2 = torch.nn.Linear(10, 1)

        def forward(self, x):
            h = torch.tanh(self.linear1(x))
            return self.linear2(h)

    model = NonlinearModel()
    X = torch.randn(7, 1)
    ours = solution["mlp_forward"](X, model.linear1.weight, model.linear1.bias, model.linear2.weight[0], model.linear2.bias)
    assert model.linear1.weight.shape == (10, 1)
    assert torch.allclose(model(X)[:, 0], ours)


def test_tanh_derivative_is_one_minus_tanh_squared():
    """A.2 step 3: tanh' can be written "in terms of tanh itself" (1 - tanh(z)^2, what the solution uses)."""
    z = torch.linspace(-4, 4, 33, dtype=torch.float64, requires_grad=True)
    torch.tanh(z).sum().backward()
    assert torch.allclose(z.grad, 1 - torch.tanh(z.detach()) ** 2)


def test_backprop_formulas_of_a2_match_autograd(solution):
    """A.2's derivation, as the solutions carry it out: delta = 2(p - y)/n, grad w2 = H.T delta, grad b2 = sum(delta) of
    shape (1,), G_H = outer(delta, w2) (= delta[:, None] * w2), G_Z = G_H * (1 - H**2), grad W1 = G_Z.T @ X of shape
    (h, d), grad b1 = column sums; the transpose X.T G_Z has shape (d, h); the figure's "largest |manual - autograd|"
    is rounding only."""
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(11, 4, generator=g, dtype=torch.float64), torch.randn(11, generator=g, dtype=torch.float64)
    P = _params(g, 6, 4)
    leaves = {k: v.clone().requires_grad_(True) for k, v in P.items()}
    torch.mean((torch.tanh(X @ leaves["W1"].T + leaves["b1"]) @ leaves["w2"] + leaves["b2"] - y) ** 2).backward()
    manual = solution["mlp_grads"](X, y, **P)
    for k in P:
        assert manual[k].shape == P[k].shape and torch.allclose(manual[k], leaves[k].grad)
    H = torch.tanh(X @ P["W1"].T + P["b1"])
    delta = 2 * (H @ P["w2"] + P["b2"] - y) / 11
    assert torch.equal(torch.outer(delta, P["w2"]), delta[:, None] * P["w2"])
    G_Z = torch.outer(delta, P["w2"]) * (1 - H**2)
    assert (X.T @ G_Z).shape == (4, 6) and torch.allclose((X.T @ G_Z).T, leaves["W1"].grad)
    assert torch.allclose(G_Z.sum(dim=0), leaves["b1"].grad)


def test_autograd_nodes_are_vector_jacobian_products_called_in_reverse_order():
    """A.2: "every operation in the graph has a backward function that maps the gradient of its output to the
    gradient of its inputs (a vector-Jacobian product), and backward() calls them in reverse order"."""
    x = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64, requires_grad=True)
    out = torch.tanh(x)
    v = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    assert torch.allclose(out.grad_fn(v), v * (1 - out.detach() ** 2))  # the node maps dL/dout to dL/dx
    order = []
    W = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    Z = x @ W
    H = torch.tanh(Z)
    p = H.sum()
    for name, t in [("Z", Z), ("H", H), ("p", p)]:
        t.register_hook(lambda grad, name=name: order.append(name))
    p.backward()
    assert order == ["p", "H", "Z"]
    assert type(p.grad_fn).__name__ == "SumBackward0"
    assert type(p.grad_fn.next_functions[0][0]).__name__ == "TanhBackward0"


class _Recorder(torch.autograd.Function):
    """tanh that records what PyTorch does with it."""

    log = []

    @staticmethod
    def forward(ctx, x):
        _Recorder.log.append(("forward grad mode", torch.is_grad_enabled()))
        out = torch.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        _Recorder.log.append(("grad_output", grad_output.clone()))
        (out,) = ctx.saved_tensors
        return grad_output * (1 - out**2)


def test_custom_function_forward_runs_without_grad_and_apply_attaches_a_named_node():
    """A.3: forward "runs with gradient tracking switched off (inside it, torch.is_grad_enabled() is False)";
    "Tanh.apply(x) runs forward and, when x requires grad, attaches a node to the graph (the output's grad_fn is a
    TanhBackward, named after your class)"; "a later .backward() calls your backward with the gradient that arrives at
    that node", a tensor of the output's shape; ctx.saved_tensors gives back what was saved."""
    _Recorder.log.clear()
    x = torch.tensor([[0.5, -1.0], [2.0, 0.0]], dtype=torch.float64, requires_grad=True)
    out = _Recorder.apply(x)
    assert _Recorder.log == [("forward grad mode", False)]
    assert type(out.grad_fn).__name__ == "_RecorderBackward" and out.requires_grad
    assert len(out.grad_fn.saved_tensors) == 1 and torch.equal(out.grad_fn.saved_tensors[0], out.detach())
    v = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    (out * v).sum().backward()
    name, grad_output = _Recorder.log[1]
    assert name == "grad_output" and grad_output.shape == out.shape and torch.equal(grad_output, v)
    assert torch.allclose(x.grad, v * (1 - torch.tanh(x.detach()) ** 2))
    plain = _Recorder.apply(torch.tensor([0.5]))
    assert not plain.requires_grad and plain.grad_fn is None


def test_backward_returns_one_gradient_per_forward_input():
    """A.3: backward "returns dL/dx, with the shape of x: one return value per input of forward"."""
    class Scale(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.k  # one value for two inputs (x, k)

    class ScaleRight(Scale):
        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.k, None

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Scale.apply(x, 3.0).sum().backward()
    ScaleRight.apply(x, 3.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_instantiating_a_function_raises_about_legacy_functions(solution):
    """A.3: "Do not instantiate the class: Tanh()(x) raises a RuntimeError about legacy autograd functions"."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # instantiating itself warns
        with pytest.raises(RuntimeError, match="Legacy autograd function"):
            solution["Tanh"]()(torch.tensor([0.5]))


def test_torch_tanh_and_sigmoid_save_their_output():
    """A.3: "PyTorch's own torch.tanh does exactly this: its TanhBackward0 node keeps the result, not the input
    (as torch.sigmoid does)"."""
    x = torch.tensor([0.5, -1.0], requires_grad=True)
    for op, node in [(torch.tanh, "TanhBackward0"), (torch.sigmoid, "SigmoidBackward0")]:
        out = op(x)
        assert type(out.grad_fn).__name__ == node
        assert out.grad_fn._saved_result.data_ptr() == out.data_ptr()
        assert not hasattr(out.grad_fn, "_saved_self")


def test_setup_context_style_is_accepted():
    """A.3: "PyTorch also accepts a newer style, forward(x) without ctx plus a separate setup_context(ctx, inputs,
    output) that does the saving"."""
    class Tanh(torch.autograd.Function):
        @staticmethod
        def forward(x):
            return torch.tanh(x)

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(output)

        @staticmethod
        def backward(ctx, grad_output):
            (out,) = ctx.saved_tensors
            return grad_output * (1 - out**2)

    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    out = Tanh.apply(x)
    assert type(out.grad_fn).__name__ == "TanhBackward" and torch.equal(out.grad_fn.saved_tensors[0], out.detach())
    assert torch.autograd.gradcheck(Tanh.apply, (x,))


def test_solution_tanh_passes_gradcheck_and_saves_output(solution):
    """q3: the reference Tanh "returns tanh(x) and saves the output"; "Tanh.apply(x) must pass
    torch.autograd.gradcheck in float64"."""
    Tanh = solution["Tanh"]
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    out = Tanh.apply(x)
    assert torch.equal(out.grad_fn.saved_tensors[0], out.detach())
    assert torch.autograd.gradcheck(Tanh.apply, (x,))


# --------------------------------------------------------------------------------------------
# gradcheck
# --------------------------------------------------------------------------------------------

def test_gradcheck_defaults():
    """gradcheck: "eps = 1e-6 by default"; "atol = 1e-5 plus rtol = 1e-3"; raise_exception exists."""
    params = inspect.signature(torch.autograd.gradcheck).parameters
    assert params["eps"].default == 1e-6 and params["atol"].default == 1e-5 and params["rtol"].default == 1e-3
    assert params["raise_exception"].default is True


def test_gradcheck_calls_backward_with_each_one_hot_vector_then_more():
    """gradcheck: "it calls it with grad_output set to each one-hot vector in turn (one per element of the output),
    and each call returns one row of the Jacobian. (It calls your backward a few more times for checks of its own.)"."""
    calls = []

    class T(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = torch.tanh(x)
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad_output):
            calls.append(grad_output.clone())
            (out,) = ctx.saved_tensors
            return grad_output * (1 - out**2)

    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(T.apply, (x,))
    one_hots = [torch.zeros(6, dtype=torch.float64).index_fill_(0, torch.tensor([k]), 1.0).reshape(2, 3) for k in range(6)]
    assert all(torch.equal(c, e) for c, e in zip(calls[:6], one_hots))
    assert len(calls) > 6


def _cubic_with_slope(c):
    """x**3 with a hand-written backward that claims the slope c (times grad_output): right at x = 1 only for c = 3."""
    class Cubic(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x**3

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * c

    return Cubic.apply


def test_gradcheck_numerical_jacobian_is_a_central_difference_and_tolerance_is_relative_to_it():
    """gradcheck: "numerically, by central finite differences: (f(x + eps e_j) - f(x - eps e_j)) / 2 eps"; "It passes
    when the two agree elementwise within atol plus rtol times the numerical value"."""
    x = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    central = (1.1**3 - 0.9**3) / 0.2  # 3.01; the forward difference would be 3.31, the derivative 3
    kwargs = dict(eps=0.1, atol=1e-5, rtol=1e-3, raise_exception=False)
    assert torch.autograd.gradcheck(_cubic_with_slope(central), (x,), **kwargs)
    assert not torch.autograd.gradcheck(_cubic_with_slope(3.0), (x,), **kwargs)
    assert not torch.autograd.gradcheck(_cubic_with_slope(3.31), (x,), **kwargs)
    tolerance = 1e-5 + 1e-3 * central  # relative to the numerical value
    assert torch.autograd.gradcheck(_cubic_with_slope(central + 0.99 * tolerance), (x,), **kwargs)
    assert not torch.autograd.gradcheck(_cubic_with_slope(central + 1.001 * tolerance), (x,), **kwargs)


def test_gradcheck_success_failure_and_messages(solution):
    """gradcheck: "returns True. Otherwise it raises a GradcheckError (a kind of RuntimeError) that starts with
    'Jacobian mismatch for output 0 with respect to input 0' and prints both matrices; with raise_exception=False it
    returns False"; the notebook's CubeWrongBackward (2 * x**2 where the derivative is 3 * x**2) fails it."""
    ns = {"torch": torch}
    cell = _code_cell("import warnings\n\ntry:\n    g = torch.Generator()")
    exec("class CubeWrongBackward" + cell.split("class CubeWrongBackward", 1)[1].split("\n\n\ntry:")[0], ns)
    wrong = ns["CubeWrongBackward"]
    x = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    assert torch.allclose(wrong.apply(x), x**3)
    assert torch.autograd.gradcheck(solution["Tanh"].apply, (x,)) is True
    assert issubclass(GradcheckError, RuntimeError)
    with pytest.raises(GradcheckError) as info:
        torch.autograd.gradcheck(wrong.apply, (x,))
    message = str(info.value)
    assert message.startswith("Jacobian mismatch for output 0 with respect to input 0")
    assert "numerical:" in message and "analytical:" in message
    assert torch.autograd.gradcheck(wrong.apply, (x,), raise_exception=False) is False


def test_gradcheck_needs_an_input_that_requires_grad(solution):
    """gradcheck: "At least one input must require grad (otherwise it raises a ValueError)"."""
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        torch.autograd.gradcheck(solution["Tanh"].apply, (torch.randn(3, dtype=torch.float64),))


def test_gradcheck_fails_in_float32_and_why(solution):
    """gradcheck: "In float32 each of them carries a rounding error of up to a few times 1e-8, so their difference,
    divided by 2 eps, is typically off by a percent or more ... the check fails even for a correct backward (PyTorch warns that the
    input 'is not a double precision floating point'). In float64 ... the finite difference is accurate to about
    1e-10"; the notebook's cell prints True for float64 and False for float32."""
    Tanh = solution["Tanh"]
    g = torch.Generator().manual_seed(0)
    x64 = torch.randn(5, 3, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(Tanh.apply, (x64,))
    x32 = x64.detach().float().requires_grad_(True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert torch.autograd.gradcheck(Tanh.apply, (x32,), raise_exception=False) is False
    assert any("is not a double precision floating point" in str(c.message) for c in caught)
    for dtype, low, high in [(torch.float32, 5e-3, 0.2), (torch.float64, 0.0, 1e-9)]:
        x = torch.linspace(-2, 2, 41, dtype=dtype)
        numerical = (torch.tanh(x + 1e-6) - torch.tanh(x - 1e-6)) / 2e-6
        error = ((numerical - (1 - torch.tanh(x) ** 2)).abs() / (1 - torch.tanh(x) ** 2)).to(torch.float64)
        assert low <= error.median().item() and error.max().item() <= high, dtype


# --------------------------------------------------------------------------------------------
# A.4: the classifier
# --------------------------------------------------------------------------------------------

def test_log_sigmoid_derivatives_and_bce_logit_gradient():
    """A.4: "d/dz log sigma(z) = 1 - sigma(z) and d/dz log(1 - sigma(z)) = -sigma(z)", so the derivative of the
    cross-entropy in its logit is sigma(z) - y."""
    z = torch.linspace(-6, 6, 25, dtype=torch.float64, requires_grad=True)
    (g1,) = torch.autograd.grad(torch.log(torch.sigmoid(z)).sum(), z)
    (g2,) = torch.autograd.grad(torch.log(1 - torch.sigmoid(z)).sum(), z)
    s = torch.sigmoid(z.detach())
    assert torch.allclose(g1, 1 - s) and torch.allclose(g2, -s)
    for label in (0.0, 1.0):
        y = torch.full_like(s, label)
        (g,) = torch.autograd.grad(-(y * torch.log(torch.sigmoid(z)) + (1 - y) * torch.log(1 - torch.sigmoid(z))).sum(), z)
        assert torch.allclose(g, s - y)


def test_classifier_gradient_is_finite_where_log_sigmoid_is_not(solution):
    """A.4: "sigma(z) - y lies between -1 and 1 even when sigma(z) rounds to exactly 0 or 1, where log sigma(z) would be
    -inf"; the reference classifier_grads matches autograd and is finite at logits of +-761.6 (the public check)."""
    z = torch.tensor([-1000.0, 1000.0])
    assert torch.sigmoid(z).tolist() == [0.0, 1.0]
    assert torch.log(torch.sigmoid(z))[0].item() == -math.inf
    assert (torch.sigmoid(z) - torch.tensor([1.0, 0.0])).tolist() == [-1.0, 1.0]
    g = torch.Generator().manual_seed(1)
    X, y = torch.randn(9, 4, generator=g, dtype=torch.float64), (torch.rand(9, generator=g) > 0.5).double()
    P = _params(g, 3, 4)
    leaves = {k: v.clone().requires_grad_(True) for k, v in P.items()}
    F.binary_cross_entropy_with_logits(torch.tanh(X @ leaves["W1"].T + leaves["b1"]) @ leaves["w2"] + leaves["b2"], y).backward()
    manual = solution["classifier_grads"](X, y, **P)
    assert all(torch.allclose(manual[k], leaves[k].grad) for k in P)
    big = solution["classifier_grads"](torch.tensor([[1.0], [-1.0]]), torch.tensor([0.0, 1.0]), torch.tensor([[1.0]]),
                                       torch.tensor([0.0]), torch.tensor([1000.0]), torch.tensor([0.0]))
    assert all(torch.isfinite(v).all() for v in big.values())
    assert abs(big["W1"].item() - 419.9743416140261) < 1e-3 and abs(big["w2"].item() - 0.7615941559557649) < 1e-6


# --------------------------------------------------------------------------------------------
# Part B: the lecture's two-layer loop
# --------------------------------------------------------------------------------------------

def _lecture_two_layer_step(X, y, alpha=0.01):
    """The lecture's two-layer init and one pass of its training loop, as written."""
    W1 = torch.randn(784, 100, requires_grad=True) * 0.01
    b1 = torch.zeros(100, requires_grad=True)
    W2 = torch.randn(100, 1, requires_grad=True) * 0.01
    b2 = torch.zeros(1, requires_grad=True)
    h = torch.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    probs = torch.sigmoid(logits)
    loss = -torch.mean(y * torch.log(probs) + (1 - y) * torch.log(1 - probs))
    loss.backward()
    with torch.no_grad():
        W1 -= alpha * W1.grad
        b1 -= alpha * b1.grad
        W2 -= alpha * W2.grad
        b2 -= alpha * b2.grad
        W1.grad.zero_()
        b1.grad.zero_()
        W2.grad.zero_()
        b2.grad.zero_()
    return loss


def test_lecture_two_layer_loop_raises_type_error_at_its_first_update():
    """Part B: the lecture's two-layer loop "never trains: its first update raises a TypeError"."""
    X, y = torch.randn(8, 784), torch.randint(0, 2, (8, 1)).float()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reading the non-leaf .grad warns
        with pytest.raises(TypeError, match="NoneType"):
            _lecture_two_layer_step(X, y)


def test_lecture_update_itself_is_right_on_leaves():
    """Part B: "Its update itself is right (in place, under torch.no_grad(), gradients cleared afterwards with .zero_())"."""
    W = (0.01 * torch.randn(5, 3)).requires_grad_()
    before = W.detach().clone()
    (torch.randn(4, 5) @ W).pow(2).sum().backward()
    grad = W.grad.clone()
    alpha = 0.1
    with torch.no_grad():
        W -= alpha * W.grad
        W.grad.zero_()
    assert torch.allclose(W.detach(), before - alpha * grad)
    assert W.is_leaf and W.requires_grad and not W.grad.any()


def test_lecture_loss_broadcasts_labels_against_column_logits():
    """Part B: "y has shape (n,) while logits, and hence probs, have shape (n, 1), so y * torch.log(probs) broadcasts to
    an (n, n) matrix, and the mean runs over all n^2 pairs of examples: a wrong loss, with no error"; squeezing fixes it."""
    g = torch.Generator().manual_seed(0)
    probs = torch.sigmoid(torch.randn(6, 1, generator=g))
    y = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    assert (y * torch.log(probs)).shape == (6, 6)
    broadcast = -torch.mean(y * torch.log(probs) + (1 - y) * torch.log(1 - probs))
    p = probs.squeeze(1)
    right = -torch.mean(y * torch.log(p) + (1 - y) * torch.log(1 - p))
    assert broadcast.shape == () and not torch.isclose(broadcast, right)
    assert torch.isclose(right, F.binary_cross_entropy(p, y))


def test_scaled_init_is_not_a_leaf_and_its_gradient_goes_to_the_hidden_leaf():
    """B.1: "By default backward() stores gradients only in leaves"; "Multiplying it by 0.01 makes a new tensor ...: W1.grad_fn is a MulBackward0 and W1.is_leaf is False. The
    backward pass does fill a gradient, but into the .grad of the unscaled random tensor ...; W1.grad stays None (and
    reading it makes PyTorch warn 'The .grad attribute of a Tensor that is not a leaf Tensor is being accessed'). The
    lecture's update ... computes alpha * None and raises a TypeError. The same holds for W2; the biases ... work."""
    raw1 = torch.randn(784, 100, requires_grad=True)
    W1 = raw1 * 0.01
    raw2 = torch.randn(100, 1, requires_grad=True)
    W2 = raw2 * 0.01
    b1, b2 = torch.zeros(100, requires_grad=True), torch.zeros(1, requires_grad=True)
    assert raw1.is_leaf and type(W1.grad_fn).__name__ == "MulBackward0" and not W1.is_leaf and not W2.is_leaf
    (torch.tanh(torch.randn(8, 784) @ W1 + b1) @ W2 + b2).sum().backward()
    assert raw1.grad is not None and raw1.grad.shape == (784, 100) and raw2.grad is not None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert W1.grad is None and W2.grad is None
    assert any("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed" in str(c.message) for c in caught)
    assert b1.grad is not None and b2.grad is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TypeError):
            with torch.no_grad():
                W1 -= 0.01 * W1.grad


def test_leaf_fixes_and_unchanged_random_numbers():
    """B.1: "(0.01 * torch.randn(784, 100)).requires_grad_() ... requires_grad_() switches tracking on, in place, for a
    tensor that has no history: the result is a leaf"; "Creating the tensor with requires_grad=True and then scaling it
    in place under torch.no_grad(), W1.mul_(0.01), also gives a leaf"; "requires_grad=True does not alter what
    torch.randn draws, so with the same seed the broken and the repaired versions hold the same values"."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        broken = torch.randn(20, 7, requires_grad=True) * 0.01
        torch.manual_seed(3)
        fixed = (0.01 * torch.randn(20, 7)).requires_grad_()
        torch.manual_seed(3)
        in_place = torch.randn(20, 7, requires_grad=True)
        with torch.no_grad():
            in_place.mul_(0.01)
    assert fixed.is_leaf and fixed.requires_grad and fixed.grad_fn is None
    assert in_place.is_leaf and in_place.requires_grad and in_place.grad_fn is None
    assert torch.equal(broken.detach(), fixed.detach()) and torch.equal(fixed.detach(), in_place.detach())


def test_fix_leaf_init_broken_and_repaired(solution, broken):
    """q5: the template's fix_leaf_init (the lecture's init) gives non-leaf W1, W2 whose .grad stays None and whose
    update raises TypeError; the repaired one gives four leaves that all get gradients, with the same values."""
    with torch.random.fork_rng(devices=[]):
        bad = broken["fix_leaf_init"](784, 100, seed=0)
        good = solution["fix_leaf_init"](784, 100, seed=0)
    assert [t.is_leaf for t in bad] == [False, True, False, True]
    assert all(t.is_leaf and t.requires_grad for t in good)
    assert all(torch.equal(a.detach(), b.detach()) for a, b in zip(bad, good))
    X = torch.randn(8, 784, generator=torch.Generator().manual_seed(1))
    for params in (bad, good):
        W1, b1, W2, b2 = params
        (torch.tanh(X @ W1 + b1) @ W2 + b2).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert bad[0].grad is None and bad[2].grad is None
        with pytest.raises(TypeError, match="unsupported operand type"):
            with torch.no_grad():
                bad[0] -= 0.1 * bad[0].grad
    assert all(t.grad is not None for t in good)


def test_rebinding_update_changes_nothing(broken):
    """B.2: the loop 'p = p - alpha * p.grad' "raises nothing and changes nothing ... rebinds the loop variable p to a
    brand-new tensor, the result of the subtraction (a non-leaf with grad_fn SubBackward0) ... The tensors in the list
    keep their values, and their .grad too"."""
    p = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (p**2).sum().backward()
    new = p - 0.25 * p.grad
    assert not new.is_leaf and type(new.grad_fn).__name__ == "SubBackward0"
    params = [p]
    assert broken["fix_update"](params, 0.25) is None
    assert params[0] is p and p.tolist() == [1.0, -2.0, 3.0] and p.grad.tolist() == [2.0, -4.0, 6.0]


def test_in_place_update_rules():
    """B.2: "outside it, PyTorch refuses an in-place operation on a leaf that requires grad ('a leaf Variable that
    requires grad is being used in an in-place operation.')" (for -= and for sub_); "Under no_grad nothing is recorded: p
    stays the same object, still a leaf that requires grad, with no grad_fn; only its values (and its version counter)
    change"; "p.grad = None (or p.grad.zero_())"."""
    p = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (p**2).sum().backward()
    for update in (lambda: p.__isub__(0.25 * p.grad), lambda: p.sub_(0.25 * p.grad)):
        with pytest.raises(RuntimeError, match=r"a leaf Variable that requires grad is being used in an in-place operation\."):
            update()
    ident, version = id(p), p._version
    with torch.no_grad():
        p -= 0.25 * p.grad
    assert id(p) == ident and p.is_leaf and p.requires_grad and p.grad_fn is None
    assert p._version == version + 1 and p.tolist() == [0.5, -1.0, 1.5]
    p.grad = None
    (p**2).sum().backward()
    assert p.grad.tolist() == [1.0, -2.0, 3.0]
    p.grad.zero_()
    (p**2).sum().backward()
    assert p.grad.tolist() == [1.0, -2.0, 3.0]
    (p**2).sum().backward()  # not cleared: added
    assert p.grad.tolist() == [2.0, -4.0, 6.0]


def test_data_update_changes_values_but_not_the_version_counter():
    """B.2: "p.data -= alpha * p.grad ... also changes the values in place, but .data hides the change from autograd: p's
    version counter does not move, so autograd cannot notice if the old values were still needed by a graph"."""
    p = torch.tensor([1.0, 2.0], requires_grad=True)
    out = p**2  # saves p for its backward
    version = p._version
    p.data -= torch.tensor([0.5, 0.5])
    assert p._version == version and p.tolist() == [0.5, 1.5]
    out.sum().backward()  # no error: the changed values are used silently
    assert p.grad.tolist() == [1.0, 3.0]  # 2 * new p, not 2 * the p of the forward pass
    q = torch.tensor([1.0, 2.0], requires_grad=True)
    out = q**2
    with torch.no_grad():
        q -= torch.tensor([0.5, 0.5])
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_fix_update_repaired(solution):
    """q6: the repaired fix_update updates the same tensors in place, keeps them leaves, clears their gradients and
    returns None; a model holding the tensors sees the update."""
    model = torch.nn.Linear(3, 2)
    (model(torch.randn(4, 3)) ** 2).sum().backward()
    expected = [(p - 0.1 * p.grad).detach() for p in model.parameters()]
    params = list(model.parameters())
    assert solution["fix_update"](params, 0.1) is None
    for p, q, e in zip(model.parameters(), params, expected):
        assert p is q and torch.allclose(p.detach(), e) and p.is_leaf and p.requires_grad and p.grad is None


def test_graph_keeps_linear_inputs_and_tanh_outputs():
    """B.3: "the graph keeps alive the tensors its backward functions will need: a linear layer keeps its input, tanh
    keeps its output. So model(X) on a validation set holds on to the whole (n, hidden) hidden activation"."""
    model = torch.nn.Sequential(torch.nn.Linear(784, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2))
    X = torch.randn(100, 784)
    out = model(X)
    second_linear = out.grad_fn
    tanh_node = second_linear.next_functions[1][0]
    first_linear = tanh_node.next_functions[0][0]
    assert type(second_linear).__name__ == "AddmmBackward0" and type(tanh_node).__name__ == "TanhBackward0"
    hidden = tanh_node._saved_result
    assert hidden.shape == (100, 32) and torch.equal(second_linear._saved_mat1, hidden)
    assert torch.equal(first_linear._saved_mat1, X)


def test_no_grad_eval_and_detach():
    """B.3: with torch.no_grad() "gradient mode is off, nothing is recorded, and the output does not require grad and has
    no grad_fn. The previous mode comes back when the block ends"; "model.eval() ... gradients are still tracked
    (model(X).requires_grad is still True after it)"; "model(X).detach() returns a result without history, but the graph
    was already built during the forward pass"."""
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    X = torch.randn(3, 5)
    with torch.no_grad():
        assert not torch.is_grad_enabled()
        out = model(X)
    assert torch.is_grad_enabled()
    assert not out.requires_grad and out.grad_fn is None
    with pytest.raises(ZeroDivisionError):
        with torch.no_grad():
            1 / 0
    assert torch.is_grad_enabled()
    model.eval()
    assert model(X).requires_grad and model(X).grad_fn is not None
    tracked = model(X)
    detached = tracked.detach()
    assert tracked.grad_fn is not None and detached.grad_fn is None and not detached.requires_grad


def test_fix_evaluate_broken_and_repaired(solution, broken):
    """q7: the template's fix_evaluate (the lecture's 'wasteful' evaluate) returns an output with a graph
    (grad_fn AddmmBackward0, as the demo prints); the repaired one runs the forward with gradient mode off."""
    seen = []

    class Watched(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(784, 2)

        def forward(self, x):
            seen.append(torch.is_grad_enabled())
            return self.layer(x)

    model, X = Watched(), torch.randn(10, 784)
    out = broken["fix_evaluate"](model, X)
    assert out.requires_grad and type(out.grad_fn).__name__ == "AddmmBackward0"
    out = solution["fix_evaluate"](model, X)
    assert not out.requires_grad and out.grad_fn is None
    assert seen == [True, False] and torch.is_grad_enabled()


# --------------------------------------------------------------------------------------------
# B.4: the stable loss
# --------------------------------------------------------------------------------------------

def test_sigmoid_is_exactly_one_above_24_ln_2_in_float32_and_53_ln_2_in_float64():
    """B.4: "in float32, torch.sigmoid(z) is exactly 1.0 for every z above 24 ln 2 ~ 16.6. There e^-z < 2^-24 ~ 6e-8, less
    than half the gap between 1 and the next float32 number, so 1 + e^-z rounds to exactly 1"; "(In float64 the same
    happens above 53 ln 2 ~ 36.7; at z = -1000, torch.sigmoid is exactly 0.0 in both.)"."""
    for dtype, bits in [(torch.float32, 24), (torch.float64, 53)]:
        threshold = bits * math.log(2)
        z = torch.linspace(threshold - 2, 1000, 200001, dtype=dtype)
        s = torch.sigmoid(z)
        assert bool((s[z > threshold + 1e-3] == 1.0).all())
        assert bool((s[z < threshold - 1e-2] < 1.0).all())
        assert torch.sigmoid(torch.tensor(-1000.0, dtype=dtype)).item() == 0.0
        assert torch.finfo(dtype).eps == 2.0 ** (1 - bits)  # the gap above 1; e^-z below half of it is lost
        assert (torch.tensor(1.0, dtype=dtype) + torch.exp(torch.tensor(-(threshold + 0.01), dtype=dtype))).item() == 1.0
    assert torch.sigmoid(torch.tensor([17.0, 20.0])).tolist() == [1.0, 1.0]


def test_lecture_loss_is_inf_when_wrong_and_nan_when_right_at_logit_20():
    """B.4: the lecture's loss "is inf for a confident wrong prediction (logit 20, label 0: the true loss is 20), and is
    nan for a confident right one (logit 20, label 1: the true loss is about 2e-9), because ... 0 * (-inf) is nan";
    the q8 demo prints 0.474..., inf, nan, inf, nan for the broken body and 0.474..., 20.0, 0.0, 1000.0, 0.0 repaired."""
    def lecture(z, y):
        probs = torch.sigmoid(z)
        return -torch.mean(y * torch.log(probs) + (1 - y) * torch.log(1 - probs))

    assert lecture(torch.tensor([20.0]), torch.tensor([0.0])).item() == math.inf
    assert math.isnan(lecture(torch.tensor([20.0]), torch.tensor([1.0])).item())
    assert math.isnan(0.0 * -math.inf)
    z64 = torch.tensor([20.0], dtype=torch.float64)
    assert abs(F.softplus(z64).item() - 20.0) < 1e-8 and 1e-9 < F.softplus(-z64).item() < 3e-9


def test_fix_stable_bce_demo_values(solution, broken):
    """q8 demo: the template's body gives inf/nan where the repaired one is exact."""
    cases = [(0.5, 1.0), (20.0, 0.0), (20.0, 1.0), (-1000.0, 1.0), (1000.0, 1.0)]
    bad = [broken["fix_stable_bce"](torch.tensor([z]), torch.tensor([y])).item() for z, y in cases]
    good = [solution["fix_stable_bce"](torch.tensor([z]), torch.tensor([y])).item() for z, y in cases]
    assert abs(bad[0] - 0.474077) < 1e-5 and bad[1] == math.inf and math.isnan(bad[2]) and bad[3] == math.inf and math.isnan(bad[4])
    assert abs(good[0] - 0.474077) < 1e-5 and good[1:] == [20.0, 0.0, 1000.0, 0.0]


def test_one_nan_poisons_the_mean_the_gradient_and_the_update():
    """B.4: "One nan in a mean makes the whole loss nan, its gradient too, and one update with a nan gradient turns every
    parameter into nan"."""
    X = torch.tensor([[1.0, 0.5], [20.0, 0.0], [-1.0, 2.0]])
    y = torch.tensor([1.0, 1.0, 0.0])
    w = torch.tensor([1.0, 1.0], requires_grad=True)
    probs = torch.sigmoid(X @ w)
    loss = -torch.mean(y * torch.log(probs) + (1 - y) * torch.log(1 - probs))
    assert math.isnan(loss.item())
    loss.backward()
    assert bool(torch.isnan(w.grad).all())
    with torch.no_grad():
        w -= 0.1 * w.grad
    assert bool(torch.isnan(w).all())


def test_softplus_identities_and_stable_forms():
    """B.4: "-log sigma(z) = softplus(-z), -log(1 - sigma(z)) = softplus(z), so l(z, y) = softplus(z) - y z";
    "torch.nn.functional.softplus ... returns 1000 at z = 1000 and 0 at z = -1000"; "-logsigmoid(z), which equals
    softplus(-z), is stable too"; "binary_cross_entropy_with_logits computes the same thing"."""
    z = torch.linspace(-15, 15, 61, dtype=torch.float64)
    s = torch.sigmoid(z)
    assert torch.allclose(-torch.log(s), F.softplus(-z)) and torch.allclose(-torch.log(1 - s), F.softplus(z))
    for label in (0.0, 1.0):
        y = torch.full_like(z, label)
        assert torch.allclose(-(y * torch.log(s) + (1 - y) * torch.log(1 - s)), F.softplus(z) - y * z)
    for dtype in (torch.float32, torch.float64):
        big = torch.tensor([1000.0, -1000.0], dtype=dtype)
        assert F.softplus(big).tolist() == [1000.0, 0.0]
        assert (-F.logsigmoid(big)).tolist() == F.softplus(-big).tolist() == [0.0, 1000.0]
    zb = torch.tensor([1000.0, -1000.0, 1000.0, -1000.0, 20.0, 20.0])
    yb = torch.tensor([1.0, 1.0, 0.0, 0.0, 0.0, 1.0])
    ours = torch.mean(F.softplus(zb) - yb * zb)
    assert torch.isclose(ours, F.binary_cross_entropy_with_logits(zb, yb))
    assert abs(ours.item() - 2020 / 6) < 1e-3
    assert torch.nn.BCELoss()(torch.sigmoid(zb), yb).item() == 50.0  # the public check's hint: BCELoss clamps at -100


# --------------------------------------------------------------------------------------------
# Part C
# --------------------------------------------------------------------------------------------

def test_module_registers_layers_in_order_and_needs_super_init_first(solution):
    """C.2: "nn.Module notices every attribute that is itself a module, and the parameters of those layers (... each an
    nn.Parameter: a leaf that requires grad) appear in model.parameters(), in the order fc1.weight, fc1.bias, fc2.weight,
    fc2.bias. (Assigning a layer before super().__init__() raises 'cannot assign module before Module.__init__() call'.)";
    "Call the model as model(x), which runs forward"."""
    model = solution["SimpleNN"]()
    named = list(model.named_parameters())
    assert [n for n, _ in named] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert all(isinstance(p, torch.nn.Parameter) and p.is_leaf and p.requires_grad for _, p in named)
    assert [tuple(p.shape) for _, p in named] == [(32, 784), (32,), (2, 32), (2,)]
    x = torch.randn(5, 784)
    assert torch.equal(model(x), model.forward(x)) and model(x).shape == (5, 2)

    class Early(torch.nn.Module):
        def __init__(self):
            self.fc1 = torch.nn.Linear(2, 2)
            super().__init__()

    with pytest.raises(AttributeError, match=r"cannot assign module before Module.__init__\(\) call"):
        Early()


def test_linear_init_is_uniform_within_one_over_sqrt_fan_in_and_seeded(solution):
    """C.2: nn.Linear's "weights start at random, uniform in [-1/sqrt(n_in), 1/sqrt(n_in)] (the bias too), so
    torch.manual_seed(...) right before building the model makes its starting point reproducible"."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # torch seeds its generator at random in each process: the claim is checked on one fixed draw
        layer = torch.nn.Linear(784, 32)
        bound = 1 / math.sqrt(784)
        for t in (layer.weight, layer.bias):
            assert t.abs().max().item() <= bound and t.abs().max().item() > 0.9 * bound
            assert abs(t.mean().item()) < 0.2 * bound
        torch.manual_seed(0)
        a = solution["SimpleNN"]()
        torch.manual_seed(0)
        b = solution["SimpleNN"]()
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_two_logit_softmax_is_sigmoid_of_the_difference():
    """C.2: "P(odd) = e^z1 / (e^z0 + e^z1) = sigma(z1 - z0) ... the cross-entropy of the two logits equals the binary
    cross-entropy of sigma(z1 - z0)"."""
    g = torch.Generator().manual_seed(0)
    z = 3 * torch.randn(50, 2, generator=g, dtype=torch.float64)
    y = (torch.rand(50, generator=g) > 0.5).double()
    assert torch.allclose(torch.softmax(z, dim=1)[:, 1], torch.sigmoid(z[:, 1] - z[:, 0]))
    assert torch.isclose(F.cross_entropy(z, y.long()), F.binary_cross_entropy_with_logits(z[:, 1] - z[:, 0], y))


def test_cross_entropy_targets_and_stability():
    """C.3: CrossEntropyLoss "takes the logits, shape (n, C), and the class indices as integers of dtype torch.long, shape
    (n,), and returns the mean over the examples of -log softmax(z_i)_{y_i}. It computes the log-softmax itself, stably
    (logits of +-1000 are no problem)"; "with float targets of shape (n,) it raises 'expected target dtype to be Long or
    Byte, but got Float' (float targets are read as class probabilities, which must have the logits' shape (n, C))"."""
    loss_fn = torch.nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(0)
    z = torch.randn(6, 2, generator=g)
    y = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    expected = -torch.log_softmax(z, dim=1)[torch.arange(6), y.long()].mean()
    assert torch.isclose(loss_fn(z, y.long()), expected)
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Float"):
        loss_fn(z, y)
    probabilities = F.one_hot(y.long(), 2).float()
    assert torch.isclose(loss_fn(z, probabilities), expected)
    soft = torch.tensor([[0.25, 0.75]]).expand(6, 2)
    assert torch.isclose(loss_fn(z, soft), -(soft * torch.log_softmax(z, dim=1)).sum(1).mean())
    big = torch.tensor([[0.0, 1000.0], [1000.0, 0.0], [1000.0, -1000.0]])
    assert torch.nn.CrossEntropyLoss(reduction="none")(big, torch.tensor([0, 1, 1])).tolist() == [1000.0, 1000.0, 2000.0]
    assert loss_fn(big[2:], torch.tensor([0])).item() == 0.0


def test_zero_grad_sets_gradients_to_none():
    """C.3: "model.zero_grad() does the same: it sets them to None"."""
    model = torch.nn.Linear(3, 2)
    model(torch.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_argmax_ties_and_the_probability_threshold():
    """C.3: the softmax probability of "odd" is sigma(z1 - z0) and "is at least 0.5 exactly when z1 >= z0, so the two
    agree except on ties: when z0 = z1, argmax returns the first index, 0, while the threshold says 1; and when the two
    logits differ by less than about 1e-7, the float32 probability can round to exactly 0.5"."""
    z = torch.tensor([[0.3, 0.3], [1.0, 2.0], [2.0, 1.0], [-5.0, -4.99], [0.0, -1e-8]])
    by_argmax = z.argmax(dim=1)
    by_probability = (torch.softmax(z, dim=1)[:, 1] >= 0.5).long()
    assert by_argmax.tolist() == [0, 1, 0, 1, 0]
    assert by_probability.tolist() == [1, 1, 0, 1, 1]
    assert torch.softmax(z, dim=1)[4, 1].item() == 0.5
    z64 = z.double()
    assert torch.allclose(torch.softmax(z64, dim=1)[:, 1], torch.sigmoid(z64[:, 1] - z64[:, 0]))


def test_train_model_reference_and_clearing_order(solution):
    """C.3 and q10: the reference train_model follows the four steps (the trajectory of the loop written out), its first
    logged loss is after the update, "clearing at the start of a step instead of the end is the same loop", and the model
    is updated in place."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(40, 6, generator=g)
    y = (X[:, 0] > 0).float()

    def fresh():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))

    with torch.random.fork_rng(devices=[]):
        model, other = fresh(), fresh()
    params = list(model.parameters())
    metrics = solution["train_model"](model, X[:30], y[:30], X[30:], y[30:], alpha=0.5, n_steps=6, log_every=1)
    assert all(p is q for p, q in zip(model.parameters(), params))
    losses = []
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(6):
        other.zero_grad()  # clearing first
        loss_fn(other(X[:30]), y[:30].long()).backward()
        with torch.no_grad():
            for p in other.parameters():
                p -= 0.5 * p.grad
            losses.append(loss_fn(other(X[:30]), y[:30].long()).item())
    assert max(abs(a - b) for a, b in zip(metrics["train_loss"], losses)) < 1e-6
    assert all(isinstance(v, float) for vs in metrics.values() for v in vs)


def test_lecture_plot_helper_reads_globals():
    """C.5 and its demo cell: the lecture helper's "metrics argument is never used: the loop reads the global variables
    logistic_metrics and nn_metrics"; "if nn_metrics has been overwritten by another run (logistic regression again,
    say), the figure shows one model twice under two labels"; "in a notebook where nn_metrics does not exist, it raises a
    NameError although it was handed its data"; with made-up data "none of these lines is the made-up data"."""
    plt = _pyplot()
    cell = _code_cell("def lecture_plot_metrics(")
    helper_source = cell.split("\n\n\nmade_up = ")[0]
    made_up_source = "made_up = " + cell.split("\n\n\nmade_up = ")[1].split("\nfig, ax = ")[0]

    def metrics(scale):
        return {"iterations": [0.0, 10.0, 20.0], "train_loss": [scale, scale / 2, scale / 3], "val_loss": [scale, scale / 2, scale / 4],
                "train_acc": [0.5, 0.6, 0.7], "val_acc": [0.5, 0.55, 0.6]}

    def lines_drawn(namespace):
        exec(helper_source, namespace)
        exec(made_up_source, namespace)
        fig, ax = plt.subplots()
        try:
            namespace["lecture_plot_metrics"](ax, namespace["made_up"], "train_loss", "Loss", "t")
            return {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
        finally:
            plt.close(fig)

    import numpy as np

    drawn = lines_drawn({"np": np, "logistic_metrics": metrics(0.6), "nn_metrics": metrics(0.9)})
    assert drawn["Logistic (train)"] == metrics(0.6)["train_loss"] and drawn["Neural Net (val)"] == metrics(0.9)["val_loss"]
    assert all(9.0 not in ys for ys in drawn.values())
    twice = lines_drawn({"np": np, "logistic_metrics": metrics(0.6), "nn_metrics": metrics(0.6)})
    assert twice["Logistic (train)"] == twice["Neural Net (train)"]
    with pytest.raises(NameError, match="nn_metrics"):
        lines_drawn({"np": np, "logistic_metrics": metrics(0.6)})


def test_q11_figure_axes_and_line_labels(solution):
    """q11 and its check: plt.subplots(1, 2) gives fig.axes in the order (loss axis, accuracy axis); each labelled line
    reports its label and data through get_label(), get_xdata(), get_ydata(); "Other, unlabelled artists (a grid,
    reference lines) are fine": they do not appear as labelled lines."""
    plt = _pyplot()
    m1 = {"iterations": [0.0, 5.0], "train_loss": [0.7, 0.4], "val_loss": [0.72, 0.45], "train_acc": [0.6, 0.8], "val_acc": [0.58, 0.78]}
    m2 = {"iterations": [0.0, 5.0], "train_loss": [0.69, 0.2], "val_loss": [0.71, 0.25], "train_acc": [0.55, 0.93], "val_acc": [0.52, 0.91]}
    fig = solution["plot_metrics"](m1, m2)
    try:
        assert len(fig.axes) == 2
        for ax, key in zip(fig.axes, ["loss", "acc"]):
            ax.axhline(0.5, color="k")
            ax.grid(True)
            labelled = {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}
            assert sorted(labelled) == ["Logistic (train)", "Logistic (val)", "Neural Net (train)", "Neural Net (val)"]
            assert len(ax.get_lines()) == 5 and ax.get_lines()[-1].get_label().startswith("_")
            assert list(labelled["Neural Net (val)"].get_ydata()) == m2[f"val_{key}"]
            assert list(labelled["Logistic (train)"].get_xdata()) == m1["iterations"]
    finally:
        plt.close(fig)


def test_mnist_without_files_raises_runtime_error(tmp_path):
    """C.1 data cell: datasets.MNIST(DATA_ROOT, train=True, download=False) raises RuntimeError when the files are absent
    (the cell catches exactly that to decide to download)."""
    datasets = pytest.importorskip("torchvision.datasets")
    with pytest.raises(RuntimeError):
        datasets.MNIST(str(tmp_path), train=True, download=False)


def test_provided_loader_is_homework_1s():
    """C.1: "The loader is the one you wrote in homework 1 (question 9 there), given here" (same code as hw1's solution)."""
    hw1 = json.loads((MASTER.parents[1] / "hw1" / "hw1.ipynb").read_text())
    hw1_solution = next("".join(c["source"]) for c in hw1["cells"] if c["cell_type"] == "code" and "".join(c["source"]).startswith("def load_mnist_odd_even("))
    ours = _code_cell("def load_mnist_odd_even(").split("\n\n\nX_train, y_train")[0]
    assert ours == _without_markers(hw1_solution)


def _data_root():
    default = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gradients-hw")
    root = os.environ.get("GRADIENTS_HW_DATA") or default
    if not os.path.isfile(os.path.join(root, "MNIST", "raw", "t10k-labels-idx1-ubyte")):
        pytest.skip("the offline MNIST subset is not on this machine")
    return root


def test_accuracies_stated_for_the_grader_subset(solution):
    """C.1, C.4, q12: on the grader's subset "all 4,000 are used and 3,000 of them train"; "expect 88.7% for logistic
    regression and ... 91.8% with seed 0" for the network; "the reference reaches 91.8% on validation and 90.6% on the test
    images"; C.3: "on the notebook's validation set the two rules give the same predictions" (argmax and the 0.5 threshold)."""
    tv = pytest.importorskip("torchvision")
    root = _data_root()
    ns = {"torch": torch, "datasets": tv.datasets, "transforms": tv.transforms}
    exec(_code_cell("def load_mnist_odd_even(").split("\n\n\nX_train, y_train")[0], ns)
    exec(_code_cell("def train_logistic_regression(").split("\n\n\nimport time")[0], ns)
    X_train, y_train, X_val, y_val = ns["load_mnist_odd_even"](root, 5000, 1000, seed=0)
    assert X_train.shape == (3000, 784) and X_val.shape == (1000, 784)
    _, _, logistic = ns["train_logistic_regression"](X_train, y_train, X_val, y_val, alpha=0.01, n_steps=1000)
    assert round(100 * logistic["val_acc"][-1], 2) == 88.70
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = solution["SimpleNN"]()
    metrics = solution["train_model"](net, X_train, y_train, X_val, y_val, alpha=0.01, n_steps=1000)
    assert round(100 * metrics["val_acc"][-1], 2) == 91.80
    test_set = tv.datasets.MNIST(root, train=False, download=False)
    X_test = (test_set.data.reshape(-1, 784).float() / 255 - 0.1307) / 0.3081
    y_test = (test_set.targets % 2).long()
    with torch.no_grad():
        assert round(100 * (net(X_test).argmax(dim=1) == y_test).float().mean().item(), 2) == 90.60
        logits = net(X_val)
    assert not bool((logits[:, 0] == logits[:, 1]).any())
    assert torch.equal(logits.argmax(dim=1), (torch.softmax(logits, dim=1)[:, 1] >= 0.5).long())


# Part D ------------------------------------------------------------------------------------------

def test_backward_with_a_vector_computes_v_transpose_j_and_jacobian_rows_come_from_one_hots():
    """D.1: "y.backward(v) ... computes v^T J"; "Row i of J is e_i^T J, the backward with the one-hot vector e_i"; for a
    general function v^T J and J v differ, "and only v^T J is the gradient"."""
    A = torch.tensor([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]], dtype=torch.float64)
    x = torch.tensor([0.2, -0.4, 1.0], dtype=torch.float64, requires_grad=True)
    v = torch.tensor([1.5, -2.0], dtype=torch.float64)
    (A @ x).backward(v)
    assert torch.allclose(x.grad, v @ A)
    rows = [torch.autograd.grad(A @ x, x, e)[0] for e in torch.eye(2, dtype=torch.float64)]
    assert torch.equal(torch.stack(rows), A)
    square = torch.tensor([[1.0, 2.0], [0.0, 3.0]], dtype=torch.float64)
    u = torch.tensor([1.0, 1.0], dtype=torch.float64)
    assert not torch.allclose(u @ square, square @ u)


def test_softmax_shift_invariance_overflow_and_symmetric_jacobian(solution):
    """D.1: softmax "does not change when the same constant is subtracted from every x_i"; "torch.exp(500.0) alone is inf
    in float32"; "the Jacobian of softmax is symmetric, so for softmax v^T J and J v agree"; the solution's softmax and
    softmax_vjp match torch's, at large entries too; the demo cell's two Jacobians agree."""
    x = torch.tensor([0.3, 2.0, -1.0, 0.5], dtype=torch.float64)
    assert torch.allclose(torch.softmax(x, dim=0), torch.softmax(x - 7.5, dim=0))
    assert torch.exp(torch.tensor(500.0)).item() == float("inf")
    J = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=0), x)
    assert torch.allclose(J, J.T)
    v = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    assert torch.allclose(v @ J, J @ v)
    assert torch.allclose(solution["softmax"](x), torch.softmax(x, dim=0))
    assert torch.allclose(solution["softmax"](torch.tensor([500.0, 501.0])), torch.softmax(torch.tensor([0.0, 1.0]), dim=0))
    assert torch.allclose(solution["softmax_vjp"](x, v), v @ J)
    assert torch.allclose(solution["jacobian_from_vjps"](solution["softmax"], x), J)
