"""Correct notebooks as students really make them, each with full marks: the solution with a few ordinary
notebook features (IPython help, display, magics, shell escapes, cell magics, %run, pip) or Colab's artefacts
(a Drive set-up cell, %cd into Drive, GPU metadata, saved outputs, an old nbformat, the device chosen by
torch.cuda.is_available()), as one student's notebook carries several.

Each notebook is made here from the committed solution, so that the corpus follows the homework; a change
to the solution that a feature can no longer be added to fails loudly. Two also go through ``otter run``.
"""

from __future__ import annotations

import copy
import json

import pytest
from conftest import ROOT, autograder, otter_run, total
from corpus import read_sheet

from autograder.homeworks import load

pytestmark = pytest.mark.xdist_group("real-notebooks")  # its tests share one grading of the corpus: one worker runs them all


def solution(assignment: str) -> dict:
    return json.loads((ROOT / "solutions" / f"{assignment}.ipynb").read_text())


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def cell_with(nb: dict, marker: str) -> dict:
    found = [c for c in code_cells(nb) if marker in "".join(c["source"])]
    assert found, f"no code cell holds {marker!r}"
    return found[0]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def set_source(cell: dict, text: str) -> None:
    cell["source"] = text.splitlines(True)


def prepend(marker: str, text: str):
    def change(nb):
        cell = cell_with(nb, marker)
        set_source(cell, text + source(cell))
    return change


def append(marker: str, text: str):
    def change(nb):
        cell = cell_with(nb, marker)
        set_source(cell, source(cell) + text)
    return change


def insert_before(marker: str, *sources: str):
    def change(nb):
        at = nb["cells"].index(cell_with(nb, marker))
        nb["cells"][at:at] = [{"cell_type": "code", "execution_count": None, "id": f"added-{at}-{k}", "metadata": {},
                               "outputs": [], "source": s.splitlines(True)} for k, s in enumerate(sources)]
    return change


def colab_gpu_metadata(nb):
    nb["metadata"].update({"accelerator": "GPU", "colab": {"provenance": [], "gpuType": "T4", "toc_visible": True},
                           "kernelspec": {"display_name": "Python 3", "name": "python3"}})
    for k, cell in enumerate(nb["cells"]):
        cell["metadata"] = {"id": f"c0lab{k:04d}", "colab": {"base_uri": "https://localhost:8080/"}}
        if cell["cell_type"] == "code":
            cell["metadata"]["outputId"] = f"out{k:04d}"


def old_nbformat(nb):
    nb["nbformat_minor"] = 2
    for cell in nb["cells"]:
        cell.pop("id", None)


def saved_outputs(nb):
    """What a run in Colab leaves: printed text, a figure, an error, and a cell stopped with the interrupt button."""
    cells = code_cells(nb)
    cells[2]["outputs"] = [{"name": "stdout", "output_type": "stream", "text": ["largest difference 1e-7\n"]},
                           {"data": {"image/png": "iVBORw0KGgo=", "text/plain": ["<Figure size 640x480>"]},
                            "metadata": {}, "output_type": "display_data"}]
    cells[3]["outputs"] = [{"ename": "NameError", "evalue": "name 'Tanh' is not defined", "output_type": "error",
                            "traceback": ["\u001b[0;31mNameError\u001b[0m: name 'Tanh' is not defined"]}]
    cells[4]["outputs"] = [{"ename": "KeyboardInterrupt", "evalue": "", "output_type": "error",
                            "traceback": ["\u001b[0;31mKeyboardInterrupt\u001b[0m: "]}]
    for k, cell in enumerate(cells):
        cell["execution_count"] = k + 1


def choose_device(nb):
    insert_before("def mlp_forward", "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\nprint('using', device)")(nb)
    cell = cell_with(nb, "neural_net = SimpleNN()")
    set_source(cell, source(cell).replace("neural_net = SimpleNN()", "neural_net = SimpleNN().to(device)"))


