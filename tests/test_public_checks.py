"""The student's side: the notebooks run in Jupyter, and grader.check passes on the solution only."""

import ast
import json
import shutil
import sys
import zipfile

import master_notebook
import nbformat
import pytest
import torch
from conftest import ROOT
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient

from autograder.build.bundle import write_bundle
from autograder.data.mnist import ensure_mnist
from autograder.homeworks import NAMES, load

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
    tree = ast.parse(TransformerManager().transform_cell(source))  # magics become Python, as IPython runs them
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
    outside = used - ALLOWED_IMPORTS - set(sys.stdlib_module_names)
    assert not outside, f"{kind} imports {outside}"


def helper_source(assignment):
    """The cell that defines ``explain_mismatch``, the diagnosis the public checks share."""
    return next((src for kind, src in master_notebook.cells(assignment) if kind == "code" and "def explain_mismatch(" in src), "")


def test_the_homeworks_share_one_diagnosis_helper():
    helpers = {name: helper_source(name) for name in NAMES}
    assert len({source for source in helpers.values() if source}) == 1, sorted(name for name, source in helpers.items() if source)


@pytest.fixture(scope="module")
def explain_mismatch():
    namespace = {"torch": torch}
    exec(helper_source("hw1"), namespace)
    return namespace["explain_mismatch"]


GRAD = torch.tensor([[-1.5, 0.25, 2.0], [0.5, -3.0, 1.0]], dtype=torch.float64)


@pytest.mark.parametrize("got, options, phrase", [
    (3 * GRAD, {"n": 3}, "did you forget the 1/n of the mean?"),
    (GRAD / 3, {"n": 3}, "is the 1/n applied twice?"),
    (2 * GRAD, {}, "a factor 2 too many"),
    (GRAD / 2, {}, "a factor 2 is missing"),
    (-GRAD, {}, "the sign is wrong"),
    (-3 * GRAD, {"n": 3}, "the sign is wrong: check the order of the difference (prediction - target); n = 3 times too large"),
    (1.7 * GRAD, {}, "1.7 times too large"),
    (GRAD.T, {}, "got (3, 2): the transpose"),
    (GRAD.reshape(6), {}, "a size-1 dimension too many or too few"),
    (GRAD.reshape(2, 3, 1).expand(2, 3, 3), {}, "broadcasts to an (n, n) matrix"),
    (GRAD[0], {}, "fewer values than expected"),
    (torch.zeros_like(GRAD), {}, "it is all zeros; is this gradient computed at all?"),
    (GRAD + 1, {"mistakes": [("that is the known mistake", GRAD + 1)]}, "got [[-0.5, 1.25, 3.0], [1.5, -2.0, 2.0]]: that is the known mistake"),
    (GRAD + torch.tensor([[0.0, 0.0, 0.5], [0.0, 0.0, 0.0]], dtype=torch.float64), {}, "(off by up to 0.5)"),
    ([1.0, 2.0], {}, "should be a tensor, got list"),
])
def test_diagnosis_names_the_mistake(explain_mismatch, got, options, phrase):
    assert phrase in explain_mismatch(got, GRAD, "the gradient", **options)


def test_diagnosis_accepts_float_rounding_and_recognises_a_square_transpose(explain_mismatch):
    assert explain_mismatch(GRAD.float() * (1 + 1e-6), GRAD, "the gradient") is None
    square = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert "it is the transpose of the expected one" in explain_mismatch(square.T, square, "W1")


# One notebook per homework: the solutions with one mistake at each of three questions, and the
# phrase its public check must show.
MISTAKES = {
    "hw1": [
        ("q2", "    return X.T @ (X @ w - y) / n\n", "    return X.T @ (X @ w - y)\n", "did you forget the 1/n of the mean?"),
        ("q3", "    residual = torch.sigmoid(z) - y\n", "    residual = (torch.sigmoid(z) - y) * torch.sigmoid(z) * (1 - torch.sigmoid(z))\n",
         "an extra factor s(1 - s), the sigmoid's derivative"),
        ("q10", "            w.grad = None\n            b.grad = None\n", "", "the gradients accumulate"),
    ],
    "hw2": [
        ("q2", "    grad_W1 = G_Z.T @ X  # step 4", "    grad_W1 = X.T @ G_Z  # step 4", "got (2, 4): the transpose"),
        ("q4", "    grad_W1 = G_Z.T @ X\n    grad_b1 = G_Z.sum(dim=0)\n", "    grad_W1 = G_Z.T @ X\n    grad_b1 = torch.zeros_like(b1)\n",
         "the gradient of b1 should be [-0.1086, 0.378, -0.0568, -0.0255], got [0.0, 0.0, 0.0, 0.0]: it is all zeros"),
        ("q10", "        for p in model.parameters():  # 4. clear the gradients\n            p.grad = None\n", "", "the gradients accumulate"),
    ],
}


