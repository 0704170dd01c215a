"""The README's "Where the code is": a submission travels down its list of folders, and each folder imports only
from the folders above it (the two entry points, last, from any)."""

import ast
import re

from conftest import ROOT

PACKAGE = ROOT / "autograder"


def folders_in_readme_order() -> list[str]:
    text = (ROOT / "README.md").read_text()
    tree = text.split("### Where the code is", 1)[1].split("```", 2)[1]
    return re.findall(r"^  ([a-z_]+)/ ", tree, re.MULTILINE)


def imported_folders(path) -> set[str]:
    """The package's top-level folders that the module at ``path`` imports from (at any depth of its code)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != "autograder" else [f"autograder.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found |= {name.split(".")[1] for name in names if name.startswith("autograder.")}
    return found


def test_every_folder_of_the_package_is_in_the_list():
    listed = folders_in_readme_order()
    assert sorted(listed) == sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())


def test_each_folder_imports_only_from_the_folders_above_it():
    order = folders_in_readme_order()
    upward = []
    for folder in order:
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            below = imported_folders(path) & set(order[order.index(folder) + 1:])
            upward += [f"{path.relative_to(ROOT)} imports autograder.{other}" for other in sorted(below)]
    assert upward == []
