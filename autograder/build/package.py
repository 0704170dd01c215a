"""The autograder zip for Gradescope and ``otter run``: otter's zip, plus this package and its pins.

Otter's zip runs ``setup.sh``, which builds a conda environment from ``environment.yml``. We add
the wheel of this package and the repository's pinned requirements to that environment, so the
plugin named in ``otter_config.json`` can be imported there, and write into that file the settings
the homeworks share (:mod:`.settings`). Entries are written in a fixed order with fixed timestamps,
so the same sources give the same zip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile

from autograder.build import settings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644 << 16  # a zip entry's external attributes: a plain file, rw-r--r--
GRADESCOPE_SOURCE = "/autograder/source"
NOT_FOR_GRADING = ("pytest", "hypothesis", "otter-grader")  # otter's own pin is already in its environment.yml


def build_wheel(folder: str) -> str:
    env = dict(os.environ, SOURCE_DATE_EPOCH="315532800")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", folder, ROOT], check=True, env=env, stdout=subprocess.DEVNULL)
    (wheel,) = [f for f in os.listdir(folder) if f.endswith(".whl")]
    return os.path.join(folder, wheel)


def grading_requirements() -> list[str]:
    with open(os.path.join(ROOT, "requirements.txt")) as f:
        lines = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    return [line for line in lines if not line.startswith(NOT_FOR_GRADING)]


APT_UPDATE = b"apt-get update\n"
BUBBLEWRAP = (b"apt-get install -y bubblewrap || echo 'bubblewrap could not be installed: grading will say "
              b"which weaker isolation it used'\n")


def with_bubblewrap(setup_sh: bytes) -> bytes:
    """otter's ``setup.sh`` that also installs bubblewrap, the grader's strongest isolation."""
    if APT_UPDATE not in setup_sh:
        raise RuntimeError("otter's setup.sh has no 'apt-get update' line to install bubblewrap after")
    return setup_sh.replace(APT_UPDATE, APT_UPDATE + BUBBLEWRAP, 1)


def repack(otter_zip: str, destination: str, assignment: str, shared: dict) -> None:
    """Write ``destination``: otter's zip with the wheel added, environment.yml extended, bubblewrap installed, and
    the ``shared`` settings (:func:`.settings.shared`) in its ``otter_config.json``."""
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(tmp)
        wheel_name = os.path.basename(wheel)
        with zipfile.ZipFile(otter_zip) as src:
            entries = {info.filename: (info, src.read(info)) for info in src.infolist() if not info.is_dir()}
        env_info, env_yml = entries["environment.yml"]
        extra = grading_requirements() + [f"{GRADESCOPE_SOURCE}/{wheel_name}"]
        entries["environment.yml"] = (env_info, env_yml.rstrip(b"\n") + b"\n" + "".join(f"      - {r}\n" for r in extra).encode())
        setup_info, setup_sh = entries["setup.sh"]
        entries["setup.sh"] = (setup_info, with_bubblewrap(setup_sh))
        config_info, config = entries["otter_config.json"]
        config = settings.merged(json.loads(config), shared, assignment)
        entries["otter_config.json"] = (config_info, (json.dumps(config, indent=4, sort_keys=True) + "\n").encode())
        with open(wheel, "rb") as f:
            entries[wheel_name] = (None, f.read())
        write_zip(destination, {name: (info.external_attr if info else FILE_MODE, data) for name, (info, data) in entries.items()})


def write_zip(destination: str, entries: dict[str, tuple[int, bytes]]) -> None:
    """Write ``destination`` from {name: (external attributes, data)}, in name order with fixed timestamps, so that
    the same entries always give the same bytes."""
    os.makedirs(os.path.dirname(destination), exist_ok=True)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as out:
        for name in sorted(entries):
            attributes, data = entries[name]
            fixed = zipfile.ZipInfo(name, FIXED_TIME)
            fixed.external_attr = attributes
            fixed.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(fixed, data)
