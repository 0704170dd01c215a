"""The student bundle, for a student without internet: the notebook and the MNIST subset the grader uses.

``dist/hwN-student.zip`` unpacks to a folder ``hwN/`` holding ``hwN.ipynb`` and ``data/MNIST/raw/``
(torchvision's four files), where the notebook's data cell finds them without downloading.
"""

from __future__ import annotations

import os

from autograder.build.package import FILE_MODE, write_zip
from autograder.data.mnist import FILES, ensure_mnist


def write_bundle(name: str, notebook: str, destination: str) -> None:
    """Write ``destination``, the bundle of homework ``name`` with the notebook text ``notebook``."""
    entries = {f"{name}/{name}.ipynb": (FILE_MODE, notebook.encode("utf-8"))}
    raw = os.path.join(ensure_mnist(), "MNIST", "raw")
    for file in FILES:
        with open(os.path.join(raw, file), "rb") as f:
            entries[f"{name}/data/MNIST/raw/{file}"] = (FILE_MODE, f.read())
    write_zip(destination, entries)
