"""Plain-data encoding of values crossing the process boundary.

Values are nested lists, tuples, dicts with string keys, numbers, strings, None and tensors.
Everything but the tensors becomes JSON; tensors go to one safetensors file and are named in
the JSON by key. Decoding never executes anything: the JSON is parsed, and the safetensors
header is checked (size, dtype, shape, offsets) before any tensor is loaded.

One more kind of value goes from the grader to the child only: a :class:`GraderFunction`, the
source of a function of the grader's, which the child builds when it decodes a request (its
``build`` argument). The grader decodes what the child wrote without one, so a function there is
refused as malformed.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import stat
import struct
import sys
from dataclasses import dataclass

MAX_JSON_BYTES = 1_000_000
MAX_TENSOR_FILE_BYTES = 256 * 1024 * 1024
MAX_HEADER_BYTES = 1_000_000
MAX_STRING = 10_000
MAX_ITEMS = 100_000
MAX_DEPTH = 16

_DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


class DecodeError(ValueError):
    """What the child wrote is not valid plain data."""


@dataclass(frozen=True)
class GraderFunction:
    """A function of the grader's for the child to call: ``source`` is a module that defines ``name``; with
    ``args``, ``name`` is a factory and the function is ``name(*args)``."""

    source: str
    name: str
    args: tuple = ()

    @classmethod
    def of(cls, function, *args) -> "GraderFunction":
        """``function``, sent with the whole source of its module (which must import nothing the child lacks)."""
        return cls(inspect.getsource(sys.modules[function.__module__]), function.__name__, args)


def encode(value, tensors: dict, depth: int = 0):
    """Return a JSON-ready form of ``value``; tensors are stored into ``tensors`` by key."""
    import torch

    if depth > MAX_DEPTH:
        return {"unsupported": "nesting too deep"}
    if value is None or isinstance(value, (bool, int, str)):
        if isinstance(value, str):
            return value[:MAX_STRING]
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            return {"float": float(value)}
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if hasattr(value, "__array__") and not isinstance(value, torch.Tensor):
        try:
            value = torch.as_tensor(value)
        except Exception:
            return {"unsupported": type(value).__name__}
    if isinstance(value, torch.Tensor):
        key = f"t{len(tensors)}"
        meta = {"tensor": key, "requires_grad": bool(value.requires_grad),
                "is_leaf": bool(value.is_leaf), "device": value.device.type}
        tensors[key] = value.detach().to("cpu").contiguous().clone()
        return meta
    if isinstance(value, GraderFunction):
        return {"function": {"source": value.source, "name": value.name, "args": encode(value.args, tensors, depth + 1)}}
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [encode(v, tensors, depth + 1) for v in list(value)[:MAX_ITEMS]]}
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ITEMS]
        if all(isinstance(k, str) for k, _ in items):
            return {"dict": {k: encode(v, tensors, depth + 1) for k, v in items}}
        return {"unsupported": "dict with non-string keys"}
    return {"unsupported": type(value).__name__}


def write(value, json_path: str, tensor_path: str) -> None:
    """Encode ``value`` to ``json_path`` (and its tensors to ``tensor_path``)."""
    from safetensors.torch import save_file

    tensors: dict = {}
    doc = encode(value, tensors)
    if tensors:
        save_file(tensors, tensor_path)
    with open(json_path, "w") as f:
        json.dump(doc, f)


class Unsupported:
    """A value the child could not express as plain data (its type name is kept)."""

    def __init__(self, what: str):
        self.what = what

    def __repr__(self):
        return f"<unsupported {self.what}>"


class TensorInfo:
    """How a returned tensor stood in the child: its flags next to the loaded values."""

    def __init__(self, requires_grad: bool, is_leaf: bool, device: str):
        self.requires_grad, self.is_leaf, self.device = requires_grad, is_leaf, device


def read(json_path: str, tensor_path: str):
    """Decode what :func:`write` wrote. Returns ``(value, infos)``; ``infos`` maps id(tensor) to TensorInfo."""
    data = _read_capped(json_path, MAX_JSON_BYTES)
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as e:  # what the child wrote is its own: any of it may be broken
        raise DecodeError(f"{os.path.basename(json_path)} is not valid JSON ({type(e).__name__})") from None
    tensors = load_tensors(tensor_path) if os.path.lexists(tensor_path) else {}
    infos: dict = {}
    return decode(doc, tensors, infos, 0), infos


def decode(doc, tensors, infos, depth, build=None):
    """The value ``doc`` encodes; a :class:`GraderFunction` becomes ``build(source, name, args)`` where ``build``
    is given (in the child), and is malformed elsewhere."""
    if depth > MAX_DEPTH + 1:
        raise DecodeError("nesting too deep")
    if doc is None or isinstance(doc, (bool, int, float, str)):
        return doc
    if not isinstance(doc, dict) or len(doc) == 0:
        raise DecodeError("malformed value")
    if "tensor" in doc:
        t = tensors.get(doc["tensor"])
        if t is None:
            raise DecodeError("a tensor is missing from the tensor file")
        infos[id(t)] = TensorInfo(bool(doc.get("requires_grad")), bool(doc.get("is_leaf")), str(doc.get("device")))
        return t
    if len(doc) != 1:
        raise DecodeError("malformed value")
    ((kind, body),) = doc.items()
    if kind == "float" and isinstance(body, str):
        return float(body)
    if kind in ("list", "tuple") and isinstance(body, list):
        items = [decode(v, tensors, infos, depth + 1, build) for v in body]
        return items if kind == "list" else tuple(items)
    if kind == "dict" and isinstance(body, dict):
        return {str(k): decode(v, tensors, infos, depth + 1, build) for k, v in body.items()}
    if kind == "function" and build is not None and isinstance(body, dict):
        return build(str(body["source"]), str(body["name"]), decode(body["args"], tensors, infos, depth + 1, build))
    if kind == "unsupported":
        return Unsupported(str(body))
    raise DecodeError("malformed value")


def _read_capped(path: str, cap: int) -> bytes:
    """Read at most ``cap`` bytes of a regular file, never following a link or waiting on a pipe."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DecodeError(f"{os.path.basename(path)} is not a regular file")
        data = f.read(cap + 1)
    if len(data) > cap:
        raise DecodeError(f"{os.path.basename(path)} is larger than {cap} bytes")
    return data


