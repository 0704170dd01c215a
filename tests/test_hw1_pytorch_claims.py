"""Every statement hw1's notebook makes about PyTorch's behaviour, executed against the installed torch.

Each test quotes (in its docstring) the statement of ``assignments/hw1/hw1.ipynb`` it backs. Most
tests need only torch; the tests that re-run code taken from the master notebook itself (the broken
Part B bodies, the five q8 snippets, the reference training loop) read the notebook as JSON, and the
two statements about torchvision's MNIST loader skip when torchvision is missing.
"""

import functools
import math
import re
import sys
import warnings

import pytest
from master_notebook import ROOT, cells, solution_sources, student_version
import torch
import torch.nn.functional as F

# torch.autograd.gradcheck is the function; its module (which defines GradcheckError) is shadowed by it
GradcheckError = sys.modules["torch.autograd.gradcheck"].GradcheckError

MASTER = ROOT / "assignments" / "hw1" / "hw1.ipynb"


_cells = functools.partial(cells, "hw1")
_solution_sources = functools.partial(solution_sources, "hw1")
_student_version = student_version


def _namespace(student=False):
    ns = {"torch": torch}
    for src in _solution_sources():
        exec(_student_version(src) if student else src, ns)
    return ns


@pytest.fixture(scope="module")
def solution():
    return _namespace(student=False)


@pytest.fixture(scope="module")
def broken():
    return _namespace(student=True)


def _snippets():
    """The five snippets of B.5, from the code blocks of the markdown cell that shows them."""
    for kind, src in _cells():
        if kind == "markdown" and src.startswith("## B.5"):
            return dict(re.findall(r"\*\*`(s\d)`\*\*.*?```python\n(.*?)```", src, re.DOTALL))
    raise AssertionError("the notebook has no B.5 cell")


def _run(code):
    """Run code in a fresh namespace; return (namespace, exception or None, warnings)."""
    ns = {"torch": torch}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exec(code, ns)
            err = None
        except Exception as e:  # noqa: BLE001 - the point is to see what a snippet raises
            err = e
    return ns, err, [str(w.message) for w in caught]


def _outcome(ns, err, name):
    if err is not None:
        return "error"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reading a non-leaf's .grad warns (s3); the warning is tested below
        grad = ns["W1" if name == "s3" else "x"].grad
    return "none" if grad is None else float(grad.reshape(-1)[0])


# --------------------------------------------------------------------------------------------
# Part A
# --------------------------------------------------------------------------------------------

def test_grad_does_not_require_grad_and_fresh_leaf_leaves_caller_alone():
    """A.1: "make your own leaf ... x.detach().clone().requires_grad_(True) ... The gradient PyTorch
    stores in .grad does not itself require grad"; the caller's x gets no .grad and keeps requires_grad."""
    for caller_requires_grad in (False, True):
        x = torch.tensor([1.0, 2.0], requires_grad=caller_requires_grad)
        leaf = x.detach().clone().requires_grad_(True)
        assert leaf.is_leaf and leaf.requires_grad
        (leaf**3 - 3 * leaf).sum().backward()
        assert not leaf.grad.requires_grad
        assert x.grad is None and x.requires_grad == caller_requires_grad
        assert torch.equal(x.detach(), torch.tensor([1.0, 2.0]))


def test_gradient_of_sum_is_elementwise_derivative_and_exact():
    """A.1: "the gradient of f(x).sum() is exactly the vector of derivatives"; figure: "the two curves
    lie on top of each other: autograd computes exact derivatives"."""
    xs = torch.linspace(-2.5, 2.5, 201)
    leaf = xs.clone().requires_grad_(True)
    (leaf**3 - 3 * leaf).sum().backward()
    assert torch.allclose(leaf.grad, 3 * xs**2 - 3, rtol=0, atol=1e-5)


