"""The parent side of the sandbox: start the child, hand it one step at a time, own every clock.

A notebook's code cells run once, in order, in one kernel (:mod:`.child`); each graded call then
runs in a fork of that kernel, so that whatever a call does (hang, crash, leave processes behind)
costs only that call and its question. A cell that hangs, ends the kernel or breaks the protocol is
skipped and the kernel started again without it; the cells before it run again, uncharged.

Time is CPU time of the processes doing the step, so that a loaded machine never makes a correct
notebook too slow. Code that sleeps or blocks uses none, so a second clock counts the time in which
none of the step's processes is runnable; a process that is runnable but starved of a processor is
still computing, so which clock stops a step does not depend on the machine's load. A wall-clock
ceiling, far above both, bounds a step whatever it does. A step's clocks start when the parent sends
its command, and nothing the child writes moves them.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from autograder.sandbox import codec, isolation, watchdog
from autograder.sandbox.protocol import Events, Limits, Reply, Request, Violation, check_event

WATCH_SECONDS = 0.25


@dataclass
class Execution:
    replies: list[Reply]
    notes: list[str]
    log: str
    starts: int
    isolation: str
    cpu_seconds: float = 0.0  # of the notebook's processes, all starts together (sampled: a lower bound)


def run(cells: list[str], requests: list[Request], limits: Limits, data: Callable[[str], None] | None = None,
        level: isolation.Isolation | None = None) -> Execution:
    """Answer ``requests`` from a notebook's ``cells``, isolated as strongly as this machine allows (or at ``level``)."""
    level = level or isolation.detect()
    uid = isolation.new_uid() if level.drops_uid else None
    notebook = _Notebook(cells, limits)
    replies: dict[int, Reply] = {}
    output = _Output(limits.log_bytes)
    starts, cpu = 0, 0.0
    retried: set[int] = set()
    with tempfile.TemporaryDirectory(prefix="grading-job-") as job:
        work = _prepare_job(job, cells, data, uid)
        while True:
            starts += 1
            kernel = _Kernel(job, work, limits, level, uid, output)
            try:
                started = kernel.step("startup", None, limits.startup_seconds)
                if started.kind != "done":
                    notebook.notes.append(f"the notebook {started.describe()} before its cells could run")
                    break
                if not notebook.run_cells(kernel):
                    continue  # a cell was skipped: run the notebook again without it
                if _answer(kernel, requests, replies, limits, job, retried):
                    break
                notebook.notes.append("a graded call ended the kernel; the notebook was run again for the calls after it")
            finally:
                cpu += kernel.close()
    for i in range(len(requests)):
        replies.setdefault(i, Reply("skipped", error="not run: the notebook could not be run to this point"))
    return Execution([replies[i] for i in range(len(requests))], notebook.notes, output.text(), starts,
                     level.describe(limits.processes, limits.memory_mib), cpu)


