"""The grader's standard: the offline data, the reference functions, and the constants fixed from them."""

import torch
from torchvision import datasets, transforms

from autograder.data.mnist import ensure_mnist
from autograder.homeworks import hw1
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
    images, _ = ref.load_mnist_test(root)
    assert torch.equal(images, torch.stack([data[i][0].reshape(-1) for i in range(len(data))]))


def test_all_images_shuffled_when_more_are_asked_than_exist():
    X_train, y_train, X_val, y_val = ref.load_mnist_odd_even(ensure_mnist(), 5000, 1000, seed=0)
    assert (X_train.shape, X_val.shape) == ((3000, 784), (1000, 784))
    assert set(torch.cat([y_train, y_val]).tolist()) == {0.0, 1.0}


def test_q11_bar_is_the_reference_accuracy_minus_two_points():
    split = ref.load_mnist_odd_even(ensure_mnist(), hw1.Q11_SAMPLES, hw1.Q11_VAL, hw1.Q11_SEED)
    w, b, _ = ref.train_logistic(*split)
    assert round(ref.accuracy(*hw1.test_images(), w, b), 3) == hw1.Q11_REFERENCE_ACCURACY
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
