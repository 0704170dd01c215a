"""The grader's standard: the offline data, the reference functions, and the constants fixed from them."""

import re

import torch
from master_notebook import ROOT, cells, solution_sources
from torchvision import datasets, transforms

from autograder.data.mnist import ensure_mnist
from autograder.homeworks import hw1, mnist
from autograder.homeworks.hw1 import reference as ref


def test_the_subset_loads_in_torchvision_as_mnist_does():
    root = ensure_mnist()
    train = datasets.MNIST(root, train=True, download=False)
    test = datasets.MNIST(root, train=False, download=False)
    assert (len(train), len(test)) == (4000, 1000)
    assert torch.bincount(train.targets).tolist() == [400] * 10
    assert torch.bincount(test.targets).tolist() == [100] * 10


def test_reference_images_equal_totensor_then_normalize():
    root = ensure_mnist()
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    data = datasets.MNIST(root, train=False, download=False, transform=transform)
    images, _ = mnist.test_set()
    assert torch.equal(images, torch.stack([data[i][0].reshape(-1) for i in range(len(data))]))


def test_all_images_shuffled_when_more_are_asked_than_exist():
    X_train, y_train, X_val, y_val = mnist.load_mnist_odd_even(ensure_mnist(), 5000, 1000, seed=0)
    assert (X_train.shape, X_val.shape) == ((3000, 784), (1000, 784))
    assert set(torch.cat([y_train, y_val]).tolist()) == {0.0, 1.0}


def test_q11_bar_is_the_reference_accuracy_minus_two_points():
    split = mnist.load_mnist_odd_even(ensure_mnist(), hw1.Q11_SAMPLES, hw1.Q11_VAL, hw1.Q11_SEED)
    w, b, _ = ref.train_logistic(*split)
    assert round(ref.accuracy(*mnist.test_set(), w, b), 3) == hw1.Q11_REFERENCE_ACCURACY
    assert hw1.Q11_BAR == round(hw1.Q11_REFERENCE_ACCURACY - 0.02, 3)


def outcome(snippet: str):
    """What a predict-the-outcome snippet does: "error", "none", or the value of x.grad."""
    scope = {"torch": torch}
    try:
        exec(snippet, scope)
    except RuntimeError:
        return "error"
    grad = scope["x"].grad if "W1" not in scope else scope["W1"].grad
    return "none" if grad is None else float(grad.sum())


SNIPPETS = {  # the lecture's code, as the notebook shows it
    "s1": "x = torch.tensor([1.0], requires_grad=True)\ny = x * 2\ny += 1\ny.backward()",
    "s2": "x = torch.tensor([1.0], requires_grad=True)\ny = x * 2\nz = y.detach()\nw = z * 3\nw.backward()",
    "s3": "W1 = torch.randn(784, 100, requires_grad=True) * 0.01\nX = torch.randn(5, 784)\n"
          "loss = torch.tanh(X @ W1).sum()\nloss.backward()",
    "s4": "x = torch.tensor([1.0], requires_grad=True)\nfor _ in range(3):\n    y = x * 2\n    y.backward()",
    "s5": "x = torch.tensor([[1.0, 2.0]], requires_grad=True)\ny = x * 2\ny.backward()",
}


def test_q8_truth_is_what_the_pinned_torch_does():
    assert {k: outcome(s) for k, s in SNIPPETS.items()} == hw1.Q8_TRUTH


def test_q8_grades_the_statements_the_notebook_lists_and_its_solution_picks():
    (question,) = [src for kind, src in cells("hw1") if kind == "markdown" and src.startswith("**Question 8")]
    assert "".join(re.findall(r"^\* \*\*([A-Z])\*\* ", question, re.M)) == hw1.Q8_LETTERS
    solution = {}
    for src in solution_sources("hw1"):
        if "reasons = {" in src:
            exec(src, solution)
    assert solution["reasons"] == hw1.Q8_REASONS and solution["predictions"] == hw1.Q8_TRUTH