class _Notebook:
    """The cells' side of a run: which were skipped, and the CPU budget their first runs share."""

    def __init__(self, cells: list[str], limits: Limits):
        self.cells, self.limits = cells, limits
        self.skipped: set[int] = set()
        self.charged: set[int] = set()  # cells whose first run counted against the budget
        self.used = 0.0  # CPU seconds of those first runs
        self.waited = 0.0  # and the seconds they spent waiting
        self.notes: list[str] = []

    def run_cells(self, kernel: "_Kernel") -> bool:
        """Run every cell not skipped; False when one failed (it is then skipped, and noted)."""
        limits = self.limits
        for k in range(len(self.cells)):
            if k in self.skipped:
                continue
            first = k not in self.charged
            left = limits.notebook_seconds - self.used
            left_waiting = limits.wall_factor * limits.notebook_seconds - self.waited
            if first and min(left, left_waiting) <= 0:
                self._skip_rest(k, "cpu" if left <= 0 else "waiting")
                return True
            cpu_limit = min(limits.cell_seconds, left) if first else limits.cell_seconds
            wait_limit = min(limits.wall_factor * cpu_limit, left_waiting) if first else limits.wall_factor * cpu_limit
            outcome = kernel.step("cell", k, cpu_limit, wait_limit)
            if first:
                self.charged.add(k)
                self.used += outcome.cpu_seconds
                self.waited += outcome.waited
            if outcome.kind == "done":
                continue
            self.skipped.add(k)
            shortened = {"cpu": cpu_limit < limits.cell_seconds, "waiting": wait_limit < limits.wall_factor * cpu_limit}
            if first and outcome.kind == "timeout" and shortened.get(outcome.clock):
                self.notes.append(f"{self._label(k)} {outcome.describe()}, which used up the notebook's time "
                                  f"({self._budget(outcome.clock)} for all its cells)")
                self._skip_rest(k + 1, outcome.clock)
            else:
                self.notes.append(f"{self._label(k)} {outcome.describe()}; it was skipped and the notebook run again")
            return False
        return True

    def _skip_rest(self, start: int, clock: str) -> None:
        rest = [k for k in range(start, len(self.cells)) if k not in self.skipped]
        if rest:
            self.skipped.update(rest)
            self.notes.append(f"code cells {rest[0] + 1} to {len(self.cells)} were not run: the notebook's cells had "
                              f"used up their {self._budget(clock)}")

    def _budget(self, clock: str) -> str:
        limits = self.limits
        if clock == "cpu":
            return f"{limits.notebook_seconds:g} s of CPU"
        return f"{limits.wall_factor * limits.notebook_seconds:g} s of waiting"

    def _label(self, index: int) -> str:
        first = next((line.strip() for line in self.cells[index].splitlines() if line.strip()), "")
        return f"code cell {index + 1} ({first[:60]!r})"


def _answer(kernel: "_Kernel", requests: list[Request], replies: dict[int, Reply], limits: Limits, job: str,
            retried: set[int]) -> bool:
    """Answer the requests still without a reply, each in a fork of ``kernel``; False if the kernel died. A call
    that finds the kernel already gone is asked again of the next start, once (``retried``)."""
    failed: dict[str, str] = {}  # group -> what went wrong in it
    for i, request in enumerate(requests):
        if i in replies:
            continue
        if request.group in failed:
            replies[i] = Reply("skipped", error=f"not run: an earlier call of {request.group} {failed[request.group]}")
            continue
        kernel.clear_strays()
        folder = _call_folder(job, i, request, kernel.uid)
        outcome = kernel.step("call", i, request.cost * limits.call_seconds)
        kernel.clear_strays()  # the fork, and whatever it left behind
        if outcome.kind == "gone" and i not in retried:  # not this call's doing, once: asked again of a new start
            retried.add(i)
            shutil.rmtree(folder, ignore_errors=True)
            return False
        if outcome.kind == "done":
            replies[i] = _read_reply(folder)
        else:
            replies[i] = Reply(outcome.status, error=outcome.describe())
            failed[request.group] = outcome.describe()
        shutil.rmtree(folder, ignore_errors=True)
        if not kernel.alive():
            return False
    return True


def _call_folder(job: str, index: int, request: Request, uid: int | None) -> str:
    """``call-<index>/``, the working folder of one graded call: its request and inputs, written only now
    (the notebook's cells never see them), and a link to the data; the fork writes its answer there.
    It sits in the parent's own folder, where the child can neither create nor replace an entry."""
    from safetensors.torch import save_file

    folder = os.path.join(job, f"call-{index}")
    os.mkdir(folder, 0o700)
    doc, tensors = request.document()
    if tensors:
        save_file(tensors, os.path.join(folder, "inputs.safetensors"))
    _dump(os.path.join(folder, "request.json"), doc)
    os.symlink(os.path.join("..", "work", "data"), os.path.join(folder, "data"))
    if uid is not None:
        _chown_tree(folder, uid)
    return folder


