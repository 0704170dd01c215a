"""The child process: a notebook's kernel, driven one step at a time by the parent.

Started by :mod:`autograder.sandbox.runner` in the job folder's ``work/`` with three arguments: the
file descriptor it reads commands from, the one it writes events to (:mod:`.protocol` lists both),
and its settings as JSON (the job folder, the seed, torch's threads, the uid to become, the layers of
:mod:`.layers` to put on, both before anything else).

- Once torch and IPython are imported, and before any notebook code runs: ``{"ready": true}``.
- ``{"cell": k}``: run code cell k of ``cells.json`` through IPython, as a Jupyter kernel does
  (magics, ``!``, ``?``, ``display``; an error ends the cell, not the kernel), then ``{"ran": k}``.
- ``{"call": i}``: in a fork of this process, which holds the notebook's state as its cells left it,
  work in ``call-<i>/``: read the request there, write the answer beside it as plain data (see
  :mod:`.codec`), then ``{"answered": i}``, and exit. The kernel waits for the next command.

Nothing here decides whether an answer is right: this process runs student code and is not trusted,
and every clock is the parent's.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import random
import sys
import types

from autograder.sandbox import layers


def main() -> None:
    commands = os.fdopen(int(sys.argv[1]), "rb")
    events = int(sys.argv[2])
    plan = json.loads(sys.argv[3])
    job = plan["job"]
    if plan["uid"] is not None:
        _drop_privileges(plan["uid"])
    try:
        layers.apply(plan["layers"], job)
    except OSError as e:  # detection found the layer working: never go on without it
        print(f"the sandbox's {', '.join(plan['layers'])} could not be put on: {e}", file=sys.stderr)
        os._exit(4)
    with open(os.path.join(job, "cells.json")) as f:
        cells = json.load(f)

    import numpy as np
    import torch

    from autograder.sandbox import probes

    torch.set_num_threads(plan["threads"])
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    _seed_everything(plan["seed"], torch, np)
    sys.modules["otter"] = _silent_otter()
    probes.install_backward_counter()
    shell = _shell()

    _emit(events, ready=True)
    for line in iter(commands.readline, b""):
        command = json.loads(line)
        _reap()
        if "cell" in command:
            shell.compile.cell = command["cell"] + 1
            shell.run_cell(cells[command["cell"]], store_history=True)
            _flush()  # here, or every fork would print what is still buffered again
            _emit(events, ran=command["cell"])
        elif "call" in command:
            _flush()
            if os.fork() == 0:
                _answer(command["call"], shell.user_ns, job, events, torch, np, probes)
    os._exit(0)


def _answer(index: int, namespace: dict, job: str, events: int, torch, np, probes) -> None:
    """In the fork: answer request ``index``, then leave without running anything the notebook registered."""
    import tempfile

    from autograder.sandbox import codec

    try:
        folder = os.path.join(job, f"call-{index}")
        os.chdir(folder)  # whatever %cd the notebook did; its data folder is linked there
        tempfile.tempdir = folder
        with open("request.json") as f:
            request = json.load(f)
        tensors = codec.load_tensors("inputs.safetensors") if os.path.exists("inputs.safetensors") else {}
        _seed_everything(request["seed"], torch, np)
        _reset_torch(torch)
        reply = probes.answer(namespace, request, tensors)
        codec.write(reply, os.path.join(folder, "answer.json"), os.path.join(folder, "answer.safetensors"))
        _flush()
        _emit(events, answered=index)
    finally:
        os._exit(0)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a stream the notebook replaced or closed
            pass


def _emit(fd: int, **event) -> None:
    os.write(fd, (json.dumps(event) + "\n").encode())


def _reap() -> None:
    """Collect the forks that have exited (the parent has read what it needs of them by now)."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def _shell():
    """An IPython shell as a Jupyter kernel has one: the notebook's own machinery, without a terminal or a
    history file; figures are closed after each cell, as the inline backend does."""
    from IPython.core.compilerop import CachingCompiler
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets import Type
    from traitlets.config import Config

    class CellNames(CachingCompiler):
        """Code compiled from a cell is named ``<cell N>`` (N counted from 1), for tracebacks to say where."""

        cell = 0

        def get_code_name(self, raw_code, transformed_code, number):
            return f"<cell {self.cell}>"

    class Kernel(InteractiveShell):
        compiler_class = Type(CellNames)

        def enable_gui(self, gui=None):  # %matplotlib inline needs no event loop
            pass

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.colors = "nocolor"
    shell = Kernel.instance(config=config)
    shell.events.register("post_run_cell", _close_figures)
    return shell


def _close_figures(result) -> None:
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


def _drop_privileges(uid: int) -> None:
    """Become ``uid`` for good, before anything else is imported or read; never go on as root."""
    from autograder.sandbox.isolation import SANDBOX_GID

    try:
        os.setgroups([SANDBOX_GID])
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
