"""``build`` and ``verify``: the instructor's two commands."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tempfile
import time

from autograder.build.notebooks import normalized
from autograder.build.package import ROOT, repack


def outputs(name: str) -> dict[str, str]:
    return {
        "student": os.path.join(ROOT, "student_template", f"{name}.ipynb"),
        "solution": os.path.join(ROOT, "solutions", f"{name}.ipynb"),
        "zip": os.path.join(ROOT, "dist", f"{name}-autograder.zip"),
    }


def run_otter_assign(name: str, folder: str) -> None:
    master = os.path.join(ROOT, "assignments", name, f"{name}.ipynb")
    done = subprocess.run([sys.executable, "-m", "otter", "assign", "--no-run-tests", "--no-pdfs", master, folder],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"otter assign failed on {master}:\n{done.stdout}{done.stderr}")


def build(names: list[str], check: bool = False) -> int:
    stale = []
    for name in names:
        started = time.monotonic()
        print(f"{name}: otter assign {os.path.relpath(os.path.join(ROOT, 'assignments', name, name + '.ipynb'), ROOT)}", file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            run_otter_assign(name, tmp)
            made = {
                "student": normalized(_read(os.path.join(tmp, "student", f"{name}.ipynb"))),
                "solution": normalized(_read(os.path.join(tmp, "autograder", f"{name}.ipynb"))),
            }
            for kind, text in made.items():
                path = outputs(name)[kind]
                if check:
                    if not os.path.exists(path) or _read(path) != text:
                        stale.append(os.path.relpath(path, ROOT))
                    continue
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                print(f"{name}: wrote {os.path.relpath(path, ROOT)}", file=sys.stderr)
            if not check:
                (otter_zip,) = glob.glob(os.path.join(tmp, "autograder", "*.zip"))
                repack(otter_zip, outputs(name)["zip"])
                print(f"{name}: wrote {os.path.relpath(outputs(name)['zip'], ROOT)} ({time.monotonic() - started:.1f} s)", file=sys.stderr)
    if stale:
        print("out of date with the master notebooks (run `python -m autograder build`): " + ", ".join(stale), file=sys.stderr)
        return 1
    if check:
        print("committed notebooks match the master notebooks", file=sys.stderr)
    return 0


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def verify(names: list[str]) -> int:
    from autograder.grading.grade import grade
    from autograder.homeworks import load

    failures = []
    for name in names:
        homework = load(name)
        for kind, want in (("solution", "full"), ("student", "zero")):
            path = outputs(name)[kind]
            print(f"{name}: grading {os.path.relpath(path, ROOT)} (must score {'100' if want == 'full' else '0'})", file=sys.stderr)
            result = grade(path, homework)
            wrong = [q for q in result.questions if (q.score != q.points if want == "full" else q.score != 0)]
            print(f"{name}: {os.path.relpath(path, ROOT)} scored {result.total:g}/{result.possible:g} "
                  f"({result.status}, {result.seconds:.1f} s)")
            if result.status != "Completed":
                failures.append(f"{path}: {result.status}")
            for q in wrong:
                reasons = "; ".join(c.message for c in q.checks if (not c.passed if want == "full" else c.passed))
                failures.append(f"{os.path.relpath(path, ROOT)} {q.name}: {q.score:g}/{q.points:g}: {reasons}")
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0
