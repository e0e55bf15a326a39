"""hush.testing, the pytest plugin, run as a project would run it: an inner pytest session.

Each test writes a test file into a fresh directory and runs pytest on it in a
subprocess with ``-p hush.testing`` (this checkout first on the path), in both
server modes: the fixtures, the time control, the emptied server between
tests, the libraries' settings, and the worked example of docs/testing.rst verbatim.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import REPO

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

MODES = pytest.mark.parametrize("mode", ["process", "thread"])


def run_pytest(tmp_path, source: str, *args: str) -> subprocess.CompletedProcess:
    """pytest -p hush.testing on ``source`` (as test_it.py in ``tmp_path``), this checkout's code."""
    (tmp_path / "test_it.py").write_text(source)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(tmp_path)]))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "hush.testing", "-p", "no:cacheprovider",
         "-p", "no:twisted", "test_it.py", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=170)


def passed(result: subprocess.CompletedProcess, count: int) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{count} passed" in result.stdout, result.stdout


def readme_example() -> str:
    """docs/testing.rst's worked example: the python block after the line naming this file."""
    lines = (REPO / "docs" / "testing.rst").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "tests/integration/test_testing_plugin.py"
                 in line)
    start = next(i for i in range(start, len(lines)) if lines[i] == ".. code-block:: python")
    body = []
    for line in lines[start + 1:]:
        if line and not line.startswith(" "):
            break
        body.append(line[4:])
    return "\n".join(body).strip("\n") + "\n"


FIXTURES = '''
import threading, time

def test_first_writes_and_moves_time(hush_server, hush_client):
    assert hush_server.mode == MODE
    assert hush_server.url == f"redis://127.0.0.1:{hush_server.port}/0"
    hush_client.set("session", "s1", ex=60)
    hush_server.advance(59)
    assert hush_client.ttl("session") == 1
    hush_server.advance(1)
    assert hush_client.get("session") is None
    hush_client.set("leftover", "x")

def test_second_starts_empty(hush_client):
    assert hush_client.dbsize() == 0

def test_blpop_timeout_without_waiting(hush_server, hush_client):
    got = []
    waiter = hush_server.client()
    thread = threading.Thread(target=lambda: got.append(waiter.blpop(["jobs"], timeout=3600)))
    started = time.monotonic()
    thread.start()
    while hush_client.info("clients")["blocked_clients"] < 1:
        assert time.monotonic() - started < 30
        time.sleep(0.01)
    hush_server.advance(3600)
    thread.join(30)
    assert got == [None]
    waiter.close()

def test_library_settings(hush_server):
    assert hush_server.celery_config() == {"broker_url": hush_server.url,
                                           "result_backend": hush_server.url}
    caches = hush_server.django_caches()
    assert caches["default"]["LOCATION"] == hush_server.url
    assert hush_server.connection_kwargs == {"host": "127.0.0.1", "port": hush_server.port}

def test_asyncio_client(hush_server):
    import asyncio

    async def main():
        client = hush_server.async_client()
        await client.set("a", "1")
        value = await client.get("a")
        await client.aclose()
        return value

    assert asyncio.run(main()) == b"1"
'''


@MODES
def test_fixtures_and_the_readme_example(tmp_path, mode):
    # One inner session per mode: the docs' example, then the fixtures' own checks.
    source = readme_example() + f"\n\nMODE = {mode!r}\n" + FIXTURES
    passed(run_pytest(tmp_path, source, "--hush-mode", mode), 7)


def test_ini_settings_choose_the_mode_and_add_options(tmp_path):
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nhush_mode = thread\n"
        f"hush_args = --loadmodule {REPO}/contrib/modules/ratelimit.py\n")
    source = (
        "def test_it(hush_server, hush_client):\n"
        "    assert hush_server.mode == 'thread'\n"
        "    assert hush_client.execute_command('RATELIMIT.TAKE', 'k', '1', '1') == [1, 0, 0]\n")
    passed(run_pytest(tmp_path, source), 1)


def test_a_server_that_cannot_start_says_why(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\nhush_args = --loadmodule nowhere.py\n")
    result = run_pytest(tmp_path, "def test_it(hush_client):\n    pass\n")
    assert result.returncode != 0
    assert "Module nowhere.py failed to load: nowhere.py: no such file" in result.stdout


def test_django_cache_through_the_settings(tmp_path):
    pytest.importorskip("django")
    source = '''
import django
from django.conf import settings

def test_django_cache(hush_server):
    settings.configure(CACHES=hush_server.django_caches())
    django.setup()
    from django.core.cache import cache
    cache.set("greeting", "hello", timeout=30)
    assert cache.get("greeting") == "hello"
    hush_server.advance(31)
    assert cache.get("greeting") is None
'''
    passed(run_pytest(tmp_path, source), 1)
