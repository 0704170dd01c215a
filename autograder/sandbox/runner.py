"""The parent side of the sandbox: start the child, watch the clock, restart after a crash.

A notebook's cells run once per child. When a cell hangs or ends the process, the child is
killed and started again without that cell, so code defined elsewhere keeps its credit. When a
graded call hangs or ends the process, that call (and the rest of its group, one question) is
recorded as such and a new child answers the remaining requests.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from autograder.sandbox import codec, isolation, watchdog


@dataclass(frozen=True)
class Limits:
    startup_seconds: float = 60.0
    cell_seconds: float = 60.0
    notebook_seconds: float = 300.0
    call_seconds: float = 20.0
    max_starts: int = 4
    threads: int = 1  # the child's torch threads: fixed, so that no result depends on the machine's cores
    log_bytes: int = 1024 * 1024  # captured output kept per run of the notebook (the end of it)
    memory_mib: int = 4096  # resident memory of all the job's processes together
    processes: int = 256  # processes and threads
    disk_mib: int = 1024  # the job folder
    disk_entries: int = 20_000


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


@dataclass
class Execution:
    replies: list[Reply]
    notes: list[str]
    log: str
    starts: int
    isolation: str
    cpu_seconds: float = 0.0  # of the notebook's processes, all starts together (sampled: a lower bound)


def run(cells: list[str], requests: list[Request], limits: Limits, data_dir: str | None = None,
        level: isolation.Isolation | None = None) -> Execution:
    """Answer ``requests`` from a notebook's ``cells``, isolated as strongly as this machine allows (or at ``level``)."""
    level = level or isolation.detect()
    replies: dict[int, Reply] = {}
    skipped_cells: set[int] = set()
    notes: list[str] = []
    log = ""
    starts = 0
    cpu = 0.0
    while starts < limits.max_starts:
        pending = [i for i in range(len(requests)) if i not in replies]
        starts += 1
        uid = isolation.new_uid() if level.drops_uid else None
        with tempfile.TemporaryDirectory(prefix="grading-job-") as job:
            _prepare_job(job, cells, [(i, requests[i]) for i in pending], skipped_cells, limits, data_dir, uid)
            outcome, log = _watch(job, requests, limits, level, uid)
            cpu += outcome.cpu_seconds
            for i in outcome.done:  # read only now: every process of the job is dead
                replies[i] = _read_reply(job, i)
        if outcome.kind == "finished":
            break
        if outcome.cell is not None:
            skipped_cells.add(outcome.cell)
            notes.append(f"{_cell_label(cells, outcome.cell)} {outcome.describe()}; it was skipped and the notebook run again")
        elif outcome.request is not None:
            bad = requests[outcome.request]
            replies[outcome.request] = Reply(outcome.status, error=outcome.describe())
            for i in range(len(requests)):
                if i not in replies and requests[i].group == bad.group:
                    replies[i] = Reply("skipped", error=f"not run: an earlier call of {bad.group} {outcome.describe()}")
        else:
            notes.append(f"the notebook {outcome.describe()} before its cells could run")
            break
    for i in range(len(requests)):
        replies.setdefault(i, Reply("skipped", error="not run: the notebook could not be run to this point"))
    return Execution([replies[i] for i in range(len(requests))], notes, log, starts,
                     level.describe(limits.processes, limits.memory_mib), cpu)


def _cell_label(cells: list[str], index: int) -> str:
    first = next((line.strip() for line in cells[index].splitlines() if line.strip()), "")
    return f"code cell {index + 1} ({first[:60]!r})"


@dataclass
class _Outcome:
    kind: str  # finished | timeout | crashed | memory | processes | disk
    done: list[int]
    cell: int | None = None
    request: int | None = None
    seconds: float = 0.0
    returncode: int | None = None
    limit: int = 0
    cpu_seconds: float = 0.0

    @property
    def status(self) -> str:
        return "timeout" if self.kind == "timeout" else "crashed"

    def describe(self) -> str:
        if self.kind == "timeout":
            return f"timed out after {self.seconds:.0f} s"
        if self.kind == "memory":
            return f"went over the memory limit of {self.limit} MiB and was stopped"
        if self.kind == "processes":
            return f"started more than {self.limit} processes and was stopped"
        if self.kind == "disk":
            return f"wrote more than the disk limit of {self.limit} MiB (or too many files) and was stopped"
        return f"ended the process ({_exit_status(self.returncode)})"


def _exit_status(returncode: int | None) -> str:
    """Killed by a signal shows as -N from Python, as 128 + N through bubblewrap."""
    number = -returncode if returncode is not None and returncode < 0 else (returncode or 0) - 128
    try:
        return f"killed by {signal.Signals(number).name}"
    except ValueError:
        return f"exit status {returncode}"


def _prepare_job(job, cells, pending, skipped_cells, limits, data_dir, uid) -> None:
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
    _dump(os.path.join(job, "plan.json"),
          {"skip_cells": sorted(skipped_cells), "seed": 0, "threads": limits.threads, "uid": uid})
    os.makedirs(os.path.join(job, "tmp"))
    if data_dir:
        shutil.copytree(data_dir, os.path.join(job, "data"))
    if uid is not None:  # the child drops to ``uid`` before any notebook code: the job folder becomes its own
        for folder, _, names in os.walk(job):
            for path in [folder, *(os.path.join(folder, n) for n in names)]:
                os.chown(path, uid, uid)


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


