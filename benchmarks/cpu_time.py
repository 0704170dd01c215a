"""CPU time to grade one complete submission of each homework (the grader and every process it started).

    .venv/bin/python benchmarks/cpu_time.py [--repeat 1]

Grades ``solutions/hwN.ipynb`` with ``python -m autograder grade -j 1`` and prints its wall and
CPU seconds (user + system, from ``getrusage(RUSAGE_CHILDREN)`` after the grader has exited).
"""

from __future__ import annotations

import argparse
import os
import tempfile

from measure import ROOT, grade_command, timed

from autograder.homeworks import NAMES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        for name in NAMES:
            notebook = os.path.join(ROOT, "solutions", f"{name}.ipynb")
            for _ in range(args.repeat):
                wall, cpu = timed(grade_command(name, [notebook], os.path.join(tmp, name)))
                print(f"{name}: grading solutions/{name}.ipynb took {cpu:5.1f} s of CPU ({wall:5.1f} s wall)")


if __name__ == "__main__":
    main()
