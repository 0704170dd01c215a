"""The grader's own implementation of every hw2 function, the standard answers are judged by.

Written independently of the master notebook's solution; ``verify`` (the solution scores 100)
is the proof that the two agree.

The grader also puts some of these functions in the notebook's place for one call (a question judged
apart from another question's function), so this module imports nothing but torch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def mlp_forward(X, W1, b1, w2, b2):
    return torch.tanh(X @ W1.T + b1) @ w2 + b2


def mse(predictions, y):
    return ((predictions - y) ** 2).mean()


def bce_with_logits(logits, y):
    return (F.softplus(logits) - y * logits).mean()


def mse_loss(X, y, W1, b1, w2, b2):
    return mse(mlp_forward(X, W1, b1, w2, b2), y)


def bce_loss(X, y, W1, b1, w2, b2):
    return bce_with_logits(mlp_forward(X, W1, b1, w2, b2), y)


def backprop(X, W1, b1, w2, dz, tanh_derivative=lambda z, h: 1 - h**2):
    """Gradients of mean(loss) given dz = d loss_i / d prediction_i, already divided by n.

    ``tanh_derivative(z, h)`` is the tanh's derivative from the pre-activation z and the activation h;
    another one than 1 - h**2 gives the gradients of that mistake, for grading to recognise it.
    """
    z = X @ W1.T + b1
    h = torch.tanh(z)
    dh = torch.outer(dz, w2) * tanh_derivative(z, h)
    return {"W1": dh.T @ X, "b1": dh.sum(0), "w2": h.T @ dz, "b2": dz.sum().reshape(1)}


def mlp_grads(X, y, W1, b1, w2, b2):
    return backprop(X, W1, b1, w2, 2 * (mlp_forward(X, W1, b1, w2, b2) - y) / X.shape[0])


def classifier_grads(X, y, W1, b1, w2, b2):
    return backprop(X, W1, b1, w2, (torch.sigmoid(mlp_forward(X, W1, b1, w2, b2)) - y) / X.shape[0])


def tanh_vjp(x, grad_output):
    return grad_output * (1 - torch.tanh(x) ** 2)


def leaf_init(d_in, d_hidden, seed=0):
    """What ``torch.manual_seed(seed)`` then two ``randn`` give, drawn from a generator of its own:
    the grader never touches torch's global generator, which other threads of a batch share."""
    generator = torch.Generator().manual_seed(seed)
    W1 = 0.01 * torch.randn(d_in, d_hidden, generator=generator)
    W2 = 0.01 * torch.randn(d_hidden, 1, generator=generator)
    return [W1, torch.zeros(d_hidden), W2, torch.zeros(1)]


def stable_bce(logits, y):
    return F.binary_cross_entropy_with_logits(logits, y)


def softmax(x):
    return torch.softmax(x, dim=0)


def softmax_jacobian(x):
    s = softmax(x)
    return torch.diag(s) - torch.outer(s, s)


def linear_map(A):
    """x -> A x: the function whose Jacobian is A."""
    return lambda x: A @ x


def squash(x):
    """A function whose Jacobian is neither diagonal nor constant: each output mixes its neighbours."""
    return torch.tanh(x) * torch.roll(x, 1) + x.sum()


class SimpleNN(torch.nn.Module):
    def __init__(self, n_features=784, hidden=32, device=None, dtype=None):
        super().__init__()
        self.fc1 = torch.nn.Linear(n_features, hidden, device=device, dtype=dtype)
        self.fc2 = torch.nn.Linear(hidden, 2, device=device, dtype=dtype)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def fresh_state(n_features: int, hidden: int, generator: torch.Generator) -> dict:
    """The weights of a new ``SimpleNN(n_features, hidden)``, drawn as ``torch.nn.Linear`` draws them
    (uniform in +-1/sqrt(fan_in)), from ``generator`` instead of torch's global one."""
    def uniform(fan_in, *shape):
        return (2 * torch.rand(*shape, generator=generator) - 1) / fan_in**0.5

    return {"fc1.weight": uniform(n_features, hidden, n_features), "fc1.bias": uniform(n_features, hidden),
            "fc2.weight": uniform(hidden, 2, hidden), "fc2.bias": uniform(hidden, 2)}


def network_from(state: dict) -> SimpleNN:
    """A SimpleNN holding copies of the given ``fc1``/``fc2`` weights (their shapes decide its sizes).

    Built without initialising its layers, so that no random number is drawn."""
    hidden, n_features = state["fc1.weight"].shape
    model = torch.nn.utils.skip_init(SimpleNN, n_features, hidden, dtype=state["fc1.weight"].dtype)
    model.load_state_dict(state)
    return model


def accuracy(logits, y) -> float:
    return float((logits.argmax(1) == y.long()).to(torch.float64).mean())


def train_model(model, X_train, y_train, X_val, y_val, alpha=0.01, n_steps=1000, log_every=10,
                clear_gradients=True, log_before_update=False):
    """The four steps, with metrics under no_grad right after each logged update.

    ``clear_gradients=False`` and ``log_before_update`` make two usual mistakes, so that grading can
    recognise them: gradients accumulated across the steps, metrics logged before the update.
    """
    loss_fn = torch.nn.CrossEntropyLoss()
    metrics = {"iterations": [], "train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}

    def log(step):
        with torch.no_grad():
            metrics["iterations"].append(step)
            for split, X, y in (("train", X_train, y_train), ("val", X_val, y_val)):
                logits = model(X)
                metrics[f"{split}_loss"].append(float(loss_fn(logits, y.long())))
                metrics[f"{split}_acc"].append(accuracy(logits, y))

    for step in range(n_steps):
        loss = loss_fn(model(X_train), y_train.long())
        loss.backward()
        if log_before_update and step % log_every == 0:
            log(step)
        with torch.no_grad():
            for p in model.parameters():
                p -= alpha * p.grad
                if clear_gradients:
                    p.grad = None
        if not log_before_update and step % log_every == 0:
            log(step)
    return metrics
