"""The parent side of the sandbox: start the child, watch the clock, restart after a crash.

A notebook's cells run once per child. When a cell hangs or ends the process, the child is
killed and started again without that cell, so code defined elsewhere keeps its credit. When a
graded call hangs or ends the process, that call (and the rest of its group, one question) is
recorded as such and a new child answers the remaining requests.
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from autograder.sandbox import codec


@dataclass(frozen=True)
class Limits:
    startup_seconds: float = 60.0
    cell_seconds: float = 60.0
    notebook_seconds: float = 300.0
    call_seconds: float = 20.0
    max_starts: int = 4
    threads: int = 1
    log_bytes: int = 64 * 1024


@dataclass
class Request:
    """Something the child must do with a notebook name; ``group`` ties the calls of one question."""

    probe: str
    target: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    group: str = ""
    seed: int = 0
    seconds: float | None = None


@dataclass
class Reply:
    status: str  # ok | error | missing | timeout | crashed | skipped
    value: object = None
    observed: dict = field(default_factory=dict)
    infos: dict = field(default_factory=dict)
    error: str = ""


ISOLATION = "child process in its own session: cleared environment, private temporary folder, time limits, process-group kill"


@dataclass
class Execution:
    replies: list[Reply]
    notes: list[str]
    log: str
    starts: int
    isolation: str = ISOLATION


def run(cells: list[str], requests: list[Request], limits: Limits, data_dir: str | None = None) -> Execution:
    replies: dict[int, Reply] = {}
    skipped_cells: set[int] = set()
    notes: list[str] = []
    log = ""
    starts = 0
    while starts < limits.max_starts:
        pending = [i for i in range(len(requests)) if i not in replies]
        starts += 1
        with tempfile.TemporaryDirectory(prefix="grading-job-") as job:
            _prepare_job(job, cells, [(i, requests[i]) for i in pending], skipped_cells, limits, data_dir)
            outcome = _watch(job, requests, limits)
            log = _tail(os.path.join(job, "output.log"), limits.log_bytes)
            for i in outcome.done:
                replies[i] = _read_reply(job, i)
        if outcome.kind == "finished":
            break
        if outcome.cell is not None:
            skipped_cells.add(outcome.cell)
            notes.append(f"{_cell_label(cells, outcome.cell)} {outcome.describe()}; it was skipped and the notebook run again")
        elif outcome.request is not None:
            bad = requests[outcome.request]
            replies[outcome.request] = Reply(outcome.kind, error=outcome.describe())
            for i in range(len(requests)):
                if i not in replies and requests[i].group == bad.group:
                    replies[i] = Reply("skipped", error=f"not run: an earlier call of {bad.group} {outcome.describe()}")
        else:
            notes.append(f"the notebook {outcome.describe()} before its cells could run")
            break
    for i in range(len(requests)):
        replies.setdefault(i, Reply("skipped", error="not run: the notebook could not be run to this point"))
    return Execution([replies[i] for i in range(len(requests))], notes, log, starts)


def _cell_label(cells: list[str], index: int) -> str:
    first = next((line.strip() for line in cells[index].splitlines() if line.strip()), "")
    return f"code cell {index + 1} ({first[:60]!r})"


@dataclass
class _Outcome:
    kind: str  # finished | timeout | crashed
    done: list[int]
    cell: int | None = None
    request: int | None = None
    seconds: float = 0.0
    returncode: int | None = None

    def describe(self) -> str:
        if self.kind == "timeout":
            return f"timed out after {self.seconds:.0f} s"
        return f"ended the process (exit status {self.returncode})"


def _prepare_job(job, cells, pending, skipped_cells, limits, data_dir) -> None:
    from safetensors.torch import save_file

    tensors: dict = {}
    docs = []
    for index, request in pending:
        docs.append({
            "id": index, "index": str(index), "probe": request.probe, "target": request.target,
            "args": codec.encode(tuple(request.args), tensors), "kwargs": codec.encode(dict(request.kwargs), tensors),
            "seed": request.seed,
        })
    if tensors:
        save_file(tensors, os.path.join(job, "inputs.safetensors"))
    _dump(os.path.join(job, "requests.json"), docs)
    _dump(os.path.join(job, "cells.json"), cells)
    _dump(os.path.join(job, "plan.json"), {"skip_cells": sorted(skipped_cells), "seed": 0, "threads": limits.threads})
    os.makedirs(os.path.join(job, "tmp"))
    if data_dir:
        shutil.copytree(data_dir, os.path.join(job, "data"))


def _dump(path, obj) -> None:
    with open(path, "w") as f:
        json.dump(obj, f)


def _child_env(job: str, threads: int) -> dict:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": job, "TMPDIR": os.path.join(job, "tmp"), "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
        "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
    }


def _limit_resources() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (512 * 1024 * 1024,) * 2)


def _watch(job: str, requests: list[Request], limits: Limits) -> _Outcome:
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)
    with open(os.path.join(job, "output.log"), "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "autograder.sandbox.child", str(write_end)],
            cwd=job, env=_child_env(job, limits.threads), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            pass_fds=(write_end,), start_new_session=True, preexec_fn=_limit_resources,
        )
    os.close(write_end)
    try:
        return _follow(proc, read_end, requests, limits)
    finally:
        _kill_tree(proc)
        os.close(read_end)


def _follow(proc, read_end, requests, limits) -> _Outcome:
    """Read the child's events until it finishes, dies or overruns the limit of what it is doing."""
    started = phase_start = time.monotonic()
    phase, cell, request, done = "startup", None, None, []
    buffer = b""
    while True:
        now = time.monotonic()
        if phase == "cell":
            deadline = min(phase_start + limits.cell_seconds, started + limits.notebook_seconds)
        elif phase == "call":
            deadline = phase_start + (requests[request].seconds or limits.call_seconds)
        else:
            deadline = phase_start + limits.startup_seconds
        if now >= deadline:
            return _Outcome("timeout", done, cell if phase == "cell" else None,
                            request if phase == "call" else None, now - phase_start)
        ready, _, _ = select.select([read_end], [], [], deadline - now)
        if not ready:
            continue
        chunk = os.read(read_end, 65536)
        if not chunk:
            return _Outcome("crashed", done, cell if phase == "cell" else None,
                            request if phase == "call" else None, returncode=proc.wait())
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            event = _parse_event(line, len(requests))
            if "cell" in event:
                phase, cell, phase_start = "cell", int(event["cell"]), time.monotonic()
            elif "cells_done" in event:
                phase, phase_start = "startup", time.monotonic()  # loading the inputs
            elif "call" in event:
                phase, request, phase_start = "call", int(event["call"]), time.monotonic()
            elif "done" in event:
                done.append(int(event["done"]))
                phase, phase_start = "startup", time.monotonic()
            elif "finished" in event:
                proc.wait()
                return _Outcome("finished", done)


