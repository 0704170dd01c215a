"""The otter plugin: under Gradescope, ``otter run`` and ``otter grade``, scores come from our grading.

Otter keeps its part (unpacking the zip, the kernel round, ``results.json``), but:
- ``before_grading`` deletes a submitted ``.OTTER_LOG`` (otter would unpickle it), in a container opens
  the Python installation to the sandbox's uid and closes the autograder's folders to it
  (:func:`autograder.sandbox.isolation.prepare_container`), and grades the untouched notebook with
  :func:`autograder.grading.grade.grade`, student code in a child process;
- ``before_execution`` hands otter's kernel a notebook without the student's code, so nothing a
  student wrote runs in the process that holds otter's results;
- ``after_grading`` replaces every question's score and messages with ours, and has the report shown as
  Markdown; a failure of our grading still gives the submission its results (every question 0, and why).
"""

from __future__ import annotations

import os

from otter.plugins import AbstractOtterPlugin
from otter.test_files.abstract_test import TestCase, TestCaseResult

from autograder.grading.grade import failed, grade
from autograder.homeworks import load
from autograder.report import safe
from autograder.sandbox import isolation
from autograder.sandbox.protocol import Limits
from autograder.report.feedback import check_line
from autograder.report.gradescope import output


class GradingPlugin(AbstractOtterPlugin):
    """Configured in ``otter_config.json`` as ``{"autograder.otter_plugin.GradingPlugin": {"assignment": "hw1",
    "timeout": 300, ...}}``: ``build`` writes it from the repository's ``otter_config.json`` and the master."""

    def before_grading(self, config):
        log = os.path.join(os.path.dirname(self.submission_path), ".OTTER_LOG")
        if os.path.lexists(log):
            os.remove(log)
        homework = load(self.plugin_config["assignment"])
        if not config.otter_run and os.geteuid() == 0:  # Gradescope's or otter grade's container, as root
            isolation.prepare_container(os.path.dirname(os.path.dirname(os.path.abspath(self.submission_path))))
        try:
            limits = Limits.of(**{key: value for key, value in self.plugin_config.items() if key in Limits.OPTIONS})
            self.result = grade(self.submission_path, homework, limits)
        except Exception as e:  # otter would write no results.json at all: Gradescope's "autograder failed"
            self.result = failed(os.path.basename(self.submission_path), homework, e)

    def before_execution(self, submission):
        submission.cells = [cell for cell in submission.cells if cell.cell_type != "code"]
        return submission

    def after_grading(self, results):
        for question in self.result.questions:
            if question.name not in results.results:
                continue
            test_file = results.get_result(question.name)
            test_file.test_case_results = [
                TestCaseResult(TestCase(c.name, None, True, c.points, None, None), safe.for_text(safe.for_file(check_line(c))),
                               c.passed)
                for c in question.checks
            ]
            results.update_score(question.name, question.score)
        results.set_output(output(self.result))
        results.to_gradescope_dict = _with_formats(results.to_gradescope_dict)


def _with_formats(to_gradescope_dict):
    """otter's results.json says nothing of formats, so Gradescope would show the Markdown report as plain
    text: the report is Markdown (its student strings escaped), each question's output plain text."""

    def formatted(*args, **kwargs) -> dict:
        doc = to_gradescope_dict(*args, **kwargs)
        doc["output_format"] = "md"
        for test in doc.get("tests", []):
            test.setdefault("output_format", "text")
        return doc

    return formatted