def autograd_gradients(loss, *params):
    leaves = [p.detach().clone().requires_grad_(True) for p in params]
    return torch.autograd.grad(loss(*leaves), leaves)


def test_hw1_reference_gradients_equal_autograd():
    g = torch.Generator().manual_seed(0)
    X, y, w, b = torch.randn(30, 4, generator=g, dtype=torch.float64), (torch.rand(30, generator=g) < 0.5).double(), \
        torch.randn(4, generator=g, dtype=torch.float64), torch.randn(1, generator=g, dtype=torch.float64)
    (gw,) = autograd_gradients(lambda w_: ref.least_squares_loss(X, y, w_), w)
    assert torch.allclose(ref.least_squares_grad(X, y, w), gw)
    gw, gb = autograd_gradients(lambda w_, b_: ref.logistic_loss(X, y, w_, b_), w, b)
    mw, mb = ref.logistic_grad(X, y, w, b)
    assert torch.allclose(mw, gw) and torch.allclose(mb, gb) and mb.shape == (1,)
    (gx,) = autograd_gradients(lambda x_: ref.f(x_).sum(), X)
    assert torch.allclose(ref.df(X), gx)


def test_hw2_reference_backprop_equals_autograd():
    from autograder.homeworks.hw2 import reference as ref2

    g = torch.Generator().manual_seed(1)
    X = torch.randn(25, 6, generator=g, dtype=torch.float64)
    params = [torch.randn(*s, generator=g, dtype=torch.float64) for s in ((7, 6), (7,), (7,), (1,))]
    for loss, manual, y in ((ref2.mse_loss, ref2.mlp_grads, torch.randn(25, generator=g, dtype=torch.float64)),
                            (ref2.bce_loss, ref2.classifier_grads, (torch.rand(25, generator=g) < 0.5).double())):
        expected = autograd_gradients(lambda *p: loss(X, y, *p), *params)
        got = manual(X, y, *params)
        for key, e in zip(("W1", "b1", "w2", "b2"), expected):
            assert torch.allclose(got[key], e), key
    x = torch.randn(9, generator=g, dtype=torch.float64)
    (gx,) = autograd_gradients(lambda x_: (torch.tanh(x_) * x).sum(), x)
    assert torch.allclose(ref2.tanh_vjp(x, x), gx)


def test_q12_bar_is_the_reference_accuracy_minus_two_points():
    from autograder.homeworks import hw2
    from autograder.homeworks.hw2 import reference as ref2

    split = mnist.split(hw2.Q12_SAMPLES, hw2.Q12_VAL, hw2.Q12_SEED)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(hw2.Q12_SEED)
        model = ref2.SimpleNN()
    ref2.train_model(model, *split, **hw2.Q12_SETTINGS)
    X_test, y_test = mnist.test_set()
    with torch.no_grad():
        assert round(ref2.accuracy(model(X_test), y_test), 3) == hw2.Q12_REFERENCE_ACCURACY
    assert hw2.Q12_BAR == round(hw2.Q12_REFERENCE_ACCURACY - 0.02, 3)


def test_the_notebooks_and_the_readme_state_the_accuracy_bars():
    from autograder.homeworks import hw2

    readme = (ROOT / "README.md").read_text()
    for accuracy in (hw1.Q11_REFERENCE_ACCURACY, hw1.Q11_BAR, hw2.Q12_REFERENCE_ACCURACY, hw2.Q12_BAR):
        assert f"{100 * accuracy:.1f}%" in readme
    q12 = next(src for kind, src in cells("hw2") if kind == "markdown" and src.startswith("**Question 12"))
    assert f"{100 * hw2.Q12_REFERENCE_ACCURACY:.1f}%" in q12 and f"{100 * hw2.Q12_BAR:.1f}%" in q12
    assert f"$\\alpha = {hw2.Q12_SETTINGS['alpha']}$ and {hw2.Q12_SETTINGS['n_steps']} steps" in q12
