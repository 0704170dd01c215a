"""The network that q7 and q10 hand to the notebook's function, built in the notebook's process from weights the
grader drew. It goes to the child as source (:class:`~autograder.sandbox.codec.GraderFunction`): it imports torch
alone and holds nothing of the reference's answers."""

import torch


def network(state: dict):
    """A two-layer tanh network (``fc1``, ``fc2``) holding the given weights, built by the grader, not by the student."""

    class Network(torch.nn.Module):
        def __init__(self):
            super().__init__()
            (hidden, n_features), outputs = state["fc1.weight"].shape, state["fc2.weight"].shape[0]
            self.fc1 = torch.nn.Linear(n_features, hidden, dtype=state["fc1.weight"].dtype)
            self.fc2 = torch.nn.Linear(hidden, outputs, dtype=state["fc1.weight"].dtype)

        def forward(self, x):
            return self.fc2(torch.tanh(self.fc1(x)))

    model = Network()
    model.load_state_dict(state)
    return model
