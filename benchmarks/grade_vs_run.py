"""How much grading costs next to simply running a notebook's code.

    .venv/bin/python benchmarks/grade_vs_run.py [NOTEBOOK] [--assignment hw1] [--repeat 3]

For the notebook (default: the hw1 solution) it times, on this machine and in this run:
- run: the notebook executed once in a fresh Jupyter kernel (``jupyter nbconvert --execute``: the
  student's own computation, the floor any grader pays), from a folder holding the MNIST files;
- grade: ``python -m autograder grade`` on the same notebook, one worker;
and prints the wall time of each (median of the repeats) and their ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile

from measure import ROOT, grade_command, timed


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
        env = dict(os.environ, MPLBACKEND="Agg")
        notebook = os.path.join(tmp, os.path.basename(args.notebook))
        shutil.copy(args.notebook, notebook)
        execute = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
                   "--ExecutePreprocessor.timeout=-1", "--output", "executed.ipynb", notebook]
        for _ in range(args.repeat):
            runs.append(timed(execute, tmp, env)[0])
            grades.append(timed(grade_command(args.assignment, [args.notebook], os.path.join(tmp, "graded")))[0])
    run, grade = statistics.median(runs), statistics.median(grades)
    print(f"notebook: {os.path.relpath(args.notebook, ROOT)} ({os.cpu_count()} CPUs)")
    print(f"run   (executed once in a Jupyter kernel): {run:6.1f} s   runs: {', '.join(f'{t:.1f}' for t in runs)}")
    print(f"grade (python -m autograder grade -j 1): {grade:6.1f} s   runs: {', '.join(f'{t:.1f}' for t in grades)}")
    print(f"grade / run: {grade / run:.2f}")


if __name__ == "__main__":
    main()
