"""The attack corpus of research/security.md section 7, graded as a TA grades it: every submission gets exactly
the grade a correct grader gives, and no attack reaches past the sandbox.

``tests/attacks/hwN/`` holds one notebook per row (file names start with the row number) and ``expected.json``
(the format of :mod:`corpus`). A row that is "a notebook plus files" has a folder of its own: ``grade`` collects
only the ``*.ipynb`` files, so the extra files never reach the sandbox, and under ``otter run`` the folder is
zipped as a Gradescope upload. Row 23 ships no ``conftest.py``: pytest would import one from this tree.

Not here: rows 13 (GPU memory) and 31 (another device) need a GPU; row 32 (``.cuda()`` on a CPU-only grader) is
checked only where CUDA is absent; the zip-level parts of row 29 (``../`` paths, links, several notebooks) belong
to the intake of submission zips and are tested in ``test_intake.py``.
"""

import json
import os
import signal
import site
import zipfile
from pathlib import Path

import pytest
import torch
from conftest import ROOT, autograder, otter_run
from corpus import Corpus

from autograder.homeworks import NAMES
from autograder.intake.notebook import MAX_NOTEBOOK_BYTES

pytestmark = pytest.mark.xdist_group("attacks")  # its tests share one grading of the corpus: one worker runs them all

ATTACKS = ROOT / "tests" / "attacks"
CORPORA = {name: Corpus(ATTACKS / name, name) for name in NAMES}
CASES = [(a, n) for a in NAMES for n in CORPORA[a].names()]
SECRET = f"attack-row20-{os.urandom(8).hex()}"

PICKLE_RAN = Path("/tmp/attack-row05-pickle-ran")
DAEMON_MARKER = "attack-row15-daemon-" + "marker"  # split, so that this file's own text never matches
DAEMON_ALIVE = Path("/tmp/attack-row15-daemon-alive")
CANARY = Path("/tmp/attack-row27-canary")
PERSISTED = "zz-attack-row23.pth"
FORGED = ("forged-by-row04", "forged-by-row15")


