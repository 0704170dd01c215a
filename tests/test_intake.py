"""What a TA hands to ``grade``: Gradescope's export zip (hostile entries included), plain zips, bad zips."""

import os
import stat
import subprocess
import sys
import zipfile

from conftest import ROOT, autograder, cli_env
from corpus import read_sheet

from autograder.intake import safezip

EXAMPLES = ROOT / "examples" / "hw1"
TOP = "assignment_4242_export"
METADATA = """\
submission_101:
  :submitters:
  - :name: Jane Doe
    :sid: '9001'
    :email: jane@example.edu
  :created_at: 2024-03-01 21:14:09.000000000 -08:00
  :score: 0.0
submission_102:
  :submitters:
  - :email: kim@example.edu
  :created_at: 2024-03-01 22:00:00.000000000 -08:00
submission_103:
  :submitters:
  - :sid: '9003'
submission_104:
  :submitters:
  - :name: Jane Doe
    :email: jane.other@example.edu
"""


def export_zip(path):
    """A Gradescope export with four submissions, a second notebook, and three hostile entries."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{TOP}/submission_metadata.yml", METADATA)
        z.write(EXAMPLES / "untouched-template.ipynb", f"{TOP}/submission_101/hw1.ipynb")
        z.write(EXAMPLES / "not-a-notebook.ipynb", f"{TOP}/submission_101/scratch.ipynb")
        z.write(EXAMPLES / "not-a-notebook.ipynb", f"{TOP}/submission_102/my work.ipynb")
        z.writestr(f"{TOP}/submission_103/answers.py", "print('hi')\n")
        z.writestr(f"{TOP}/submission_104/hw1.ipynb", b"\0" * (safezip.MAX_NOTEBOOK_BYTES + 1))
        z.writestr("../evil.ipynb", "{}")
        link = zipfile.ZipInfo(f"{TOP}/submission_102/link.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")


def test_a_gradescope_export_is_graded_by_student_and_hostile_entries_are_refused(tmp_path):
    export_zip(tmp_path / "submissions.zip")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    # The CLI as a TA types it, with its temporary files in a folder of our own to see them removed.
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "-a", "hw1", tmp_path / "submissions.zip",
                           "-o", tmp_path / "out", "-j", "2"], cwd=ROOT, capture_output=True, text=True,
                          env=cli_env(TMPDIR=str(scratch)))
    assert done.returncode == 0, done.stderr
    assert "'../evil.ipynb' not extracted: path leaves the folder" in done.stderr
    assert f"'{TOP}/submission_102/link.ipynb' not extracted: a link" in done.stderr
    assert not (tmp_path / "evil.ipynb").exists() and not (scratch / "evil.ipynb").exists()
    assert [n for n in os.listdir(scratch) if n.startswith("autograder-intake-")] == []

    rows = {row["file"]: row for row in read_sheet(tmp_path / "out" / "final_grades.csv")[1:]}
    assert sorted(rows) == ["103", "Jane Doe", "Jane Doe-2", "kim@example.edu"]
    jane = rows["Jane Doe"]
    assert (jane["student"], jane["email"], jane["student_id"], jane["submission_id"]) == \
        ("Jane Doe", "jane@example.edu", "9001", "101")
    assert jane["grading_status"] == "Completed"  # hw1.ipynb is chosen over scratch.ipynb
    assert rows["kim@example.edu"]["grading_status"].startswith("Not graded: not a notebook")
    assert rows["103"]["grading_status"] == "Not graded: no notebook in the submission (files: answers.py)"
    other = rows["Jane Doe-2"]
    assert other["email"] == "jane.other@example.edu" and other["submission_id"] == "104"
    assert "hw1.ipynb' not extracted: larger than 50 MB" in other["grading_status"]
    assert (tmp_path / "out" / "results" / "Jane Doe-2.json").exists()
    assert (tmp_path / "out" / "feedback" / "kim@example.edu.md").exists()


def test_a_folder_of_several_notebooks_without_the_assignment_name_grades_each(tmp_path):
    export = tmp_path / "export"
    (export / "submission_7").mkdir(parents=True)
    (export / "submission_metadata.yml").write_text("submission_7:\n  :submitters:\n  - :name: Ana Lima\n")
    (export / "submission_7" / "a.ipynb").write_bytes(b"")
    (export / "submission_7" / "b.ipynb").write_text("[]")
    done = autograder("grade", "-a", "hw1", export, "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    rows = read_sheet(tmp_path / "out" / "final_grades.csv")[1:]
    assert [(r["file"], r["grading_status"]) for r in rows] == [
        ("Ana Lima (a.ipynb)", "Not graded: empty file"),
        ("Ana Lima (b.ipynb)", "Not graded: not a notebook (no list of cells)"),
    ]


def test_a_bad_zip_gets_a_row_and_the_rest_is_graded(tmp_path):
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    with zipfile.ZipFile(tmp_path / "plain.zip", "w") as z:
        z.write(EXAMPLES / "empty.ipynb", "week3/empty.ipynb")
    done = autograder("grade", "-a", "hw1", tmp_path / "broken.zip", tmp_path / "plain.zip", "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    rows = {r["file"]: r["grading_status"] for r in read_sheet(tmp_path / "out" / "final_grades.csv")[1:]}
    assert rows["broken.zip"].startswith("Not graded: not a zip file")
    assert rows["empty.ipynb"] == "Not graded: empty file"


def test_extraction_counts_the_bytes_it_writes(tmp_path):
    with zipfile.ZipFile(tmp_path / "z.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("a", "b", "c"):
            z.writestr(name, b"x" * 1000)
        z.writestr("big", b"x" * 5000)
    (tmp_path / "out").mkdir()
    refused = safezip.extract(tmp_path / "z.zip", tmp_path / "out", max_file_bytes=4000, max_total_bytes=2500)
    assert [(r.entry, r.reason) for r in refused] == [
        ("c", "the zip holds more than 2500 bytes in all"),
        ("big", "the zip holds more than 2500 bytes in all"),
    ]
    assert sorted(os.listdir(tmp_path / "out")) == ["a", "b"]
    refused = safezip.extract(tmp_path / "z.zip", tmp_path / "out", max_file_bytes=4000)
    assert [(r.entry, r.reason) for r in refused] == [("big", "larger than 4000 bytes, the limit for one file")]
