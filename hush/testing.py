"""Hush as the test server of Python projects: a pytest plugin.

Enable it with ``-p hush.testing`` on pytest's command line or
``pytest_plugins = ["hush.testing"]`` in a conftest.py. It offers:

``hush_server`` (session scope)
    A real Hush server on a free loopback port, started once per test
    session: a ``python -m hush`` subprocess by default, or a thread of the
    test process (``--hush-mode thread`` or ``hush_mode = thread`` in the
    ini file). It is a :class:`HushServer`: ``.host``, ``.port``, ``.url``,
    ``.advance(seconds)`` (moves the server's clock: TTLs expire, blocking
    timeouts fire, idle times grow, without sleeping), ``.client()`` and
    ``.async_client()`` (redis-py), and connection settings for RQ, Celery
    and Django's cache.
``hush_client`` (function scope)
    A redis-py client on an emptied server: what an earlier test wrote is
    gone (FLUSHALL and SCRIPT FLUSH before each test).

The server is started with ``--maxkeys 0`` (a test server evicts nothing)
and ``--enable-time-control yes``; ``hush_args`` in the ini file adds
options (``--loadmodule myproject/commands.py``, ``--config test.conf`` ...).
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import hush

#: Options every test server gets before the user's.
BASE_ARGS = ("--maxkeys", "0", "--enable-time-control", "yes")

#: How long a server may take to accept connections (a loaded CI machine).
START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, alive: Any, timeout: float = START_TIMEOUT) -> None:
    """Poll until ``port`` accepts a connection; ``alive()`` says whether to keep trying."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("the Hush test server stopped while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"the Hush test server did not listen on port {port} in {timeout}s")


class HushServer:
    """A running Hush test server and the settings libraries connect with.

    @ivar host: the address it listens on (127.0.0.1).
    @ivar port: its TCP port.
    @ivar mode: ``process`` or ``thread``.
    """

    host = "127.0.0.1"
    mode = ""

    def __init__(self, port: int) -> None:
        self.port = port
        self._admin: Any = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``, for anything that takes a URL (RQ, Celery ...)."""
        return f"redis://{self.host}:{self.port}/0"

    @property
    def connection_kwargs(self) -> dict[str, Any]:
        """``host`` and ``port``, for ``redis.Redis(**...)`` and the like."""
        return {"host": self.host, "port": self.port}

    def client(self, **kwargs: Any) -> Any:
        """A redis-py client of this server (``kwargs`` as redis.Redis takes them)."""
        import redis

        return redis.Redis(**self.connection_kwargs, **kwargs)

    def async_client(self, **kwargs: Any) -> Any:
        """A redis-py asyncio client of this server (``redis.asyncio.Redis``)."""
        import redis.asyncio

        return redis.asyncio.Redis(**self.connection_kwargs, **kwargs)

    def celery_config(self) -> dict[str, str]:
        """Celery settings using the server as broker and result backend."""
        return {"broker_url": self.url, "result_backend": self.url}

    def django_caches(self, **options: Any) -> dict[str, dict[str, Any]]:
        """A ``CACHES`` setting for Django's own Redis cache backend (Django 4.0+)."""
        default: dict[str, Any] = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": self.url,
        }
        if options:
            default["OPTIONS"] = options
        return {"default": default}

    def _admin_client(self) -> Any:
        if self._admin is None:
            self._admin = self.client()
        return self._admin

    def advance(self, seconds: float) -> None:
        """Move the server's clock forward by ``seconds``; what fell due has run on return."""
        self._admin_client().execute_command("HUSH.CLOCK", "ADVANCE", repr(float(seconds)))

    def flush(self) -> None:
        """Empty every database and the script cache."""
        admin = self._admin_client()
        admin.flushall()
        admin.script_flush()

    def stop(self) -> None:
        """Stop the server."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None


class ProcessServer(HushServer):
    """Hush in a ``python -m hush`` subprocess, running the hush package this process imports."""

    mode = "process"

    def __init__(self, args: list[str], port: int | None = None) -> None:
        super().__init__(port or free_port())
        env = dict(os.environ)
        # The same code as the tests see, even from a checkout that is not installed.
        root = os.path.dirname(os.path.dirname(os.path.abspath(hush.__file__)))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        self.log = tempfile.TemporaryFile()
        argv = [sys.executable, "-m", "hush", "--port", f"tcp:{self.port}:interface={self.host}",
                *args]
        self.process = subprocess.Popen(argv, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        try:
            _wait_for_port(self.port, lambda: self.process.poll() is None)
        except RuntimeError as error:
            self.stop()
            raise RuntimeError(f"{error}:\n{self.output()}") from None

    def output(self) -> str:
        """What the server logged so far."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        super().stop()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class ThreadServer(HushServer):
    """Hush on a reactor of its own, running in a thread of the test process.

    Its reactor is a private instance, not Twisted's global one, so tests
    that run the global reactor (pytest-twisted, trial) are not disturbed.
    """

    mode = "thread"

    def __init__(self, args: list[str], port: int | None = None) -> None:
        from hush.server.service import make_service
        from hush.tap import Options

        super().__init__(port or free_port())
        options = Options()
        options.parseOptions(["--port", f"tcp:{self.port}:interface={self.host}", *args])
        self.reactor = _new_reactor()
        self.service = make_service(options.settings(), reactor=self.reactor)
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="hush-test-server", daemon=True)
        self.thread.start()
        _wait_for_port(self.port, self.thread.is_alive)

    def _run(self) -> None:
        def start() -> None:
            try:
                self.service.privilegedStartService()
                self.service.startService()
            except BaseException as error:  # noqa: BLE001 -- reported by the waiting thread
                self._error = error
                self.reactor.stop()

        self.reactor.callWhenRunning(start)
        self.reactor.run(installSignalHandlers=False)

    def stop(self) -> None:
        super().stop()
        if self.thread.is_alive():
            done = threading.Event()

            def shut() -> None:
                stopped = self.service.stopService()
                if hasattr(stopped, "addBoth"):
                    stopped.addBoth(lambda _: self.reactor.stop())
                else:
                    self.reactor.stop()
                done.set()

            self.reactor.callFromThread(shut)
            done.wait(15)
            self.thread.join(15)


