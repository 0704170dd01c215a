"""Every isolation level runs the attack rows that rest on the sandbox, on the machine where it is the one grading uses:

- bubblewrap: this machine (``test_attacks.py``, every row);
- a uid of its own with seccomp and Landlock: Gradescope's container, emulated (``machines.gradescope``), where
  Docker's profile keeps bubblewrap from starting; graded there through ``run_autograder`` as Gradescope does,
  and the rows through the grader's own command after the same preparation the otter plugin makes;
- a process group with seccomp and Landlock: a TA's laptop without bubblewrap (``machines.laptop``), where
  ``grade`` refuses to run unless told ``--run-as-my-user``.

Each row gets the grade it gets under bubblewrap, except the rows the README lists as not holding at a level.
Graded here are the rows whose outcome the level decides (``DECIDED_BY_THE_LEVEL``): what the notebook can read,
write, reach or kill beside its job, and how its processes are stopped. The other rows end the same way at every
level because the grader's own code ends them: the replies judged alone (patched comparators, objects that lie,
lookup tables, malformed files, dtype drift, forged observations), the event channel parsed by the grader (rows
36 to 38), exits and crashes of the notebook's own process (rows 8 and 28), its output capped as it is read
(row 17), its state inside its own process (rows 24, 26), files beside the notebook that `grade` never collects
(row 35), and the CPU limit met by a second and third busy loop (rows 10 at the top level and 33: row 10 in a
graded call is kept).
"""

import csv
import json
import os
from pathlib import Path

import pytest
from conftest import ROOT, total
from corpus import Corpus

import machines
from autograder.build.package import build_wheel

pytestmark = pytest.mark.skipif(bool(machines.available()), reason=machines.available() or "")

CORPUS = Corpus(ROOT / "tests" / "attacks" / "hw1", "hw1")  # hw2's rows are all about judging, none about the sandbox
DECIDED_BY_THE_LEVEL = ["row04-forged-results.ipynb", "row05-otter-log.ipynb", "row06-read-hidden-tests.ipynb",
                        "row07-introspect-secrets.ipynb", "row09-kill-the-grader.ipynb", "row10-busy-loop-in-graded-call.ipynb",
                        "row11-blocking-without-cpu.ipynb", "row12-memory-bomb.ipynb", "row14-fork-and-thread-bombs.ipynb",
                        "row15-setsid-daemon.ipynb", "row16-disk-abuse.ipynb", "row18-hostile-output-files.ipynb",
                        "row19-network.ipynb", "row20-snoop-environment.ipynb", "row21-detects-the-grader.ipynb",
                        "row23-module-shadowing.ipynb", "row27-shell-escapes.ipynb"]
ROWS = [name for name in CORPUS.names() if name in DECIDED_BY_THE_LEVEL]
# What does not hold where only a process group and the same user separate the notebook from the grader.
NOT_AT_THE_PROCESS_GROUP_LEVEL = {
    "row09-kill-the-grader.ipynb": "`kill -9 -1` as the same user kills the grader too: not graded at this level",
    "row14-fork-and-thread-bombs.ipynb": "only RLIMIT_NPROC, counted over all of the user's processes, and the watchdog's "
                                         "quarter-second look stand in a fork bomb's way: not graded at this level",
}
NOT_GRADED_AT_THE_PROCESS_GROUP_LEVEL = {"row09-kill-the-grader.ipynb", "row14-fork-and-thread-bombs.ipynb"}
GRADER_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp"}


def test_the_rows_the_level_decides_are_rows_of_the_corpus():
    assert len(ROWS) == len(DECIDED_BY_THE_LEVEL)


@pytest.fixture(scope="module")
def miniforge(tmp_path_factory):
    folder = tmp_path_factory.mktemp("miniforge3")
    return machines.conda_like_environment(folder, Path(build_wheel(str(tmp_path_factory.mktemp("wheel")))))


def rows_of(sheet: Path) -> dict[str, dict]:
    with open(sheet, newline="", encoding="utf-8") as f:
        return {row["file"]: row for row in csv.DictReader(f)}


def problems(corpus: Corpus, rows: dict, name: str) -> list[str]:
    want, row = corpus.expected[name], rows[name]
    wrong = [f"{q}: {row[q]}, expected {want['scores'][q]:g}" for q in corpus.questions if abs(float(row[q]) - want["scores"][q]) > 1e-4]
    return wrong + ([f"status {row['grading_status']!r}"] if row["grading_status"] != want["status"] else [])


def run_autograder(miniforge, autograder_zip, tmp_path, assignment: str, notebook: Path):
    folder = machines.autograder_folder(tmp_path / "autograder", autograder_zip(assignment), notebook)
    done = machines.gradescope(miniforge, folder, [], ["bash", "/autograder/run_autograder"], GRADER_ENV)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((folder / "results" / "results.json").read_text()), done


def test_gradescope_grades_at_the_uid_level_with_seccomp_and_landlock(miniforge, autograder_zip, tmp_path):
    results, done = run_autograder(miniforge, autograder_zip, tmp_path, "hw1", ROOT / "examples" / "hw1" / "correct-close-to-solution.ipynb")
    assert total(results) == 100
    isolation = next(line for line in results["output"].splitlines() if line.startswith("Isolation: "))
    for words in ("an unprivileged uid of its own", "seccomp", "Landlock", "bubblewrap unavailable"):
        assert words in isolation.replace("\\", ""), isolation