def path_of(assignment: str, name: str) -> Path:
    return next(CORPORA[assignment].folder.rglob(name))


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """``graded(assignment)``: the corpus graded once, with a secret in the grader's environment and the
    files that the attacks aim at put in place."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GRADER_SECRET", SECRET)
        PICKLE_RAN.unlink(missing_ok=True)
        DAEMON_ALIVE.unlink(missing_ok=True)
        CANARY.mkdir(exist_ok=True)
        (CANARY / "keep").write_text("the grader's machine\n")
        autograder_existed = os.path.exists("/autograder")
        done = {a: CORPORA[a].graded(tmp_path_factory) for a in NAMES}
    return lambda assignment: done[assignment] + (autograder_existed,)


@pytest.mark.parametrize("assignment", NAMES)
def test_every_notebook_in_the_folder_has_an_expected_grade(assignment):
    names = [p.name for p in CORPORA[assignment].folder.rglob("*.ipynb")]
    assert len(names) == len(set(names)), "file names must be unique: the grade sheet names files without their folder"
    assert set(names) == set(CORPORA[assignment].expected)
    assert all(want["about"].startswith("Row ") for want in CORPORA[assignment].expected.values())


@pytest.mark.parametrize("assignment, name", CASES)
def test_each_attack_gets_exactly_its_grade(tmp_path_factory, graded, assignment, name):
    if name.startswith("row32-") and torch.cuda.is_available():
        pytest.skip("row 32 is about a grader without CUDA")
    graded(assignment)
    corpus = CORPORA[assignment]
    assert corpus.problems(tmp_path_factory, name) == [], corpus.expected[name]["about"]


@pytest.mark.parametrize("assignment", NAMES)
def test_the_results_files_are_the_graders_own(graded, assignment):
    """Rows 4 and 15: whatever a submission wrote or forged, every results file holds the grade the sheet holds."""
    out, done, rows, _ = graded(assignment)
    graded_rows = {name: row for name, row in rows.items() if name != "points-per-question"}
    assert done.returncode == 0 and set(graded_rows) == set(CORPORA[assignment].expected)  # row 9: the grader survived
    for name, row in graded_rows.items():
        results = CORPORA[assignment].results(out, name)
        assert results["score"] == pytest.approx(float(row["total_points_earned"]), abs=1e-3), name
    for path in [out / "final_grades.csv", *(out / "results").glob("*.json")]:  # feedback may quote what a notebook printed
        text = path.read_text(errors="replace")
        assert not any(mark in text for mark in FORGED), f"{path} holds a forged value"


def test_row04_forged_results_land_nowhere_the_grader_reads(graded):
    _, done, rows, autograder_existed = graded("hw1")
    if not autograder_existed:
        assert not os.path.exists("/autograder"), "the submission created /autograder on the grader's machine"
    assert float(rows["row04-forged-results.ipynb"]["total_points_earned"]) == 4
    assert '"score": 100' not in done.stdout


def test_row05_no_pickle_is_ever_loaded(graded):
    graded("hw1")
    assert not PICKLE_RAN.exists(), "a pickle written or shipped by the submission was loaded by the grader"


def test_row15_no_process_of_a_submission_outlives_grading(graded):
    graded("hw1")
    survivors = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if DAEMON_MARKER.encode() in cmdline and int(pid) != os.getpid():
            survivors.append(int(pid))
    for pid in survivors:  # the submission's own daemons: stop them before failing
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert survivors == [], "a daemon started by the submission survived grading"
    assert not DAEMON_ALIVE.exists(), "a daemon started by the submission kept running after its job was killed"


def test_row17_output_flood_is_capped(graded):
    out, done, _, _ = graded("hw1")
    feedback = out / "feedback" / "row17-output-flood.md"
    assert feedback.stat().st_size < 64 * 1024
    assert (out / "results" / "row17-output-flood.json").stat().st_size < 64 * 1024
    assert len(done.stdout) + len(done.stderr) < 64 * 1024
    assert "left out" in feedback.read_text(), "the feedback does not say that output was left out"


@pytest.mark.parametrize("assignment", NAMES)
def test_row20_the_graders_environment_never_shows(graded, assignment):
    out, done, _, _ = graded(assignment)
    assert SECRET not in done.stdout + done.stderr
    for path in out.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), f"the grader's secret appears in {path}"


def test_row23_nothing_persists_into_site_packages(graded):
    graded("hw1")
    folders = site.getsitepackages() + [site.getusersitepackages()]
    assert [f for f in folders if os.path.exists(os.path.join(f, PERSISTED))] == []


def test_row27_shell_escapes_leave_the_machine_alone(graded):
    graded("hw1")
    assert (CANARY / "keep").read_text() == "the grader's machine\n"


def test_row29_an_oversized_notebook_is_not_graded(tmp_path):
    notebook = tmp_path / "row29-oversized.ipynb"
    padding = "x" * (MAX_NOTEBOOK_BYTES + 1)
    notebook.write_text(json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": padding}],
                                    "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    done = autograder("grade", "--assignment", "hw1", notebook, "-o", tmp_path / "out", "-j", "1")
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "out" / "results" / "row29-oversized.json").read_text())
    assert results["score"] == 0 and "file too large" in results["extra_data"]["grading_status"]


def _submission(assignment: str, name: str, tmp_path: Path) -> Path:
    """The notebook, or, for a row with extra files, the zip a student would upload."""
    notebook = path_of(assignment, name)
    if notebook.parent == CORPORA[assignment].folder:
        return notebook
    upload = tmp_path / f"{notebook.stem}.zip"
    with zipfile.ZipFile(upload, "w") as z:
        for path in sorted(notebook.parent.iterdir()):
            z.write(path, path.name)
    return upload


@pytest.mark.parametrize("assignment, name", [(a, n) for a, n in CASES if CORPORA[a].expected[n].get("otter_run")])
def test_otter_run_with_the_zip_gives_the_same_scores(autograder_zip, tmp_path, assignment, name):
    """Rows 1, 4, 5, 10: forged results, .OTTER_LOG, in-kernel monkeypatching and top-level loops under otter."""
    PICKLE_RAN.unlink(missing_ok=True)
    out = tmp_path / "out"
    out.mkdir()
    results = otter_run(autograder_zip(assignment), _submission(assignment, name, tmp_path), out)
    scores = {t["name"]: t["score"] for t in results["tests"] if t["name"] in CORPORA[assignment].questions}
    assert scores == pytest.approx(CORPORA[assignment].expected[name]["scores"], abs=1e-4)
    assert not PICKLE_RAN.exists(), "otter run loaded a pickle from the submission"
    assert not any(mark in json.dumps(results) for mark in FORGED)
