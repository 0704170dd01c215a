"""Load never costs a correct notebook a point: the example corpus graded with more workers than cores while
a CPU burner keeps every core busy gets the same grades as one worker on a quiet machine.

    .venv/bin/python benchmarks/under_load.py [--assignment hw1 --assignment hw2] [--jobs 4]

For each homework it grades ``examples/<hw>`` twice: with ``-j 1`` and nothing else running, then with
``-j JOBS`` beside one busy process per core. It prints the wall time of each and every sheet row whose
scores or status differ (none is the promise), and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import sys
import tempfile

from measure import ROOT, grade_command, timed


def burn() -> None:
    while True:
        pass


def rows(out: str) -> dict[str, list[str]]:
    """{file: its scores and status} from a grade sheet (the columns a grade is made of)."""
    with open(os.path.join(out, "final_grades.csv"), newline="") as f:
        table = list(csv.DictReader(f))
    keep = [k for k in table[0] if k.startswith("q") or k in ("total_points_earned", "grading_status")]
    return {row["file"]: [row[k] for k in keep] for row in table}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", action="append", help="default: every homework with examples")
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    assignments = args.assignment or sorted(os.listdir(os.path.join(ROOT, "examples")))
    cores = os.cpu_count() or 1
    print(f"{cores} CPUs; loaded: -j {args.jobs} beside {cores} busy process(es)")
    differences = 0
    with tempfile.TemporaryDirectory() as tmp:
        for assignment in assignments:
            folder = os.path.join(ROOT, "examples", assignment)
            quiet, loaded = os.path.join(tmp, f"{assignment}-quiet"), os.path.join(tmp, f"{assignment}-loaded")
            quiet_seconds, _ = timed(grade_command(assignment, [folder], quiet, jobs=1))
            burners = [multiprocessing.Process(target=burn, daemon=True) for _ in range(cores)]
            for b in burners:
                b.start()
            try:
                loaded_seconds, _ = timed(grade_command(assignment, [folder], loaded, jobs=args.jobs))
            finally:
                for b in burners:
                    b.kill()
            a, b = rows(quiet), rows(loaded)
            changed = sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))
            differences += len(changed)
            print(f"{assignment}: {len(a) - 1} submissions; quiet -j 1 {quiet_seconds:.0f} s, loaded -j {args.jobs} "
                  f"{loaded_seconds:.0f} s; rows that differ: {', '.join(changed) or 'none'}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