def test_least_squares_mean_gradient_and_sum_gradient():
    """A.2: gradient of 0.5*mean((Xw-y)**2) is X.T(Xw-y)/n; "With the lecture's sum version the
    gradient is X.T(Xw-y), without the 1/n"."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(7, 3, generator=g, dtype=torch.float64)
    y = torch.randn(7, generator=g, dtype=torch.float64)
    w = torch.randn(3, generator=g, dtype=torch.float64, requires_grad=True)
    (0.5 * torch.mean((X @ w - y) ** 2)).backward()
    assert torch.allclose(w.grad, X.T @ (X @ w.detach() - y) / 7)
    w.grad = None
    (0.5 * torch.sum((X @ w - y) ** 2)).backward()
    assert torch.allclose(w.grad, X.T @ (X @ w.detach() - y))


def test_sigmoid_derivative_and_bce_logit_derivative():
    """A.3: "sigma'(z) = sigma(z)(1 - sigma(z))" and "the derivative of the loss in its logit is
    sigma(z) - y, prediction minus target"."""
    z = torch.linspace(-6, 6, 25, dtype=torch.float64, requires_grad=True)
    s = torch.sigmoid(z)
    s.sum().backward()
    assert torch.allclose(z.grad, s.detach() * (1 - s.detach()))
    for label in (0.0, 1.0):
        z.grad = None
        y = torch.full_like(z, label)
        loss = -(y * torch.log(torch.sigmoid(z)) + (1 - y) * torch.log(1 - torch.sigmoid(z)))
        loss.sum().backward()
        assert torch.allclose(z.grad, torch.sigmoid(z.detach()) - y)


def test_float32_sigmoid_underflow_gives_minus_inf_log():
    """A.3: "In float32, e^1000 overflows to inf, so torch.sigmoid(torch.tensor(-1000.0)) is exactly 0.0
    and its log is -inf"."""
    assert torch.exp(torch.tensor(1000.0)).item() == math.inf
    assert torch.sigmoid(torch.tensor(-1000.0)).item() == 0.0
    assert torch.log(torch.sigmoid(torch.tensor(-1000.0))).item() == -math.inf


def test_naive_bce_gives_inf_when_wrong_and_nan_when_right():
    """A.3: "The lecture's formula then returns inf when a confident prediction is wrong, and nan when
    it is right, because 0 * (-inf) is nan"."""
    def naive(z, y):
        p = torch.sigmoid(z)
        return -(y * torch.log(p) + (1 - y) * torch.log(1 - p))

    z = torch.tensor([-1000.0, 1000.0])
    wrong = naive(z, torch.tensor([1.0, 0.0]))
    right = naive(z, torch.tensor([0.0, 1.0]))
    assert torch.isinf(wrong).all() and (wrong > 0).all()
    assert torch.isnan(right).all()
    assert math.isnan(0.0 * -math.inf)


def test_bceloss_clamps_log_at_minus_100_and_its_gradient_vanishes():
    """A.3: "torch.nn.BCELoss avoids the inf by clamping each log at -100: for logit -1000 and target 1
    it reports a loss of 100 instead of 1000 ... the gradient that reaches the logit through the
    saturated sigmoid is 0"."""
    z = torch.tensor([-1000.0], requires_grad=True)
    loss = torch.nn.BCELoss()(torch.sigmoid(z), torch.tensor([1.0]))
    assert loss.item() == 100.0
    loss.backward()
    assert z.grad.item() == 0.0
    assert torch.nn.BCELoss()(torch.sigmoid(torch.tensor([1000.0])), torch.tensor([0.0])).item() == 100.0


