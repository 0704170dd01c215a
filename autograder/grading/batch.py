"""Grade many submissions in parallel, saving each as it finishes, so that a stopped batch can resume.

Per submission the output folder gets its reports (:mod:`autograder.report`) and, written last,
``.resume/<name>.json``: the whole result with the assignment and the SHA-256 of the notebook it came
from. ``--resume`` reads those back instead of grading again when the assignment and the notebook's
bytes are the same.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from autograder import report
from autograder.grading import syntax
from autograder.grading.grade import failed, grade, ungraded
from autograder.grading.progress import Progress
from autograder.homeworks import Homework
from autograder.intake import Submission, stem
from autograder.judging.results import Check, QuestionResult, SubmissionResult
from autograder.report import safe
from autograder.sandbox import watchdog
from autograder.sandbox.isolation import Isolation
from autograder.sandbox.protocol import Limits

OUTPUT_FOLDERS = ("results", "feedback", ".resume")


class Interrupted(Exception):
    """Ctrl-C: every grade finished so far is saved; ``abandoned`` submissions were being graded and are not."""

    def __init__(self, saved: int, total: int, abandoned: int):
        super().__init__(f"{saved} of {total} saved")
        self.saved, self.total, self.abandoned = saved, total, abandoned


def saved_grades(out: str) -> int:
    """How many submissions an earlier run has saved in ``out``."""
    folder = os.path.join(out, "results")
    return sum(1 for n in os.listdir(folder) if n.endswith(".json")) if os.path.isdir(folder) else 0


def clear(out: str) -> None:
    """Remove what an earlier run wrote per submission (only the folders this package writes)."""
    for name in OUTPUT_FOLDERS:
        shutil.rmtree(os.path.join(out, name), ignore_errors=True)


def grade_all(submissions: list[Submission], homework: Homework, out: str, jobs: int, limits: Limits,
              resume: bool = False, progress=sys.stderr, level: Isolation | None = None) -> list[SubmissionResult]:
    for name in OUTPUT_FOLDERS:
        os.makedirs(os.path.join(out, name), exist_ok=True)
    results: list[SubmissionResult | None] = [None] * len(submissions)
    for i, submission in enumerate(submissions):
        if submission.path is None:
            results[i] = ungraded(submission.name, homework, submission.problem)
            report.submission(out, stem(submission.name), results[i])
        elif resume:
            results[i] = _saved(out, submission, homework)
    todo = [i for i, r in enumerate(results) if r is None]
    bar = Progress(len(submissions), jobs, progress, done=len(submissions) - len(todo))
    for submission, result in zip(submissions, results):
        if submission.path is None:
            bar.say(f"{safe.for_terminal(submission.name)}: {safe.for_terminal(result.status)}")
    if resume:
        kept = sum(1 for s, r in zip(submissions, results) if s.path is not None and r is not None)
        bar.say(f"resuming: {kept} submission(s) already graded in {out}/ are kept, {len(todo)} to grade")
    _run(todo, submissions, results, homework, out, jobs, limits, level, bar)
    return results


def _run(todo, submissions, results, homework, out, jobs, limits, level, bar: Progress) -> None:
    def one(i: int) -> SubmissionResult:
        bar.start(submissions[i].name)
        try:
            return grade(submissions[i].path, homework, limits, submissions[i].name, level)
        except Exception as e:  # the grader's own fault, on this submission only: its row says so, the batch goes on
            _report_failure(bar, submissions[i].name, e)
            return failed(submissions[i].name, homework, e)

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    futures = {pool.submit(one, i): i for i in todo}
    pending, stopping = set(futures), False
    try:
        while pending:
            try:
                finished, pending = wait(pending, timeout=1, return_when=FIRST_COMPLETED)
            except KeyboardInterrupt:
                if stopping:
                    raise
                stopping = True  # first Ctrl-C: start nothing new, finish and save what runs
                pending = {f for f in pending if not f.cancel()}
                bar.say(f"stopping: finishing the {len(pending)} submission(s) being graded (Ctrl-C again to abandon them)")
                continue
            for future in finished:
                i = futures[future]
                results[i] = save(out, submissions[i], homework, future.result(), bar)
                bar.finish(results[i])
            bar.tick()
    except KeyboardInterrupt:
        _stop_children()
        bar.close()
        raise Interrupted(sum(r is not None for r in results), len(results), len(pending)) from None
    finally:
        pool.shutdown(wait=not pending, cancel_futures=True)
    bar.close()
    if stopping:
        raise Interrupted(sum(r is not None for r in results), len(results), 0)


def save(out: str, submission: Submission, homework: Homework, result: SubmissionResult, bar: Progress) -> SubmissionResult:
    """The outputs of one graded submission, then the record that lets ``--resume`` skip it. Returns the result
    saved: when its report cannot be written, the grader's failure on it instead."""
    try:
        report.submission(out, stem(result.file), result)
        record = {"assignment": homework.name, "sha256": _sha256(submission.path), "result": dataclasses.asdict(result)}
        report.write_atomically(os.path.join(out, ".resume", stem(result.file) + ".json"), json.dumps(safe.in_json(record)))
        return result
    except Exception as e:
        _report_failure(bar, result.file, e)
        result = failed(result.file, homework, e)
        try:
            report.submission(out, stem(result.file), result)
        except Exception as again:  # the folder itself is unwritable: the sheet will still say what happened
            _report_failure(bar, result.file, again)
        return result


def _report_failure(bar: Progress, name: str, error: BaseException) -> None:
    """The traceback, for whoever runs the batch (the submission's row and report give the one-line reason)."""
    lines = syntax.format_exception(error)
    bar.say(f"grader error on {safe.for_terminal(name)}:\n" + "".join(safe.for_terminal(line.rstrip("\n")) + "\n" for line in lines))


def _saved(out: str, submission: Submission, homework: Homework) -> SubmissionResult | None:
    """The result an earlier run saved for this very notebook and assignment, or None."""
    try:
        with open(os.path.join(out, ".resume", stem(submission.name) + ".json")) as f:
            record = json.load(f)
        if record["assignment"] != homework.name or record["sha256"] != _sha256(submission.path):
            return None
        fields = record["result"]
        questions = [QuestionResult(q["name"], q["points"], [Check(**c) for c in q["checks"]]) for q in fields["questions"]]
        return SubmissionResult(**{**fields, "questions": questions})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _stop_children() -> None:
    """Kill the sandboxed notebooks still running: each leads its own session, out of Ctrl-C's reach."""
    for pid in watchdog.children(os.getpid()):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            continue