def check_safetensors_header(data: bytes) -> None:
    """Refuse a safetensors buffer whose header does not describe exactly its contents."""
    if len(data) < 8:
        raise DecodeError("tensor file too short")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES or 8 + n > len(data):
        raise DecodeError("tensor file header too large")
    try:
        header = json.loads(data[8:8 + n])
    except ValueError as e:
        raise DecodeError("tensor file header is not JSON") from e
    if not isinstance(header, dict):
        raise DecodeError("tensor file header is not an object")
    end = 0
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        try:
            dtype, shape, (start, stop) = entry["dtype"], entry["shape"], entry["data_offsets"]
        except (KeyError, TypeError, ValueError) as e:
            raise DecodeError(f"tensor {key!r}: malformed header entry") from e
        if dtype not in _DTYPE_SIZES:
            raise DecodeError(f"tensor {key!r}: dtype {dtype} not accepted")
        if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
            raise DecodeError(f"tensor {key!r}: malformed shape")
        if stop - start != math.prod(shape) * _DTYPE_SIZES[dtype] or start < 0:
            raise DecodeError(f"tensor {key!r}: size does not match its shape")
        end = max(end, stop)
    if 8 + n + end != len(data):
        raise DecodeError("tensor file size does not match its header")


def load_tensors(path: str) -> dict:
    """Load a safetensors file written by the child, after checking it."""
    from safetensors.torch import load

    data = _read_capped(path, MAX_TENSOR_FILE_BYTES)
    check_safetensors_header(data)
    try:
        return load(data)
    except Exception as e:  # safetensors' own refusal of what the header check let through
        raise DecodeError(f"tensor file refused ({e})") from None
