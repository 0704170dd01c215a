"""The child process and its watcher, on small notebooks: limits, crashes and restarts."""

import torch

from autograder.sandbox.runner import Limits, Request, run

FAST = Limits(cell_seconds=5, notebook_seconds=30, call_seconds=5)


def double(*cells):
    return ["def double(x):\n    return 2 * x", *cells]


def test_calls_are_answered_with_observations():
    x = torch.arange(3.0)
    ex = run(["import torch", "def g(x):\n    y = x.clone().requires_grad_(True)\n    (y**2).sum().backward()\n    return y.grad"],
             [Request("call", "g", (x,)), Request("call", "nothere", (x,))], FAST)
    ok, missing = ex.replies
    assert ok.status == "ok" and torch.equal(ok.value, 2 * x)
    assert ok.observed["backward_calls"] == 1 and not ok.observed["inputs_modified"]
    assert missing.status == "missing"
    assert ex.starts == 1


def test_a_student_exception_is_an_answer_not_a_crash():
    ex = run(["def g(x):\n    raise ValueError('nope')"], [Request("call", "g", (1,))], FAST)
    (reply,) = ex.replies
    assert reply.status == "error" and "ValueError: nope" in reply.error and "g, line 2" in reply.error


def test_an_input_modified_in_place_is_seen():
    ex = run(["def g(x):\n    x += 1\n    return x"], [Request("call", "g", (torch.zeros(2),))], FAST)
    assert ex.replies[0].observed["inputs_modified"]


def test_a_hanging_cell_is_skipped_and_the_rest_still_counts():
    ex = run(double("while True:\n    pass", "def triple(x):\n    return 3 * x"),
             [Request("call", "double", (2,)), Request("call", "triple", (2,))],
             Limits(cell_seconds=1, notebook_seconds=30, call_seconds=5))
    assert [r.value for r in ex.replies] == [4, 6]
    assert ex.notes == ["code cell 2 ('while True:') timed out after 1 s; it was skipped and the notebook run again"]


def test_an_early_exit_keeps_what_was_defined():
    ex = run(double("import os\nos._exit(0)", "def triple(x):\n    return 3 * x"),
             [Request("call", "double", (2,)), Request("call", "triple", (2,))], FAST)
    assert [r.value for r in ex.replies] == [4, 6]
    assert "code cell 2 ('import os') ended the process (exit status 0)" in ex.notes[0]


def test_a_hanging_call_costs_only_its_question():
    cells = double("def spin(x):\n    while True:\n        pass")
    requests = [Request("call", "spin", (1,), group="q1"), Request("call", "spin", (2,), group="q1"),
                Request("call", "double", (3,), group="q2")]
    ex = run(cells, requests, Limits(cell_seconds=5, notebook_seconds=30, call_seconds=1))
    assert [r.status for r in ex.replies] == ["timeout", "skipped", "ok"]
    assert ex.replies[2].value == 6 and ex.starts == 2


def test_a_call_that_kills_the_process_is_recorded_and_grading_goes_on():
    cells = double("def die(x):\n    import os\n    os._exit(3)")
    ex = run(cells, [Request("call", "die", (1,), group="q1"), Request("call", "double", (1,), group="q2")], FAST)
    assert ex.replies[0].status == "crashed" and "exit status 3" in ex.replies[0].error
    assert ex.replies[1].value == 2


def test_the_child_sees_a_cleared_environment_and_its_own_folder(monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "s3cret")
    ex = run(["import os\ndef env():\n    return sorted(os.environ)\ndef files():\n    return sorted(os.listdir('.'))"],
             [Request("call", "env"), Request("call", "files")], FAST)
    assert "GRADER_SECRET" not in ex.replies[0].value
    assert set(ex.replies[1].value) <= {"cells.json", "requests.json", "plan.json", "inputs.safetensors", "output.log", "out", "tmp"}


def test_magics_and_otter_do_not_stop_the_notebook():
    ex = run(["%matplotlib inline\n!pip install nothing\nimport otter\ngrader = otter.Notebook('hw1.ipynb')\ngrader.check('q1')",
              "def one():\n    return 1"], [Request("call", "one")], FAST)
    assert ex.replies[0].value == 1


def test_printed_output_is_kept_for_feedback():
    ex = run(["print('hello from the notebook')"], [], FAST)
    assert "hello from the notebook" in ex.log



def test_events_still_unread_when_the_child_has_exited_are_read_first(tmp_path):
    """A child that wrote its last events and exited before the parent looked: the parent must read them,
    not call the last graded call a crash."""
    import os
    import subprocess
    import sys

    from autograder.sandbox import runner

    read_end, write_end = os.pipe()
    events = '{"call": 0}\n{"done": 0}\n{"finished": true}\n'
    proc = subprocess.Popen([sys.executable, "-c", f"import os; os.write({write_end}, {events!r}.encode())"],
                            pass_fds=(write_end,), stdout=subprocess.PIPE)
    os.close(write_end)
    proc.wait()  # gone, its events still in the pipe
    output = runner._Output(proc.stdout.fileno(), 1024)
    outcome = runner._follow(proc, read_end, output, [Request("call", "double")], FAST, str(tmp_path), None)
    os.close(read_end)
    proc.stdout.close()
    assert (outcome.kind, outcome.done) == ("finished", [0])
