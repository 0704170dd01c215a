"""The child process and its watcher, on small notebooks: limits, crashes and restarts."""

import os
import subprocess
import sys

import numpy
import pytest
import torch

from autograder.sandbox.protocol import Limits, Request
from autograder.sandbox.runner import run

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
    assert ex.notes == ["code cell 2 ('while True:') timed out after 1 s of CPU time; it was skipped and the notebook run again"]


def test_an_early_exit_keeps_what_was_defined():
    ex = run(double("import os\nos._exit(0)", "def triple(x):\n    return 3 * x"),
             [Request("call", "double", (2,)), Request("call", "triple", (2,))], FAST)
    assert [r.value for r in ex.replies] == [4, 6]
    assert "code cell 2 ('import os') ended the process (exit status 0)" in ex.notes[0]


def test_the_cells_share_a_cpu_budget_that_a_restart_does_not_charge_again():
    """6 s of CPU for all cells: cell 1 (2 s) runs again after cell 2 ends the kernel, uncharged, so cells 3 and 4
    fit (3.5 s with cells 1 and 3, 4.5 s with 4); cell 5 gets only the 1.5 s left, and cell 6 is not run."""
    busy = "import time\ndef busy(s):\n    t = time.process_time()\n    while time.process_time() - t < s:\n        pass\n"
    cells = [busy + "busy(2.0)\na = 1", "import os\nos._exit(0)", "busy(1.5)\nb = 2", "busy(1.0)\nc = 3", "busy(3.0)", "d = 4"]
    ex = run(cells, [Request("value", name) for name in "abcd"], Limits(cell_seconds=3, notebook_seconds=6, call_seconds=5))
    assert [r.status for r in ex.replies] == ["ok", "ok", "ok", "missing"] and ex.starts == 3  # after cells 2 and 5
    assert "used up the notebook's time (6 s of CPU for all its cells)" in ex.notes[1]
    assert ex.notes[2] == "code cells 6 to 6 were not run: the notebook's cells had used up their 6 s of CPU"


def test_the_cells_share_a_budget_of_waiting_and_the_cell_that_ends_it_ends_the_notebook():
    """4 s of waiting for all cells (4 times 1 s of CPU): two naps of 1.5 s fit, the third (of 10 s) gets what is left,
    at most 1.5 s (the clock counts in quarter seconds, so a little less than each nap may be counted)."""
    cells = ["import time\ntime.sleep(1.5)\na = 1", "time.sleep(1.5)\nb = 2", "time.sleep(10)\nc = 3", "d = 4"]
    ex = run(cells, [Request("value", name) for name in "abcd"], Limits(cell_seconds=1, notebook_seconds=1, call_seconds=5))
    assert [r.status for r in ex.replies] == ["ok", "ok", "missing", "missing"] and ex.starts == 2
    assert "which used up the notebook's time (4 s of waiting for all its cells)" in ex.notes[0]
    assert ex.notes[1:] == ["code cells 4 to 4 were not run: the notebook's cells had used up their 4 s of waiting"]


def test_a_hanging_call_costs_only_its_question():
    cells = double("def spin(x):\n    while True:\n        pass")
    requests = [Request("call", "spin", (1,), group="q1"), Request("call", "spin", (2,), group="q1"),
                Request("call", "double", (3,), group="q2")]
    ex = run(cells, requests, Limits(cell_seconds=5, notebook_seconds=30, call_seconds=1))
    assert [r.status for r in ex.replies] == ["timeout", "skipped", "ok"]
    assert ex.replies[2].value == 6 and ex.starts == 1  # each call is a fork of the kernel: the next one needs no restart


def test_a_call_that_finds_the_kernel_gone_is_asked_again_of_a_new_start(monkeypatch):
    """Under load the kernel's death after one call may be seen only when the next call is written to it."""
    from autograder.sandbox import runner

    monkeypatch.setattr(runner._Kernel, "alive", lambda self: True)  # its death not seen in time
    cells = double("import os, signal, time\ndef kill_kernel(x):\n    os.kill(os.getppid(), signal.SIGKILL)\n"
                   "    time.sleep(0.5)\n    return x")
    requests = [Request("call", "kill_kernel", (1,), group="q1"), Request("call", "double", (3,), group="q2")]
    ex = run(cells, requests, FAST)
    assert (ex.replies[1].status, ex.replies[1].value, ex.starts) == ("ok", 6, 2)


def test_a_call_that_kills_the_process_is_recorded_and_grading_goes_on():
    cells = double("def die(x):\n    import os\n    os._exit(3)")
    ex = run(cells, [Request("call", "die", (1,), group="q1"), Request("call", "double", (1,), group="q2")], FAST)
    assert ex.replies[0].status == "crashed" and "exit status 3" in ex.replies[0].error
    assert ex.replies[1].value == 2


