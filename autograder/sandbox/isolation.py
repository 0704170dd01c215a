"""How strongly the child can be isolated on this machine: detected once, then used for every job.

Three levels, strongest first, each written into every result:

- ``bubblewrap``: new pid, network, ipc and uts namespaces; a root file system holding only
  the system folders and the Python installation, read-only, with the grader's own modules masked
  out; only the job folder is writable. When the grader runs as root, the child also drops to a
  uid of its own before any notebook code runs.
- ``separate uid`` (root without working bubblewrap, as in some containers): the child drops to a
  uid of its own before any notebook code runs; the grader's modules are made unreadable to others.
- ``process group`` (neither): a session of its own, rlimits, a cleared environment. A process
  that starts a new session escapes the final kill, and files readable by the grader's user are
  readable by the child: the level says so.

Every level adds the layers the child puts on itself (:mod:`.layers`), the parent's watchdog (CPU and
wall-clock time, resident memory, the job folder's size) and rlimits on file size, core dumps and the
number of processes.
"""

from __future__ import annotations

import functools
import json
import os
import random
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass

import autograder
from autograder.sandbox import watchdog

PACKAGE = os.path.dirname(os.path.abspath(autograder.__file__))
SANDBOX = os.path.join(PACKAGE, "sandbox")


FILE_BYTES = 256 * 1024 * 1024
TMP_BYTES = 64 * 1024 * 1024  # bubblewrap's /tmp is memory: bounded (the job's own temporary folder is on disk)
UID_RANGE = (200_000, 900_000)  # far above any account a distribution creates
SANDBOX_GID = 199_999  # the group of every sandboxed process: what only the sandbox may go through is opened to it


def python(statement: str) -> list[str]:
    """The command line of an isolated Python (no environment, no user site, no working folder on its path)
    that runs ``statement`` with this very package importable, however it was installed."""
    return [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {os.path.dirname(PACKAGE)!r}); {statement}"]


@dataclass(frozen=True)
class Isolation:
    level: str  # bubblewrap | separate uid | process group
    drops_uid: bool
    why: str = ""  # why a stronger level was not available
    layers: tuple[str, ...] = ()  # what the child puts on itself (see :mod:`.layers`)
    missing: str = ""  # why a layer could not be put on

    def describe(self, processes: int, memory_mib: int) -> str:
        levels = {
            "bubblewrap": "bubblewrap namespaces (no network, private pid space, read-only system, only the job folder writable, grader files absent)",
            "separate uid": "an unprivileged uid of its own (grader files unreadable, no signals to the grader)",
            "process group": "a process group of its own (no namespaces, same user as the grader: a process that calls setsid escapes the final kill)",
        }
        uid = ", unprivileged uid" if self.drops_uid and self.level == "bubblewrap" else ""
        layers = {"seccomp": "seccomp (no internet sockets)", "landlock": "Landlock (writes only in the job folder)"}
        added = "".join(f", {layers[name]}" for name in self.layers)
        limits = f"limits: memory {memory_mib} MiB, {processes} processes, files {FILE_BYTES >> 20} MiB, cleared environment"
        because = "; ".join(filter(None, [self.why, self.missing]))
        return f"{levels[self.level]}{uid}{added}; {limits}" + (f" [{because}]" if because else "")


LEVELS = ("bubblewrap", "separate uid", "process group")


@functools.cache
def detect(strongest: str = LEVELS[0]) -> Isolation:
    """The strongest level, from ``strongest`` down, that actually works here, and the layers the child can put
    on itself (each is tried, not assumed)."""
    layers, missing = _layers()
    root = os.geteuid() == 0
    reasons = []
    if strongest == "bubblewrap":
        problem = _bubblewrap_problem(root)
        if problem is None:
            return Isolation("bubblewrap", drops_uid=root, layers=layers, missing=missing)
        reasons.append(f"bubblewrap unavailable: {problem}")
    if strongest in ("bubblewrap", "separate uid"):
        problem = _uid_problem() if root else "the grader does not run as root"
        if problem is None:
            hide_grader_files()
            return Isolation("separate uid", drops_uid=True, why="; ".join(reasons), layers=layers, missing=missing)
        reasons.append(f"no separate uid: {problem}")
    return Isolation("process group", drops_uid=False, why="; ".join(reasons), layers=layers, missing=missing)