@pytest.mark.parametrize("row", ["row04-forged-results.ipynb", "row06-read-hidden-tests.ipynb", "row09-kill-the-grader.ipynb"])
def test_rows_about_the_container_hold_through_run_autograder(miniforge, autograder_zip, tmp_path, row):
    """The rows that aim at Gradescope's own files and processes: forged results, the hidden tests, the grader."""
    results, _ = run_autograder(miniforge, autograder_zip, tmp_path, "hw1", CORPUS.folder / row)
    scores = {t["name"]: t["score"] for t in results["tests"] if t["name"] in CORPUS.questions}
    assert scores == pytest.approx(CORPUS.expected[row]["scores"], abs=1e-4)


@pytest.fixture(scope="module")
def corpus_in_the_container(miniforge, tmp_path_factory):
    """The rows graded by ``python -m autograder grade`` in the container, after the plugin's preparation."""
    folder = machines.autograder_folder(tmp_path_factory.mktemp("autograder"), _any_zip(tmp_path_factory), None)
    rows = _linked(ROWS, tmp_path_factory.mktemp("rows"))
    script = ("set -e; mkdir -p /tmp/attack-row27-canary; echo keep > /tmp/attack-row27-canary/keep; "
              "python -c \"from autograder.sandbox import isolation; isolation.prepare_container('/autograder')\"; "
              f"python -m autograder grade -a hw1 /corpus -o /autograder/results/hw1 -j 2 {' '.join(CORPUS.limits)}")
    env = dict(GRADER_ENV, PATH="/root/miniforge3/envs/otter-env/bin:" + GRADER_ENV["PATH"], GRADER_SECRET="attack-row20-secret")
    done = machines.gradescope(miniforge, folder, [(rows, "/corpus"), (CORPUS.folder, str(CORPUS.folder))], ["sh", "-c", script], env)
    assert done.returncode == 0, done.stderr[-5000:]
    return rows_of(folder / "results" / "hw1" / "final_grades.csv"), folder / "results", done


def _linked(names: list[str], folder: Path) -> Path:
    """``folder`` holding a link to each of the corpus's notebooks ``names``."""
    for name in names:
        os.symlink(next(CORPUS.folder.rglob(name)), folder / name)
    return folder


def _any_zip(tmp_path_factory) -> Path:
    """A zip to unpack as /autograder/source: the corpus is graded by the command, the layout is what matters."""
    path = tmp_path_factory.mktemp("zip") / "autograder.zip"
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        z.writestr("run_autograder", "#!/bin/sh\n")
        z.writestr("tests/q1.py", "# hidden tests live here\n")
    return path


@pytest.mark.xdist_group("machines-container")
@pytest.mark.parametrize("name", ROWS)
def test_the_attack_rows_at_the_uid_level(corpus_in_the_container, name):
    rows, _, _ = corpus_in_the_container
    assert problems(CORPUS, rows, name) == [], CORPUS.expected[name]["about"]


@pytest.mark.xdist_group("machines-container")
def test_the_uid_level_keeps_the_graders_secrets_and_machine(corpus_in_the_container):
    rows, out, done = corpus_in_the_container
    graded = [row for row in list(rows.values())[1:] if row["grading_status"] == "Completed"]
    assert graded and all("an unprivileged uid of its own" in row["isolation"] for row in graded)
    for path in out.rglob("*"):
        if path.is_file():
            assert b"attack-row20-secret" not in path.read_bytes(), path


def test_a_laptop_without_bubblewrap_is_refused_and_says_what_to_do(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    notebook = ROOT / "examples" / "hw1" / "empty.ipynb"
    done = machines.laptop([(ROOT, str(ROOT)), (out, "/out")],
                           [str(machines.VENV / "bin" / "python"), "-m", "autograder", "grade", "-a", "hw1", str(notebook), "-o", "/out"],
                           dict(GRADER_ENV, PYTHONPATH=str(ROOT)))
    assert done.returncode == 2, done.stderr
    for words in ("no sandbox here", "apt-get install bubblewrap", "dnf install bubblewrap", "pacman -S bubblewrap",
                  "otter grade", "--run-as-my-user"):
        assert words in done.stderr
    assert not (out / "final_grades.csv").exists()


@pytest.fixture(scope="module")
def corpus_on_a_laptop(tmp_path_factory):
    """The rows but those that cannot be graded at this level, as a TA without bubblewrap grades them."""
    folder = tmp_path_factory.mktemp("laptop")
    (folder / "corpus").mkdir()
    _linked([name for name in ROWS if name not in NOT_GRADED_AT_THE_PROCESS_GROUP_LEVEL], folder / "corpus")
    (folder / "canary").mkdir()
    command = [str(machines.VENV / "bin" / "python"), "-m", "autograder", "grade", "-a", "hw1", "/laptop/corpus", "-o", "/laptop/out",
               "-j", "2", "--run-as-my-user", *CORPUS.limits]
    done = machines.laptop([(ROOT, str(ROOT)), (folder, "/laptop"), (folder / "canary", "/tmp/attack-row27-canary")], command,
                           dict(GRADER_ENV, PYTHONPATH=str(ROOT), GRADER_SECRET="attack-row20-secret"))
    assert done.returncode == 0, done.stderr[-5000:]
    return rows_of(folder / "out" / "final_grades.csv"), done


@pytest.mark.xdist_group("machines-laptop")
@pytest.mark.parametrize("name", [n for n in ROWS if n not in NOT_GRADED_AT_THE_PROCESS_GROUP_LEVEL])
def test_the_attack_rows_at_the_process_group_level(corpus_on_a_laptop, name):
    rows, _ = corpus_on_a_laptop
    if rows[name]["grading_status"] == "Completed":
        assert "a process group of its own" in rows[name]["isolation"] and "Landlock" in rows[name]["isolation"]
    found = problems(CORPUS, rows, name)
    if name in NOT_AT_THE_PROCESS_GROUP_LEVEL:
        assert found, f"{name} holds at the process-group level too: the README says it does not"
    else:
        assert found == [], CORPUS.expected[name]["about"]
