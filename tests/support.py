"""Helpers shared by the tests: in-memory connections and real server processes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import hiredis
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from hush.config.settings import Settings
from hush.data.store import Store
from hush.server.protocol import RedisFactory, RedisProtocol
from hush.server.service import StoreService

REPO = Path(__file__).resolve().parent.parent


def encode_command(*args: bytes | str | int) -> bytes:
    """A command as a RESP multibulk request."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, int):
            arg = str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


class FakeClient:
    """A RedisProtocol on a StringTransport, driven synchronously.

    ``call("SET", "k", "v")`` sends one command and returns the parsed
    replies written since the last call (hiredis parses them; errors come back
    as ``hiredis.ReplyError``).
    """

    def __init__(self, factory: RedisFactory, peer: tuple[str, int] = ("127.0.0.1", 40000)):
        self.transport = StringTransport(peerAddress=_addr(peer))
        self.protocol: RedisProtocol = factory.buildProtocol(None)
        self.protocol.makeConnection(self.transport)
        self.reader = hiredis.Reader()

    def send_raw(self, data: bytes) -> None:
        self.protocol.dataReceived(data)

    def raw(self) -> bytes:
        """Bytes written to the client since the last read, and clear them."""
        data = self.transport.value()
        self.transport.clear()
        return data

    def replies(self) -> list[Any]:
        """Parsed replies written since the last read."""
        self.reader.feed(self.raw())
        out = []
        while True:
            reply = self.reader.gets()
            if reply is False:
                return out
            out.append(reply)

    def call(self, *args: bytes | str | int) -> Any:
        """Send one command; return its single reply (or None if none yet)."""
        self.send_raw(encode_command(*args))
        replies = self.replies()
        assert len(replies) <= 1, replies
        return replies[0] if replies else None

    def disconnect(self) -> None:
        self.transport.loseConnection()
        self.protocol.connectionLost(None)

    @property
    def closed(self) -> bool:
        return self.transport.disconnecting


def _addr(peer: tuple[str, int]):
    from twisted.internet.address import IPv4Address

    return IPv4Address("TCP", peer[0], peer[1])


def make_store(maxkeys: int = 0, databases: int = 16) -> Store:
    """A bare store (no service, no connections) on a task.Clock."""
    clock = Clock()
    clock.advance(1_700_000_000)
    return Store(clock, databases=databases, maxkeys=maxkeys)


class FakeServer:
    """A store service on a task.Clock, and a way to connect fake clients."""

    def __init__(self, **settings: Any) -> None:
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.settings = Settings(**settings)
        self.service = StoreService(self.settings, self.clock)
        self.factory = RedisFactory(self.service)

    def client(self, port: int = 40000) -> FakeClient:
        return FakeClient(self.factory, ("127.0.0.1", port))


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout}s")


class ServerProcess:
    """A server subprocess on a free port, stopped by PID."""

    def __init__(self, argv: list[str], port: int, env: dict[str, str] | None = None,
                 cwd: str | None = None) -> None:
        self.port = port
        # A file, not a pipe: nothing drains a pipe while the server runs, and
        # once its buffer filled the server would block on its own log.
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port(port, self.proc)
        except Exception:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def twistd_path() -> str:
    """The twistd of the running interpreter's environment."""
    candidate = Path(sys.executable).with_name("twistd")
    return str(candidate) if candidate.exists() else (shutil.which("twistd") or "twistd")


def checkout_env(**extra: str) -> dict[str, str]:
    """This process's environment with this checkout first on PYTHONPATH, plus ``extra``."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
    return env


def hush_argv(*extra: str) -> list[str]:
    """``twistd -n --pidfile= hush`` and ``extra``: Hush in the foreground, no pid file."""
    return [twistd_path(), "-n", "--pidfile=", "hush", *extra]


def start_hush(*extra: str, port: int | None = None, use_checkout: bool = True) -> ServerProcess:
    """``twistd -n hush`` on a free port; runs this checkout's code by default."""
    port = port or free_port()
    env = checkout_env() if use_checkout else dict(os.environ)
    argv = hush_argv("--port", f"tcp:{port}:interface=127.0.0.1", *extra)
    return ServerProcess(argv, port, env=env, cwd=str(REPO))


REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")


def start_redis(port: int | None = None) -> ServerProcess:
    """A real redis-server on a free port with no persistence."""
    port = port or free_port()
    argv = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no"]
    return ServerProcess(argv, port)


# -- helpers of the protocol tests (FakeServer / FakeClient) ------------------------


def error_of(reply: Any) -> str:
    """The text of an error reply; fails the test when ``reply`` is not an error."""
    assert isinstance(reply, hiredis.ReplyError), reply
    return str(reply)


def send(client: FakeClient, *args: bytes | str | int) -> None:
    """Send one command without reading its reply (a blocking one, say)."""
    client.send_raw(encode_command(*args))


def raw_reply(client: FakeClient, *args: bytes | str | int) -> bytes:
    """The exact bytes the server answers to one command."""
    client.send_raw(encode_command(*args))
    return client.raw()


class Keyspace(MutableMapping):
    """A database's dict as white-box checks see it: the keys, without the
    ticks of hush.data.recency between them; writes go to the dict."""

    def __init__(self, database: Any) -> None:
        self.database = database

    def __getitem__(self, key: bytes) -> Any:
        return self.database.data[key]

    def __setitem__(self, key: bytes, value: Any) -> None:
        self.database.data[key] = value

    def __delitem__(self, key: bytes) -> None:
        del self.database.data[key]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.database.key_list())

    def __len__(self) -> int:
        return len(self.database)

    def __contains__(self, key: object) -> bool:
        return key.__class__ is not int and key in self.database.data


def data(server: FakeServer, db: int = 0) -> Keyspace:
    """The keyspace of database ``db``: what is really stored, for white-box checks."""
    return Keyspace(server.service.store.dbs[db])


def keyspace(database: Any) -> Keyspace:
    """The keys of a :class:`hush.data.store.Database`, least recently used first."""
    return Keyspace(database)


def waiting(server: FakeServer) -> int:
    """How many clients are blocked (BLPOP, XREAD BLOCK, ...) right now."""
    return server.service.blocking.blocked_clients


def now_ms(server: FakeServer) -> int:
    """The server clock in milliseconds, as stream IDs and PXAT take it."""
    return int(server.clock.seconds() * 1000)


# -- helpers of the end-to-end tests (redis-py against a twistd process) -------------


def other_client(r: Any) -> Any:
    """A second redis-py client to the same server, speaking the same RESP version."""
    import redis

    kwargs = r.connection_pool.connection_kwargs
    return redis.Redis(port=kwargs["port"], protocol=kwargs.get("protocol", 2))


def wait_until_blocked(r: Any, count: int = 1, timeout: float = 5.0) -> None:
    """Poll INFO until ``count`` clients are blocked, so a write really wakes a waiter."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if r.info("clients").get("blocked_clients", 0) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"fewer than {count} blocked clients after {timeout}s")
