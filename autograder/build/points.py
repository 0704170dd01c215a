"""A question's points are written once, in the master: its ``# BEGIN QUESTION`` cell says them and its text repeats
them (``**Question 3 (12 points).**``). ``build`` checks that the two agree and writes them to the homework's
``points.json`` (:data:`autograder.homeworks.POINTS`), from which the grader takes them."""

from __future__ import annotations

import json
import re

import yaml


class PointsError(ValueError):
    pass


def of_master(master: str) -> dict[str, float]:
    """Each question's points, in the master's order; fails when a question's text states other points."""
    with open(master, encoding="utf-8") as f:
        cells = json.load(f)["cells"]
    points, problems = {}, []
    for i, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] != "raw" or not source.startswith("# BEGIN QUESTION"):
            continue
        config = yaml.safe_load(source) or {}
        name, value = config.get("name"), config.get("points")
        if not isinstance(value, (int, float)):
            problems.append(f"{name}: its BEGIN QUESTION cell gives no points")
            continue
        points[name] = value
        text = next(("".join(c["source"]) for c in cells[i + 1:] if c["cell_type"] == "markdown"), "")
        stated = re.search(r"\((\d+(?:\.\d+)?) points?\)", text)
        if stated is None or float(stated.group(1)) != value:
            problems.append(f"{name}: its BEGIN QUESTION cell gives {value:g} points, its text "
                            + (f"says {stated.group(0)}" if stated else "states none (write them as \"(N points)\")"))
    if problems:
        raise PointsError(f"{master}: " + "; ".join(problems))
    return points


def text(points: dict[str, float]) -> str:
    return json.dumps(points, indent=1) + "\n"
