"""The shape of the package: import circles, the config floor's order, test-case-name markers."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import REPO


def _load_script(name: str) -> ModuleType:
    """A script of tools/ as a module (tools/ is no package, and stays off sys.path)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


import_circles = _load_script("import_circles")

#: No module of hush/ imports, however indirectly, one that imports it back.
MAX_CIRCLES = 0


def _package(root: Path, files: dict[str, str]) -> Path:
    """A package ``pkg`` under ``root`` with the given modules (path -> source)."""
    for name, source in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return root


def test_circles_counts_every_kind_of_import(tmp_path):
    # a -> b at module level, b -> a inside a function: one circle.
    # c -> d under TYPE_CHECKING, d -> c by a relative import: another.
    # e imports a but nothing imports e: no circle.
    root = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "from pkg import b\n",
        "b.py": "def f():\n    import pkg.a\n",
        "sub/__init__.py": "",
        "sub/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.sub.d import X\n",
        "sub/d.py": "from .c import Y\n",
        "e.py": "from pkg.a import thing\nimport os\n",
    })
    graph = import_circles.import_graph(root, "pkg")
    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.e"] == {"pkg.a"}
    assert import_circles.circles(graph) == [["pkg.a", "pkg.b"], ["pkg.sub.c", "pkg.sub.d"]]


def test_circles_of_a_package_importing_its_submodules(tmp_path):
    # ``from pkg import a`` in pkg/__init__.py names the module pkg.a; a's
    # ``from pkg import NAME`` names the package: a circle of two, as
    # import-linter sees it.
    root = _package(tmp_path, {
        "__init__.py": "from pkg import a\nNAME = 1\n",
        "a.py": "from pkg import NAME\n",
        "b.py": "from pkg import a\n",
    })
    assert import_circles.circles(import_circles.import_graph(root, "pkg")) == [["pkg", "pkg.a"]]


def test_no_circles_in_a_tree(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "from pkg import b, c\n",
        "b.py": "from pkg.c import x\n",
        "c.py": "",
    })
    assert import_circles.circles(import_circles.import_graph(root, "pkg")) == []
    assert import_circles.report([]) == "0 import circle(s)"


def test_hush_has_no_import_circles():
    """Run the script on hush/ and hold its count at MAX_CIRCLES."""
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "import_circles.py"), "--max", str(MAX_CIRCLES)],
        capture_output=True, text=True, cwd=REPO, check=False)
    # The report names every module of every circle, for whoever broke the count.
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    count = int(last.split()[0])
    assert last == f"{count} import circle(s)"
    assert count == len(import_circles.circles(import_circles.import_graph(REPO, "hush")))
    assert count <= MAX_CIRCLES


def test_script_exits_1_above_max():
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "import_circles.py"), "--max", "-1"],
        capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 1
    assert "more than -1 import circle(s)" in result.stderr


# -- the config floor ----------------------------------------------------------------

#: hush.config's modules in the order its docstring gives: each imports only
#: those before it.
CONFIG_ORDER = ["kinds", "directives", "table", "endpoints", "settings", "files"]


def test_config_modules_import_only_those_before_them():
    graph = import_circles.import_graph(REPO, "hush")
    config = {name for name in graph if name.startswith("hush.config.")}
    assert config == {f"hush.config.{name}" for name in CONFIG_ORDER}
    for position, name in enumerate(CONFIG_ORDER):
        imported = {target for target in graph[f"hush.config.{name}"] if target in config}
        assert imported <= {f"hush.config.{before}" for before in CONFIG_ORDER[:position]}, name


# -- test-case-name markers ------------------------------------------------------------

_MARKER = re.compile(r"-\*- test-case-name: (.+?) -\*-")


def markers() -> dict[str, list[str]]:
    """Source file (relative to the repository) -> the test modules its marker names."""
    found = {}
    for path in sorted((REPO / "hush").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        match = _MARKER.search(text)
        if match:
            # The editors and trial read the marker on the first line only.
            assert text.startswith("# -*- test-case-name:"), path
            found[str(path.relative_to(REPO))] = [
                name.strip() for name in match.group(1).split(",")]
    return found


def test_markers_are_found():
    # A marker regex that matches nothing would pass the test below unseen.
    assert len(markers()) > 40
    assert markers()["hush/config/settings.py"] == ["tests.unit.config.test_config"]


def _is_test_module(name: str) -> bool:
    if not name.startswith("tests.") or not name.rpartition(".")[2].startswith("test_"):
        return False
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a package on the way does not exist
        return False


def test_every_marker_names_an_existing_test_module():
    missing = {
        source: name
        for source, names in markers().items()
        for name in names
        if not _is_test_module(name)
    }
    assert missing == {}


def test_floors_import_only_floors_below_them():
    """import-linter's layers contract of pyproject.toml ([tool.importlinter]).

    A floor may import the floors below it and never one above, not even
    under TYPE_CHECKING or inside a function: lint-imports reads every import.
    """
    lint_imports = Path(sys.executable).parent / "lint-imports"
    if not lint_imports.exists():
        pytest.skip("import-linter is not installed (pip install '.[tests]')")
    result = subprocess.run([str(lint_imports)], capture_output=True, text=True, cwd=REPO,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout, result.stdout
