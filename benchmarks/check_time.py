"""How long ``grader.check("qN")`` takes in the student's notebook, question by question.

    .venv/bin/python benchmarks/check_time.py [--assignment hw1]

Runs the solution notebook in a real Jupyter kernel (as a student does, from a folder holding
the MNIST files), then times one more ``grader.check`` call per question in that same kernel.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile

import nbformat
from measure import ROOT
from nbclient import NotebookClient

from autograder.data.mnist import ensure_mnist
from autograder.homeworks import load

TIMING_CELL = """\
import json as _json, time as _time
_seconds = {}
for _q in %r:
    _started = _time.perf_counter()
    grader.check(_q)
    _seconds[_q] = _time.perf_counter() - _started
print(_json.dumps(_seconds))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="hw1")
    args = parser.parse_args()
    questions = [q.name for q in load(args.assignment).questions]
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(ensure_mnist(), os.path.join(tmp, "data"))
        target = os.path.join(tmp, f"{args.assignment}.ipynb")
        shutil.copy(os.path.join(ROOT, "solutions", f"{args.assignment}.ipynb"), target)
        nb = nbformat.read(target, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(TIMING_CELL % questions))
        NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": tmp}}).execute()
    seconds = json.loads(next(o["text"] for o in nb.cells[-1].outputs if o.get("name") == "stdout"))
    print(f"grader.check in solutions/{args.assignment}.ipynb ({os.cpu_count()} CPUs), seconds per question:")
    for q, s in seconds.items():
        print(f"  {q:>4}: {s:6.3f}")


if __name__ == "__main__":
    main()
