#!/usr/bin/env python3
"""Count the import circles between the modules of a package (``hush`` by default).

Every ``import`` and ``from ... import`` anywhere in a module counts -- at
module level, inside a function, under ``if TYPE_CHECKING:`` -- because each
is a dependency the layering forbids running upward, and a deferred import
only hides a circle from the interpreter, not from a reader. An import names
the module it imports, as import-linter (grimp) sees it: ``from a.b import c``
is an edge to ``a.b.c`` when that is a module, else to ``a.b``.

A circle is a strongly connected component of that graph with more than one
module (or a module importing itself). The script prints each, largest
first, then the count; ``--max N`` makes it exit 1 when there are more than
N, for CI. It reads the source only and imports nothing.

Usage: ``python tools/import_circles.py [--root DIR] [--package NAME] [--max N]``
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted name -> file of every module below ``root/package`` (packages by __init__)."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported(node: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """The dotted names an import statement asks for (submodule candidates included)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            # A relative import counts from the module's package.
            base = module.split(".")
            drop = node.level - 1 if is_package else node.level
            base = base[: len(base) - drop] if drop else base
            stem = ".".join(base + ([node.module] if node.module else []))
        else:
            stem = node.module or ""
        for alias in node.names:
            yield f"{stem}.{alias.name}"
            yield stem


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports."""
    modules = module_names(root, package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            candidates = list(_imported(node, name, is_package))
            if isinstance(node, ast.ImportFrom):
                # Pairs of (stem.name, stem): the submodule if it is one, else the stem.
                for sub, stem in zip(candidates[::2], candidates[1::2], strict=True):
                    target = sub if sub in modules else stem
                    if target in modules:
                        graph[name].add(target)
            else:
                graph[name].update(c for c in candidates if c in modules)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with a circle in them, largest first."""
    # Tarjan's algorithm, iterative: a deep chain of imports must not hit the
    # recursion limit.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph[node]:
                        found.append(sorted(component))
    return sorted(found, key=lambda component: (-len(component), component))


def report(found: Iterable[list[str]]) -> str:
    """The text the script prints: one block per circle, then the count."""
    found = list(found)
    lines = []
    for number, component in enumerate(found, 1):
        lines.append(f"circle {number}: {len(component)} modules")
        lines.extend(f"    {member}" for member in component)
    lines.append(f"{len(found)} import circle(s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the circles; exit 1 if there are more than ``--max``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=REPO,
                        help="the folder that holds the package (default: this repository)")
    parser.add_argument("--package", default="hush")
    parser.add_argument("--max", type=int, default=None,
                        help="exit 1 when there are more circles than this")
    options = parser.parse_args(argv)
    found = circles(import_graph(options.root, options.package))
    print(report(found))
    if options.max is not None and len(found) > options.max:
        print(f"more than {options.max} import circle(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