def _new_reactor() -> Any:
    """A reactor instance of the platform's best kind, not installed as the global one."""
    try:
        from twisted.internet.epollreactor import EPollReactor

        return EPollReactor()
    except ImportError:
        from twisted.internet.selectreactor import SelectReactor

        return SelectReactor()


def start_server(mode: str = "process", args: list[str] | tuple[str, ...] = ()) -> HushServer:
    """Start a Hush test server (``process`` or ``thread``) with :data:`BASE_ARGS` and ``args``."""
    argv = [*BASE_ARGS, *args]
    if mode == "thread":
        return ThreadServer(argv)
    if mode == "process":
        return ProcessServer(argv)
    raise ValueError(f"hush mode must be 'process' or 'thread', not {mode!r}")


# -- the pytest plugin ---------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--hush-mode`` and the ini settings ``hush_mode`` and ``hush_args``."""
    group = parser.getgroup("hush", "Hush test server")
    group.addoption("--hush-mode", choices=("process", "thread"), default=None,
                    help="run the hush_server fixture's server as a subprocess (default) "
                         "or in a thread of the test process")
    parser.addini("hush_mode", "process (default) or thread: where hush_server runs",
                  default="process")
    parser.addini("hush_args", "more options for the Hush test server (as on its command line)",
                  default="")


@pytest.fixture(scope="session")
def hush_server(request: pytest.FixtureRequest) -> Iterator[HushServer]:
    """A Hush server for the whole test session (see :class:`HushServer`)."""
    config = request.config
    mode = config.getoption("--hush-mode") or config.getini("hush_mode") or "process"
    server = start_server(mode, shlex.split(config.getini("hush_args") or ""))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hush_client(hush_server: HushServer) -> Iterator[Any]:
    """A redis-py client on an emptied ``hush_server``, closed after the test."""
    hush_server.flush()
    client = hush_server.client()
    try:
        yield client
    finally:
        client.close()
