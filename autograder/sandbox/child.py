"""The child process: runs a notebook's code cells, then answers the parent's requests.

Started by :mod:`autograder.sandbox.runner` in a fresh job folder holding ``cells.json``,
``requests.json``, ``inputs.safetensors`` and ``plan.json``. It reports progress as JSON lines
on the file descriptor named by its argument and writes each answer to ``out/`` as plain data (see :mod:`.codec`).
Nothing here decides whether an answer is right: this process runs student code and is not trusted.
"""

from __future__ import annotations

import builtins
import importlib.machinery
import json
import os
import random
import sys
import traceback
import types

from autograder.sandbox import codec, probes


def main() -> None:
    events = os.fdopen(int(sys.argv[1]), "w", buffering=1)

    def emit(**event):
        events.write(json.dumps(event) + "\n")

    with open("plan.json") as f:
        plan = json.load(f)
    with open("cells.json") as f:
        cells = json.load(f)
    with open("requests.json") as f:
        requests = json.load(f)

    import numpy as np
    import torch

    torch.set_num_threads(plan["threads"])
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    _seed_everything(plan["seed"], torch, np)
    sys.modules["otter"] = _silent_otter()
    probes.install_backward_counter()
    if plan["uid"] is not None:
        _drop_privileges(plan["uid"])

    namespace = {"__name__": "__main__", "__builtins__": builtins}
    skip = set(plan["skip_cells"])
    for index, source in enumerate(cells):
        if index in skip:
            continue
        emit(cell=index)
        try:
            exec(compile(without_magics(source), f"<cell {index}>", "exec"), namespace)
        except BaseException:  # a failing cell is the student's; later cells still run, as in Jupyter
            traceback.print_exc()
    emit(cells_done=True)

    tensors = codec.load_tensors("inputs.safetensors") if os.path.exists("inputs.safetensors") else {}
    os.makedirs("out", exist_ok=True)
    for request in requests:
        emit(call=request["id"])
        _seed_everything(request["seed"], torch, np)
        _reset_torch(torch)
        reply = probes.answer(namespace, request, tensors)
        base = os.path.join("out", request["index"])
        codec.write(reply, base + ".json", base + ".safetensors")
        emit(done=request["id"])
    sys.stdout.flush()
    sys.stderr.flush()
    emit(finished=True)  # the parent kills every process of the job on this event
    events.close()
    os._exit(0)  # leave no chance to student atexit handlers or threads


def without_magics(source: str) -> str:
    """IPython's line magics and shell escapes become ``pass``; a cell magic's first line is dropped."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        lines = lines[1:]
    out = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass"
        out.append(line)
    return "\n".join(out)


def _drop_privileges(uid: int) -> None:
    """Become ``uid`` for good, before any notebook code runs; never go on as root."""
    try:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    except OSError:
        os._exit(3)
    if os.getuid() != uid or os.geteuid() != uid:
        os._exit(3)


def _seed_everything(seed: int, torch, np) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _reset_torch(torch) -> None:
    """Undo what a notebook may have switched globally (grad mode, default dtype or device) before each call."""
    torch.set_grad_enabled(True)
    torch.set_default_dtype(torch.float32)
    torch.set_default_device("cpu")


def _silent_otter() -> types.ModuleType:
    """A stand-in for otter: the notebook's public checks teach, they do not grade, so they are skipped."""

    class Notebook:
        def __init__(self, *args, **kwargs):
            pass

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    module = types.ModuleType("otter")
    module.__spec__ = importlib.machinery.ModuleSpec("otter", None)
    module.Notebook = Notebook
    return module


if __name__ == "__main__":
    main()