@dataclass
class _Outcome:
    kind: str  # done | timeout | crashed | memory | processes | disk | violation | gone (the kernel, before the step)
    seconds: float = 0.0  # wall time of the step
    cpu_seconds: float = 0.0
    waited: float = 0.0  # seconds in which none of the step's processes was runnable
    clock: str = "cpu"  # the limit a timeout reached: cpu, waiting or wall (the ceiling)
    returncode: int | None = None
    limit: float = 0.0
    why: str = ""

    @property
    def status(self) -> str:
        return "timeout" if self.kind == "timeout" else "crashed"

    def describe(self) -> str:
        if self.kind == "timeout":
            if self.clock == "cpu":
                return f"timed out after {self.limit:g} s of CPU time"
            if self.clock == "waiting":
                return f"timed out after {round(self.limit, 1):g} s of waiting (sleeping or blocked, not computing)"
            return f"timed out after {round(self.limit, 1):g} s of wall-clock time, too little of it computing"
        if self.kind == "memory":
            return f"went over the memory limit of {self.limit:g} MiB and was stopped"
        if self.kind == "processes":
            return f"started more than {self.limit:g} processes and was stopped"
        if self.kind == "disk":
            return f"wrote more than the disk limit of {self.limit:g} MiB (or too many files) and was stopped"
        if self.kind == "violation":
            return f"broke the grader's protocol ({self.why}) and was stopped"
        return f"ended the process ({_exit_status(self.returncode)})"


def _exit_status(returncode: int | None) -> str:
    """Killed by a signal shows as -N from Python, as 128 + N through bubblewrap."""
    number = -returncode if returncode is not None and returncode < 0 else (returncode or 0) - 128
    try:
        return f"killed by {signal.Signals(number).name}"
    except ValueError:
        return f"exit status {returncode}"


def _wait_status(status: int) -> int:
    """A waitpid status as Python's returncode (-N for signal N)."""
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