def _parse_event(line: bytes, n_requests: int) -> dict:
    """An event from the child, or {} for anything malformed (student code can write to the pipe too)."""
    try:
        event = json.loads(line)
    except ValueError:
        return {}
    if not isinstance(event, dict) or len(event) != 1:
        return {}
    ((key, value),) = event.items()
    if key in ("cells_done", "finished"):
        return event
    if key in ("cell", "call", "done") and type(value) is int and value >= 0:
        return event if key == "cell" or value < n_requests else {}
    return {}


def _kill_tree(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _read_reply(job: str, index: int) -> Reply:
    base = os.path.join(job, "out", str(index))
    try:
        doc, infos = codec.read(base + ".json", base + ".safetensors")
    except (OSError, codec.DecodeError) as e:
        return Reply("crashed", error=f"its answer could not be read back ({e})")
    if not isinstance(doc, dict):
        return Reply("crashed", error="its answer could not be read back")
    if "error" in doc:
        return Reply("missing" if doc.get("missing") else "error", error=str(doc["error"]))
    observed = doc.get("observed")
    return Reply("ok", value=doc.get("value"), observed=observed if isinstance(observed, dict) else {}, infos=infos)


def _tail(path: str, n: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - n))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return (f"[first {size - n} bytes of output left out]\n" if size > n else "") + text
