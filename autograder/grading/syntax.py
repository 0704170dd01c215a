"""Python's parser, used by one grading thread at a time.

CPython 3.11 counts the depth of the syntax tree it is building per interpreter, not per thread: two threads
building trees at once can fail with "SystemError: AST constructor recursion depth mismatch" (cpython
gh-106905). Every tree the grading threads build comes from here: the notebooks' cells, and the tracebacks of
the grader's own errors (3.11's ``traceback`` parses the failing line to underline it).
"""

from __future__ import annotations

import ast
import threading
import traceback

_ONE_AT_A_TIME = threading.Lock()


def parse(source: str) -> ast.Module:
    with _ONE_AT_A_TIME:
        return ast.parse(source)


def format_exception(error: BaseException) -> list[str]:
    with _ONE_AT_A_TIME:
        return traceback.format_exception(error)
