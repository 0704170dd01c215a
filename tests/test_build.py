"""The instructor's commands: build reproduces the committed notebooks, verify proves 100 and 0."""

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import GRADING_LIMITS, ROOT, autograder

from autograder.build.notebooks import CHECKS_PLACEHOLDER, unpack
from autograder.data.mnist import FILES, ensure_mnist
from autograder.homeworks import NAMES, load


@pytest.fixture(scope="module")
def copy_of_repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("repo")
    for folder in ("assignments", "student_template", "solutions"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copy(ROOT / "otter_config.json", root)
    return root


def test_committed_notebooks_match_the_master():
    done = autograder("build", "--check")
    assert done.returncode == 0, done.stderr


def test_two_builds_write_identical_files_and_bundles_of_the_template_and_the_data(copy_of_repo):
    first = autograder("build", "--root", str(copy_of_repo))
    assert first.returncode == 0, first.stderr
    raw = Path(ensure_mnist()) / "MNIST" / "raw"
    for name in NAMES:
        assert f"wrote dist/{name}-student.zip" in first.stderr
        with zipfile.ZipFile(copy_of_repo / "dist" / f"{name}-student.zip") as z:
            files = {n: z.read(n) for n in z.namelist()}
        assert files == {f"{name}/{name}.ipynb": (copy_of_repo / "student_template" / f"{name}.ipynb").read_bytes(),
                         **{f"{name}/data/MNIST/raw/{f}": (raw / f).read_bytes() for f in FILES}}
    files = [f"{folder}/{name}.ipynb" for name in NAMES for folder in ("student_template", "solutions")]
    files += [f"dist/{name}-{kind}.zip" for name in NAMES for kind in ("autograder", "student")]
    before = {f: (copy_of_repo / f).read_bytes() for f in files}
    assert autograder("build", "--root", str(copy_of_repo)).returncode == 0
    assert {f: (copy_of_repo / f).read_bytes() for f in files} == before


@pytest.mark.parametrize("assignment", NAMES)
def test_the_setup_cell_carries_exactly_the_public_checks(assignment):
    for folder in ("student_template", "solutions"):
        nb = json.loads((ROOT / folder / f"{assignment}.ipynb").read_text())
        setup = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
        assert CHECKS_PLACEHOLDER not in setup
        packed = setup.split(f'_write_checks("{assignment}-checks", "', 1)[1].split('"', 1)[0]
        assert unpack(packed) == nb["metadata"]["otter"]["tests"], folder


def test_check_names_a_stale_template(copy_of_repo):
    template = copy_of_repo / "student_template/hw1.ipynb"
    template.write_text(template.read_text().replace("Homework 1", "Homework one", 1))
    done = autograder("build", "--check", "--root", str(copy_of_repo))
    assert done.returncode == 1
    stale = done.stderr.splitlines()[-1]
    assert "student_template/hw1.ipynb" in stale and "solutions" not in stale


@pytest.mark.parametrize("assignment", NAMES)
def test_the_zip_carries_the_plugin_and_the_package(autograder_zip, assignment):
    with zipfile.ZipFile(autograder_zip(assignment)) as z:
        names = z.namelist()
        config = json.loads(z.read("otter_config.json"))
        environment = z.read("environment.yml").decode()
        setup = z.read("setup.sh").decode()
    shared = json.loads((ROOT / "otter_config.json").read_text())
    (options,) = [entry["autograder.otter_plugin.GradingPlugin"] for entry in shared["plugins"]]
    assert config["plugins"] == [{"autograder.otter_plugin.GradingPlugin": {**options, **GRADING_LIMITS, "assignment": assignment}}]
    assert {key: config[key] for key in shared if key != "plugins"} == {key: v for key, v in shared.items() if key != "plugins"}
    assert "assignment_name" not in config  # otter grades a notebook whose metadata lost the name; the plugin judges it
    wheel = next(n for n in names if n.endswith(".whl"))
    assert f"/autograder/source/{wheel}" in environment and "torch==2.14.1" in environment
    assert "hypothesis" not in environment and "pytest" not in environment
    assert setup.index("apt-get update") < setup.index("apt-get install -y bubblewrap")
    assert {f"tests/{q.name}.py" for q in load(assignment).questions} <= set(names)


@pytest.mark.parametrize("change, message", [
    ("  show_hidden: false\n", "assignments/hw1/hw1.ipynb: generate.show_hidden is False, otter_config.json says True"),
    ("        timeout: 100\n", "assignments/hw1/hw1.ipynb: the plugin's timeout is 100, otter_config.json says 300"),
])
def test_build_refuses_a_master_that_contradicts_the_shared_settings(tmp_path, change, message):
    shutil.copytree(ROOT / "assignments", tmp_path / "assignments")
    shutil.copy(ROOT / "otter_config.json", tmp_path)
    master = tmp_path / "assignments" / "hw1" / "hw1.ipynb"
    nb = json.loads(master.read_text())
    config = "".join(nb["cells"][0]["source"])
    anchor = "  plugins:\n" if "show_hidden" in change else "        assignment: hw1\n"
    nb["cells"][0]["source"] = config.replace(anchor, anchor + change if "timeout" in change else change + anchor)
    master.write_text(json.dumps(nb))
    for check in ([], ["--check"]):
        done = autograder("build", *check, "--root", str(tmp_path))
        assert done.returncode == 1 and message in done.stderr, done.stderr


def test_build_refuses_shared_settings_without_the_plugin_or_with_an_unknown_option(tmp_path):
    shutil.copytree(ROOT / "assignments", tmp_path / "assignments")
    for plugins, message in (([], "its plugins do not name autograder.otter_plugin.GradingPlugin"),
                             ([{"autograder.otter_plugin.GradingPlugin": {"time_out": 9}}], "the plugin has no options ['time_out']")):
        (tmp_path / "otter_config.json").write_text(json.dumps({"plugins": plugins}))
        done = autograder("build", "--check", "--root", str(tmp_path))
        assert done.returncode == 1 and message in done.stderr, done.stderr


def test_the_plugin_grades_with_the_limits_of_the_shared_settings(tmp_path):
    """A zip whose shared settings give graded calls 1 s: a function that computes for 3 s of CPU times out there
    (and would have finished under the default 20 s)."""
    from autograder.build import settings
    from autograder.build.commands import assemble
    from autograder.build.package import repack
    from conftest import otter_run

    shared = settings.shared(str(ROOT))
    shared["plugins"] = [{settings.PLUGIN: {**settings.plugin_options(shared), "call_timeout": 1}}]
    zip_path = tmp_path / "hw1-autograder.zip"
    repack(assemble("hw1", str(tmp_path / "assign"))["zip"], str(zip_path), "hw1", shared)
    notebook = tmp_path / "slow.ipynb"
    busy = "import time\ndef f(x):\n    start = time.process_time()\n    while time.process_time() - start < 3:\n        pass\n    return x**3 - 3 * x"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                               "source": busy}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    (out := tmp_path / "out").mkdir()
    results = otter_run(zip_path, notebook, out)
    (q1,) = [t for t in results["tests"] if t["name"] == "q1"]
    assert "timed out after 1 s of CPU time" in q1["output"], q1["output"]


