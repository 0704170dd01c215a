"""Confinement the child puts on itself before any notebook code runs, needing no privileges, so that it
holds inside a default Docker container too (Gradescope's, ``otter grade``'s) where namespaces do not:

- ``seccomp``: a filter that refuses internet sockets (``socket(AF_INET|AF_INET6, ...)`` fails with
  EACCES) and io_uring (which can open sockets without ``socket``); 32-bit and x32 system calls are
  refused too, so that the filter cannot be stepped around;
- ``landlock``: writes only beneath the job folder (and to the terminals and null devices of ``/dev``);
  reading stays as the uid allows.

Both are inherited by every process the notebook starts, and neither can be undone. Each is tried when
grading starts (:func:`probe`), never assumed.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

LAYERS = ("seccomp", "landlock")

_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_ARCHES = {  # machine: (AUDIT_ARCH_*, __NR_socket, __NR_io_uring_setup, x32 bit or 0)
    "x86_64": (0xC000003E, 41, 425, 0x40000000),
    "aarch64": (0xC00000B7, 198, 425, 0),
}
_LANDLOCK_CREATE_RULESET, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT_SELF = 444, 445, 446
_WRITE_FILE, _TRUNCATE = 1 << 1, 1 << 14
_WRITES = sum(1 << bit for bit in (1, 4, 5, 6, 7, 8, 9, 10, 11, 12))  # write, remove and make: every right that changes files
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/ptmx")
_DEVICE_FOLDERS = ("/dev/pts", "/dev/shm")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class Unavailable(OSError):
    """The layer cannot be put on here; the message says why."""


def apply(names: list[str], job: str) -> None:
    """Put on the layers ``names`` (for ``landlock``, writes beneath ``job``), or raise Unavailable."""
    _call(_libc.prctl, _PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, what="no_new_privs")
    if "landlock" in names:  # before seccomp: its system calls must still be allowed
        _writes_only_beneath(job)
    if "seccomp" in names:
        _no_internet()


def probe() -> dict[str, str]:
    """{layer: "" if it can be put on here, else why not}. Run in a process of its own: a layer cannot be taken off."""
    found = {}
    for name in LAYERS:
        try:
            apply([name], "/")
            found[name] = ""
        except OSError as e:
            found[name] = str(e)
    return found


def _call(function, *args, what: str) -> int:
    result = function(*args)
    if result < 0:
        code = ctypes.get_errno()
        raise Unavailable(code, f"{what} failed: {os.strerror(code)}")
    return result


def _no_internet() -> None:
    machine = platform.machine()
    if machine not in _ARCHES:
        raise Unavailable(errno.ENOSYS, f"no seccomp filter for {machine}")
    arch, socket_nr, io_uring_nr, x32 = _ARCHES[machine]
    deny = 0x00050000  # SECCOMP_RET_ERRNO
    program = [  # (code, jump if true, jump if false, k); jumps count the instructions to skip
        (0x20, 0, 0, 4),              # load arch
        (0x15, 1, 0, arch),           # native: go on
        (0x06, 0, 0, deny | errno.EPERM),
        (0x20, 0, 0, 0),              # load the system call's number
        (0x35, 0, 1, x32) if x32 else (0x15, 0, 1, 0xFFFFFFFF),  # an x32 call: refuse
        (0x06, 0, 0, deny | errno.EPERM),
        (0x15, 0, 1, io_uring_nr),
        (0x06, 0, 0, deny | errno.ENOSYS),
        (0x15, 0, 4, socket_nr),
        (0x20, 0, 0, 16),             # load the socket's domain (first argument, low 32 bits)
        (0x15, 1, 0, 2),              # AF_INET
        (0x15, 0, 1, 10),             # AF_INET6
        (0x06, 0, 0, deny | errno.EACCES),
        (0x06, 0, 0, 0x7FFF0000),     # SECCOMP_RET_ALLOW
    ]
    filters = b"".join(struct.pack("HBBI", *instruction) for instruction in program)
    buffer = ctypes.create_string_buffer(filters)
    fprog = struct.pack("HxxxxxxQ", len(program), ctypes.addressof(buffer))
    _call(_libc.prctl, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.c_char_p(fprog), 0, 0, what="seccomp")


def _writes_only_beneath(job: str) -> None:
    abi = _libc.syscall(_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 0:
        code = ctypes.get_errno()
        raise Unavailable(code, "the kernel has no Landlock" if code in (errno.ENOSYS, errno.EOPNOTSUPP)
                          else f"Landlock failed: {os.strerror(code)}")
    handled = _WRITES | (1 << 13 if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0)  # and refer, truncate
    attr = struct.pack("Q", handled)
    ruleset = _call(_libc.syscall, _LANDLOCK_CREATE_RULESET, ctypes.c_char_p(attr), ctypes.c_size_t(len(attr)),
                    ctypes.c_uint32(0), what="landlock_create_ruleset")
    try:
        file_rights = _WRITE_FILE | (handled & _TRUNCATE)
        rules = [(job, handled)] + [(p, file_rights) for p in _DEVICES] + [(p, handled) for p in _DEVICE_FOLDERS]
        for path, rights in rules:
            if not os.path.exists(path):
                continue
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                if not os.path.isdir(path):
                    rights &= file_rights
                rule = struct.pack("=Qi", rights, fd)
                _call(_libc.syscall, _LANDLOCK_ADD_RULE, ruleset, 1, ctypes.c_char_p(rule), 0, what=f"a Landlock rule for {path}")
            finally:
                os.close(fd)
        _call(_libc.syscall, _LANDLOCK_RESTRICT_SELF, ruleset, 0, what="landlock_restrict_self")
    finally:
        os.close(ruleset)
