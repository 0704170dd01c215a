"""What PyTorch's error messages mean in this course: the explanation feedback adds to an error a notebook raised.

Each entry pairs words of PyTorch's own message with the pitfall of the lecture behind it, so that a student
reading "raised RuntimeError: ..." also reads what to change. tests/test_torch_errors.py raises each pitfall with the
pinned torch and finds its words in the message.
"""

from __future__ import annotations

NO_CUDA = ("CUDA is not available on the grader: keep tensors on the CPU, or choose the device with "
           "torch.device('cuda' if torch.cuda.is_available() else 'cpu')")
ERROR_CAUSES = (
    ("a leaf Variable that requires grad is being used in an in-place operation",
     "an in-place update of a parameter outside torch.no_grad(): wrap the update in `with torch.no_grad():`"),
    ("grad can be implicitly created only for scalar outputs",
     "backward() on a non-scalar needs a gradient argument (y.backward(torch.ones_like(y))) or a scalar (y.sum())"),
    ("modified by an inplace operation",
     "a tensor autograd saved for the backward pass was changed in place (like s += 1 after s = sigmoid(x)): "
     "make a new tensor (s = s + 1)"),
    ("does not require grad and does not have a grad_fn",
     "the graph is cut between the input and the loss (a .detach(), torch.no_grad(), or a tensor without requires_grad)"),
    ("'NoneType'",
     "a .grad is None: no backward reached it, or the parameter was rebound (w = w - alpha * w.grad) into a new "
     "tensor that is not a leaf, whose .grad autograd never fills; update in place under torch.no_grad()"),
    ("Trying to backward through the graph a second time",
     "the graph was freed by the first backward: run the forward pass again before each backward"),
    ("cannot be multiplied", "the shapes of a matrix product do not fit: check which operand needs a .T"),
    ("NVIDIA driver", NO_CUDA),
    ("not compiled with CUDA", NO_CUDA),
)


def error_hint(error: str) -> str:
    """"; <what it means>" for an error message of a known pitfall, else ""."""
    return next((f"; {cause}" for words, cause in ERROR_CAUSES if words in error), "")