def test_softplus_is_exact_at_extreme_logits():
    """A.3: "torch.nn.functional.softplus (or torch.logaddexp(torch.zeros_like(z), z)) ... softplus(1000) =
    1000, softplus(-1000) = 0, exactly"; "softplus(-z) = softplus(z) - z"; the stable loss
    softplus(z) - y z is exact (1000 for logit -1000, target 1) and its gradient is sigma(z) - y."""
    for dtype in (torch.float32, torch.float64):
        z = torch.tensor([1000.0, -1000.0], dtype=dtype)
        assert F.softplus(z).tolist() == [1000.0, 0.0]
        assert torch.logaddexp(torch.zeros_like(z), z).tolist() == [1000.0, 0.0]
    z = torch.linspace(-30, 30, 61, dtype=torch.float64)
    assert torch.allclose(F.softplus(-z), F.softplus(z) - z)
    z = torch.tensor([-1000.0, 1000.0, 1000.0, -1000.0], requires_grad=True)
    y = torch.tensor([1.0, 1.0, 0.0, 0.0])
    per_example = F.softplus(z) - y * z
    assert per_example.tolist() == [1000.0, 0.0, 1000.0, 0.0]
    per_example.sum().backward()
    assert z.grad.tolist() == [-1.0, 0.0, 1.0, 0.0]


def test_bce_with_logits_is_the_stable_form():
    """A.3: "This is what torch.nn.functional.binary_cross_entropy_with_logits does internally"."""
    z = torch.tensor([-1000.0, 1000.0, 0.3, -2.0])
    y = torch.tensor([1.0, 1.0, 0.0, 1.0])
    ours = F.softplus(z) - y * z
    theirs = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    assert torch.allclose(ours, theirs)
    assert theirs[0].item() == 1000.0


def test_bias_broadcast_and_mean_shape():
    """A.3: "b has shape (1,), so X @ w + b broadcasts it over the n examples ... a 0-dimensional mean()
    has shape (); use .reshape(1) or mean(dim=0, keepdim=True)"."""
    X, w, b = torch.randn(5, 3), torch.randn(3), torch.tensor([0.5])
    z = X @ w + b
    assert z.shape == (5,) and torch.allclose(z, X @ w + 0.5)
    r = torch.randn(5)
    assert r.mean().shape == ()
    assert r.mean().reshape(1).shape == (1,) and r.mean(dim=0, keepdim=True).shape == (1,)


