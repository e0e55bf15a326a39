"""hush/formats is its own floor: it imports only the standard library, hush.core.errors,
each other, and crcmod (the one third-party package, see pyproject.toml)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

FORMATS = Path(__file__).resolve().parents[3] / "hush" / "formats"
ALLOWED_THIRD_PARTY = {"crcmod"}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def test_formats_imports_nothing_above_it():
    for path in FORMATS.glob("*.py"):
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top == "hush":
                assert name == "hush.core.errors" or name.startswith("hush.formats"), (path.name, name)
            else:
                assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, (path.name, name)
