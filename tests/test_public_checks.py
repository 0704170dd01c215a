"""The student's side: the notebooks run in Jupyter, and grader.check passes on the solution only."""

import ast
import json
import shutil
import sys

import nbformat
import pytest
from conftest import ROOT
from nbclient import NotebookClient

from autograder.data.mnist import ensure_mnist
from autograder.homeworks import NAMES, load
from autograder.sandbox.child import without_magics

# What a student in Colab has: these, otter, and the standard library.
ALLOWED_IMPORTS = {"torch", "torchvision", "numpy", "matplotlib", "otter"}


def execute(notebook, folder):
    """Run ``notebook`` under its own name in ``folder`` (with the MNIST files) in a real Jupyter kernel."""
    shutil.copytree(ensure_mnist(), folder / "data")
    target = folder / notebook.name
    shutil.copy(notebook, target)
    nb = nbformat.read(target, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def check_outputs(nb):
    """For each ``grader.check("qN")`` cell: the text it displayed."""
    shown = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("grader.check("):
            question = cell.source.split('"')[1]
            texts = [o.get("data", {}).get("text/plain", "") + o.get("text", "") + o.get("evalue", "") for o in cell.outputs]
            shown[question] = "\n".join(texts)
    return shown


@pytest.mark.parametrize("assignment", NAMES)
def test_solution_passes_every_public_check(tmp_path, assignment):
    shown = check_outputs(execute(ROOT / "solutions" / f"{assignment}.ipynb", tmp_path))
    assert sorted(shown, key=lambda q: int(q[1:])) == [q.name for q in load(assignment).questions]
    failing = {q: text for q, text in shown.items() if "All test cases passed" not in text}
    assert not failing


@pytest.mark.parametrize("assignment", NAMES)
def test_untouched_template_fails_every_public_check(tmp_path, assignment):
    shown = check_outputs(execute(ROOT / "student_template" / f"{assignment}.ipynb", tmp_path))
    passing = [q for q, text in shown.items() if "All test cases passed" in text]
    assert passing == []


def imported_modules(source: str) -> set[str]:
    tree = ast.parse(without_magics(source))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("assignment", NAMES)
@pytest.mark.parametrize("kind", ["student_template", "solutions"])
def test_notebook_and_checks_need_only_what_colab_has(kind, assignment):
    nb = json.loads((ROOT / kind / f"{assignment}.ipynb").read_text())
    sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    sources += list(nb["metadata"]["otter"]["tests"].values())
    used = set().union(*(imported_modules(s) for s in sources))
    outside = used - ALLOWED_IMPORTS - set(sys.stdlib_module_names) - {"google"}
    assert not outside, f"{kind} imports {outside}"
