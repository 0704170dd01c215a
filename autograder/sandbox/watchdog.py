"""What the parent watches while a child runs: its processes, their memory, its folder, by reading /proc.

A job's processes are the descendants of the process the parent started and, when the child runs
under a uid of its own, every process of that uid (a process that started a new session and was
re-parented is still found that way).
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    resident_bytes: int
    cpu_seconds: float  # its own and that of the children it has waited for


def _stat(pid: str) -> tuple[int, Usage, int] | None:
    """(parent pid, usage, threads) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return int(fields[1]), Usage(int(fields[21]) * PAGE, ticks / TICK), int(fields[17])


def _owner(pid: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def job_processes(root: int, uid: int | None) -> dict[int, Usage]:
    """The usage of every process of the job, by pid."""
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (stat := _stat(name)) is not None:
            stats[int(name)] = stat
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in stats and pid not in found:
            found.add(pid)
            todo += children.get(pid, [])
    if uid is not None:
        found |= {pid for pid in stats if _owner(str(pid)) == uid}
    return {pid: stats[pid][1] for pid in found if pid in stats}


def children(parent: int) -> list[int]:
    return [int(name) for name in os.listdir("/proc")
            if name.isdigit() and (stat := _stat(name)) is not None and stat[0] == parent]


def uids_in_use() -> set[int]:
    return {uid for name in os.listdir("/proc") if name.isdigit() and (uid := _owner(name)) is not None}


def tasks_of_uid(uid: int) -> int:
    """Processes and threads of ``uid`` (what RLIMIT_NPROC counts)."""
    total = 0
    for name in os.listdir("/proc"):
        if name.isdigit() and _owner(name) == uid and (stat := _stat(name)) is not None:
            total += stat[2]
    return total


def folder_bytes(path: str, max_entries: int) -> tuple[int, int]:
    """(bytes, entries) under ``path``, counting at most ``max_entries`` entries."""
    total = entries = 0
    todo = [path]
    while todo and entries < max_entries:
        try:
            with os.scandir(todo.pop()) as it:
                for entry in it:
                    entries += 1
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            todo.append(entry.path)
                        else:
                            total += entry.stat(follow_symlinks=False).st_blocks * 512
                    except OSError:
                        pass
        except OSError:
            pass
    return total, entries


def kill_job(root: int, uid: int | None) -> None:
    """SIGKILL the job's process group, every descendant, and, under a uid of its own, everything of that uid."""
    try:
        os.killpg(root, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in job_processes(root, None):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if uid is not None:  # kill(-1) from that uid reaches all its processes in one pass, forks included
        subprocess.run(["kill", "-s", "KILL", "--", "-1"], user=uid, group=uid, extra_groups=[], env={}, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