def test_the_child_sees_a_cleared_environment_and_only_what_each_step_needs(monkeypatch, tmp_path):
    from autograder.data import mnist
    from autograder.data.mnist import ensure_mnist
    from autograder.homeworks.mnist import training_images

    monkeypatch.setenv("GRADER_SECRET", "s3cret")
    cells = ["import os\nat_the_start = sorted(os.listdir('.')), os.path.exists('../call-1')\n"
             "data = sorted(os.listdir('data/MNIST/raw'))\n"
             "from torchvision import datasets\ntest_images = datasets.MNIST('data', train=False).data.numpy()",
             "def env():\n    return sorted(os.environ)\ndef files(x):\n    return sorted(os.listdir('.')), os.path.exists('../call-1')",
             "import torch\ntorch_settings = [torch.cuda.is_available(), torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()]"]
    requests = [Request("call", "env"), Request("call", "files", (torch.zeros(2),)), Request("value", "at_the_start"),
                Request("value", "data"), Request("value", "test_images"), Request("value", "torch_settings")]
    ex = run(cells, requests, FAST, data=training_images)
    env, files, at_the_start, data, test_images, torch_settings = (r.value for r in ex.replies)
    assert "GRADER_SECRET" not in env
    assert torch_settings == [False, 1, True]  # no CUDA device, one thread, deterministic algorithms
    # the notebook's folder (and IPython's, as in Jupyter's home): no hidden inputs, no grader files
    assert at_the_start == ([".ipython", "data", "tmp"], False)
    assert data == ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
    # the test files exist, as torchvision wants, and hold training images: none of the held-out ones
    train, held_out = (mnist.read(ensure_mnist(), train=t)[0].reshape(-1, 784) for t in (True, False))
    shown = {row.tobytes() for row in numpy.asarray(test_images).reshape(-1, 784)}
    assert len(test_images) == 1000 and shown <= {row.tobytes() for row in train}
    assert not shown & {row.tobytes() for row in held_out}
    assert files == (["data", "inputs.safetensors", "request.json"], True)  # a call's folder: its inputs, written only for it


def test_magics_and_otter_do_not_stop_the_notebook():
    ex = run(["%matplotlib inline\n!pip install nothing\nimport otter\ngrader = otter.Notebook('hw1.ipynb')\ngrader.check('q1')",
              "def one():\n    return 1"], [Request("call", "one")], FAST)
    assert ex.replies[0].value == 1


def test_printed_output_is_kept_for_feedback():
    ex = run(["print('hello from the notebook')"], [], FAST)
    assert "hello from the notebook" in ex.log


def test_the_last_event_of_a_child_that_exited_is_read_before_its_exit_is_taken_for_a_crash():
    """A call's fork writes its answer and its event, then exits at once: the parent must take the event,
    however the exit and the event reach it."""
    ex = run(double(), [Request("call", "double", (n,)) for n in range(20)], FAST)
    assert [r.value for r in ex.replies] == [2 * n for n in range(20)]


@pytest.fixture
def starved_cpu():
    """One CPU kept busy by six spinning processes; a process moved onto it gets about a seventh of it (each in a
    session of its own: where the scheduler shares a CPU between sessions first, the sandbox's is one of seven)."""
    cpu = min(os.sched_getaffinity(0))
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True,
                                preexec_fn=lambda: os.sched_setaffinity(0, {cpu})) for _ in range(6)]
    try:
        yield cpu
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def test_on_a_starved_cpu_busy_code_ends_on_its_cpu_limit_and_sleeping_code_on_its_waiting(starved_cpu):
    """The kernel starts at full speed, then its first cell moves it onto the starved CPU: there, 1 s of CPU takes
    about 7 s, longer than the 4 s of waiting a 1 s limit allows, yet busy code is computing all along."""
    pin = f"import os, time\nos.sched_setaffinity(0, {{{starved_cpu}}})"
    spin_cell = "start = time.process_time()\nwhile time.process_time() - start < 60:\n    pass"
    cells = [pin, spin_cell, "def spin():\n    while True:\n        pass", "def nap():\n    time.sleep(1000)"]
    ex = run(cells, [Request("call", "spin", group="q1"), Request("call", "nap", group="q2")],
             Limits(cell_seconds=1, notebook_seconds=30, call_seconds=1))
    assert ex.notes == ["code cell 2 ('start = time.process_time()') timed out after 1 s of CPU time; "
                        "it was skipped and the notebook run again"]
    assert [(r.status, r.error) for r in ex.replies] == [
        ("timeout", "timed out after 1 s of CPU time"),
        ("timeout", "timed out after 4 s of waiting (sleeping or blocked, not computing)")]

    starved = run(cells[:1] + cells[2:3], [Request("call", "spin")], Limits(call_seconds=1, ceiling_factor=2))
    assert starved.replies[0].error == "timed out after 2 s of wall-clock time, too little of it computing"
