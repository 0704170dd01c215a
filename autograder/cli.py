"""``python -m autograder``: build, verify and grade the homeworks."""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from autograder.homeworks import NAMES
from autograder.sandbox.isolation import LEVELS
from autograder.sandbox.protocol import Limits
from autograder.report import safe

GRADER_FAILED = 3  # the exit status when the grader itself failed on a submission (its row says "Grader error")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split(":")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", help="make the student template, the solutions and the autograder zip from each master notebook")
    build.add_argument("--check", action="store_true", help="change nothing; fail if the committed notebooks differ from a fresh build")
    build.add_argument("--assignment", choices=NAMES, action="append", help="only this assignment (repeatable); default: all")
    build.add_argument("--root", default=None, help="the repository to build in (default: the one holding this package)")

    verify = sub.add_parser("verify", help="prove that each solution scores 100 and each untouched template 0")
    verify.add_argument("--assignment", choices=NAMES, action="append", help="only this assignment (repeatable); default: all")
    verify.add_argument("--root", default=None, help="the repository whose notebooks to grade (default: the one holding this package)")

    grade = sub.add_parser("grade", help="grade notebooks, folders or Gradescope's export zip; write final_grades.csv, "
                                         "results, feedback and a summary",
                           epilog=f"exit status: 0 when every submission got its row (a file that is not a notebook "
                                  f"included: its row says why), {GRADER_FAILED} when the grader itself failed on one "
                                  f"or more (their rows say \"Grader error\"), 2 for wrong arguments, 130 when interrupted")
    grade.add_argument("paths", nargs="+", metavar="PATH",
                       help="a notebook, a folder searched for *.ipynb, a zip of either, or Gradescope's "
                            "'Export Submissions' zip (or its extracted folder)")
    grade.add_argument("--assignment", "-a", required=True, choices=NAMES)
    grade.add_argument("-o", "--output", default="graded", help="output folder (default: %(default)s)")
    grade.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="notebooks graded at once (default: the CPU count, %(default)s)")
    grade.add_argument("--timeout", type=float, default=Limits.notebook_seconds, metavar="SECONDS",
                       help="CPU time one notebook's cells may take, all together (default: %(default)g); one cell may take a "
                            "fifth of it. Each limit also stops code that sleeps or blocks for four times as long")
    grade.add_argument("--call-timeout", type=float, default=Limits.call_seconds, metavar="SECONDS",
                       help="CPU time of one graded call (default: %(default)g; training calls get six times as long)")
    grade.add_argument("--memory", type=int, default=Limits.memory_mib, metavar="MIB",
                       help="resident memory one notebook's processes may hold together (default: %(default)s)")
    grade.add_argument("--isolation", choices=[level.replace(" ", "-") for level in LEVELS], default=LEVELS[0],
                       help="the strongest isolation to try (default: %(default)s); the strongest of it and the weaker "
                            "ones that works here is used, and named in every result")
    grade.add_argument("--run-as-my-user", action="store_true",
                       help="grade even where only a process group separates the notebooks from you (no bubblewrap, "
                            "not root): they then run as your user and can read, change or kill what you can")
    again = grade.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="keep the grades already in the output folder for unchanged "
                                                             "notebooks and grade only the others")
    again.add_argument("--force", action="store_true", help="discard the grades already in the output folder and grade everything")

    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    if args.command == "grade":
        return _grade(args, argv)
    from autograder.build import commands

    assignments = args.assignment or list(NAMES)
    root = os.path.abspath(args.root or commands.ROOT)
    if args.command == "build":
        return commands.build(assignments, check=args.check, root=root)
    return commands.verify(assignments, root=root)


def _grade(args, argv: list[str]) -> int:
    from autograder import intake
    from autograder.grading import batch
    from autograder.homeworks import load
    from autograder import report
    from autograder.sandbox import isolation

    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        print("error: no such file: " + ", ".join(map(safe.for_terminal, missing)), file=sys.stderr)
        return 2
    saved = batch.saved_grades(args.output)
    if saved and not (args.resume or args.force):
        print(f"error: {args.output}/ already holds the grades of {saved} submission(s); add --resume to keep them and "
              "grade the rest, or --force to grade everything again", file=sys.stderr)
        return 2
    with intake.gather(args.paths, args.assignment) as found:
        for warning in found.warnings:
            print(f"warning: {safe.for_terminal(warning)}", file=sys.stderr)
        if not found.submissions:
            print("error: no notebooks found in " + ", ".join(args.paths), file=sys.stderr)
            return 2
        level = isolation.detect(args.isolation.replace("-", " "))
        if level.level == "process group" and not args.run_as_my_user:
            print(_unsandboxed(level), file=sys.stderr)
            return 2
        if args.force:
            batch.clear(args.output)
        limits = Limits.of(args.timeout, args.call_timeout, args.memory)
        homework = load(args.assignment)
        print(f"grading {len(found.submissions)} submission(s) for {homework.name} with {args.jobs} worker(s) "
              f"into {args.output}/", file=sys.stderr)
        try:
            results = batch.grade_all(found.submissions, homework, args.output, args.jobs, limits, resume=args.resume,
                                      level=level)
        except batch.Interrupted as stop:
            return _interrupted(stop, args, argv)
        summarized = report.batch(args.output, homework, results, [s.submitter for s in found.submissions])
    print(_table(results))
    print()
    print(summarized)
    print(f"\nwrote {os.path.join(args.output, 'final_grades.csv')}, summary.txt, summary.json, histogram.png, "
          "results/ and feedback/", file=sys.stderr)
    failures = [r.file for r in results if r.status.startswith("Grader error")]
    if failures:
        print(f"error: the grader failed on {len(failures)} submission(s), graded 0 and marked \"Grader error\": "
              + ", ".join(map(safe.for_terminal, failures)), file=sys.stderr)
        return GRADER_FAILED
    return 0


def _unsandboxed(level) -> str:
    return ("error: no sandbox here: only a process group would separate the notebooks from you, and they would run as "
            f"your user, able to read, change or kill what you can [{level.why}].\n"
            "  Install bubblewrap (Debian, Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install bubblewrap; "
            "Arch: sudo pacman -S bubblewrap) and grade again,\n"
            "  or, on macOS and Windows, grade with Docker: otter grade -a dist/hwN-autograder.zip ...,\n"
            "  or add --run-as-my-user to grade these notebooks as you anyway.")


def _interrupted(stop, args, argv: list[str]) -> int:
    again = [a for a in argv if a != "--force"] + ([] if args.resume else ["--resume"])
    print(f"interrupted: {stop.saved} of {stop.total} submission(s) graded and saved in {args.output}/"
          + (f", {stop.abandoned} abandoned mid-way" if stop.abandoned else "")
          + f"; to grade the rest:\n  python -m autograder {shlex.join(again)}", file=sys.stderr, flush=True)
    if stop.abandoned:  # their grading threads cannot be joined quickly; everything worth keeping is on disk
        sys.stdout.flush()
        os._exit(130)
    return 130


def _table(results) -> str:
    if not results:
        return ""
    names = [q.name for q in results[0].questions]
    width = max(len("file"), *(len(safe.for_terminal(r.file)) for r in results))
    head = f"{'file':<{width}} " + " ".join(f"{n:>5}" for n in names) + "  total  status"
    rows = [f"{safe.for_terminal(r.file):<{width}} " + " ".join(f"{s:>5.3g}" for s in r.scores().values())
            + f"  {r.total:>5.4g}  {safe.for_terminal(r.status)}" for r in results]
    return "\n".join([head, *rows])
