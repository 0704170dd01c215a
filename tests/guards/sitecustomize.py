"""Put on ``PYTHONPATH`` for every command the tests start (``python -m autograder``, ``otter run``).

Worker threads of one grading process share torch's, numpy's and Python's global random generators,
so a grade computed from them would depend on what the other workers did meanwhile. At exit this
fails the process (exit status 70, with a message) when anything drew from or re-seeded one of them.
The sandboxed child runs with ``python -I`` and never loads this file: it seeds its own generators.
"""

import atexit
import os
import random
import sys

import numpy
import torch

_START = (random.getstate(), numpy.random.get_state(), torch.initial_seed(), torch.get_rng_state())


def _changed() -> list[str]:
    python, numpy_state, seed, torch_state = _START
    changed = []
    if random.getstate() != python:
        changed.append("Python's random")
    now = numpy.random.get_state()
    if not (numpy.array_equal(now[1], numpy_state[1]) and now[2:] == numpy_state[2:]):
        changed.append("numpy.random")
    if torch.initial_seed() != seed or not torch.equal(torch.get_rng_state(), torch_state):
        changed.append("torch's default generator")
    return changed


def _check() -> None:
    if changed := _changed():
        print(f"the grading process used the global random generators of {', '.join(changed)}: "
              "grades would depend on what other workers did meanwhile", file=sys.stderr, flush=True)
        os._exit(70)


atexit.register(_check)
