"""Timing a command the way the benchmarks report it: wall seconds, and CPU seconds of it and all it waited for."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(command: list[str], cwd: str = ROOT, env: dict | None = None) -> tuple[float, float]:
    """(wall, cpu) seconds of ``command``; cpu is user + system time of the process and every descendant reaped."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def grade_command(assignment: str, paths: list[str], out: str, jobs: int = 1) -> list[str]:
    return [sys.executable, "-m", "autograder", "grade", "--assignment", assignment, *paths, "-o", out, "-j", str(jobs), "--force"]
