"""CPU time to grade one complete submission of each homework (the grader and every process it started).

    .venv/bin/python benchmarks/cpu_time.py [--repeat 1]

Grades ``solutions/hwN.ipynb`` with ``python -m autograder grade -j 1`` and prints its wall and
CPU seconds: the grader's own (``getrusage(RUSAGE_CHILDREN)`` once it has exited) plus the
sandboxed notebook's, which the grader measures from /proc (its pid namespace keeps that time out of
the grader's rusage) and saves in the submission's ``.resume`` record.
"""

from __future__ import annotations

import argparse
import json
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
                out = os.path.join(tmp, name)
                wall, grader = timed(grade_command(name, [notebook], out))
                with open(os.path.join(out, ".resume", f"{name}.json")) as f:
                    sandbox = json.load(f)["result"]["cpu_seconds"]
                print(f"{name}: grading solutions/{name}.ipynb took {grader + sandbox:5.1f} s of CPU "
                      f"(grader {grader:.1f} s, notebook {sandbox:.1f} s; {wall:.1f} s wall)")


if __name__ == "__main__":
    main()
