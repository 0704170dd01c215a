"""hw2's usual mistakes: for each, the answer it gives at the grader's inputs and what it means, for the feedback."""

from __future__ import annotations

import torch

from autograder.homeworks.hw2 import reference as ref

def forward(X, W1, b1, w2, b2) -> list:
    """q1: wrong forward passes of the network."""
    return [(ref.mlp_forward(X, W1, b1, w2, torch.zeros_like(b2)), "the output bias b2 is missing"),
            (ref.mlp_forward(X, W1, torch.zeros_like(b1), w2, b2), "the hidden bias b1 is missing"),
            ((X @ W1.T + b1) @ w2 + b2, "the tanh between the layers is missing")]


def backprop(X, y, W1, b1, w2, b2, classifier: bool) -> dict[str, list]:
    """q2 and q4: for each gradient, what the usual backprop mistakes give in its place (float64, the same inputs)."""
    n, p = X.shape[0], ref.mlp_forward(X, W1, b1, w2, b2)
    if classifier:
        s = torch.sigmoid(p)
        dz = (s - y) / n
        wrong_dz = [(s * (1 - s) / n, "it equals the gradient with the sigmoid's derivative s(1 - s) where the loss's "
                                      "derivative in z belongs: that is the sigmoid's derivative, not the loss's; differentiate "
                                      "the cross-entropy itself in z"),
                    ((s - y) * s * (1 - s) / n, "it equals the gradient of the squared error through the sigmoid: this "
                                                "loss is the cross-entropy; differentiate it in z, through the logarithms")]
    else:
        dz, wrong_dz = 2 * (p - y) / n, []
    wrong_tanh = [(lambda z, h: 1 - z**2, "tanh's derivative is written with the pre-activation z where the activation "
                                          "h = tanh(z) belongs"),
                  (lambda z, h: 1 - h, "tanh's derivative is missing a square: differentiate tanh again"),
                  (lambda z, h: torch.ones_like(h), "the tanh's derivative is missing from the chain rule")]
    variants = [(ref.backprop(X, W1, b1, w2, wrong), meaning) for wrong, meaning in wrong_dz]
    variants += [(ref.backprop(X, W1, b1, w2, dz, derivative), meaning) for derivative, meaning in wrong_tanh]
    right = ref.backprop(X, W1, b1, w2, dz)
    known = {key: [(grads[key], meaning) for grads, meaning in variants] for key in right}
    for key in ("b1", "b2"):
        known[key] += [(torch.zeros_like(right[key]), f"the gradient of {key} is all zeros: the bias gradient is missing"),
                       (right[key] / n, f"it is 1/n = 1/{n} of the expected value: a mean over the examples where the sum "
                                        f"belongs (the 1/n is already in dL/dprediction)")]
    return known


def tanh_backward(x, grad_output) -> list:
    """q3: wrong backward passes of tanh."""
    out = torch.tanh(x)
    return [(grad_output * (1 - x**2), "it uses the input x where the output belongs: the derivative written with the "
                                       "input instead of tanh(x) (save the output in forward and use it)"),
            (1 - out**2, "grad_output is not multiplied in: backward returns the gradient arriving at the output times "
                         "the local derivative"),
            (grad_output * (1 - out), "tanh's derivative is missing a square: differentiate tanh again")]


def training(state, data, settings):
    """q10: the trajectories of the usual training mistakes, each from a fresh copy of the network, one at a time."""
    for mistake, meaning in (({"clear_gradients": False}, "it follows gradients accumulated across the steps: clear them "
                                                          "after each update (p.grad = None, or model.zero_grad())"),
                             ({"log_before_update": True}, "it follows the metrics logged before the step's update: "
                                                           "compute them right after it")):
        model = ref.network_from(state)
        yield ref.train_model(model, *data, **settings, **mistake), meaning


def softmax_vjp(x, v) -> list:
    """q13: wrong vector-Jacobian products of softmax."""
    s = ref.softmax(x)
    return [(v * s * (1 - s), "it uses only the diagonal of the Jacobian, s_i (1 - s_i): every output of softmax depends "
                              "on every input, so the off-diagonal entries count too"),
            (s * v, "it is softmax times v: the derivative of the normalisation is missing")]
