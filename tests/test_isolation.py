"""Isolation levels, detected here and each exercised: what holds at each, and what each result says.

The strongest level this machine allows is used by default (bubblewrap once ``make setup`` has
installed it); the process-group fallback, which a TA's laptop may get, runs the same checks that
apply to it. A separate uid needs Python readable by other users, which this machine may not give.
"""

import os
import random
import shutil

import pytest

from autograder.sandbox import isolation
from autograder.sandbox.protocol import Limits, Request
from autograder.sandbox.runner import run

LIMITS = Limits(cell_seconds=20, notebook_seconds=60, call_seconds=10, memory_mib=1024, processes=64)
LEVELS = sorted({isolation.detect(), isolation.detect("separate uid"), isolation.detect("process group")},
                key=lambda level: isolation.LEVELS.index(level.level))
STRONG = [level for level in LEVELS if level.level != "process group"]


def answer_after(cell: str, level, limits=LIMITS):
    """Run ``cell``, then a cell defining ``x``; the reply for ``x`` shows that grading went on."""
    return run([cell, "x = 42"], [Request("value", "x")], limits, level=level)


def test_the_strongest_level_that_works_is_chosen_and_a_weaker_one_says_why():
    level = isolation.detect()
    if shutil.which("bwrap") and os.geteuid() == 0:
        assert level.level == "bubblewrap" and level.drops_uid
    if level.level != "bubblewrap":
        assert "bubblewrap unavailable" in level.why
    weakest = isolation.detect("process group")
    described = weakest.describe(64, 1024)
    assert "setsid escapes" in described and "memory 1024 MiB" in described and "64 processes" in described


def test_every_result_names_its_level():
    ex = answer_after("pass", isolation.detect())
    assert ex.isolation == isolation.detect().describe(LIMITS.processes, LIMITS.memory_mib)


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.level)
def test_a_memory_bomb_is_stopped_and_the_next_cell_still_runs(level):
    ex = answer_after("blocks = []\nwhile True:\n    blocks.append(bytearray(b'1' * 50_000_000))", level)
    assert ex.replies[0].value == 42
    assert any("memory limit of 1024 MiB" in note for note in ex.notes), ex.notes


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.level)
def test_output_is_capped_with_a_note(level):
    ex = answer_after("import sys\nfor _ in range(500):\n    sys.stdout.write('y' * 100_000 + '\\n')", level)
    assert ex.replies[0].value == 42
    assert ex.log.startswith("[output capped: the first ") and len(ex.log) < LIMITS.log_bytes + 200


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.level)
def test_the_grader_environment_is_not_passed_on(level, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "s3cr3t-token")
    ex = run(["import os\nenv = dict(os.environ)"], [Request("value", "env")], LIMITS, level=level)
    assert "GRADER_SECRET" not in ex.replies[0].value and ex.replies[0].value["HOME"].startswith(os.path.realpath("/tmp"))


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.level)
def test_a_segfault_is_named_by_its_signal(level):
    ex = answer_after("import ctypes\nctypes.string_at(0)", level)
    assert ex.replies[0].value == 42
    assert any("killed by SIGSEGV" in note for note in ex.notes), ex.notes


@pytest.mark.parametrize("level", STRONG, ids=lambda level: level.level)
def test_a_fork_bomb_is_contained(level):
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    ex = answer_after(bomb, level)
    assert ex.replies[0].value == 42
    assert any("processes" in note or "memory limit" in note or "timed out" in note for note in ex.notes), ex.notes


@pytest.mark.parametrize("level", STRONG, ids=lambda level: level.level)
def test_a_daemon_that_leaves_the_session_does_not_outlive_grading(level):
    marker = f"{random.randrange(10**6, 10**7)}.5"
    daemon = ("import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
              f"        os.execv('/bin/sleep', ['sleep', '{marker}'])\n    os._exit(0)")
    ex = answer_after(daemon, level)
    assert ex.replies[0].value == 42
    alive = [pid for pid in os.listdir("/proc") if pid.isdigit() and marker.encode() in _cmdline(pid)]
    assert alive == []


def _cmdline(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


@pytest.mark.parametrize("level", STRONG, ids=lambda level: level.level)
def test_the_child_cannot_signal_or_read_the_grader(level):
    probe = f"""
import os, signal
seen = {{}}
try:
    os.kill({os.getpid()}, signal.SIGTERM)
    seen["kill"] = "sent"
except OSError as e:
    seen["kill"] = type(e).__name__
try:
    open("/proc/{os.getpid()}/environ", "rb").read()
    seen["environ"] = "read"
except OSError as e:
    seen["environ"] = type(e).__name__
try:
    open({os.path.join(isolation.PACKAGE, "homeworks", "__init__.py")!r}).read()
    seen["grader"] = "read"
except OSError as e:
    seen["grader"] = type(e).__name__
"""
    ex = run([probe], [Request("value", "seen")], LIMITS, level=level)
    seen = ex.replies[0].value
    assert seen["kill"] != "sent" and seen["environ"] != "read" and seen["grader"] != "read", seen


@pytest.mark.skipif(isolation.detect().level != "bubblewrap", reason="bubblewrap is not available here")
def test_bubblewrap_gives_no_network_and_a_read_only_system():
    probe = """
import os, socket
seen = {}
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2)
    seen["network"] = "connected"
except OSError as e:
    seen["network"] = type(e).__name__
try:
    open("/usr/planted", "w")
    seen["write"] = "written"
except OSError as e:
    seen["write"] = type(e).__name__
seen["processes"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
"""
    ex = run([probe], [Request("value", "seen")], LIMITS)
    seen = ex.replies[0].value
    assert seen["network"] != "connected" and seen["write"] != "written", seen
    assert max(seen["processes"]) < 10, "a private pid space shows only the sandbox's processes"
