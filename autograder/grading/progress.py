"""Progress of a batch on stderr: the count, what is being graded, the time spent and the time left.

On a terminal it is one line rewritten in place; otherwise (a log, a pipe) one line per finished
submission, ``[k/N] name: score status (...)``.
"""

from __future__ import annotations

import shutil
import threading
import time
from typing import TextIO

from autograder.judging.results import SubmissionResult
from autograder.report.safe import for_terminal


class Progress:
    def __init__(self, total: int, workers: int, stream: TextIO, done: int = 0):
        self.total, self.workers, self.stream = total, max(1, workers), stream
        self.done = done
        self.started = time.monotonic()
        self.graded_seconds: list[float] = []
        self.running: list[str] = []
        self.live = stream.isatty()
        self.lock = threading.Lock()  # workers report their start, the main thread the rest

    def start(self, name: str) -> None:
        with self.lock:
            self.running.append(name)
            self._redraw()

    def finish(self, result: SubmissionResult) -> None:
        with self.lock:
            self.done += 1
            self.graded_seconds.append(result.seconds)
            if result.file in self.running:
                self.running.remove(result.file)
            if not self.live or result.status != "Completed":
                self.say(f"[{self.done}/{self.total}] {for_terminal(result.file)}: {result.total:g}/{result.possible:g} "
                         f"{for_terminal(result.status)} "
                         f"({result.seconds:.1f} s; {_clock(self.elapsed())} elapsed, {self._left()} left)")
            self._redraw()

    def tick(self) -> None:
        with self.lock:
            self._redraw()

    def say(self, line: str) -> None:
        """A line that stays, printed above the live line."""
        if self.live:
            self.stream.write("\r\x1b[K")
        print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.live:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _left(self) -> str:
        """Mean seconds per submission graded in this run, times those left, shared by the workers."""
        remaining = self.total - self.done
        if not remaining:
            return "nothing"
        if not self.graded_seconds:
            return "unknown"
        per = sum(self.graded_seconds) / len(self.graded_seconds)
        return "~" + _clock(per * remaining / min(self.workers, remaining))

    def _redraw(self) -> None:
        if not self.live:
            return
        current = self.running[-1] if self.running else "-"
        more = f" (+{len(self.running) - 1})" if len(self.running) > 1 else ""
        line = (f"[{self.done}/{self.total}] {_clock(self.elapsed())} elapsed, {self._left()} left | "
                f"grading {for_terminal(current)}{more}")
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self.stream.write("\r\x1b[K" + line[:width])
        self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