def _layers() -> tuple[tuple[str, ...], str]:
    """The layers a process can put on itself here, tried in one of its own, and why the others cannot."""
    statement = "import json; from autograder.sandbox import layers; print(json.dumps(layers.probe()))"
    try:
        done = subprocess.run(python(statement), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        found = json.loads(done.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        return (), f"no seccomp or Landlock: they could not be tried ({e})"
    missing = "; ".join(f"no {name}: {why}" for name, why in found.items() if why)
    return tuple(name for name, why in found.items() if not why), missing


def new_uid() -> int:
    """A uid no process uses now, for one job: its processes can then be counted and killed as a whole."""
    busy = watchdog.uids_in_use()
    while True:
        uid = random.SystemRandom().randrange(*UID_RANGE)
        if uid not in busy:
            return uid


def command(isolation: Isolation, job: str, cwd: str, argv: list[str], env: dict[str, str]) -> list[str]:
    """The command line that starts ``argv`` in ``cwd`` at this level; bubblewrap starts it with exactly ``env``
    and sees only the ``job`` folder writable."""
    if isolation.level != "bubblewrap":
        return argv
    settings = [arg for name, value in sorted(env.items()) for arg in ("--setenv", name, value)]
    return _bwrap_prefix(job, cwd, root=os.geteuid() == 0) + settings + ["--"] + argv


def rlimits(processes: int):
    """The preexec function: limits that hold whatever the level."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))

    return apply


def process_limit(isolation: Isolation, per_job: int) -> int:
    """RLIMIT_NPROC counts every task of the real uid: a fresh uid starts at zero, a shared one does not."""
    if isolation.drops_uid:
        return per_job
    return watchdog.tasks_of_uid(os.getuid()) + per_job


def _bwrap_prefix(job: str, cwd: str, root: bool) -> list[str]:
    args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--proc", "/proc", "--dev", "/dev", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"] if root else ["--unshare-user"]
    for top in ("usr", "bin", "lib", "lib32", "lib64", "sbin"):
        path = "/" + top
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    made: set[str] = set()
    for path in ("/etc/fonts", "/etc/ld.so.cache", "/etc/localtime"):
        if os.path.exists(path):
            args += _parents(path, made) + ["--ro-bind", path, path]
    for device in sorted(os.listdir("/dev")):
        if device.startswith("nvidia"):  # a CUDA child needs the driver's device files
            args += ["--dev-bind", "/dev/" + device, "/dev/" + device]
    python = _python_folders()
    for path in python:
        args += _parents(path, made) + ["--ro-bind", path, path]
    if _inside_any(PACKAGE, python):  # installed: hide everything of the package but the child's modules
        for name in sorted(os.listdir(PACKAGE)):
            path = os.path.join(PACKAGE, name)
            if name not in ("__init__.py", "sandbox"):
                args += ["--tmpfs", path] if os.path.isdir(path) else ["--ro-bind", "/dev/null", path]
    else:  # a source checkout: bring in only the child's modules
        init = os.path.join(PACKAGE, "__init__.py")
        args += _parents(PACKAGE + os.sep, made) + ["--ro-bind", init, init, "--ro-bind", SANDBOX, SANDBOX]
    args += _parents(job, made) + ["--bind", job, job, "--chdir", cwd, "--clearenv"]
    return args


def _python_folders() -> list[str]:
    """The interpreter's installation, its environment, site-packages and the folders ``.pth`` files add,
    without nesting; never the working folder, ``PYTHONPATH`` or the folder holding this package."""
    import site
    import sysconfig

    own = {os.path.realpath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
    own |= {os.path.dirname(PACKAGE), os.path.realpath(sys.path[0] or os.getcwd())}
    added = [p for p in sys.path[1:] if p and os.path.isdir(p) and os.path.realpath(p) not in own]
    candidates = {sys.prefix, sys.base_prefix, sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
                  sysconfig.get_paths()["platlib"], *site.getsitepackages(), os.path.dirname(os.path.realpath(sys.executable)),
                  *added}
    folders = sorted(os.path.realpath(p) for p in candidates if os.path.isdir(p))
    return [p for p in folders if not any(p != q and p.startswith(q + os.sep) for q in folders)]


def _inside_any(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f + os.sep) for f in folders)


def _parents(path: str, made: set[str]) -> list[str]:
    """Readable folders leading to ``path`` (bubblewrap would create them private to root)."""
    args = []
    parts = os.path.dirname(path).strip(os.sep).split(os.sep)
    for i in range(1, len(parts) + 1):
        folder = os.sep + os.sep.join(parts[:i])
        if folder not in made and folder not in ("/usr", "/tmp", "/proc", "/dev"):
            made.add(folder)
            args += ["--perms", "0755", "--dir", folder]
    return args


def _bubblewrap_problem(root: bool) -> str | None:
    """None when a bubblewrap sandbox starts Python and the child's modules here; else why not."""
    if shutil.which("bwrap") is None:
        return "bwrap is not installed"
    import tempfile

    with tempfile.TemporaryDirectory(prefix="grading-probe-") as job:
        argv = _bwrap_prefix(job, job, root) + ["--", *python("import autograder.sandbox.codec")]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"bwrap could not be run ({e})"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return "bwrap failed: " + (lines[-1] if lines else f"exit status {done.returncode}")
    return None


def _uid_problem() -> str | None:
    """None when an unprivileged uid (in the sandbox's group) can reach the Python installation; else why not."""
    for path in _closed_folders():
        return (f"{path} is closed to other users, so Python cannot run under another uid (in a container, the "
                f"otter plugin opens it to the sandbox's group alone)")
    return None


def _closed_folders() -> list[str]:
    """The folders above and of the Python installation that the sandbox's processes cannot go through."""
    closed = []
    for folder in _python_folders():
        path = folder
        while path != os.sep:
            mode = os.stat(path)
            if not (mode.st_mode & 0o001 or (mode.st_gid == SANDBOX_GID and mode.st_mode & 0o010)) and path not in closed:
                closed.append(path)
            path = os.path.dirname(path)
    return closed


def prepare_container(autograder_dir: str) -> None:
    """In Gradescope's or ``otter grade``'s container (root, Python under a closed ``/root``): let the sandbox's
    group, and it alone, go through the closed folders above Python (it may not list them, and reads no more than
    each file allows others), and close the autograder's ``source``, ``submission`` and ``results`` folders
    (the tests, the zip's files, what is handed in, the results) to everyone but root."""
    for path in _closed_folders():
        mode = os.stat(path).st_mode
        os.chown(path, -1, SANDBOX_GID)
        os.chmod(path, (mode & 0o7707) | 0o010)
    for name in ("source", "submission", "results"):
        path = os.path.join(autograder_dir, name)
        if os.path.isdir(path):
            os.chmod(path, 0o700)


def hide_grader_files() -> None:
    """Close the grader's modules (everything but the sandbox) to other users."""
    for name in os.listdir(PACKAGE):
        path = os.path.join(PACKAGE, name)
        if name not in ("__init__.py", "sandbox", "__pycache__"):
            os.chmod(path, os.stat(path).st_mode & 0o7770)
