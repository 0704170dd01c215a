"""Reading a submitted notebook: its code cells, or a clear reason why it cannot be graded."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024


class SubmissionError(Exception):
    """The file cannot be graded at all; the message says why, for the grade sheet."""


@dataclass
class Notebook:
    cells: list[str]  # the source of each code cell, in order
    from_template: bool  # it carries the otter metadata of the notebook handed out (not cells copied into a new one)


def read(path: str) -> Notebook:
    if not os.path.isfile(path):
        raise SubmissionError("not a file")
    size = os.path.getsize(path)
    if size == 0:
        raise SubmissionError("empty file")
    if size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"file too large ({size / 2**20:.0f} MB; the limit is {MAX_NOTEBOOK_BYTES // 2**20} MB)")
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
    except UnicodeDecodeError:
        raise SubmissionError("not a notebook (binary file)") from None
    except RecursionError:
        raise SubmissionError("not a notebook (its JSON nests deeper than any notebook does)") from None
    except ValueError as e:
        raise SubmissionError(f"not a notebook (invalid JSON: {e})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise SubmissionError("not a notebook (no list of cells)")
    cells = []
    for cell in nb["cells"]:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            cells.append("".join(map(str, source)) if isinstance(source, list) else str(source))
    metadata = nb.get("metadata")
    otter = metadata.get("otter") if isinstance(metadata, dict) else None
    return Notebook(cells, isinstance(otter, dict) and bool(otter.get("assignment_name")))
