"""How much grading costs next to simply running a notebook's code.

    .venv/bin/python benchmarks/grade_vs_run.py [NOTEBOOK] [--assignment hw1] [--repeat 3]

For the notebook (default: the hw1 solution) it times, on this machine and in this run:
- run: the notebook's code cells executed in one fresh Python process (the student's own
  computation, the floor any grader pays), from a folder holding the MNIST files;
- grade: ``python -m autograder grade`` on the same notebook, one worker;
and prints the wall time of each (median of the repeats) and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile

from measure import ROOT, grade_command, timed


def code_of(notebook: str) -> str:
    from autograder.sandbox.child import without_magics

    with open(notebook) as f:
        cells = [c for c in json.load(f)["cells"] if c["cell_type"] == "code"]
    body = [without_magics("".join(c["source"])) for c in cells]
    return "\n\n".join(f"try:\n    exec({src!r})\nexcept Exception as e:\n    print('cell failed:', e)" for src in body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", default=os.path.join(ROOT, "solutions", "hw1.ipynb"))
    parser.add_argument("--assignment", default="hw1")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from autograder.data.mnist import ensure_mnist

    runs, grades = [], []
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(ensure_mnist(), os.path.join(tmp, "data"))
        script = os.path.join(tmp, "notebook_code.py")
        with open(script, "w") as f:
            f.write("import otter\n" + code_of(args.notebook))
        env = dict(os.environ, MPLBACKEND="Agg")
        shutil.copy(args.notebook, os.path.join(tmp, os.path.basename(args.notebook)))
        for _ in range(args.repeat):
            runs.append(timed([sys.executable, script], tmp, env)[0])
            grades.append(timed(grade_command(args.assignment, [args.notebook], os.path.join(tmp, "graded")))[0])
    run, grade = statistics.median(runs), statistics.median(grades)
    print(f"notebook: {os.path.relpath(args.notebook, ROOT)} ({os.cpu_count()} CPUs)")
    print(f"run   (its code in one Python process): {run:6.1f} s   runs: {', '.join(f'{t:.1f}' for t in runs)}")
    print(f"grade (python -m autograder grade -j 1): {grade:6.1f} s   runs: {', '.join(f'{t:.1f}' for t in grades)}")
    print(f"grade / run: {grade / run:.2f}")


if __name__ == "__main__":
    main()
