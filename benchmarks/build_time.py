"""Wall time of ``python -m autograder build`` for every homework, in a scratch copy of the masters.

    .venv/bin/python benchmarks/build_time.py

The build writes the student templates, the solutions and the autograder zips (with this
package's wheel) into a temporary root, so the repository is left as it is.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

from measure import ROOT, timed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(os.path.join(ROOT, "assignments"), os.path.join(tmp, "assignments"))
        wall, cpu = timed([sys.executable, "-m", "autograder", "build", "--root", tmp])
    print(f"build of every homework ({os.cpu_count()} CPUs): {wall:.1f} s wall, {cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
