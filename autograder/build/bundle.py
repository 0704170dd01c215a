"""The student bundle, for a student without internet: the notebook and the data its homework declares for it.

``dist/hwN-student.zip`` unpacks to a folder ``hwN/`` holding ``hwN.ipynb`` and, when the homework reads data,
``data/`` as the homework's ``offline_data`` fills it (for hw1 and hw2, torchvision's four MNIST files under
``data/MNIST/raw/``, where the notebook's data cell finds them without downloading).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

from autograder.build.package import FILE_MODE, write_zip


def write_bundle(name: str, notebook: str, destination: str, offline_data: Callable[[str], None] | None) -> None:
    """Write ``destination``, the bundle of homework ``name`` with the notebook text ``notebook`` and the folder
    ``data/`` that ``offline_data`` fills (none when it is None)."""
    entries = {f"{name}/{name}.ipynb": (FILE_MODE, notebook.encode("utf-8"))}
    if offline_data:
        with tempfile.TemporaryDirectory() as data:
            offline_data(data)
            for folder, _, files in os.walk(data):
                for file in files:
                    path = os.path.join(folder, file)
                    with open(path, "rb") as f:
                        entries[f"{name}/data/{os.path.relpath(path, data)}"] = (FILE_MODE, f.read())
    write_zip(destination, entries)
