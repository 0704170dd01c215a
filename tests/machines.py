"""The machines the grader meets, emulated here with bubblewrap so that every isolation level runs the corpora.

``gradescope(...)``: the container in which Gradescope (and ``otter grade``) runs the autograder zip:
- root with Docker's default capabilities, pids of its own, and a seccomp filter that refuses new namespaces
  as Docker's default profile does, so that bubblewrap fails inside just as it does there ("Creating new
  namespace failed: Operation not permitted") and the grader must fall back by itself;
- Python in a conda-like environment under a closed ``/root`` (mode 0700), as otter's ``setup.sh``
  installs it, with this package installed from the zip's wheel;
- the zip unpacked as ``/autograder/source``, the submission in ``/autograder/submission``, and
  ``run_autograder`` run as Gradescope runs it.
What it cannot be: Docker itself (its overlay file system, cgroups, its exact seccomp profile, Gradescope's
kernel), and the network is this machine's.

``laptop(...)``: a TA's Linux machine without bubblewrap, the grader running as an ordinary user (uid 1000).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

# Docker's default capabilities (moby's defaults list), for its root.
DOCKER_CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
                       "NET_BIND_SERVICE", "NET_RAW", "SYS_CHROOT", "MKNOD", "AUDIT_WRITE", "SETFCAP")
CLONE_NEW_ANY = 0x7E020000  # CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
X86_64 = {"arch": 0xC000003E, "clone": 56, "unshare": 272, "setns": 308, "mount": 165, "umount2": 166,
          "pivot_root": 155, "clone3": 435}
BASE_PYTHON = Path(sysconfig.get_config_var("prefix") or sys.base_prefix)
VENV = Path(sys.prefix)
SITE = Path(sysconfig.get_paths()["purelib"])


def available() -> str:
    """"" when the machines can be emulated here, else why not."""
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed"
    if os.uname().machine != "x86_64":
        return "the emulated seccomp profile is written for x86_64"
    if os.geteuid() != 0:
        return "emulating a container's root needs root"
    return ""


def docker_seccomp() -> bytes:
    """A seccomp program (for bwrap --seccomp) that refuses what Docker's default profile refuses of namespaces."""
    nr = X86_64
    deny = 0x00050000 | 1  # SECCOMP_RET_ERRNO | EPERM
    allow = 0x7FFF0000
    program = [
        (0x20, 0, 0, 4), (0x15, 1, 0, nr["arch"]), (0x06, 0, 0, deny),
        (0x20, 0, 0, 0),
        (0x15, 0, 1, nr["clone3"]), (0x06, 0, 0, 0x00050000 | 38),  # ENOSYS: the C library falls back to clone
        (0x15, 0, 3, nr["clone"]), (0x20, 0, 0, 16), (0x45, 0, 1, CLONE_NEW_ANY), (0x06, 0, 0, deny),
    ]
    for name in ("unshare", "setns", "mount", "umount2", "pivot_root"):
        program += [(0x15, 0, 1, nr[name]), (0x06, 0, 0, deny)]
    program += [(0x06, 0, 0, allow)]
    return b"".join(struct.pack("HBBI", *instruction) for instruction in program)


def conda_like_environment(folder: Path, wheel: Path) -> Path:
    """``folder`` laid out as otter's miniforge3: ``envs/otter-env`` (this Python, the pinned packages, this
    package from ``wheel``) and a ``mamba`` that activates it. Returns ``folder``."""
    env = folder / "envs" / "otter-env"
    subprocess.run([str(BASE_PYTHON / "bin" / "python3"), "-m", "venv", "--without-pip", str(env)], check=True)
    site = env / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    (site / "pinned-requirements.pth").write_text(f"{SITE}\n")  # the packages, not the checkout's editable install
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    mamba = folder / "bin" / "mamba"
    mamba.parent.mkdir()
    mamba.write_text("#!/bin/sh\n# `mamba shell hook` prints a shell function; `mamba activate NAME` puts the env first on PATH\n"
                     "echo 'mamba() { if [ \"$1\" = activate ]; then export PATH=\"/root/miniforge3/envs/$2/bin:$PATH\"; fi; }'\n")
    mamba.chmod(0o755)
    return folder


def autograder_folder(folder: Path, zip_path: Path, submission: Path | None) -> Path:
    """``folder`` as Gradescope's ``/autograder``: the zip in ``source/``, the submission, an empty ``results/``."""
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(folder / "source")
    (folder / "submission").mkdir()
    (folder / "results").mkdir()
    (folder / "submission_metadata.json").write_text("{}")
    if submission is not None:
        shutil.copy(submission, folder / "submission" / submission.name)
    shutil.copy(folder / "source" / "run_autograder", folder / "run_autograder")
    return folder


def _system(args: list[str]) -> list[str]:
    for top in ("usr", "bin", "lib", "lib32", "lib64", "sbin"):
        path = "/" + top
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args + ["--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]


def _open_parents(path: Path) -> list[str]:
    """Folders above ``path`` that others may go through, as on this machine (bubblewrap makes them private)."""
    args = []
    for parent in reversed(path.parents[:-1]):
        if parent.parts[1] != "root":  # a closed /root stays closed: the grader must open what it needs of it
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def gradescope(miniforge: Path, autograder: Path, binds: list[tuple[Path, str]], command: list[str], env: dict,
               timeout: float = 1200) -> subprocess.CompletedProcess:
    """Run ``command`` as root in the emulated container, ``binds`` mounted read-only at the paths given, with
    exactly ``env`` (given as the environment of the container's pid 1, as Docker gives it: on a command line,
    which any process may read in /proc/1/cmdline, it would be a leak of the emulation's own)."""
    read, write = os.pipe()
    os.write(write, docker_seccomp())
    os.close(write)
    args = _system(["bwrap", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--cap-drop", "ALL"])
    args += [arg for cap in DOCKER_CAPABILITIES for arg in ("--cap-add", f"CAP_{cap}")]
    args += ["--perms", "0700", "--dir", "/root", "--ro-bind", str(BASE_PYTHON), str(BASE_PYTHON),
             "--bind", str(miniforge), "/root/miniforge3", *_open_parents(SITE), "--ro-bind", str(SITE), str(SITE),
             "--bind", str(autograder), "/autograder"]
    args += [arg for source, target in binds for arg in ("--ro-bind", str(source), target)]
    args += ["--seccomp", str(read), "--chdir", "/tmp"]
    try:
        return subprocess.run(args + ["--", *command], pass_fds=(read,), capture_output=True, text=True, timeout=timeout,
                              env=env)
    finally:
        os.close(read)


def laptop(binds: list[tuple[Path, str]], command: list[str], env: dict, timeout: float = 1200) -> subprocess.CompletedProcess:
    """Run ``command`` as an ordinary user (uid 1000) on a Linux machine without bubblewrap."""
    args = _system(["bwrap", "--unshare-user", "--uid", "1000", "--gid", "1000", "--unshare-pid", "--die-with-parent"])
    python = [part for part in BASE_PYTHON.parts[1:]]
    args += ["--perms", "0755", "--dir", "/" + python[0]]  # the TA can read their own Python
    args += ["--ro-bind", str(BASE_PYTHON), str(BASE_PYTHON), "--ro-bind", str(VENV), str(VENV),
             "--ro-bind", "/dev/null", shutil.which("bwrap")]
    args += [arg for source, target in binds for arg in ("--bind", str(source), target)]
    args += ["--chdir", "/tmp"]
    return subprocess.run(args + ["--", *command], capture_output=True, text=True, timeout=timeout, env=env)
