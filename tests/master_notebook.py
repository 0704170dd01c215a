"""Reading a master notebook in tests: its cells, its solution cells, and what the student copy keeps of them."""

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def cells(assignment):
    nb = json.loads((ROOT / "assignments" / assignment / f"{assignment}.ipynb").read_text())
    return [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]


def solution_sources(assignment):
    """The code cells between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` raw cells, in order."""
    out, inside = [], False
    for kind, src in cells(assignment):
        if kind == "raw" and src.strip() == "# BEGIN SOLUTION":
            inside = True
        elif kind == "raw" and src.strip() == "# END SOLUTION":
            inside = False
        elif inside and kind == "code":
            out.append(src)
    return out


def student_version(src):
    """What otter assign leaves of a Part B solution cell: the prompt lines, without the solution."""
    lines, in_solution = [], False
    for line in src.splitlines():
        s = line.rstrip()
        if s.endswith("# BEGIN SOLUTION NO PROMPT"):
            in_solution = True
            continue
        if s.endswith("# END SOLUTION"):
            in_solution = False
            continue
        if in_solution or s.endswith("# BEGIN PROMPT") or s.endswith("# END PROMPT"):
            continue
        lines.append(line)
    return "\n".join(lines)