def with_mistakes(assignment, folder):
    """The solution notebook with the mistakes of ``MISTAKES`` patched in, cut after the last question they touch."""
    nb = nbformat.read(ROOT / "solutions" / f"{assignment}.ipynb", as_version=4)
    last = max(int(q[1:]) for q, *_ in MISTAKES[assignment])
    for question, right, wrong, _ in MISTAKES[assignment]:
        cells = [c for c in nb.cells if c.cell_type == "code" and right in c.source]
        assert len(cells) == 1, (question, right)
        cells[0].source = cells[0].source.replace(right, wrong)
    end = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.startswith(f'grader.check("q{last}")'))
    nb.cells = nb.cells[: end + 1]
    path = folder / "patched" / f"{assignment}.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("assignment", sorted(MISTAKES))
def test_public_checks_diagnose_common_mistakes(tmp_path, assignment):
    shown = check_outputs(execute(with_mistakes(assignment, tmp_path), tmp_path))
    for question, _, _, phrase in MISTAKES[assignment]:
        assert phrase in shown[question], shown[question]


# Colab's kernel, as otter recognises it: a shell whose class lives in google.colab (otter then refuses
# checks read from the notebook's metadata, and a tests folder that does not exist).
FAKE_COLAB = {
    "google/__init__.py": "",
    "google/colab/__init__.py": "",
    "google/colab/_shell.py": "from ipykernel.zmqshell import ZMQInteractiveShell\n\n\nclass Shell(ZMQInteractiveShell):\n    pass\n",
}


def unpacked_bundle(assignment, folder):
    """The student bundle of the committed template, unpacked into ``folder``: returns the homework's folder."""
    bundle = folder / "bundle.zip"
    write_bundle(assignment, (ROOT / "student_template" / f"{assignment}.ipynb").read_text(), str(bundle),
                 load(assignment).offline_data)
    with zipfile.ZipFile(bundle) as z:
        z.extractall(folder)
    return folder / assignment


def first_two_checks(assignment, notebook):
    """``notebook`` up to its second ``grader.check``, with question 1 answered by the solution."""
    nb = nbformat.read(notebook, as_version=4)
    solution = nbformat.read(ROOT / "solutions" / f"{assignment}.ipynb", as_version=4)
    (_, q1), *_ = load(assignment).plans()
    start = f"def {q1.requests[0].target.split(',')[0]}("  # the cell that defines q1's first graded function
    answer = next(c for c in solution.cells if c.cell_type == "code" and c.source.startswith(start))
    next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith(start)).source = answer.source
    checks = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.startswith("grader.check(")]
    nb.cells = nb.cells[: checks[1] + 1]
    return nb


def assert_ran_without_errors_and_checked_q1_and_q2(nb):
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors[0]
    shown = check_outputs(nb)
    assert "All test cases passed" in shown["q1"]
    assert "q2 results" in shown["q2"] and "All test cases passed" not in shown["q2"], shown["q2"]


def run_in(nb, folder, before=()):
    nb.cells[:0] = [nbformat.v4.new_code_cell(source) for source in before]
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return nb


@pytest.mark.parametrize("assignment", NAMES)
def test_the_checks_load_in_a_renamed_copy_offline_with_the_bundles_data(tmp_path, assignment):
    folder = unpacked_bundle(assignment, tmp_path)
    renamed = folder / f"{assignment} (1).ipynb"
    (folder / f"{assignment}.ipynb").rename(renamed)
    (folder / "Copy of something else.ipynb").write_text(renamed.read_text())  # otter cannot tell which is this one
    nb = first_two_checks(assignment, renamed)
    reads = next((c for c in nbformat.read(renamed, as_version=4).cells if c.cell_type == "code"
                  and c.source.startswith('DATA_ROOT = "data"')), None)  # a homework whose notebook reads MNIST
    if reads:
        nb.cells.append(nbformat.v4.new_code_cell(reads.source + "\nprint(len(datasets.MNIST(DATA_ROOT, train=True)), 'training images')"))
    run_in(nb, folder)
    assert_ran_without_errors_and_checked_q1_and_q2(nb)
    assert not reads or "4000 training images" in nb.cells[-1].outputs[0]["text"]


@pytest.mark.parametrize("assignment", NAMES)
def test_the_checks_load_in_a_simulated_colab(tmp_path, assignment):
    for name, text in FAKE_COLAB.items():
        (tmp_path / "modules" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "modules" / name).write_text(text)
    content = tmp_path / "content"  # Colab's working folder: the notebook itself is not on its disk
    content.mkdir()
    nb = first_two_checks(assignment, ROOT / "student_template" / f"{assignment}.ipynb")
    run_in(nb, content, before=[f"import sys\nsys.path.insert(0, {str(tmp_path / 'modules')!r})\n"
                                "import google.colab._shell\nget_ipython().__class__ = google.colab._shell.Shell\n"
                                "assert 'google.colab' in str(get_ipython())"])
    assert_ran_without_errors_and_checked_q1_and_q2(nb)