class _Kernel:
    """One start of the child: its processes, its two pipes and its output."""

    def __init__(self, job: str, work: str, limits: Limits, level: isolation.Isolation, uid: int | None, output: "_Output"):
        self.job, self.limits, self.uid, self.output = job, limits, uid, output
        command_read, self.commands = os.pipe()
        events_read, events_write = os.pipe()
        env = _child_env(work, limits.threads)
        settings = json.dumps({"job": job, "seed": 0, "threads": limits.threads, "uid": uid, "layers": list(level.layers)})
        argv = isolation.command(level, job, work, [*isolation.python("from autograder.sandbox.child import main; main()"),
                                                    str(command_read), str(events_write), settings], env)
        self.proc = subprocess.Popen(
            argv, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, pass_fds=(command_read, events_write), start_new_session=True,
            preexec_fn=isolation.rlimits(isolation.process_limit(level, limits.processes)),
        )
        os.close(command_read)
        os.close(events_write)
        os.set_blocking(events_read, False)
        self.events = Events(events_read)
        self.output.attach(self.proc.stdout.fileno())
        self.cpu: dict[int, float] = {}  # the most CPU time seen for each process of the job
        self.chain: set[int] = set()  # the kernel and the processes that started it (bubblewrap's)
        self.kernel: int | None = None
        self.main_cpu = 0.0
        self.next_watch = 0.0

    def step(self, step: str, number: int | None, cpu_limit: float, wait_limit: float | None = None) -> _Outcome:
        """Send the step's command (none for startup) and follow it until its event or a limit."""
        wait_limit = self.limits.wall_factor * cpu_limit if wait_limit is None else wait_limit
        ceiling = self.limits.ceiling_factor * cpu_limit
        # Processes already there are not the step's; a call's fork is told apart from the earlier ones still to be collected.
        before = set(self.cpu) | (set(watchdog.job_processes(self.proc.pid, self.uid)) if step == "call" else set())
        main_before = self._main_thread_cpu()
        if step != "startup":
            self.events.discard()
            try:
                os.write(self.commands, (json.dumps({step: number}) + "\n").encode())
            except BrokenPipeError:  # the kernel died after the step before had ended (its own stray, say)
                return _Outcome("gone", returncode=self._returncode())
        started = sampled = time.monotonic()
        waited = 0.0
        fork: int | None = None

        def outcome(kind, **more) -> _Outcome:
            return _Outcome(kind, seconds=time.monotonic() - started, cpu_seconds=spent(), waited=waited, **more)

        def charged(pid: int) -> bool:  # the processes whose CPU time is the step's (a cell's also the kernel's main thread)
            return step == "startup" or (pid not in before and pid not in self.chain)

        def spent() -> float:
            new = sum(cpu for pid, cpu in self.cpu.items() if charged(pid))
            return new + (self._main_thread_cpu() - main_before if step == "cell" else 0.0)

        while True:
            now = time.monotonic()
            if now >= self.next_watch:  # shared by the steps: a notebook of many short cells is not read from /proc for each
                self.next_watch = now + WATCH_SECONDS
                processes = self._sample()
                if not self._computing(step, [pid for pid, p in processes.items() if charged(pid) and not p.exited]):
                    waited += now - sampled
                sampled = now
                if broken := self._over_limit(processes):
                    return outcome(broken[0], limit=broken[1])
                if spent() > cpu_limit:
                    return outcome("timeout", limit=cpu_limit)
                if step == "call":
                    fork = fork or next((pid for pid, p in processes.items()
                                         if p.parent == self.kernel and pid not in before and pid not in self.chain), None)
                    gone = processes.get(fork) if fork else None
                    if fork and (gone is None or gone.exited) and not select.select([self.events.fd], [], [], 0)[0]:
                        return outcome("crashed", returncode=_wait_status(gone.exit_code) if gone else None)
                elif self.proc.poll() is not None and not select.select([self.events.fd], [], [], 0)[0]:
                    return outcome("crashed", returncode=self.proc.returncode)
                if waited >= wait_limit:
                    return outcome("timeout", clock="waiting", limit=wait_limit)
            if now - started >= ceiling:
                return outcome("timeout", clock="wall", limit=ceiling)
            ready, _, _ = select.select([self.events.fd, self.output.fd], [], [],
                                        max(0.0, min(self.next_watch, started + ceiling) - now))
            if self.output.fd in ready:
                self.output.read()
            if self.events.fd not in ready:
                continue
            try:
                for line in self.events.lines():
                    if line == b"":
                        return outcome("crashed", returncode=self._returncode())
                    check_event(line, step, number)
                    if step == "startup":
                        self._found_kernel()
                    if broken := self._over_folder_limit():  # as the step left it, however fast it was
                        return outcome(broken[0], limit=broken[1])
                    return outcome("done")
            except Violation as e:
                return outcome("violation", why=str(e))

    def clear_strays(self) -> None:
        """Stop every process of the job but the kernel (and bubblewrap's processes that hold it)."""
        for _ in range(16):
            strays = [pid for pid, p in watchdog.job_processes(self.proc.pid, self.uid).items()
                      if pid not in self.chain and not p.exited]
            if not strays:
                return
            watchdog.kill(strays)
            time.sleep(0.01)

    def alive(self) -> bool:
        kernel = watchdog.process(self.kernel) if self.kernel else None
        return kernel is not None and not kernel.exited and self.proc.poll() is None

    def close(self) -> float:
        """Kill every process of this start; return the CPU time they used."""
        self._sample()
        for _ in range(100):  # until none is left alive: the next start runs under the same uid
            watchdog.kill_job(self.proc.pid, self.uid)
            if not any(not p.exited for p in watchdog.job_processes(self.proc.pid, self.uid).values()):
                break
            time.sleep(0.02)
        self.proc.wait()
        self.output.drain()
        self.proc.stdout.close()
        os.close(self.commands)
        os.close(self.events.fd)
        return sum(self.cpu.values())

    def _found_kernel(self) -> None:
        """At ``ready`` no notebook code has run: the job's processes are the kernel and what started it."""
        processes = watchdog.job_processes(self.proc.pid, self.uid)
        self.chain = set(processes)
        parents = {p.parent for p in processes.values()}
        self.kernel = max(pid for pid in processes if pid not in parents)

    def _computing(self, step: str, pids: list[int]) -> bool:
        """Whether a thread whose CPU time the step is charged is runnable (running, or ready and waiting for a processor)."""
        if step == "cell" and self.kernel and (main := watchdog.process(self.kernel, self.kernel)) and main.state == "R":
            return True
        return any(watchdog.runnable(pid) for pid in pids)

    def _main_thread_cpu(self) -> float:
        """The most CPU time seen for the kernel's main thread: a kernel that is gone has cost what it had used."""
        thread = watchdog.process(self.kernel, self.kernel) if self.kernel else None
        if thread:
            self.main_cpu = max(self.main_cpu, thread.cpu_seconds)
        return self.main_cpu

    def _sample(self) -> dict[int, watchdog.Process]:
        processes = watchdog.job_processes(self.proc.pid, self.uid)
        for pid, p in processes.items():
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), p.cpu_seconds)
        return processes

    def _over_limit(self, processes: dict[int, watchdog.Process]) -> tuple[str, float] | None:
        limits = self.limits
        cap = limits.memory_mib << 20
        if watchdog.resident_bytes(processes) > cap and watchdog.proportional_bytes(processes) > cap:
            return "memory", limits.memory_mib
        if sum(not p.exited for p in processes.values()) > limits.processes:  # rlimits stop this first, except where the child runs as root
            return "processes", limits.processes
        return self._over_folder_limit()

    def _over_folder_limit(self) -> tuple[str, float] | None:
        size, entries = watchdog.folder_bytes(self.job, self.limits.disk_entries)
        if size > self.limits.disk_mib << 20 or entries >= self.limits.disk_entries:
            return "disk", self.limits.disk_mib
        return None

    def _returncode(self) -> int | None:
        """The exit status of a child whose event pipe closed (it may still be on its way out)."""
        try:
            return self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            return None


