import os
import random
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
GUARDS = Path(__file__).resolve().parent / "guards"
# The limits of the gradings the tests start, through `grade` (--timeout, --call-timeout) or a zip (the plugin's
# options): a cell may take 12 s of CPU time, a graded call 10 s (why these, see corpus.py).
GRADING_LIMITS = {"timeout": 60, "call_timeout": 10}

# The suite runs one worker per core: a worker's torch, and the notebooks and kernels it starts, compute with one
# thread, so that idle threads do not spin on a core the other worker is using.
os.environ["OMP_NUM_THREADS"] = "1"
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def same_random_state_for_every_test():
    """torch seeds its generator at random in each process: every test starts from one fixed state instead,
    so that none passes or fails by the luck of a draw."""
    torch.manual_seed(0)
    numpy.random.seed(0)
    random.seed(0)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Under ``--dist loadgroup`` a corpus is graded by the one worker that runs its group: stop at once if this
    pytest-xdist no longer tags the groups (3.8 does not with pytest 9, whose node ids it cannot change), or every
    worker would grade every corpus."""
    if getattr(config.option, "loadgroup", False):
        untagged = [item.nodeid for item in items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
        if untagged:
            raise pytest.UsageError(f"pytest-xdist did not tag {len(untagged)} tests with their xdist_group "
                                    f"(first: {untagged[0]}): pin a pytest it supports (see requirements.txt)")


def in_group(group: str, *values):
    """A parametrize case that runs on the worker running ``group`` (tests that share one grading of a corpus
    stay on one worker; corpora of different homeworks may go to different workers)."""
    return pytest.param(*values, marks=pytest.mark.xdist_group(group))


def cli_env(**extra) -> dict:
    """The environment of a ``python -m autograder`` the tests start: the user's, with ``guards/`` loaded
    (it fails the command if grading used a global random generator)."""
    paths = [str(GUARDS), *filter(None, [os.environ.get("PYTHONPATH")])]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(paths), **extra)


def autograder(*args, cwd=ROOT):
    """The CLI as a user types it: ``python -m autograder ARGS``."""
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env=cli_env())


@pytest.fixture(scope="session")
def autograder_zip(tmp_path_factory):
    """``autograder_zip(name)``: the assignment's zip, built from its master the way ``build`` builds it, with the
    tests' limits in place of the shared settings' (a notebook that spins then stops as soon under otter as in `grade`)."""
    from autograder.build import settings
    from autograder.build.commands import assemble
    from autograder.build.package import repack

    built = {}

    def make(name):
        if name not in built:
            folder = tmp_path_factory.mktemp(f"zip-{name}")
            shared = settings.shared(str(ROOT))
            shared["plugins"] = [{settings.PLUGIN: {**settings.plugin_options(shared), **GRADING_LIMITS}}]
            repack(assemble(name, str(folder / "assign"))["zip"], str(folder / f"{name}-autograder.zip"), name, shared)
            built[name] = folder / f"{name}-autograder.zip"
        return built[name]

    return make


def otter_run(zip_path, notebook, out_dir):
    """Grade one notebook as Gradescope does: ``otter run`` with the zip; returns results.json."""
    import json

    otter = Path(sys.executable).parent / "otter"
    done = subprocess.run([str(otter), "run", "--no-logo", "-a", str(zip_path), "-o", str(out_dir), str(notebook)],
                          cwd=out_dir, capture_output=True, text=True, env=dict(os.environ))
    assert done.returncode == 0, done.stdout + done.stderr
    with open(Path(out_dir) / "results.json") as f:
        return json.load(f)


def total(results: dict) -> float:
    """The score Gradescope shows for a results.json: otter writes no total, so it is the tests' sum."""
    return round(sum(t.get("score", 0) for t in results["tests"]), 4)
