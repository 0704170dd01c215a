"""A batch as a TA runs it: saved as it goes, refused or resumed or redone on a second run, stopped by Ctrl-C."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from conftest import ROOT, autograder, cli_env
from corpus import read_sheet

from autograder.homeworks import load
from autograder.judging.results import Check, QuestionResult, SubmissionResult
from autograder.report import summary

EXAMPLES = ROOT / "examples" / "hw1"


def finished_lines(stderr: str) -> dict[str, str]:
    """{file: its ``[k/N] file: ...`` progress line}."""
    return {m.group(2): m.group(0) for m in re.finditer(r"^\[(\d+/\d+)\] (\S+): .*$", stderr, re.M)}


def test_a_second_run_refuses_resumes_only_what_changed_or_starts_again(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / "a.ipynb").write_bytes(b"")
    (subs / "b.ipynb").write_text("[1, 2, 3]")
    first = autograder("grade", "-a", "hw1", subs, "-o", out, "-j", "1")
    assert first.returncode == 0, first.stderr
    assert set(finished_lines(first.stderr)) == {"a.ipynb", "b.ipynb"}
    assert sorted(os.listdir(out / "results")) == ["a.json", "b.json"]

    again = autograder("grade", "-a", "hw1", subs, "-o", out)
    assert again.returncode == 2 and "already holds the grades of 2 submission(s)" in again.stderr
    assert "--resume" in again.stderr and "--force" in again.stderr

    (subs / "b.ipynb").write_text("[1]")  # changed since it was graded
    (subs / "c.ipynb").write_text("[]")  # new
    resumed = autograder("grade", "-a", "hw1", subs, "-o", out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "1 submission(s) already graded" in resumed.stderr and "2 to grade" in resumed.stderr
    assert set(finished_lines(resumed.stderr)) == {"b.ipynb", "c.ipynb"}
    assert [r["file"] for r in read_sheet(out / "final_grades.csv")[1:]] == ["a.ipynb", "b.ipynb", "c.ipynb"]
    assert json.loads((out / "summary.json").read_text())["submissions"] == 3

    other_assignment = autograder("grade", "-a", "hw2", subs, "-o", out, "--resume")
    assert set(finished_lines(other_assignment.stderr)) == {"a.ipynb", "b.ipynb", "c.ipynb"}

    redone = autograder("grade", "-a", "hw1", subs / "a.ipynb", "-o", out, "--force")
    assert redone.returncode == 0, redone.stderr
    assert os.listdir(out / "results") == ["a.json"]


def test_the_summary_is_printed_and_written_with_a_histogram(tmp_path):
    done = autograder("grade", "-a", "hw1", EXAMPLES / "untouched-template.ipynb", EXAMPLES / "empty.ipynb", "-o", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "hw1: 2 submission(s), 1 not graded (counted as 0)" in done.stdout
    assert (tmp_path / "summary.txt").read_text().strip() in done.stdout
    assert (tmp_path / "histogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_summary_figures():
    homework = load("hw1")

    def result(name, earned):  # earned: {question: points earned}
        questions = [QuestionResult(q.name, q.points, [Check("c", q.points, True)] if q.name in earned else
                                    [Check("c", q.points, False)]) for q in homework.questions]
        return SubmissionResult(name, "hw1", questions)

    results = [result("x", {"q1", "q10"}), result("y", {"q1"}), result("z", {})]  # totals 30, 10, 0
    figures = summary.figures(homework, results)
    assert (figures["mean"], figures["median"], figures["min"], figures["max"]) == (13.3333, 10, 0, 30)
    assert figures["questions"]["q1"] == {"points": 10, "mean": 6.6667, "percent": 66.7}
    assert figures["questions"]["q10"] == {"points": 20, "mean": 6.6667, "percent": 33.3}
    assert "q10:   6.67 / 20   ( 33.3%)" in summary.text(figures)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[1] == str(pid):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a killed orphan may wait as a zombie to be reaped
    except OSError:
        return False


def start(*args):
    """The CLI as started from a terminal, where Ctrl-C is not ignored (as it is for a job a script put in the background)."""
    return subprocess.Popen([sys.executable, "-m", "autograder", *map(str, args)], cwd=ROOT, env=cli_env(),
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def test_ctrl_c_keeps_every_finished_grade_and_says_how_to_resume(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    shutil.copy(EXAMPLES / "empty.ipynb", subs / "a.ipynb")
    shutil.copy(EXAMPLES / "untouched-template.ipynb", subs / "b.ipynb")
    shutil.copy(EXAMPLES / "untouched-template.ipynb", subs / "c.ipynb")
    grading = start("grade", "-a", "hw1", subs, "-o", out, "-j", "1")
    lines = []
    while not any(line.startswith("[1/3]") for line in lines):
        lines.append(grading.stderr.readline())
    grading.send_signal(signal.SIGINT)
    stderr = "".join(lines) + grading.stderr.read()
    assert grading.wait() == 130
    saved = int(re.search(r"interrupted: (\d) of 3 submission\(s\) graded and saved", stderr).group(1))
    assert 1 <= saved < 3 and len(os.listdir(out / "results")) == saved
    assert f"python -m autograder grade -a hw1 {subs} -o {out} -j 1 --resume" in stderr

    resumed = autograder("grade", "-a", "hw1", subs, "-o", out, "-j", "1", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert len(finished_lines(resumed.stderr)) == 3 - saved
    assert len(read_sheet(out / "final_grades.csv")) == 1 + 3


def test_a_second_ctrl_c_abandons_the_running_notebook_and_kills_it(tmp_path):
    grading = start("grade", "-a", "hw1", EXAMPLES / "hang-in-top-level-cell.ipynb", "-o", tmp_path, "-j", "1")
    assert grading.stderr.readline().startswith("grading 1 submission(s)")
    deadline = time.monotonic() + 30
    while not children_of(grading.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    sandboxed = children_of(grading.pid)
    assert sandboxed
    grading.send_signal(signal.SIGINT)
    time.sleep(0.5)
    grading.send_signal(signal.SIGINT)
    assert grading.wait(timeout=15) == 130
    assert "0 of 1 submission(s) graded and saved" in grading.stderr.read()
    time.sleep(0.5)
    assert not [pid for pid in sandboxed if alive(pid)]