class _Output:
    """The child's stdout and stderr over all its starts: read as it comes (a full pipe would stall the
    child), only the end kept."""

    def __init__(self, keep: int):
        self.fd, self.keep, self.data, self.dropped = -1, keep, bytearray(), 0

    def attach(self, fd: int) -> None:
        self.fd = fd
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


def _prepare_job(job: str, cells: list[str], data: Callable[[str], None] | None, uid: int | None) -> str:
    """The job folder: the notebook's code (``cells.json``) and ``work/``, the folder its cells run in, holding
    ``data/``, filled by ``data`` (the homework's), and a temporary folder. The job
    folder itself is the parent's, and only ``work/`` and each call's folder are the child's. Returns ``work/``."""
    os.chmod(job, 0o711)
    _dump(os.path.join(job, "cells.json"), cells)
    os.chmod(os.path.join(job, "cells.json"), 0o644)
    work = os.path.join(job, "work")
    os.makedirs(os.path.join(work, "tmp"))
    if data:
        data(os.path.join(work, "data"))
    if uid is not None:  # the child drops to ``uid`` before any notebook code: its working folder becomes its own
        _chown_tree(work, uid)
    return work


def _chown_tree(top: str, uid: int) -> None:
    for folder, dirs, names in os.walk(top):
        for path in [folder, *(os.path.join(folder, n) for n in dirs + names)]:
            os.chown(path, uid, uid, follow_symlinks=False)


def _dump(path, obj) -> None:
    with open(path, "w") as f:
        json.dump(obj, f)


def _child_env(work: str, threads: int) -> dict:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work, "TMPDIR": os.path.join(work, "tmp"), "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
        # grading runs on the CPU wherever it runs, and pip fails at once instead of retrying a network that is not there
        "CUDA_VISIBLE_DEVICES": "", "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
    }


def _read_reply(folder: str) -> Reply:
    if not os.path.lexists(os.path.join(folder, "answer.json")):
        return Reply("crashed", error="said it had answered without writing an answer")
    try:
        doc, infos = codec.read(os.path.join(folder, "answer.json"), os.path.join(folder, "answer.safetensors"))
    except (OSError, codec.DecodeError) as e:
        return Reply("crashed", error=f"its answer could not be read back ({e})")
    if not isinstance(doc, dict):
        return Reply("crashed", error="its answer could not be read back")
    if "error" in doc:
        return Reply("missing" if doc.get("missing") else "error", error=str(doc["error"]))
    observed = doc.get("observed")
    return Reply("ok", value=doc.get("value"), observed=observed if isinstance(observed, dict) else {}, infos=infos)
