"""The examples of README.rst and docs/ really work: each code block is run and its output compared.

Every ``.. code-block::`` of the README and the docs pages is an example a
test runs (shell commands and file excerpts are plain ``::`` literal blocks,
which are not run):

- a ``text`` block of ``127.0.0.1:6379>`` lines is typed into redis-cli
  against Hush and against redis-server, and must print the rest;
- a ``text`` block starting ``*** FATAL CONFIG FILE ERROR`` is what Hush
  prints for the config line it quotes;
- a ``python`` block using redis-py runs against Hush, each ``print`` giving
  the value of the comment on its line;
- a ``python`` block declaring a ``hush.module.Module`` is loaded into a Hush
  server and its command called;
- a ``python`` block of pytest tests is run with the plugin, in both modes,
  by tests/integration/test_testing_plugin.py.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from tests.support import REDIS_CLI, REPO, checkout_env, start_hush

pytestmark = pytest.mark.e2e

PROMPT = "127.0.0.1:6379> "
SOURCES = [REPO / "README.rst", *sorted((REPO / "docs").rglob("*.rst"))]


def code_blocks(path: Path, language: str | None = None) -> list[tuple[str, str]]:
    """``(language, body)`` of each ``.. code-block::`` of an rst file, bodies dedented."""
    blocks = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        found = re.fullmatch(r"\s*\.\. code-block:: (\S+)", line)
        if not found or (language and found.group(1) != language):
            continue
        body = []
        for follow in lines[index + 1 :]:
            if follow and not follow.startswith(" "):
                break
            body.append(follow)
        text = "\n".join(body).strip("\n")
        indent = min(len(x) - len(x.lstrip()) for x in text.splitlines() if x.strip())
        blocks.append((found.group(1),
                       "\n".join(x[indent:] for x in text.splitlines()) + "\n"))
    return blocks


def every_block() -> list[tuple[str, str, str]]:
    """``(page, language, body)`` of every code block of the README and the docs."""
    return [(str(path.relative_to(REPO)), language, body)
            for path in SOURCES for language, body in code_blocks(path)]


def kind(language: str, body: str) -> str:
    """Which test runs a block."""
    if language == "text" and body.startswith(PROMPT):
        return "redis-cli"
    if language == "text" and body.startswith("*** FATAL CONFIG FILE ERROR"):
        return "config-error"
    if language == "python" and "def test_" in body:
        return "pytest"
    if language == "python" and "from hush.module import" in body:
        return "module"
    if language == "python" and "import redis" in body:
        return "redis-py"
    return "untested"


def blocks_of(wanted: str) -> list[tuple[str, str]]:
    return [(page, body) for page, language, body in every_block()
            if kind(language, body) == wanted]


def ids(blocks: list[tuple[str, str]]) -> list[str]:
    return [f"{page}#{number}" for number, (page, _body) in enumerate(blocks)]


def test_every_code_block_is_an_example_a_test_runs():
    untested = [(page, body[:60]) for page, language, body in every_block()
                if kind(language, body) == "untested"]
    assert untested == [], "use a plain :: literal block for text that is not run"
    found = {kind(language, body) for _page, language, body in every_block()}
    assert found == {"redis-cli", "config-error", "pytest", "module", "redis-py"}


def test_the_readme_has_a_redis_cli_example():
    assert any(body.startswith(PROMPT) for _lang, body in code_blocks(REPO / "README.rst"))


# -- redis-cli sessions ---------------------------------------------------------------


def cli_session(body: str) -> tuple[list[str], str]:
    """The commands typed, and the output expected."""
    commands, expected = [], []
    for line in body.splitlines():
        if line.startswith(PROMPT):
            commands.append(line[len(PROMPT):])
        else:
            expected.append(line)
    return commands, "\n".join(expected) + "\n"


def run_redis_cli(port: int, commands: list[str]) -> str:
    # --no-raw: the interactive formatting ("(integer) 1", quoted strings)
    # even though the output is a pipe.
    result = subprocess.run([REDIS_CLI, "--no-raw", "-p", str(port)],
                            input="\n".join(commands) + "\n", capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


CLI_SESSIONS = blocks_of("redis-cli")
needs_redis_cli = pytest.mark.skipif(REDIS_CLI is None,
                                     reason="redis-cli is not installed (apt-get install "
                                            "redis-tools)")


@needs_redis_cli
@pytest.mark.parametrize(("page", "body"), CLI_SESSIONS, ids=ids(CLI_SESSIONS))
def test_redis_cli_session_on_hush(hush_process, page, body):
    redis.Redis(port=hush_process.port).flushall()
    commands, expected = cli_session(body)
    assert len(commands) >= 5
    assert run_redis_cli(hush_process.port, commands) == expected


@needs_redis_cli
@pytest.mark.parametrize(("page", "body"), CLI_SESSIONS, ids=ids(CLI_SESSIONS))
def test_redis_cli_session_is_what_redis_answers(redis_process, page, body):
    redis.Redis(port=redis_process.port).flushall()
    commands, expected = cli_session(body)
    assert run_redis_cli(redis_process.port, commands) == expected


# -- redis-py -------------------------------------------------------------------------


REDIS_PY = blocks_of("redis-py")


@pytest.mark.parametrize(("page", "body"), REDIS_PY, ids=ids(REDIS_PY))
def test_redis_py_example(hush_process, page, body):
    redis.Redis(port=hush_process.port).flushall()
    assert "port=6379" in body
    code = body.replace("port=6379", f"port={hush_process.port}")
    expected = [line.split("# ", 1)[1].strip() for line in body.splitlines()
                if line.lstrip().startswith("print(")]
    assert len(expected) >= 4
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, page, "exec"), {"__name__": "docs_example"})
    assert out.getvalue().splitlines() == expected


# -- a module -------------------------------------------------------------------------


MODULES = blocks_of("module")


@pytest.mark.parametrize(("page", "body"), MODULES, ids=ids(MODULES))
def test_module_example_loads_and_runs(tmp_path, page, body):
    source = tmp_path / "example_module.py"
    source.write_text(body)
    names = re.findall(r'@module\.command\("([^"]+)"', body)
    assert names
    server = start_hush("--loadmodule", str(source), "--maxkeys", "0")
    try:
        client = redis.Redis(port=server.port)
        listed = client.command_list(module="hello")
        assert sorted(name.decode() for name in listed) == sorted(names)
        assert client.execute_command("HELLO.SET", "greeting", "world") == b"OK"
        assert client.get("greeting") == b"hello world"
    finally:
        server.stop()


# -- the report of a bad config file --------------------------------------------------


CONFIG_ERRORS = blocks_of("config-error")


@pytest.mark.parametrize(("page", "body"), CONFIG_ERRORS, ids=ids(CONFIG_ERRORS))
def test_config_error_example_is_what_hush_prints(tmp_path, page, body):
    where = re.search(r"Reading the configuration file (\S+), at line (\d+)\n>>> '(.*)'", body)
    assert where is not None
    documented_path, number, line = where.group(1), int(where.group(2)), where.group(3)
    path = tmp_path / "hush.conf"
    path.write_text("# an example\n" * (number - 1) + line + "\n")
    result = subprocess.run([sys.executable, "-m", "hush", "--config", str(path)],
                            capture_output=True, text=True, env=checkout_env(), timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip("\n") == body.replace(documented_path, str(path)).strip("\n")