FEATURES = {  # name: (assignment, what it is, how it is added to the solution, also through otter run)
    "help-after-q1": ("hw1", "IPython help (torch.autograd.grad?) at the end of the q1 cell",
                      append("def df_autograd", "\n\ntorch.autograd.grad?"), False),
    "display-before-q2": ("hw1", "display(...) before the q2 definitions",
                          prepend("def least_squares_loss", "from IPython.display import display\ndisplay({'next': 'least squares'})\n\n"), False),
    "line-magic-call-before-the-imports": ("hw1", "get_ipython().run_line_magic(...) before the imports",
                                           prepend("import torch\n", "get_ipython().run_line_magic('matplotlib', 'inline')\n"), False),
    "shell-capture-after-q3": ("hw1", "a shell capture (files = !ls) after the q3 definitions",
                               append("def logistic_grad", "\n\nfiles = !ls\nprint(len(files), 'files')"), False),
    "percent-operator-continued": ("hw1", "a continued expression whose next line starts with the % operator",
                                   prepend("def fix_accumulation", "steps_left = (10\n % 3)\n\n"), False),
    "a-cell-that-raises-after-its-definitions": ("hw1", "the q2 cell raises after defining both functions",
                                                 append("def least_squares_grad", "\n\nprint(not_defined_anywhere)"), False),
    "colab-drive-set-up": ("hw1", "a Colab set-up cell that mounts Drive and %cd's into it",
                           insert_before("import torch\n", "from google.colab import drive\ndrive.mount('/content/drive')",
                                         "%cd /content/drive/MyDrive/hw1"), True),
    "colab-gpu-metadata": ("hw1", "Colab's notebook and cell metadata, with a GPU accelerator", colab_gpu_metadata, False),
    "old-nbformat-minor": ("hw1", "nbformat 4.2: no cell ids", old_nbformat, False),
    "cd-into-the-data-and-back": ("hw1", "%cd into the data folder and back", insert_before("def load_mnist_odd_even", "%cd data\n%ls\n%cd .."), False),
    "cell-magic-capture": ("hw2", "%%capture on a demo cell", prepend("x_reg = 4 * torch.rand", "%%capture captured\n"), False),
    "cell-magic-time": ("hw2", "%%time on the training cell", prepend("neural_net = SimpleNN()", "%%time\n"), False),
    "writefile-and-run": ("hw2", "%%writefile of a helper and %run of it", insert_before("class SimpleNN", "%%writefile helpers.py\nHIDDEN = 32\n",
                                                                                         "%run helpers.py\nprint(HIDDEN)"), False),
    "pip-install-without-network": ("hw2", "!pip install and %pip install, which fail at once without a network",
                                    insert_before("def mlp_forward", "!pip install -q torchmetrics\n%pip install -q einops"), False),
    "saved-outputs-with-an-error-and-an-interrupt": ("hw2", "saved outputs: text, a figure, an error, an interrupted cell",
                                                     saved_outputs, True),
    "device-from-cuda-is-available": ("hw2", "the device chosen with torch.cuda.is_available()", choose_device, False),
    "double-question-mark": ("hw2", "Tanh.backward?? after the Tanh cell", append("class Tanh", "\n\nTanh.backward??"), False),
    "widgets-html-and-a-plot": ("hw2", "stray rich output: a widget, HTML, a plot",
                                insert_before("def fix_leaf_init", "import ipywidgets as widgets\nfrom IPython.display import HTML, display\n"
                                              "display(HTML('<b>progress</b>'))\nslider = widgets.IntSlider(value=3)\ndisplay(slider)\n"
                                              "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()"), False),
}
# The notebooks graded: each the solution of one homework with the features named, added in this order.
NOTEBOOKS = {
    "colab-with-help": ["colab-drive-set-up", "colab-gpu-metadata", "help-after-q1"],
    "line-magics-and-shell": ["line-magic-call-before-the-imports", "shell-capture-after-q3", "cd-into-the-data-and-back"],
    "untidy-and-old": ["display-before-q2", "percent-operator-continued", "a-cell-that-raises-after-its-definitions",
                       "old-nbformat-minor"],
    "saved-outputs-timed-on-a-device": ["saved-outputs-with-an-error-and-an-interrupt", "device-from-cuda-is-available",
                                        "cell-magic-time"],
    "cell-magics": ["cell-magic-capture", "writefile-and-run", "double-question-mark"],
    "pip-and-widgets": ["pip-install-without-network", "widgets-html-and-a-plot"],
}
ASSIGNMENTS = sorted({a for a, *_ in FEATURES.values()})


def assignment_of(name: str) -> str:
    return FEATURES[NOTEBOOKS[name][0]][0]


def make(name: str) -> dict:
    nb = copy.deepcopy(solution(assignment_of(name)))
    for feature in NOTEBOOKS[name]:
        FEATURES[feature][2](nb)
    return nb


def carries(name: str) -> str:
    return "; ".join(FEATURES[feature][1] for feature in NOTEBOOKS[name])


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """{assignment: the folder of its made notebooks}."""
    made = {}
    for assignment in ASSIGNMENTS:
        folder = made[assignment] = tmp_path_factory.mktemp(f"real-{assignment}")
        for name in NOTEBOOKS:
            if assignment_of(name) == assignment:
                (folder / f"{name}.ipynb").write_text(json.dumps(make(name), indent=1))
    return made


@pytest.fixture(scope="module")
def graded(folders, tmp_path_factory):
    rows = {}
    for assignment, folder in folders.items():
        out = tmp_path_factory.mktemp(f"graded-real-{assignment}")
        done = autograder("grade", "--assignment", assignment, folder, "-o", out, "-j", "2")
        assert done.returncode == 0, done.stderr
        rows |= {row["file"]: (assignment, out, row) for row in read_sheet(out / "final_grades.csv")[1:]}
    return rows


def test_there_are_enough_features_of_each_homework_each_in_one_notebook_of_its_homework():
    assert all(sum(owner == a for owner, *_ in FEATURES.values()) >= 8 for a in ASSIGNMENTS)
    assert sorted(f for features in NOTEBOOKS.values() for f in features) == sorted(FEATURES)
    assert all(len({FEATURES[f][0] for f in features}) == 1 for features in NOTEBOOKS.values())


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_each_gets_full_marks(graded, name):
    assignment, out, row = graded[f"{name}.ipynb"]
    lost = {q.name: row[q.name] for q in load(assignment).questions if float(row[q.name]) != q.points}
    feedback = (out / "feedback" / f"{name}.md").read_text()
    assert (row["grading_status"], lost) == ("Completed", {}), f"{carries(name)}\n{feedback}"
    assert "While running the notebook" not in feedback, "a correct notebook's cells all ran"


@pytest.mark.parametrize("name", sorted(n for n, features in NOTEBOOKS.items() if any(FEATURES[f][3] for f in features)))
def test_otter_run_gives_full_marks_too(folders, autograder_zip, tmp_path, name):
    assignment = assignment_of(name)
    results = otter_run(autograder_zip(assignment), folders[assignment] / f"{name}.ipynb", tmp_path)
    assert total(results) == 100, results["output"]
