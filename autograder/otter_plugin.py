"""The otter plugin: under Gradescope, ``otter run`` and ``otter grade``, scores come from our grading.

Otter keeps its part (unpacking the zip, the kernel round, ``results.json``), but:
- ``before_grading`` deletes a submitted ``.OTTER_LOG`` (otter would unpickle it) and grades the
  untouched notebook with :func:`autograder.grading.grade.grade`, student code in a child process;
- ``before_execution`` hands otter's kernel a notebook without the student's code, so nothing a
  student wrote runs in the process that holds otter's results;
- ``after_grading`` replaces every question's score and messages with ours.
"""

from __future__ import annotations

import os

from otter.plugins import AbstractOtterPlugin
from otter.test_files.abstract_test import TestCase, TestCaseResult

from autograder.grading.grade import grade
from autograder.homeworks import load
from autograder.report.feedback import check_line
from autograder.report.gradescope import output


class GradingPlugin(AbstractOtterPlugin):
    """Configured in ``otter_config.json`` as ``{"autograder.otter_plugin.GradingPlugin": {"assignment": "hw1"}}``."""

    def before_grading(self, config):
        log = os.path.join(os.path.dirname(self.submission_path), ".OTTER_LOG")
        if os.path.lexists(log):
            os.remove(log)
        self.result = grade(self.submission_path, load(self.plugin_config["assignment"]))

    def before_execution(self, submission):
        submission.cells = [cell for cell in submission.cells if cell.cell_type != "code"]
        return submission

    def after_grading(self, results):
        for question in self.result.questions:
            if question.name not in results.results:
                continue
            test_file = results.get_result(question.name)
            test_file.test_case_results = [
                TestCaseResult(TestCase(c.name, None, True, c.points, None, None), check_line(c), c.passed)
                for c in question.checks
            ]
            results.update_score(question.name, question.score)
        results.set_output(output(self.result))