def test_verify_proves_solution_100_and_template_0():
    done = autograder("verify")
    assert done.returncode == 0, done.stderr
    for name in NAMES:
        assert f"solutions/{name}.ipynb scored 100/100" in done.stdout
        assert f"student_template/{name}.ipynb scored 0/100" in done.stdout


def test_the_points_of_the_master_are_the_graders():
    for name in NAMES:
        nb = json.loads((ROOT / "solutions" / f"{name}.ipynb").read_text())
        tests = nb["metadata"]["otter"]["tests"]
        for question in load(name).questions:
            assert f"points = {question.points}" in tests[question.name], (name, question.name)


def test_verify_fails_when_the_template_gives_points(copy_of_repo):
    shutil.copy(copy_of_repo / "solutions/hw1.ipynb", copy_of_repo / "student_template/hw1.ipynb")
    done = autograder("verify", "--root", str(copy_of_repo), "--assignment", "hw1")
    assert done.returncode == 1
    assert "FAILED student_template/hw1.ipynb q1" in done.stderr


def test_hw1s_template_does_not_answer_question_8_and_the_solutions_explain_it():
    """The template shows the five snippets but runs none of them and states no outcome; the solutions explain each."""
    def texts(folder):
        nb = json.loads((ROOT / folder / "hw1.ipynb").read_text())
        return [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]

    template, solution = texts("student_template"), texts("solutions")
    (shown,) = [src for kind, src in template if kind == "markdown" and src.startswith("## B.5")]
    snippets = re.findall(r"```python\n(.*?)```", shown, re.DOTALL)
    assert len(snippets) == 5
    assert not [s for s in snippets for kind, src in template if kind == "code" and s.strip() in src]
    explanation = "### What actually happens"
    assert not [src for _, src in template if explanation in src or "(reason A)" in src or "tensor([6.])" in src]
    assert [src for kind, src in solution if kind == "markdown" and src.startswith(explanation)]


# The final formulas that the manual gradients implement: the templates leave them to the student's derivation.
DERIVED = {
    "hw1": [r"\sigma(z_i) - y_i", r"\sigma(z) - y", "sigmoid(z) - y", r"X^\top\big(\sigma", r"\mathrm{mean}(\sigma(z) - y)"],
    "hw2": [r"\tfrac{2}{n}(p - y)", r"\frac{2}{n}\,(p_i - y_i)", r"G_Z^\top X", r"H^\top \delta", r"1 - H \odot H", r"1 - \tanh(x)^2",
            "1 - out**2", r"\sigma(z) - y", r"\operatorname{diag}(s) - s s^\top", "s * (v - "],
}


@pytest.mark.parametrize("assignment", sorted(DERIVED))
def test_the_templates_ask_for_derivations_and_do_not_print_their_results(assignment):
    nb = json.loads((ROOT / "student_template" / f"{assignment}.ipynb").read_text())
    cells = ["".join(c["source"]) for c in nb["cells"]][1:]  # the setup cell carries the packed checks
    for formula in DERIVED[assignment]:
        assert not [c for c in cells if formula in c], formula
    derivations = [c for c in cells if c.startswith("**Your derivation.**")]
    assert len(derivations) == {"hw1": 1, "hw2": 3}[assignment]
