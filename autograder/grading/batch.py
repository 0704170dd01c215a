"""Grade many notebooks: collect the files, grade them in parallel, write every output."""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import torch

from autograder.grading.grade import grade
from autograder.grading.results import SubmissionResult
from autograder.homeworks import Homework
from autograder.report import feedback, gradescope, sheet
from autograder.sandbox.runner import Limits


def collect(paths: list[str]) -> list[str]:
    """Files named on the command line, and the notebooks inside folders named there (sorted)."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            for folder, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files += [os.path.join(folder, n) for n in sorted(names) if n.endswith(".ipynb")]
        else:
            files.append(path)
    return files


def unique_names(files: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for f in files:
        base = os.path.basename(f)
        seen[base] = seen.get(base, 0) + 1
        stem, ext = os.path.splitext(base)
        names.append(base if seen[base] == 1 else f"{stem}-{seen[base]}{ext}")
    return names


def grade_all(files: list[str], homework: Homework, out: str, jobs: int, limits: Limits,
              progress=sys.stderr) -> list[SubmissionResult]:
    os.makedirs(os.path.join(out, "results"), exist_ok=True)
    os.makedirs(os.path.join(out, "feedback"), exist_ok=True)
    if jobs > 1:  # the parent's own torch work (references, gradcheck) must not oversubscribe the cores
        torch.set_num_threads(1)
    names = unique_names(files)
    results: list[SubmissionResult | None] = [None] * len(files)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(grade, f, homework, limits, n): i for i, (f, n) in enumerate(zip(files, names))}
        for count, future in enumerate(as_completed(futures), 1):
            i = futures[future]
            result = results[i] = future.result()
            write_one(out, result)
            print(f"[{count}/{len(files)}] {result.file}: {result.total:g}/{result.possible:g} "
                  f"{result.status} ({result.seconds:.1f} s, {time.monotonic() - started:.0f} s elapsed)",
                  file=progress, flush=True)
    sheet.write(os.path.join(out, "final_grades.csv"), homework, results)
    return results


def write_one(out: str, result: SubmissionResult) -> None:
    stem = os.path.splitext(result.file)[0]
    with open(os.path.join(out, "results", stem + ".json"), "w") as f:
        json.dump(gradescope.results_json(result), f, indent=2)
    with open(os.path.join(out, "feedback", stem + ".md"), "w") as f:
        f.write(feedback.markdown(result))
