"""Gradescope's "Export Submissions" folder: who submitted what, from ``submission_metadata.yml``.

The export holds the metadata file and one folder per submission (``submission_<id>/``). The
YAML maps each folder name to its details, with Ruby-symbol keys::

    submission_123456:
      :submitters:
      - :name: Jane Doe
        :sid: '1234'
        :email: jane@example.edu
      :created_at: 2024-01-01 12:00:00.000000000 -08:00
      :score: 10.0
"""

from __future__ import annotations

import os

import yaml

METADATA = "submission_metadata.yml"


def find_export(folder: str) -> str | None:
    """The folder holding ``submission_metadata.yml`` at ``folder`` or one level below, if any."""
    if os.path.isfile(os.path.join(folder, METADATA)):
        return folder
    for name in sorted(os.listdir(folder)):
        inner = os.path.join(folder, name)
        if not name.startswith(".") and os.path.isfile(os.path.join(inner, METADATA)):
            return inner
    return None


def submitters(export: str) -> tuple[dict[str, dict[str, str]], str]:
    """{submission folder: {"name", "email", "student_id", "submission_id"}}, and a warning if the file is unreadable.

    Group submissions join their members' names (and emails, ids) with "; ".
    """
    try:
        with open(os.path.join(export, METADATA), encoding="utf-8") as f:
            metadata = yaml.safe_load(f)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        return {}, f"{METADATA} is unreadable ({e}); submissions are named by their folder"
    if not isinstance(metadata, dict):
        return {}, f"{METADATA} is not a mapping of submission folders; submissions are named by their folder"
    people = {}
    for folder, details in metadata.items():
        members = details.get(":submitters") if isinstance(details, dict) else None
        members = [m for m in members if isinstance(m, dict)] if isinstance(members, list) else []
        people[str(folder)] = {
            "name": _joined(members, ":name"), "email": _joined(members, ":email"),
            "student_id": _joined(members, ":sid"), "submission_id": submission_id(str(folder)),
        }
    return people, ""


def submission_id(folder: str) -> str:
    return folder.removeprefix("submission_")


def _joined(members: list[dict], key: str) -> str:
    return "; ".join(str(m[key]).strip() for m in members if m.get(key) not in (None, ""))
