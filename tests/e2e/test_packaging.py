"""Packaging: the installed distribution exposes the twistd plugin, safely.

These checks run in a subprocess started in ``/`` without PYTHONPATH, so they
see the installed environment, not this checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO

PROBE = r"""
import importlib.util, json, sys
spec = importlib.util.find_spec("hush")
if spec is None:
    print(json.dumps(None))
    sys.exit(0)
from importlib import metadata
from twisted.application.service import IServiceMaker
from twisted.plugin import getPlugins
import twisted.plugins
try:
    files = [str(f) for f in metadata.files("hush") or []]
    scripts = sorted([ep.name, ep.value] for ep in metadata.distribution("hush").entry_points
                     if ep.group == "console_scripts")
except metadata.PackageNotFoundError:
    files = scripts = None
import hush
print(json.dumps({
    "hush_file": spec.origin,
    "version": hush.__version__,
    "plugins": sorted(p.tapname for p in getPlugins(IServiceMaker)),
    "files": files,
    "scripts": scripts,
    "twisted_plugins_init": twisted.plugins.__file__,
}))
"""


@pytest.fixture(scope="module")
def installed():
    """What the installed environment of this interpreter holds, seen from ``/``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd="/", env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout.strip().splitlines()[-1])
    if info is None:
        pytest.skip("hush is not installed in this environment (pip install '.[tests]')")
    if info["files"] is None:
        pytest.skip("hush is importable but not installed as a distribution")
    return info


def test_checkout_has_no_twisted_plugins_init():
    plugins = REPO / "twisted" / "plugins"
    assert (plugins / "hush_plugin.py").is_file()
    assert not (plugins / "__init__.py").exists()
    assert not (REPO / "twisted" / "__init__.py").exists()


def test_installed_hush_is_not_the_checkout(installed):
    # Run from "/", the import must come from site-packages; otherwise the
    # plugin test below would prove nothing about the installation.
    # (The virtualenv may itself live inside the checkout, as .venv.)
    assert not installed["hush_file"].startswith(str(REPO / "hush") + os.sep)
    assert os.sep + "site-packages" + os.sep in installed["hush_file"]


def test_twistd_finds_the_hush_plugin(installed):
    assert "hush" in installed["plugins"]


def test_distribution_ships_the_plugin_and_no_plugins_init(installed):
    files = [path.replace("\\", "/") for path in installed["files"]]
    assert "twisted/plugins/hush_plugin.py" in files
    assert "twisted/plugins/__init__.py" not in files
    assert "twisted/__init__.py" not in files
    assert not any(path.endswith("dropin.cache") for path in files)
    assert "hush/__init__.py" in files
    assert "hush/commands/__init__.py" in files


def test_twisted_keeps_its_own_plugins_package(installed):
    # Twisted's twisted/plugins/__init__.py extends the package path so that
    # plugins from every sys.path entry are found; it must still be Twisted's.
    init = installed["twisted_plugins_init"]
    with open(init, encoding="utf-8") as source:
        assert "pluginPackagePaths" in source.read()


def test_command_docs_data_is_shipped(installed):
    # COMMAND DOCS reads them (hush.commands.docs): pyproject's package-data.
    files = set(installed["files"])
    for path in (REPO / "hush" / "commands").glob("*.json"):
        relative = path.relative_to(REPO).as_posix()
        assert relative in files, f"{relative} is missing from the installed distribution"


def test_every_module_is_shipped(installed):
    files = set(installed["files"])
    for path in (REPO / "hush").rglob("*.py"):
        relative = path.relative_to(REPO).as_posix()
        assert relative in files, f"{relative} is missing from the installed distribution"


def test_console_scripts_are_declared(installed):
    assert installed["scripts"] == [["hush", "hush.cli:main"],
                                    ["hush-check-aof", "hush.persistence.check_aof:main"]]


def _installed_run(*argv: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(list(argv), cwd="/", env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("command", [["hush"], ["python", "-m", "hush"]])
def test_installed_hush_command_runs(installed, command):
    bin_dir = Path(sys.executable).parent
    argv = ([sys.executable, *command[1:]] if command[0] == "python"
            else [str(bin_dir / command[0])])
    version = _installed_run(*argv, "--version")
    assert (version.returncode, version.stdout) == (0, f"hush {installed['version']}\n")
    usage = _installed_run(*argv, "--help")
    assert usage.returncode == 0 and usage.stdout.startswith("Usage: hush ")


def test_installed_hush_check_aof_runs(installed, tmp_path):
    script = str(Path(sys.executable).with_name("hush-check-aof"))
    assert _installed_run(script).stdout == "Usage: hush-check-aof [--fix] <file.aof>\n"
    aof = tmp_path / "appendonly.aof"
    aof.write_bytes(b"*1\r\n$4\r\nPING\r\n")
    result = _installed_run(script, str(aof))
    assert result.returncode == 0
    assert result.stdout.endswith(f"AOF {aof} is valid\n")
