"""``build`` and ``verify``: the instructor's two commands."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tempfile
import time

from autograder.build import points, settings
from autograder.build.bundle import write_bundle
from autograder.build.notebooks import normalized
from autograder.build.package import ROOT, repack
from autograder.homeworks import POINTS, load


def outputs(name: str, root: str = ROOT) -> dict[str, str]:
    return {
        "master": os.path.join(root, "assignments", name, f"{name}.ipynb"),
        "student": os.path.join(root, "student_template", f"{name}.ipynb"),
        "solution": os.path.join(root, "solutions", f"{name}.ipynb"),
        "zip": os.path.join(root, "dist", f"{name}-autograder.zip"),
        "bundle": os.path.join(root, "dist", f"{name}-student.zip"),
        "points": os.path.join(root, "autograder", "homeworks", name, POINTS),
    }


def assemble(name: str, folder: str, root: str = ROOT) -> dict[str, str]:
    """Run otter assign on the master into ``folder``; return the normalized notebooks and otter's zip."""
    master = outputs(name, root)["master"]
    done = subprocess.run([sys.executable, "-m", "otter", "assign", "--no-run-tests", "--no-pdfs", master, folder],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"otter assign failed on {master}:\n{done.stdout}{done.stderr}")
    (otter_zip,) = glob.glob(os.path.join(folder, "autograder", "*.zip"))
    return {
        "student": normalized(_read(os.path.join(folder, "student", f"{name}.ipynb"))),
        "solution": normalized(_read(os.path.join(folder, "autograder", f"{name}.ipynb"))),
        "zip": otter_zip,
    }


def build(names: list[str], check: bool = False, root: str = ROOT) -> int:
    try:
        shared = settings.shared(root)
        disagreeing = {name: settings.disagreements(outputs(name, root)["master"], shared) for name in names}
        worth = {name: points.text(points.of_master(outputs(name, root)["master"])) for name in names}
    except (settings.SettingsError, points.PointsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if any(disagreeing.values()):
        for name, problems in disagreeing.items():
            for problem in problems:
                print(f"error: {os.path.relpath(outputs(name, root)['master'], root)}: {problem}", file=sys.stderr)
        print(f"settings every homework shares belong in {settings.FILE} only: remove them from the master's generate block",
              file=sys.stderr)
        return 1
    stale = []
    began = time.monotonic()
    for name in names:
        started = time.monotonic()
        paths = outputs(name, root)
        print(f"{name}: otter assign {os.path.relpath(paths['master'], root)}", file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            made = assemble(name, tmp, root)
            made["points"] = worth[name]
            # the points go to the homework's folder in the checkout built in (a root without the package has none)
            kinds = ["student", "solution"] + (["points"] if os.path.isdir(os.path.dirname(paths["points"])) else [])
            for kind in kinds:
                path, text = paths[kind], made[kind]
                if check:
                    if not os.path.exists(path) or _read(path) != text:
                        stale.append(os.path.relpath(path, root))
                    continue
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                print(f"{name}: wrote {os.path.relpath(path, root)}", file=sys.stderr)
            if not check:
                try:  # its points are written: the declarations must now be the master's questions
                    offline_data = load(name).offline_data
                except LookupError as e:
                    print(f"error: {e}", file=sys.stderr)
                    return 1
                print(f"{name}: packing {os.path.relpath(paths['zip'], root)} (otter's zip plus this package's wheel)",
                      file=sys.stderr)
                repack(made["zip"], paths["zip"], name, shared)
                print(f"{name}: wrote {os.path.relpath(paths['zip'], root)}", file=sys.stderr)
                write_bundle(name, made["student"], paths["bundle"], offline_data)
                print(f"{name}: wrote {os.path.relpath(paths['bundle'], root)} (the student notebook"
                      f"{' and its data' if offline_data else ''}, for working offline; {time.monotonic() - started:.1f} s)",
                      file=sys.stderr)
    if stale:
        print("out of date with the master notebooks (run `python -m autograder build`): " + ", ".join(stale), file=sys.stderr)
        return 1
    if check:
        print("committed notebooks match the master notebooks", file=sys.stderr)
    print(f"{'checked' if check else 'built'} {', '.join(names)} in {time.monotonic() - began:.0f} s", file=sys.stderr)
    return 0


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def verify(names: list[str], root: str = ROOT) -> int:
    from autograder.grading.grade import grade

    failures = []
    began = time.monotonic()
    for name in names:
        homework = load(name)
        for kind, want in (("solution", "full"), ("student", "zero")):
            path = outputs(name, root)[kind]
            print(f"{name}: grading {os.path.relpath(path, root)} (must score {'100' if want == 'full' else '0'})", file=sys.stderr)
            result = grade(path, homework)
            wrong = [q for q in result.questions if (q.score != q.points if want == "full" else q.score != 0)]
            print(f"{name}: {os.path.relpath(path, root)} scored {result.total:g}/{result.possible:g} "
                  f"({result.status}, {result.seconds:.1f} s)")
            if result.status != "Completed":
                failures.append(f"{path}: {result.status}")
            for q in wrong:
                reasons = "; ".join(c.message for c in q.checks if (not c.passed if want == "full" else c.passed))
                failures.append(f"{os.path.relpath(path, root)} {q.name}: {q.score:g}/{q.points:g}: {reasons}")
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    if not failures:
        print(f"verified {', '.join(names)}: every solution scores 100 and every template 0 "
              f"({time.monotonic() - began:.0f} s)", file=sys.stderr)
    return 1 if failures else 0
