"""Sphinx configuration of Hush's documentation.

Build it with ``sphinx-build -W -b html docs OUT`` (warnings are errors, as
in CI) after ``pip install '.[docs]'``. The command and settings references
are generated from the code by ``_ext/hush_reference.py`` when a build starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The extension lives beside this file; the checkout comes first so that a
# build from a source tree documents that tree's code.
sys.path[:0] = [str(HERE / "_ext"), str(HERE.parent)]

from hush import __version__  # noqa: E402

project = "Hush"
author = "Hush's authors"
copyright = "Hush's authors"
version = release = __version__

extensions = [
    "sphinx.ext.autodoc",
    "hush_reference",
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
html_theme = "furo"
html_title = f"Hush {release}"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": False}
