"""What the parent watches while a child runs: its processes, their CPU time and memory, its folder,
all read from /proc.

A job's processes are the descendants of the process the parent started and, when the child runs
under a uid of its own, every process of that uid (a process that started a new session and was
re-parented is still found that way).
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Process:
    pid: int
    parent: int
    state: str  # R, S, D, T, Z, ...: Z has exited and waits to be collected
    cpu_seconds: float  # its own and that of the children it has waited for
    threads: int
    exit_code: int  # for a process in state Z, its status as waitpid reports it

    @property
    def exited(self) -> bool:
        return self.state in ("Z", "X")


def process(pid: int | str, task: int | str | None = None) -> Process | None:
    """What /proc says of a process (or of one of its threads), or None when it is gone."""
    path = f"/proc/{pid}/task/{task}/stat" if task is not None else f"/proc/{pid}/stat"
    try:
        with open(path, "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return Process(int(pid), int(fields[1]), fields[0].decode(), ticks / TICK, int(fields[17]), int(fields[49]))


def runnable(pid: int) -> bool:
    """Whether one of the process's threads is running or ready to run (state R), as opposed to sleeping or blocked."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    return any((thread := process(pid, task)) is not None and thread.state == "R" for task in tasks)


def _owner(pid: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def _all() -> dict[int, Process]:
    return {int(name): p for name in os.listdir("/proc") if name.isdigit() and (p := process(name)) is not None}


# Where the kernel lists each thread's children, a job's processes are found without reading every process's stat.
CHILDREN_LISTED = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")


def _listed_children(pid: int) -> list[int]:
    """The children of every thread of ``pid``, from /proc/<pid>/task/<tid>/children."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as f:
                found += map(int, f.read().split())
        except OSError:
            continue
    return found


def _children_by_parent() -> dict[int, list[int]]:
    """Every process's children, from every process's parent (it reads the stat of every process on the machine)."""
    children: dict[int, list[int]] = {}
    for pid, p in _all().items():
        children.setdefault(p.parent, []).append(pid)
    return children


def _tree(root: int, children_of) -> set[int]:
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += children_of(pid)
    return found


def job_processes(root: int, uid: int | None) -> dict[int, Process]:
    """Every process of the job, by pid."""
    if CHILDREN_LISTED:
        pids = _tree(root, _listed_children)
    else:
        children = _children_by_parent()
        pids = _tree(root, lambda pid: children.get(pid, []))
    if uid is not None:
        pids |= {int(name) for name in os.listdir("/proc") if name.isdigit() and _owner(name) == uid}
    return {pid: p for pid in pids if (p := process(pid)) is not None}


def resident_bytes(pids) -> int:
    """Anonymous and shared memory the processes hold (a fork's pages still shared with its parent count twice)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", "rb") as f:
                for line in f:
                    if line.startswith((b"RssAnon:", b"RssShmem:")):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def proportional_bytes(pids) -> int:
    """The processes' memory with every page shared among them counted once (slower to read)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith((b"Pss_Anon:", b"Pss_Shmem:")):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def children(parent: int) -> list[int]:
    return [pid for pid, p in _all().items() if p.parent == parent]


def uids_in_use() -> set[int]:
    return {uid for name in os.listdir("/proc") if name.isdigit() and (uid := _owner(name)) is not None}


def tasks_of_uid(uid: int) -> int:
    """Processes and threads of ``uid`` (what RLIMIT_NPROC counts)."""
    return sum(p.threads for pid, p in _all().items() if _owner(str(pid)) == uid)


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


def kill(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def kill_job(root: int, uid: int | None) -> None:
    """SIGKILL the job's process group, every descendant, and, under a uid of its own, everything of that uid."""
    try:
        os.killpg(root, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    kill(job_processes(root, None))
    if uid is not None:  # kill(-1) from that uid reaches all its processes in one pass, forks included
        subprocess.run(["kill", "-s", "KILL", "--", "-1"], user=uid, group=uid, extra_groups=[], env={}, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
