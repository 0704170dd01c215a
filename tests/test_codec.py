"""The plain-data boundary: what the child writes comes back as data, and nothing else gets through."""

import json
import struct

import pytest
import torch

from autograder.sandbox import codec


def roundtrip(tmp_path, value):
    codec.write(value, str(tmp_path / "v.json"), str(tmp_path / "v.safetensors"))
    return codec.read(str(tmp_path / "v.json"), str(tmp_path / "v.safetensors"))


def test_nested_values_come_back_equal(tmp_path):
    w = torch.randn(3, 2, dtype=torch.float64)
    value = {"w": w, "pair": (1, 2.5), "items": [None, "text", True], "inf": float("inf")}
    back, infos = roundtrip(tmp_path, value)
    assert torch.equal(back["w"], w) and back["w"].dtype == torch.float64
    assert back["pair"] == (1, 2.5) and back["items"] == [None, "text", True]
    assert back["inf"] == float("inf")


def test_tensor_flags_travel_beside_the_values(tmp_path):
    leaf = torch.ones(2, requires_grad=True)
    back, infos = roundtrip(tmp_path, (leaf, leaf * 2))
    assert infos[id(back[0])].requires_grad and infos[id(back[0])].is_leaf
    assert not infos[id(back[1])].is_leaf
    assert not back[0].requires_grad  # the parent's copy is plain data


def test_objects_become_a_named_unsupported_marker(tmp_path):
    back, _ = roundtrip(tmp_path, {"f": print, "o": object()})
    assert isinstance(back["f"], codec.Unsupported) and back["o"].what == "object"


def safetensors_bytes(header: dict, payload: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + payload


@pytest.mark.parametrize("header, payload, reason", [
    ({"t0": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8, "size"),
    ({"t0": {"dtype": "F32", "shape": [10**9], "data_offsets": [0, 16]}}, b"\0" * 16, "shape"),
    ({"t0": {"dtype": "OBJECT", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8, "dtype"),
    ({"t0": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8 + b"extra", "size"),
])
def test_a_forged_tensor_file_is_refused_before_loading(header, payload, reason):
    with pytest.raises(codec.DecodeError, match=reason):
        codec.check_safetensors_header(safetensors_bytes(header, payload))


def test_oversized_json_is_refused(tmp_path):
    (tmp_path / "v.json").write_text('"' + "x" * (codec.MAX_JSON_BYTES + 10) + '"')
    with pytest.raises(codec.DecodeError, match="larger"):
        codec.read(str(tmp_path / "v.json"), str(tmp_path / "none.safetensors"))


def test_a_link_in_place_of_an_answer_is_not_followed(tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text('"hidden"')
    (tmp_path / "v.json").symlink_to(secret)
    with pytest.raises(OSError):
        codec.read(str(tmp_path / "v.json"), str(tmp_path / "none.safetensors"))


def test_a_pipe_in_place_of_an_answer_is_refused_without_waiting(tmp_path):
    import os

    os.mkfifo(tmp_path / "v.json")
    with pytest.raises(codec.DecodeError, match="not a regular file"):
        codec.read(str(tmp_path / "v.json"), str(tmp_path / "none.safetensors"))


@pytest.mark.parametrize("content", [b"", b"{", b"[" * 100_000 + b"]" * 100_000, b'{"value": NaN'])
def test_an_answer_that_is_not_json_is_refused_not_raised(tmp_path, content):
    (tmp_path / "answer.json").write_bytes(content)
    with pytest.raises(codec.DecodeError):
        codec.read(str(tmp_path / "answer.json"), str(tmp_path / "answer.safetensors"))


def test_a_grader_function_reaches_the_child_and_a_function_from_the_child_is_refused(tmp_path):
    """The grader's functions go to the child as source, which the child builds; the grader never builds one from
    what the child wrote (it would run the child's code in the grading process)."""
    from autograder.homeworks.hw1 import reference
    from autograder.sandbox import probes

    tensors: dict = {}
    doc = codec.encode({"f": codec.GraderFunction.of(reference.polynomial, [1.0, 0.0, 2.0])}, tensors)
    built = codec.decode(json.loads(json.dumps(doc)), tensors, {}, 0, probes.build_function)
    assert torch.equal(built["f"](torch.tensor([1.0, 2.0])), torch.tensor([3.0, 9.0]))
    (tmp_path / "a.json").write_text(json.dumps({"function": {"source": "import os\ndef f(): pass\nos.system('touch x')", "name": "f", "args": {"tuple": []}}}))
    with pytest.raises(codec.DecodeError):
        codec.read(str(tmp_path / "a.json"), str(tmp_path / "a.safetensors"))
