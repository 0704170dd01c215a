"""The instructor's guide, followed to add a homework: a copy of the repository, a master notebook and a folder of
declarations (``tests/new_homework/``, two questions), and nothing else; ``build`` and ``verify`` take it from
there, the solution scoring 100 and the template 0. Then its points change in the master alone."""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT, cli_env

pytestmark = pytest.mark.xdist_group("new-homework")  # one checkout, built, then changed: one worker runs them in order

FIXTURE = ROOT / "tests" / "new_homework"
CHECKOUT = ("autograder", "pyproject.toml", "requirements.txt", "otter_config.json")


def in_checkout(root, *args):
    """``python -m autograder ARGS`` with the package of the checkout at ``root``, as its instructor runs it."""
    env = cli_env()
    env["PYTHONPATH"] = os.pathsep.join([str(root), env["PYTHONPATH"]])
    return subprocess.run([sys.executable, "-m", "autograder", *args, "--root", str(root)], cwd=root, env=env,
                          capture_output=True, text=True)


def new_checkout(root):
    """``root``: a copy of the repository's package with hw9 added as the guide says, its declarations and its master."""
    for name in CHECKOUT:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, root)
    (root / "autograder" / "homeworks" / "hw9").mkdir()
    shutil.copy(FIXTURE / "hw9.py", root / "autograder" / "homeworks" / "hw9" / "__init__.py")
    (root / "assignments" / "hw9").mkdir(parents=True)
    shutil.copy(FIXTURE / "hw9.ipynb", root / "assignments" / "hw9" / "hw9.ipynb")
    return root


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    return new_checkout(tmp_path_factory.mktemp("checkout"))


def test_a_homework_is_a_master_and_a_folder(checkout):
    built = in_checkout(checkout, "build", "--assignment", "hw9")
    assert built.returncode == 0, built.stderr
    for path in ("student_template/hw9.ipynb", "solutions/hw9.ipynb", "dist/hw9-autograder.zip", "dist/hw9-student.zip"):
        assert (checkout / path).is_file(), path
    with zipfile.ZipFile(checkout / "dist" / "hw9-student.zip") as bundle:
        assert bundle.namelist() == ["hw9/hw9.ipynb"]  # hw9 reads no data, so its bundle carries none
    verified = in_checkout(checkout, "verify", "--assignment", "hw9")
    assert verified.returncode == 0, verified.stderr
    assert "solutions/hw9.ipynb scored 100/100" in verified.stdout
    assert "student_template/hw9.ipynb scored 0/100" in verified.stdout


def test_its_points_change_in_the_master_alone(checkout):
    master = checkout / "assignments" / "hw9" / "hw9.ipynb"
    master.write_text(master.read_text().replace("points: 40", "points: 30").replace("(40 points)", "(30 points)")
                      .replace("points: 60", "points: 70").replace("(60 points)", "(70 points)"))
    stale = in_checkout(checkout, "build", "--check", "--assignment", "hw9")
    assert stale.returncode == 1 and "autograder/homeworks/hw9/points.json" in stale.stderr, stale.stderr
    assert in_checkout(checkout, "build", "--assignment", "hw9").returncode == 0
    assert json.loads((checkout / "autograder" / "homeworks" / "hw9" / "points.json").read_text()) == {"q1": 30, "q2": 70}
    verified = in_checkout(checkout, "verify", "--assignment", "hw9")
    assert verified.returncode == 0 and "solutions/hw9.ipynb scored 100/100" in verified.stdout, verified.stderr


def test_build_refuses_a_question_whose_text_states_other_points(tmp_path):
    root = new_checkout(tmp_path)
    master = root / "assignments" / "hw9" / "hw9.ipynb"
    master.write_text(master.read_text().replace("(60 points)", "(50 points)"))
    done = in_checkout(root, "build", "--assignment", "hw9")
    assert done.returncode == 1
    assert "q2: its BEGIN QUESTION cell gives 60 points, its text says (50 points)" in done.stderr
    assert not (root / "solutions" / "hw9.ipynb").exists()


def test_build_refuses_a_master_whose_questions_are_not_the_declarations(tmp_path):
    root = new_checkout(tmp_path)
    declarations = root / "autograder" / "homeworks" / "hw9" / "__init__.py"
    declarations.write_text(declarations.read_text().replace('{"q1": q1, "q2": q2}', '{"q1": q1}'))
    done = in_checkout(root, "build", "--assignment", "hw9")
    assert done.returncode == 1
    assert "error: hw9: its master's questions ['q1', 'q2'] are not its declarations' ['q1']" in done.stderr
    assert not (root / "dist" / "hw9-student.zip").exists()
