"""How much faster a batch grades with two workers than with one.

    .venv/bin/python benchmarks/parallel.py [--copies 20] [--notebook examples/hw1/correct-close-to-solution.ipynb]

Grades ``--copies`` copies of one correct submission with ``-j 1``, then with ``-j 2`` (default
limits), and prints both wall times and their ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

from measure import ROOT, grade_command, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--notebook", default=os.path.join(ROOT, "examples", "hw1", "correct-close-to-solution.ipynb"))
    parser.add_argument("--assignment", default="hw1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        batch = os.path.join(tmp, "submissions")
        os.mkdir(batch)
        for i in range(args.copies):
            shutil.copy(args.notebook, os.path.join(batch, f"student{i:03d}.ipynb"))
        walls = {jobs: timed(grade_command(args.assignment, [batch], os.path.join(tmp, "out"), jobs))[0] for jobs in (1, 2)}
    print(f"{args.copies} copies of {os.path.relpath(args.notebook, ROOT)} ({os.cpu_count()} CPUs)")
    print(f"-j 1: {walls[1]:6.1f} s   -j 2: {walls[2]:6.1f} s   speed-up: {walls[1] / walls[2]:.2f}x")


if __name__ == "__main__":
    main()
