"""Byte-stable notebooks: what ``otter assign`` writes, with its random parts made deterministic."""

from __future__ import annotations

import json


def normalized(text: str) -> str:
    """The notebook ``text`` with sequential cell ids, no outputs or counts, and a fixed JSON layout."""
    nb = json.loads(text)
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i:03d}"
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