def _watch(job: str, requests: list[Request], limits: Limits, level, uid) -> tuple[_Outcome, str]:
    """Run the child until it finishes or breaks a limit; kill all its processes; return the outcome and its output."""
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)
    env = _child_env(job, limits.threads)
    argv = isolation.command(level, job, [*isolation.python("from autograder.sandbox.child import main; main()"), str(write_end)], env)
    proc = subprocess.Popen(
        argv, cwd=job, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, pass_fds=(write_end,), start_new_session=True,
        preexec_fn=isolation.rlimits(isolation.process_limit(level, limits.processes)),
    )
    os.close(write_end)
    output = _Output(proc.stdout.fileno(), limits.log_bytes)
    try:
        outcome = _follow(proc, read_end, output, requests, limits, job, uid)
        if outcome.kind == "finished":  # let it exit by itself: its CPU time then counts in the grader's children
            _wait(proc, 5.0)
    finally:
        watchdog.kill_job(proc.pid, uid)
        proc.wait()
        output.drain()
        proc.stdout.close()
        os.close(read_end)
    return outcome, output.text()


class _Output:
    """The child's stdout and stderr: read as it comes (a full pipe would stall the child), only the end kept."""

    def __init__(self, fd: int, keep: int):
        self.fd, self.keep, self.data, self.dropped = fd, keep, bytearray(), 0
        os.set_blocking(fd, False)

    def read(self) -> None:
        try:
            chunk = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return
        self.data += chunk
        if len(self.data) > self.keep:
            extra = len(self.data) - self.keep
            del self.data[:extra]
            self.dropped += extra

    def drain(self) -> None:
        """What is left in the pipe once the job's processes are dead (a bounded amount)."""
        for _ in range(64):
            before = len(self.data) + self.dropped
            self.read()
            if len(self.data) + self.dropped == before:
                return

    def text(self) -> str:
        note = f"[output capped: the first {self.dropped} bytes were left out]\n" if self.dropped else ""
        return note + self.data.decode("utf-8", "replace")


WATCH_SECONDS = 0.25


def _follow(proc, read_end, output, requests, limits, job, uid) -> _Outcome:
    """Read the child's events until it finishes, dies, overruns the time limit of what it is doing,
    or uses more memory or disk than allowed."""
    started = phase_start = time.monotonic()
    phase, cell, request, done = "startup", None, None, []
    buffer = b""
    next_watch = started
    meter = _Meter(proc.pid, uid)
    while True:
        now = time.monotonic()
        if phase == "cell":
            deadline = min(phase_start + limits.cell_seconds, started + limits.notebook_seconds)
        elif phase == "call":
            deadline = phase_start + (requests[request].seconds or limits.call_seconds)
        else:
            deadline = phase_start + limits.startup_seconds
        where = (cell if phase == "cell" else None, request if phase == "call" else None)
        if now >= deadline:
            return _Outcome("timeout", done, *where, seconds=now - phase_start, cpu_seconds=meter.cpu_seconds)
        if now >= next_watch:
            next_watch = now + WATCH_SECONDS
            if broken := _over_limit(meter.sample(), job, limits):
                return _Outcome(broken[0], done, *where, limit=broken[1], cpu_seconds=meter.cpu_seconds)
            # Gone, though a process it left behind may hold the event pipe open; its last events are read first.
            if proc.poll() is not None and not select.select([read_end], [], [], 0)[0]:
                return _Outcome("crashed", done, *where, returncode=proc.returncode, cpu_seconds=meter.cpu_seconds)
        ready, _, _ = select.select([read_end, output.fd], [], [], max(0.0, min(deadline, next_watch) - now))
        if output.fd in ready:
            output.read()
        if read_end not in ready:
            continue
        chunk = os.read(read_end, 65536)
        if not chunk:
            return _Outcome("crashed", done, *where, returncode=_wait(proc), cpu_seconds=meter.cpu_seconds)
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
                meter.sample()
                return _Outcome("finished", done, cpu_seconds=meter.cpu_seconds)


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


class _Meter:
    """The job's processes at each look, and the CPU time they have used (the most seen for each)."""

    def __init__(self, root: int, uid: int | None):
        self.root, self.uid, self.cpu = root, uid, {}

    def sample(self) -> dict[int, watchdog.Usage]:
        processes = watchdog.job_processes(self.root, self.uid)
        for pid, usage in processes.items():
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), usage.cpu_seconds)
        return processes

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


def _over_limit(processes: dict[int, watchdog.Usage], job: str, limits: Limits) -> tuple[str, int] | None:
    if sum(u.resident_bytes for u in processes.values()) > limits.memory_mib << 20:
        return "memory", limits.memory_mib
    if len(processes) > limits.processes:  # rlimits stop this first, except where the child runs as root
        return "processes", limits.processes
    size, entries = watchdog.folder_bytes(job, limits.disk_entries)
    if size > limits.disk_mib << 20 or entries >= limits.disk_entries:
        return "disk", limits.disk_mib
    return None


def _wait(proc, seconds: float = 5.0) -> int | None:
    """The exit status of a child whose event pipe closed (it may still be on its way out)."""
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


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
