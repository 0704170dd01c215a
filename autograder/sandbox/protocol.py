"""The sandbox's boundary: what grading asks of a notebook, what comes back, and the limits it runs under.

Grading hands :func:`autograder.sandbox.runner.run` the notebook's code cells and a list of
:class:`Request` s; it gets one :class:`Reply` per request, whatever the notebook did.

Between the parent and the child, one step at a time (the parent starts each step's clock when it
sends the command; the child's events can end a step, never extend one):

    child -> parent   {"ready": true}        imported, no notebook code run yet
    parent -> child   {"cell": k}            run code cell k
    child -> parent   {"ran": k}
    parent -> child   {"call": i}            answer request i (its inputs are in the job's call-<i>/)
    child -> parent   {"answered": i}        its answer is beside them, in answer.json (and answer.safetensors)

An event longer than :data:`MAX_EVENT_BYTES`, one that is not JSON, or one the current step does not
expect ends the child as a protocol violation, charged to that step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

# What became of a request; the last four mean that there is no value.
STATUSES = ("ok", "error", "missing", "timeout", "crashed", "skipped")
MAX_EVENT_BYTES = 4096


@dataclass(frozen=True)
class Limits:
    """Time limits are CPU seconds of the processes doing the step. Code that sleeps or waits uses no CPU, so a
    step also stops after ``wall_factor`` times its limit spent waiting (none of its processes runnable), and,
    whatever it does, after ``ceiling_factor`` times its limit of wall-clock time."""

    startup_seconds: float = 60.0
    cell_seconds: float = 60.0
    notebook_seconds: float = 300.0  # the notebook's cells together, each counted once however often it restarts
    call_seconds: float = 20.0
    wall_factor: float = 4.0
    ceiling_factor: float = 20.0
    threads: int = 1  # the child's torch threads: fixed, so that no result depends on the machine's cores
    log_bytes: int = 1024 * 1024  # captured output kept per notebook (the end of it)
    memory_mib: int = 4096  # resident memory of all the job's processes together
    processes: int = 256  # processes and threads
    disk_mib: int = 1024  # the job folder
    disk_entries: int = 20_000

    # The options that set limits: ``grade``'s --timeout, --call-timeout and --memory, the otter plugin's options.
    OPTIONS = ("timeout", "call_timeout", "memory")

    @classmethod
    def of(cls, timeout: float = notebook_seconds, call_timeout: float = call_seconds, memory: int = memory_mib) -> "Limits":
        """The limits that :attr:`OPTIONS` set: the cells share ``timeout``, one cell gets a fifth of it."""
        return cls(notebook_seconds=timeout, cell_seconds=timeout / 5, call_seconds=call_timeout, memory_mib=memory)


@dataclass
class Request:
    """Something the child must do with a notebook name; ``group`` ties the calls of one question."""

    probe: str
    target: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    group: str = ""
    seed: int = 0
    cost: float = 1.0  # its CPU limit, in units of ``Limits.call_seconds`` (a training call takes several)
    options: dict = field(default_factory=dict)  # how the call's world is changed (see probes.answer)

    def document(self) -> tuple[dict, dict]:
        """What the child reads: the request as plain data (``request.json``) and its tensors (``inputs.safetensors``)."""
        from autograder.sandbox import codec

        tensors: dict = {}
        doc = {"probe": self.probe, "target": self.target, "seed": self.seed,
               **{part: codec.encode(value, tensors) for part, value in
                  (("options", dict(self.options)), ("args", tuple(self.args)), ("kwargs", dict(self.kwargs)))}}
        return doc, tensors


@dataclass
class Reply:
    status: str  # one of STATUSES
    value: object = None
    observed: dict = field(default_factory=dict)
    infos: dict = field(default_factory=dict)
    error: str = ""


class Violation(Exception):
    """The child broke the protocol; the message says how."""


EXPECTED = {"startup": "ready", "cell": "ran", "call": "answered"}


def check_event(line: bytes, step: str, number: int | None) -> None:
    """Accept ``line`` as the event that ends ``step`` (with its cell or request ``number``), or raise Violation."""
    try:
        event = json.loads(line)
    except ValueError:
        raise Violation(f"the child wrote {line[:40]!r}, which is not an event") from None
    want = EXPECTED[step]
    if not (isinstance(event, dict) and list(event) == [want]):
        raise Violation(f"the child wrote {line[:60]!r} where {want!r} was expected")
    if step != "startup" and (type(event[want]) is not int or event[want] != number):
        raise Violation(f"the child said {want} {event[want]!r} during {step} {number}")


class Events:
    """The child's event pipe, read without blocking into a buffer that never holds more than one event."""

    def __init__(self, fd: int):
        self.fd, self.pending = fd, bytearray()

    def discard(self) -> None:
        """Drop whatever arrived outside a step (a process of an earlier step may have written it)."""
        import os

        for _ in range(1024):
            try:
                if not os.read(self.fd, 1 << 16):
                    break
            except BlockingIOError:
                break
        self.pending = bytearray()

    def lines(self) -> list[bytes]:
        """The whole lines that have arrived; ``[b""]`` once the pipe is closed."""
        import os

        try:
            chunk = os.read(self.fd, MAX_EVENT_BYTES)
        except BlockingIOError:
            return []
        if not chunk:
            return [b""]
        self.pending += chunk
        *lines, rest = self.pending.split(b"\n")
        if len(rest) > MAX_EVENT_BYTES or any(len(line) > MAX_EVENT_BYTES for line in lines):
            raise Violation(f"the child wrote more than {MAX_EVENT_BYTES} bytes without ending a line")
        self.pending = bytearray(rest)
        return [bytes(line) for line in lines]
