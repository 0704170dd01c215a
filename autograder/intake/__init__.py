"""What the TA hands to ``grade``, turned into a list of submissions with a name each.

A path may be a notebook, a folder (searched for ``*.ipynb``), a zip of either, or Gradescope's
"Export Submissions" zip or its extracted folder (one submission per ``submission_<id>/``
folder, named by the student). Zips are extracted safely into a temporary folder that lives as
long as the ``gather`` block.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from autograder.intake import gradescope, safezip

NOTEBOOK = ".ipynb"
NAME_CHARACTERS = " ._-@+(),'"
MAX_NAME = 100


@dataclass(frozen=True)
class Submitter:
    name: str = ""
    email: str = ""
    student_id: str = ""
    submission_id: str = ""


@dataclass
class Submission:
    name: str  # the row's name in every output: unique, and usable as a file name
    path: str | None  # the notebook to grade; None when there is none
    problem: str = ""  # why there is nothing to grade, when path is None
    submitter: Submitter = field(default_factory=Submitter)


@dataclass
class Intake:
    submissions: list[Submission]
    warnings: list[str]


@contextmanager
def gather(paths: list[str], assignment: str) -> Iterator[Intake]:
    with tempfile.TemporaryDirectory(prefix="autograder-intake-") as scratch:
        found: list[Submission] = []
        warnings: list[str] = []
        for index, path in enumerate(paths):
            if os.path.isdir(path):
                found += _from_folder(path, assignment, warnings, [])
            elif path.lower().endswith(".zip"):
                folder = os.path.join(scratch, str(index))
                os.mkdir(folder)
                try:
                    refused = safezip.extract(path, folder)
                except safezip.BadZip as e:
                    found.append(Submission(os.path.basename(path), None, str(e)))
                    continue
                warnings += [f"{os.path.basename(path)}: {r}" for r in refused]
                found += _from_folder(folder, assignment, warnings, refused)
            else:
                found.append(Submission(os.path.basename(path), path))
        yield Intake(_uniquely_named(found), warnings)


def notebooks(folder: str) -> list[str]:
    """The notebooks under ``folder``, sorted, skipping hidden files and folders and macOS's ``__MACOSX``."""
    files = []
    for parent, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        files += [os.path.join(parent, n) for n in sorted(names) if n.endswith(NOTEBOOK) and not n.startswith(".")]
    return files


def stem(name: str) -> str:
    """A submission's name without ``.ipynb``: the base name of its output files."""
    return name.removesuffix(NOTEBOOK)


def _from_folder(folder: str, assignment: str, warnings: list[str], refused: list[safezip.Refused]) -> list[Submission]:
    export = gradescope.find_export(folder)
    if export is None:
        return [Submission(os.path.basename(f), f) for f in notebooks(folder)]
    people, warning = gradescope.submitters(export)
    if warning:
        warnings.append(warning)
    folders = sorted({d for d in os.listdir(export) if os.path.isdir(os.path.join(export, d))
                      and not d.startswith(".") and d != "__MACOSX"} | set(people))
    found = []
    for name in folders:
        submitter = Submitter(**people.get(name, {"submission_id": gradescope.submission_id(name)}))
        label = submitter.name or submitter.email or submitter.submission_id
        inside = os.path.join(export, name)
        if not os.path.isdir(inside):
            found.append(Submission(label, None, "its folder is missing from the export", submitter))
            continue
        chosen = _chosen(notebooks(inside), assignment)
        if not chosen:
            found.append(Submission(label, None, _nothing_to_grade(inside, name, refused), submitter))
        for path in chosen:
            shown = label if len(chosen) == 1 else f"{label} ({os.path.relpath(path, inside)})"
            found.append(Submission(shown, path, submitter=submitter))
    return found


def _chosen(found: list[str], assignment: str) -> list[str]:
    """The notebook named after the assignment if there is one, else every notebook (each gets a row)."""
    named = [f for f in found if os.path.basename(f) == assignment + NOTEBOOK]
    return named[:1] or found


def _nothing_to_grade(inside: str, folder: str, refused: list[safezip.Refused]) -> str:
    files = sorted(os.path.relpath(os.path.join(p, n), inside) for p, _, names in os.walk(inside) for n in names)
    why = f"no notebook in the submission (files: {', '.join(files[:5]) or 'none'}{', ...' if len(files) > 5 else ''})"
    dropped = [str(r) for r in refused if folder in r.entry.replace("\\", "/").split("/")]
    return "; ".join([why, *dropped])


def _uniquely_named(found: list[Submission]) -> list[Submission]:
    taken: set[str] = set()
    for submission in found:
        safe = _safe(submission.name)
        base, ending = stem(safe), safe[len(stem(safe)):]
        candidate, n = base, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken.add(candidate.casefold())
        submission.name = candidate + ending
    return found


def _safe(name: str) -> str:
    """``name`` with anything that is not a letter, a digit or ``NAME_CHARACTERS`` replaced, never hidden."""
    cleaned = "".join(c if c.isalnum() or c in NAME_CHARACTERS else "_" for c in name).strip().lstrip(".")
    return cleaned[:MAX_NAME] or "submission"
