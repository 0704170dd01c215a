"""``python -m autograder``: build, verify and grade the homeworks."""

from __future__ import annotations

import argparse
import os
import sys

from autograder.homeworks import NAMES


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

    grade = sub.add_parser("grade", help="grade notebooks (files or folders) and write final_grades.csv, results and feedback")
    grade.add_argument("paths", nargs="+", metavar="PATH", help="a notebook, or a folder searched for *.ipynb")
    grade.add_argument("--assignment", "-a", required=True, choices=NAMES)
    grade.add_argument("-o", "--output", default="graded", help="output folder (default: %(default)s)")
    grade.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="notebooks graded at once (default: the CPU count, %(default)s)")
    grade.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                       help="wall-clock limit on running one notebook's cells (default: %(default)g); one cell may take at most a fifth of it")
    grade.add_argument("--call-timeout", type=float, default=20.0, metavar="SECONDS",
                       help="wall-clock limit on one graded call (default: %(default)g; training calls get six times as long)")

    args = parser.parse_args(argv)
    if args.command == "grade":
        return _grade(args)
    from autograder.build import commands

    assignments = args.assignment or list(NAMES)
    root = os.path.abspath(args.root or commands.ROOT)
    if args.command == "build":
        return commands.build(assignments, check=args.check, root=root)
    return commands.verify(assignments, root=root)


def _grade(args) -> int:
    from autograder.grading.batch import collect, grade_all
    from autograder.homeworks import load
    from autograder.sandbox.runner import Limits

    files = collect(args.paths)
    if not files:
        print("error: no notebooks found in " + ", ".join(args.paths), file=sys.stderr)
        return 2
    missing = [f for f in files if not os.path.exists(f)]
    if missing:
        print("error: no such file: " + ", ".join(missing), file=sys.stderr)
        return 2
    limits = Limits(notebook_seconds=args.timeout, cell_seconds=args.timeout / 5, call_seconds=args.call_timeout,
                    threads=max(1, (os.cpu_count() or 1) // max(1, args.jobs)))
    homework = load(args.assignment)
    print(f"grading {len(files)} notebook(s) for {homework.name} with {args.jobs} worker(s) into {args.output}/", file=sys.stderr)
    results = grade_all(files, homework, args.output, args.jobs, limits)
    print(_table(results))
    print(f"\nwrote {os.path.join(args.output, 'final_grades.csv')}, results/ and feedback/", file=sys.stderr)
    return 0


def _table(results) -> str:
    if not results:
        return ""
    names = [q.name for q in results[0].questions]
    width = max(len("file"), *(len(r.file) for r in results))
    head = f"{'file':<{width}} " + " ".join(f"{n:>5}" for n in names) + "  total  status"
    rows = [f"{r.file:<{width}} " + " ".join(f"{s:>5.3g}" for s in r.scores().values()) + f"  {r.total:>5.4g}  {r.status}"
            for r in results]
    return "\n".join([head, *rows])
