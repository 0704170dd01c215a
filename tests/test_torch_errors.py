"""The explanations feedback adds to PyTorch's errors: each entry's words are in the message the pinned torch
raises for its pitfall, so an explanation cannot silently stop matching when torch rewords a message."""

import pytest
import torch

from autograder.judging.torch_errors import ERROR_CAUSES, NO_CUDA, error_hint


def leaf_updated_in_place():
    w = torch.ones(3, requires_grad=True)
    w -= 0.1 * torch.ones(3)


def backward_of_a_vector():
    x = torch.ones(3, requires_grad=True)
    (x * 2).backward()


def saved_tensor_changed():
    x = torch.ones(3, requires_grad=True)
    s = torch.sigmoid(x)
    s += 1
    s.sum().backward()


def graph_cut():
    x = torch.ones(3, requires_grad=True)
    x.detach().sum().backward()


def rebound_parameter():
    w = torch.ones(3, requires_grad=True)
    (w * 2).sum().backward()
    w = w - 0.1 * w.grad
    (w * 2).sum().backward()
    w - 0.1 * w.grad


def second_backward():
    x = torch.ones(3, requires_grad=True)
    y = torch.sigmoid(x).sum()
    y.backward()
    y.backward()


def wrong_matrix_product():
    torch.ones(4, 3) @ torch.ones(4, 2)


PITFALLS = {
    "a leaf Variable that requires grad is being used in an in-place operation": leaf_updated_in_place,
    "grad can be implicitly created only for scalar outputs": backward_of_a_vector,
    "modified by an inplace operation": saved_tensor_changed,
    "does not require grad and does not have a grad_fn": graph_cut,
    "'NoneType'": rebound_parameter,
    "Trying to backward through the graph a second time": second_backward,
    "cannot be multiplied": wrong_matrix_product,
}


def raised(pitfall) -> str:
    with pytest.raises(Exception) as caught:
        pitfall()
    return f"{type(caught.value).__name__}: {caught.value}"


def test_every_explanation_but_the_missing_cuda_ones_has_its_pitfall():
    assert sorted(PITFALLS) == sorted(words for words, cause in ERROR_CAUSES if cause != NO_CUDA)


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")  # the rebound parameter's
@pytest.mark.parametrize("words", PITFALLS)
def test_the_pitfall_raises_the_words_and_gets_its_explanation(words):
    message = raised(PITFALLS[words])
    assert words in message
    assert error_hint(message) == f"; {dict(ERROR_CAUSES)[words]}"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_a_tensor_put_on_a_missing_gpu_is_explained():
    # a CUDA build without a driver and a CPU-only build word it differently; the pinned torch is one of them
    assert error_hint(raised(lambda: torch.zeros(1, device="cuda"))) == f"; {NO_CUDA}"


def test_an_unknown_error_gets_no_explanation():
    assert error_hint("ValueError: something else") == ""
