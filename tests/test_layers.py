"""The layers the child puts on itself (seccomp and Landlock), each in a process of its own, as the child does:
what the README says they refuse is refused, and what a notebook needs still works."""

import json
import os
import platform
import subprocess
import sys
import textwrap

import pytest



def missing_layers() -> dict[str, str]:
    """{layer: why it cannot be put on here}, tried in a process of its own (a layer put on this one, the test
    worker, would stay on it: Landlock, for one, keeps bubblewrap from making its mounts)."""
    if sys.platform != "linux":
        return {"all": "not Linux"}
    done = subprocess.run([sys.executable, "-c", "import json; from autograder.sandbox import layers; print(json.dumps(layers.probe()))"],
                          capture_output=True, text=True, timeout=60, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    return {name: why for name, why in json.loads(done.stdout).items() if why}


MISSING = missing_layers()


def with_layers(names: list[str], job, body: str) -> dict:
    """Run ``body`` (which sets ``found``) in a fresh Python after putting on ``names`` for ``job``; returns ``found``."""
    script = textwrap.dedent(f"""
        import ctypes, errno, json, os, socket
        from autograder.sandbox import layers
        layers.apply({names!r}, {str(job)!r})
        found = {{}}
    """) + textwrap.dedent(body) + "\nprint(json.dumps(found))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.skipif("seccomp" in MISSING or "all" in MISSING, reason=str(MISSING))
def test_seccomp_refuses_internet_sockets_io_uring_and_other_abis_but_not_local_sockets(tmp_path):
    found = with_layers(["seccomp"], tmp_path, """
        def refused(family):
            try:
                socket.socket(family, socket.SOCK_STREAM).close()
                return ""
            except OSError as e:
                return errno.errorcode[e.errno]
        found["inet"], found["inet6"], found["unix"] = refused(socket.AF_INET), refused(socket.AF_INET6), refused(socket.AF_UNIX)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        found["io_uring"] = (libc.syscall(425, 1, ctypes.create_string_buffer(120)), errno.errorcode[ctypes.get_errno()])
        found["x32_getpid"] = (libc.syscall(0x40000000 + 39), errno.errorcode[ctypes.get_errno()])
        found["getpid"] = libc.syscall(39) == os.getpid()
    """)
    assert (found["inet"], found["inet6"], found["unix"]) == ("EACCES", "EACCES", "")
    assert found["io_uring"] == [-1, "ENOSYS"]
    if platform.machine() == "x86_64":
        assert found["x32_getpid"] == [-1, "EPERM"] and found["getpid"]


@pytest.mark.skipif("landlock" in MISSING or "all" in MISSING, reason=str(MISSING))
def test_landlock_allows_writes_only_beneath_the_job_and_to_the_null_devices(tmp_path):
    job, outside = tmp_path / "job", tmp_path / "outside"
    (job / "work").mkdir(parents=True)
    outside.mkdir()
    (outside / "kept").write_text("the grader's\n")
    found = with_layers(["landlock"], job, f"""
        def written(path, mode="w"):
            try:
                with open(path, mode) as f:
                    f.write("x")
                return ""
            except OSError as e:
                return errno.errorcode[e.errno]
        found["job"] = written({str(job / "work" / "answer.txt")!r})
        found["outside"] = written({str(outside / "new.txt")!r})
        found["truncate"] = written({str(outside / "kept")!r})
        found["null"] = written("/dev/null")
        found["read"] = open({str(outside / "kept")!r}).read()
    """)
    assert found == {"job": "", "outside": "EACCES", "truncate": "EACCES", "null": "", "read": "the grader's\n"}
    assert (outside / "kept").read_text() == "the grader's\n" and not (outside / "new.txt").exists()