def test_gradcheck_passes_in_float64_and_fails_in_float32(solution):
    """A.3 gradcheck cell: "torch.autograd.gradcheck compares the gradient autograd computes ... with
    finite differences ... It needs float64: in float32 ... the check fails even for a correct
    function"; the notebook's cell prints True for both losses."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(20, 5, generator=g, dtype=torch.float64)
    y = (torch.rand(20, generator=g) > 0.5).double()
    w = torch.randn(5, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(1, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda w: solution["least_squares_loss"](X, y, w), (w,))
    assert torch.autograd.gradcheck(lambda w, b: solution["logistic_loss"](X, y, w, b), (w, b))
    w32, b32 = w.detach().float().requires_grad_(True), b.detach().float().requires_grad_(True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(GradcheckError, match="Jacobian mismatch"):
            torch.autograd.gradcheck(lambda w, b: solution["logistic_loss"](X.float(), y.float(), w, b), (w32, b32))
    assert any("not a double precision" in str(c.message) for c in caught)


def test_reference_losses_exact_at_extreme_logits(solution):
    """q3: the reference logistic_loss is "exact also for logits of +-1000" and logistic_grad is finite
    there (the public check's example: mean loss 500.0, grad_w 500.0, grad_b 0.0)."""
    X = torch.tensor([[1000.0], [-1000.0], [1000.0], [-1000.0]])
    y = torch.tensor([1.0, 1.0, 0.0, 0.0])
    w, b = torch.tensor([1.0]), torch.tensor([0.0])
    assert solution["logistic_loss"](X, y, w, b).item() == 500.0
    gw, gb = solution["logistic_grad"](X, y, w, b)
    assert gw.tolist() == [500.0] and gb.tolist() == [0.0]


# --------------------------------------------------------------------------------------------
# Part B: the mechanics
# --------------------------------------------------------------------------------------------

def test_only_leaves_receive_grad():
    """Part B intro: "backward() walks these links from the output back to the leaves ... Only leaves
    receive a .grad"; every computed tensor remembers the operation that made it (grad_fn)."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    assert x.is_leaf and x.grad_fn is None and not h.is_leaf and h.grad_fn is not None
    (h**2).sum().backward()
    assert x.grad is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert h.grad is None


def test_sigmoid_saves_output_and_square_saves_input():
    """Part B intro: "torch.sigmoid keeps its output s, because sigma'(z) = s(1-s); x**2 keeps its input x"."""
    x = torch.tensor([0.5, -1.0], requires_grad=True)
    s = torch.sigmoid(x)
    assert s.grad_fn._saved_result.data_ptr() == s.data_ptr()
    p = x**2
    assert torch.equal(p.grad_fn._saved_self, x)


def test_inplace_ops_bump_the_version_counter():
    """Part B intro: "Every tensor has a version counter (t._version) that each in-place operation
    (+=, mul_, t[0] = ...) increases"."""
    t = torch.zeros(3)
    assert t._version == 0
    t += 1
    t.mul_(2)
    t[0] = 5
    assert t._version == 3


def test_inplace_on_saved_tensor_raises_at_backward():
    """q5 and the corrections: "s += 1 after s = torch.sigmoid(x) ... raises 'one of the variables needed
    for gradient computation has been modified by an inplace operation'" (the message names the
    tensor as an output of Sigmoid); "s = s + 1 ... leaves the saved one untouched"."""
    x = torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    s = torch.sigmoid(x)
    s += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
        (s**2).sum().backward()
    assert "output 0 of Sigmoid" in str(info.value)
    s = torch.sigmoid(x)
    s = s + 1
    (s**2).sum().backward()
    sig = torch.sigmoid(x.detach())
    assert torch.allclose(x.grad, 2 * (sig + 1) * sig * (1 - sig))


def test_inplace_on_leaf_requiring_grad_raises_outside_no_grad():
    """q5 text and corrections: in-place ops fail "when they modify a leaf that requires grad outside
    torch.no_grad() (x += 1 raises 'a leaf Variable that requires grad is being used in an in-place
    operation')"; C.2: "in-place updates of a leaf that requires grad are only allowed under no_grad",
    and the update is not recorded in the graph."""
    x = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        x += 1
    (x * 2).sum().backward()
    with torch.no_grad():
        x -= 0.1 * x.grad
    assert x.is_leaf and x.requires_grad and x.grad_fn is None
    assert torch.allclose(x.detach(), torch.tensor([0.8]))


def test_detach_shares_memory_and_cuts_the_graph():
    """B.1: "y.detach() returns a tensor with the same values as y (it even shares its memory) but no
    history: it is a new leaf that does not require grad"; backward from a tensor computed only from it
    raises 'element 0 of tensors does not require grad and does not have a grad_fn'."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = 2 * x
    z = y.detach()
    assert torch.equal(z, y.detach()) and z.data_ptr() == y.data_ptr()
    assert z.is_leaf and not z.requires_grad and z.grad_fn is None
    w = 3 * z
    assert not w.requires_grad
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does not have a grad_fn"):
        w.sum().backward()
    assert x.grad is None


def test_backward_accumulates_and_how_to_clear():
    """B.3: "backward() does not overwrite .grad: it adds"; "three backward passes of y = 2x leave x.grad
    at 2 + 2 + 2 = 6"; clearing with x.grad = None or x.grad.zero_(); "torch.autograd.grad(loss, x)
    returns the gradient instead of adding it into .grad"."""
    x = torch.tensor([1.0], requires_grad=True)
    for _ in range(3):
        (x * 2).backward()
    assert x.grad.item() == 6.0
    for _ in range(3):
        x.grad = None
        (x * 2).backward()
    assert x.grad.item() == 2.0
    x.grad.zero_()
    (x * 2).backward()
    assert x.grad.item() == 2.0
    (g,) = torch.autograd.grad((x * 2).sum(), x)
    assert g.item() == 2.0 and x.grad.item() == 2.0


def test_vector_backward_needs_an_argument_and_computes_vjp():
    """B.4: backward() with no argument "only works when y has a single element ... for two or more
    elements it raises"; "y.backward(v) computes the vector-Jacobian product ... the gradient of v^T y";
    with v = ones and an elementwise y it gives dy_i/dx_i."""
    x = torch.tensor([[1.0, 2.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    for shape in [(1,), (1, 1), ()]:
        one = torch.full(shape, 3.0, requires_grad=True)
        (one**2).backward()
        assert one.grad.item() == 6.0
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    v = torch.tensor([0.5, 2.0, -1.0])
    (x**2).backward(v)
    assert torch.allclose(x.grad, v * 2 * x.detach())
    x.grad = None
    (x**2).backward(torch.ones(3))
    assert torch.allclose(x.grad, 2 * x.detach())


# --------------------------------------------------------------------------------------------
# Part B: the notebook's broken bodies and repairs
# --------------------------------------------------------------------------------------------

def test_template_bodies_fail_as_the_notebook_says(broken):
    """q4-q7: the template ships the lecture's mistakes: fix_detach "detaches y" (raises at backward),
    fix_inplace "adds 1 to the sigmoid's output in place" (raises), fix_accumulation "never clears the
    gradient, so row k comes out as (k+1)*2x", fix_vector_backward "calls y.backward() with no argument"
    (raises for several elements; a one-element tensor works)."""
    x = torch.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        broken["fix_detach"](x)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        broken["fix_inplace"](x)
    rows = broken["fix_accumulation"](x, 3)
    assert torch.allclose(rows, torch.stack([(k + 1) * 2 * x for k in range(3)]))
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        broken["fix_vector_backward"](x)
    assert broken["fix_vector_backward"](torch.tensor([3.0])).item() == 6.0
    assert broken["predictions"] == {k: Ellipsis for k in ["s1", "s2", "s3", "s4", "s5"]}


def test_repaired_bodies_give_the_stated_results(solution):
    """q4-q7: fix_detach gives 6 everywhere; fix_inplace gives 2(s+1)s(1-s); fix_accumulation every row
    2x with shape (n_steps, *x.shape); fix_vector_backward 2x; all for any shape, results not requiring
    grad, the caller's x untouched."""
    x = torch.tensor([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]], dtype=torch.float64, requires_grad=True)
    s = torch.sigmoid(x.detach())
    results = {
        "fix_detach": (solution["fix_detach"](x), torch.full_like(s, 6.0)),
        "fix_inplace": (solution["fix_inplace"](x), 2 * (s + 1) * s * (1 - s)),
        "fix_accumulation": (solution["fix_accumulation"](x, 4), (2 * x.detach()).expand(4, 2, 3)),
        "fix_vector_backward": (solution["fix_vector_backward"](x), 2 * x.detach()),
    }
    for name, (got, expected) in results.items():
        assert got.shape == expected.shape and torch.allclose(got, expected), name
        assert not got.requires_grad, name
    assert x.grad is None


# --------------------------------------------------------------------------------------------
# q8 and the three corrections to the lecture
# --------------------------------------------------------------------------------------------

def test_q8_snippets_match_the_solution_predictions(solution):
    """B.5: the five snippets, each run in a fresh namespace as the notebook shows them, do what the q8 solution
    says (s1 2.0, s2 error, s3 none, s4 6.0, s5 error)."""
    snippets = _snippets()
    assert sorted(snippets) == ["s1", "s2", "s3", "s4", "s5"]
    for name, code in snippets.items():
        ns, err, _ = _run(code)
        assert _outcome(ns, err, name) == solution["predictions"][name], name


def test_q8_reasons_explain_the_outcomes(solution):
    """Question 8's statements: A (nothing goes wrong) for s1, C (detach leaves nothing that requires grad) for s2,
    D (not a leaf) for s3, E (backward adds into .grad) for s4, F (no argument needs a single-element output) for s5;
    B (an in-place operation overwrote a saved value) and H (multiplying by a number drops requires_grad) are false
    here, and G (a second backward through the same graph raises) is true of PyTorch but explains none of them."""
    assert solution["reasons"] == {"s1": "A", "s2": "C", "s3": "D", "s4": "E", "s5": "F"}
    snippets = _snippets()
    ns, err, _ = _run(snippets["s1"])
    assert err is None and type(ns["y"].grad_fn).__name__ == "AddBackward0"  # A, and not B: nothing raised
    ns, err, _ = _run(snippets["s2"].replace("w.backward()\n", ""))
    assert not ns["z"].requires_grad and not ns["w"].requires_grad  # C
    ns, err, _ = _run(snippets["s3"])
    assert not ns["W1"].is_leaf and ns["W1"].requires_grad  # D, and not H
    ns, err, _ = _run(snippets["s4"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert err is None and ns["x"].grad.item() == 3 * 2  # E: three passes, each through a graph of its own (not G)
    ns, err, _ = _run(snippets["s5"])
    assert ns["y"].numel() == 2 and "only for scalar outputs" in str(err)  # F
    x = torch.tensor([1.0], requires_grad=True)
    y = torch.sigmoid(x)
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()  # G


def test_correction_1_inplace_add_after_scalar_mul_does_not_raise():
    """Correction s1: "runs without error and x.grad is tensor([2.]) ... x * 2 saves nothing that the
    addition overwrites (multiplying by a constant needs only the constant) ... after it, y.grad_fn is an
    AddBackward0 and y._version is 1"."""
    x = torch.tensor([1.0], requires_grad=True)
    y = x * 2
    assert type(y.grad_fn).__name__ == "MulBackward0"
    assert y.grad_fn._saved_self is None and y.grad_fn._saved_other.item() == 2
    y += 1
    assert type(y.grad_fn).__name__ == "AddBackward0" and y._version == 1
    y.backward()
    assert x.grad.tolist() == [2.0]


def test_correction_2_detach_example_raises_at_backward():
    """Correction s2: "It never gets that far: z = y.detach() does not require grad, so neither does w, and
    w.backward() raises 'element 0 of tensors does not require grad and does not have a grad_fn'"."""
    x = torch.tensor([1.0], requires_grad=True)
    y = x * 2
    z = y.detach()
    w = z * 3
    assert not z.requires_grad and not w.requires_grad
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does not have a grad_fn"):
        w.backward()
    assert x.grad is None


def test_correction_3_scaled_init_is_not_a_leaf():
    """Correction s3: "* 0.01 makes a new tensor ... W1.is_leaf is False ... leaves W1.grad at None (PyTorch
    warns 'The .grad attribute of a Tensor that is not a leaf Tensor is being accessed') ... The lecture's
    next line, W1 -= alpha * W1.grad under torch.no_grad(), would then raise a TypeError ... The same holds
    for W2; b1 and b2 are leaves and do get gradients. The fix ... W1 = (0.01 * torch.randn(784, 100)).requires_grad_()"."""
    code = _snippets()["s3"]
    ns, err, _ = _run(code)
    assert err is None
    assert not ns["W1"].is_leaf and not ns["W2"].is_leaf
    with pytest.warns(UserWarning, match="The .grad attribute of a Tensor that is not a leaf Tensor is being accessed"):
        ns["W1"].grad
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ns["W1"].grad is None and ns["W2"].grad is None
    assert ns["b1"].grad is not None and ns["b2"].grad is not None
    with pytest.raises(TypeError):
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            W1 = ns["W1"]
            W1 -= 0.1 * W1.grad
    W1 = (0.01 * torch.randn(784, 100)).requires_grad_()
    assert W1.is_leaf and W1.requires_grad
    (torch.randn(8, 784) @ W1).sum().backward()
    assert W1.grad is not None and W1.grad.shape == (784, 100)


def test_s4_and_s5_as_the_lecture_says():
    """s4: "x.grad is tensor([6.]), as the lecture says"; s5: "raises 'grad can be implicitly created only
    for scalar outputs' ... The lecture's fix, y.backward(torch.ones_like(y)), gives x.grad = tensor([[2., 2.]])"."""
    ns, err, _ = _run(_snippets()["s4"])
    assert err is None and ns["x"].grad.tolist() == [6.0]
    ns, err, _ = _run(_snippets()["s5"])
    assert isinstance(err, RuntimeError) and "grad can be implicitly created only for scalar outputs" in str(err)
    x = torch.tensor([[1.0, 2.0]], requires_grad=True)
    y = x * 2
    y.backward(torch.ones_like(y))
    assert x.grad.tolist() == [[2.0, 2.0]]


# --------------------------------------------------------------------------------------------
# Part C
# --------------------------------------------------------------------------------------------

def test_seeded_randperm_is_reproducible():
    """C.1: "we pass a seeded generator instead, so the same seed always gives the same split"."""
    a = torch.randperm(4000, generator=torch.Generator().manual_seed(0))
    b = torch.randperm(4000, generator=torch.Generator().manual_seed(0))
    c = torch.randperm(4000, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_totensor_and_normalize_pixel_range():
    """C.1: "ToTensor() (pixel values scaled to [0, 1]) followed by Normalize((0.1307,), (0.3081,)) ... a
    pixel p becomes (p - 0.1307)/0.3081" (public check: a black pixel is -0.4242, a white one 2.8215)."""
    transforms = pytest.importorskip("torchvision.transforms")
    import numpy as np
    from PIL import Image

    img = Image.fromarray(np.array([[0, 255], [51, 128]], dtype=np.uint8), mode="L")
    t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])(img)
    expected = (torch.tensor([[[0, 255], [51, 128]]], dtype=torch.float32) / 255 - 0.1307) / 0.3081
    assert torch.allclose(t, expected)
    assert abs(t.min().item() - (-0.4242)) < 1e-4 and abs(t.max().item() - 2.8215) < 1e-4


def test_mnist_without_files_raises_runtime_error(tmp_path):
    """C.1 data cell: datasets.MNIST(DATA_ROOT, train=True, download=False) raises RuntimeError when the files
    are absent (the cell catches exactly that to decide to download)."""
    datasets = pytest.importorskip("torchvision.datasets")
    with pytest.raises(RuntimeError):
        datasets.MNIST(str(tmp_path), train=True, download=False)


def test_manual_and_autograd_training_paths_agree(solution):
    """C.2: "Both compute the same numbers, so the two runs follow the same trajectory (up to float
    rounding, about 1e-7 in float32)"; metrics logged after the update (the first loss is below log 2)."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(300, 784, generator=g)
    y = (X[:, :10].sum(1) > 0).float()
    train = solution["train_logistic"]
    w_m, b_m, m_m = train(X[:200], y[:200], X[200:], y[200:], alpha=0.01, n_steps=200)
    w_a, b_a, m_a = train(X[:200], y[:200], X[200:], y[200:], alpha=0.01, n_steps=200, use_autograd=True)
    assert (w_m - w_a).abs().max().item() < 1e-6 and (b_m - b_a).abs().max().item() < 1e-6
    for key in ["train_loss", "val_loss"]:
        assert max(abs(p - q) for p, q in zip(m_m[key], m_a[key])) < 1e-6
    assert m_m["train_loss"][0] < math.log(2)
    assert not w_a.requires_grad and not b_a.requires_grad


def test_step_size_limit_of_least_squares(solution):
    """C.3: the gradient is H w - X^T y / n with H = X^T X / n; "w_{k+1} - w* = (I - alpha H)(w_k - w*)"; the error
    shrinks below 2/L and "grows by the factor |1 - alpha L|" above it; "torch.linalg.eigvalsh returns the eigenvalues
    of a symmetric matrix, in ascending order"."""
    g = torch.Generator().manual_seed(3)
    X, y = torch.randn(40, 3, generator=g, dtype=torch.float64), torch.randn(40, generator=g, dtype=torch.float64)
    H = X.T @ X / 40
    w = torch.randn(3, generator=g, dtype=torch.float64)
    assert torch.allclose(solution["least_squares_grad"](X, y, w), H @ w - X.T @ y / 40)
    eigenvalues = torch.linalg.eigvalsh(H)
    assert torch.equal(eigenvalues, eigenvalues.sort().values)
    L = eigenvalues[-1]
    w_star = torch.linalg.solve(H, X.T @ y / 40)
    for alpha in (0.9 * 2 / L, 1.1 * 2 / L):
        w_k = torch.zeros(3, dtype=torch.float64)
        w_next = w_k - alpha * solution["least_squares_grad"](X, y, w_k)
        assert torch.allclose(w_next - w_star, (torch.eye(3, dtype=torch.float64) - alpha * H) @ (w_k - w_star))
    top = torch.linalg.eigh(H).eigenvectors[:, -1]
    error = 1e-3 * top
    assert torch.allclose((torch.eye(3, dtype=torch.float64) - 1.1 * 2 / L * H) @ error, (1 - 1.1 * 2 / L * L) * error)
    assert abs(1 - 1.1 * 2 / L * L) > 1 > abs(1 - 0.9 * 2 / L * L)


def test_step_sizes_of_the_lecture_and_the_figure(solution):
    """C.3: for the lecture's X = torch.randn(100, 2) "L is close to 1, the limit 2/L is close to 2, and alpha = 0.1 is far
    below it"; "L grows with the square of the data's scale"; the figure: scaled by 3 "multiplies L by 9 and brings the limit
    down to about 0.19, so that even the lecture's alpha = 0.1 is half of it"; below 2/L the loss goes down, above it it grows;
    the solution's step_size_limit and gradient_descent_losses are what q12 asks for."""
    for seed in range(10):
        X = torch.randn(100, 2, generator=torch.Generator().manual_seed(seed))
        limit = solution["step_size_limit"](X).item()
        assert 1.5 < limit < 2.2 and 0.1 < limit / 10
        assert math.isclose(solution["step_size_limit"](3 * X).item(), limit / 9, rel_tol=1e-5)
    g = torch.Generator().manual_seed(0)
    X_gd = 3 * torch.randn(100, 2, generator=g)
    y_gd = X_gd @ torch.tensor([1.0, -0.5]) + 0.1 * torch.randn(100, generator=g)
    limit = solution["step_size_limit"](X_gd).item()
    assert round(limit, 2) == 0.19 and 0.45 < 0.1 / limit < 0.55
    minimum = solution["least_squares_loss"](X_gd, y_gd, torch.linalg.lstsq(X_gd, y_gd.unsqueeze(1)).solution.squeeze(1)).item()
    for fraction in (0.5, 0.9, 0.99):
        losses = solution["gradient_descent_losses"](X_gd, y_gd, fraction * limit, 60)
        assert losses.shape == (61,) and losses[-1] < losses[0] and abs(losses[-1].item() - minimum) < 0.01 + 0.5 * (fraction > 0.95)
    exploding = solution["gradient_descent_losses"](X_gd, y_gd, 1.05 * limit, 60)
    assert exploding[-1] > exploding[0] and bool((exploding[1:] > 0).all())
