"""twemproxy (nutcracker) in front of three ``twistd -n hush`` processes.

Every proxy here runs contrib/twemproxy/nutcracker.yml with free ports put in
(and, for the AUTH/SELECT tests, ``redis_auth``/``redis_db`` added): cache
commands go through it to the right backend and come back as a direct
redis-server answers them, keys spread over the backends, redis-py connects
the way README.rst says, what the proxy sends a backend on connect gets the
answers Redis gives, and a backend that dies is ejected from the ring.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import hiredis
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.differential.harness import RawConnection
from tests.support import REPO, ServerProcess, free_port, start_hush, start_redis, wait_for_port

pytestmark = pytest.mark.e2e

CONTRIB = REPO / "contrib" / "twemproxy" / "nutcracker.yml"
# Debian installs it in /usr/sbin, which is not on every user's PATH.
NUTCRACKER = shutil.which("nutcracker") or next(
    (path for path in ("/usr/sbin/nutcracker", "/usr/local/sbin/nutcracker")
     if os.access(path, os.X_OK)), None)
needs_nutcracker = pytest.mark.skipif(
    NUTCRACKER is None, reason="nutcracker is not installed (apt-get install nutcracker)")
PASSWORD = "sekret"
SERVER_LINE = re.compile(r"^   - 127\.0\.0\.1:\d+:1 hush-\d+$", re.M)


def pool(name: str, listen: int, backends: list[int], **extra: str | int) -> str:
    """contrib's pool, renamed, on free ports, with more ``key: value`` settings."""
    text = CONTRIB.read_text()
    assert len(SERVER_LINE.findall(text)) == 3 and text.count("\nhush:\n") == 1
    servers = "\n".join(f"   - 127.0.0.1:{port}:1 hush-{index}"
                        for index, port in enumerate(backends, 1))
    text = SERVER_LINE.sub("\0", text, count=1)
    text = SERVER_LINE.sub("", text).replace("\0", servers)
    text = re.sub(r"listen: 127\.0\.0\.1:\d+", f"listen: 127.0.0.1:{listen}", text)
    settings = "".join(f"  {key}: {value}\n" for key, value in extra.items())
    return text.replace("\nhush:\n", f"\n{name}:\n").replace(
        "  redis: true\n", "  redis: true\n" + settings)


class Nutcracker:
    """A nutcracker process running ``config`` (pools listening on ``ports``), stopped by PID."""

    def __init__(self, directory: Path, config: str, ports: list[int]) -> None:
        path = directory / f"nutcracker-{ports[0]}.yml"
        path.write_text(config)
        self.log = directory / f"nutcracker-{ports[0]}.log"
        check = subprocess.run([NUTCRACKER, "-t", "-c", str(path)], capture_output=True,
                               text=True, timeout=30)
        assert "syntax is ok" in check.stdout + check.stderr, check
        self.process = ServerProcess(
            [NUTCRACKER, "-c", str(path), "-s", str(free_port()), "-a", "127.0.0.1",
             "-o", str(self.log)], ports[0])
        for port in ports[1:]:
            wait_for_port(port, self.process.proc)

    def stop(self) -> None:
        self.process.stop()


def client(port: int, **kwargs) -> redis.Redis:
    """redis-py as README.rst says to use it through twemproxy: RESP2, no CLIENT SETINFO."""
    return redis.Redis(port=port, protocol=2, driver_info=None, **kwargs)


def backend(port: int) -> redis.Redis:
    return redis.Redis(port=port, protocol=2)


@pytest.fixture(scope="module")
def backends() -> Iterator[list]:
    """Three Hush processes."""
    processes = []
    try:
        for _ in range(3):
            processes.append(start_hush("--maxkeys", "0"))
        yield processes
    finally:
        for process in processes:
            process.stop()


@pytest.fixture(scope="module")
def proxy(backends, tmp_path_factory) -> Iterator[int]:
    """nutcracker with contrib's configuration in front of ``backends``; yields its port."""
    if NUTCRACKER is None:
        pytest.skip("nutcracker is not installed (apt-get install nutcracker)")
    port = free_port()
    config = pool("hush", port, [process.port for process in backends])
    proxy = Nutcracker(tmp_path_factory.mktemp("twemproxy"), config, [port])
    yield port
    proxy.stop()


@pytest.fixture
def flushed(backends, proxy) -> int:
    for process in backends:
        backend(process.port).flushall()
    return proxy


@needs_nutcracker
def test_contrib_configuration_is_valid():
    check = subprocess.run([NUTCRACKER, "-t", "-c", str(CONTRIB)], capture_output=True,
                           text=True, timeout=30)
    assert "syntax is ok" in check.stdout + check.stderr


CACHE_SCRIPT = [
    ("SET", "greeting", "hello"),
    ("GET", "greeting"),
    ("SET", "counter", "10"),
    ("INCR", "counter"),
    ("INCRBY", "counter", "5"),
    ("DECR", "counter"),
    ("MSET", "a", "1", "b", "2", "c", "3", "d", "4"),
    ("MGET", "a", "b", "missing", "c", "d", "greeting", "counter"),
    ("EXPIRE", "greeting", "100"),
    ("TTL", "greeting"),
    ("EXPIRE", "missing", "100"),
    ("PERSIST", "greeting"),
    ("TTL", "greeting"),
    ("SET", "session", "x", "EX", "100"),
    ("TTL", "session"),
    ("DEL", "a", "b", "missing", "c"),
    ("MGET", "a", "b", "c", "d"),
    ("EXISTS", "d"),
    ("HSET", "user:1", "name", "ada", "lang", "en"),
    ("HGET", "user:1", "name"),
    ("HINCRBY", "user:1", "visits", "3"),
    ("HGETALL", "user:1"),
    ("HMGET", "user:1", "name", "missing", "visits"),
    ("SADD", "tags", "red", "green", "blue"),
    ("SCARD", "tags"),
    ("SISMEMBER", "tags", "red"),
    ("SMISMEMBER", "tags", "red", "pink", "blue"),
    ("SREM", "tags", "green", "pink"),
    ("ZADD", "board", "10", "alice", "20", "bob", "15", "carol"),
    ("ZINCRBY", "board", "7", "alice"),
    ("ZRANGE", "board", "0", "-1", "WITHSCORES"),
    ("ZREVRANGE", "board", "0", "1"),
    ("ZSCORE", "board", "carol"),
    ("ZRANK", "board", "bob"),
    ("TYPE", "board"),
    ("GET", "user:1"),                      # the backend's WRONGTYPE comes through
    ("INCR", "greeting"),
    ("EXPIRE", "greeting", "soon"),
    ("DEL", "greeting", "counter", "session", "user:1", "tags", "board", "d"),
]


@needs_nutcracker
def test_cache_commands_through_the_proxy_answer_as_redis(flushed, redis_process):
    through_proxy = RawConnection(flushed)
    direct = RawConnection(redis_process.port)
    try:
        direct.call("FLUSHALL")
        for command in CACHE_SCRIPT:
            assert through_proxy.call(*command) == direct.call(*command), command
    finally:
        through_proxy.close()
        direct.close()


@needs_nutcracker
def test_keys_spread_over_the_backends(flushed, backends):
    r = client(flushed)
    keys = [f"user:{index}" for index in range(600)]
    pipe = r.pipeline(transaction=False)
    for key in keys:
        pipe.set(key, key.upper(), ex=3600)
    assert pipe.execute() == [True] * len(keys)
    assert r.mget(keys) == [key.upper().encode() for key in keys]
    holders = [backend(process.port) for process in backends]
    held = [{key for key in keys if holder.exists(key)} for holder in holders]
    # Each key is on exactly one backend, and each backend has a share of them.
    assert sum(len(share) for share in held) == len(keys)
    assert set().union(*held) == set(keys)
    assert all(len(share) > len(keys) / 6 for share in held), [len(share) for share in held]
    assert sum(holder.dbsize() for holder in holders) == len(keys)


@needs_nutcracker
def test_hash_tags_keep_keys_on_one_backend(flushed, backends, redis_process):
    r = client(flushed)
    r.sadd("user:{42}:likes", "tea", "jazz")
    r.sadd("user:{42}:wants", "jazz", "rain")
    holders = [backend(process.port) for process in backends]
    assert [holder.dbsize() for holder in holders].count(2) == 1
    # Multi-key commands go whole to the backend of their first key.
    direct = redis.Redis(port=redis_process.port, protocol=2)
    direct.delete("user:{42}:likes", "user:{42}:wants")
    direct.sadd("user:{42}:likes", "tea", "jazz")
    direct.sadd("user:{42}:wants", "jazz", "rain")
    for command in (("SINTER",), ("SUNIONSTORE", "user:{42}:all")):
        keys = ("user:{42}:likes", "user:{42}:wants")
        assert sorted_reply(r.execute_command(*command, *keys)) == sorted_reply(
            direct.execute_command(*command, *keys))
    assert r.smembers("user:{42}:all") == {b"tea", b"jazz", b"rain"}
    direct.delete("user:{42}:likes", "user:{42}:wants", "user:{42}:all")


def sorted_reply(reply):
    return sorted(reply) if isinstance(reply, list | set) else reply


@needs_nutcracker
def test_redis_py_connects_with_resp2_and_no_client_setinfo(proxy):
    # redis-py's defaults send HELLO 3 or CLIENT SETINFO, which twemproxy
    # does not know: it closes the connection.
    no_retry = Retry(NoBackoff(), 0)
    for kwargs in ({}, {"protocol": 2}):
        with pytest.raises(redis.ConnectionError):
            redis.Redis(port=proxy, retry=no_retry, **kwargs).set("greeting", "hi")
    r = client(proxy, retry=no_retry)
    assert r.set("greeting", "hi") is True
    assert r.get("greeting") == b"hi"
    assert r.ping() is True


@needs_nutcracker
@pytest.mark.parametrize("command", [
    ("BLPOP", "jobs", "1"), ("SUBSCRIBE", "news"), ("MULTI",), ("SELECT", "1"), ("KEYS", "*"),
    ("SCAN", "0"), ("INFO",), ("CONFIG", "GET", "maxmemory"), ("FLUSHALL",),
])
def test_what_the_proxy_refuses_closes_the_connection(proxy, command):
    conn = RawConnection(proxy)
    try:
        with pytest.raises(ConnectionError):
            conn.call(*command)
    finally:
        conn.close()


# -- what the proxy sends a backend when it connects ----------------------------------


class RecordingBackend:
    """A TCP server that answers ``+OK`` to each request and records them, per connection."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections: list[list[list[bytes]]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            requests: list[list[bytes]] = []
            self.connections.append(requests)
            threading.Thread(target=self._handle, args=(conn, requests), daemon=True).start()

    def _handle(self, conn: socket.socket, requests: list[list[bytes]]) -> None:
        reader = hiredis.Reader()
        with conn:
            while data := conn.recv(65536):
                reader.feed(data)
                while (request := reader.gets()) is not False:
                    requests.append(request)
                    conn.sendall(b"+OK\r\n")

    def requests_before(self, command: list[bytes], timeout: float = 10.0) -> list[list[bytes]]:
        """What the connection that carried ``command`` received before it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for requests in list(self.connections):
                # Command names as the client spelled them (redis-py: upper case).
                named = [[request[0].upper(), *request[1:]] for request in requests]
                if command in named:
                    return requests[:named.index(command)]
            time.sleep(0.02)
        raise AssertionError(f"{command} never reached the backend")

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture(scope="module")
def password_servers() -> Iterator[tuple]:
    """A Hush and a redis-server that both require PASSWORD."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    hush = start_hush("--maxkeys", "0", "--requirepass", PASSWORD)
    try:
        real = start_redis()
        try:
            backend(real.port).config_set("requirepass", PASSWORD)
            yield hush, real
        finally:
            real.stop()
    finally:
        hush.stop()


def replay(port: int, requests: list[list[bytes]]) -> list[bytes]:
    """The raw replies of ``requests`` sent on one new connection."""
    conn = RawConnection(port)
    try:
        return [conn.call(*request) for request in requests]
    finally:
        conn.close()


@needs_nutcracker
def test_connection_setup_gets_the_answers_redis_gives(tmp_path, password_servers,
                                                       hush_process, redis_process):
    recorder = RecordingBackend()
    plain, secured = free_port(), free_port()
    config = (pool("plain", plain, [recorder.port])
              + pool("secured", secured, [recorder.port], redis_auth=PASSWORD, redis_db=2))
    proxy = Nutcracker(tmp_path, config, [plain, secured])
    try:
        client(plain).set("plain-key", "1")
        client(secured, password=PASSWORD).set("secured-key", "1")
        # contrib's pool sends nothing of its own; with redis_auth and redis_db
        # nutcracker 0.5.0 sends SELECT, then AUTH.
        assert recorder.requests_before([b"SET", b"plain-key", b"1"]) == []
        setup = recorder.requests_before([b"SET", b"secured-key", b"1"])
        assert setup == [[b"SELECT", b"2"], [b"AUTH", PASSWORD.encode()]]
    finally:
        proxy.stop()
        recorder.stop()
    hush, real = password_servers
    # A backend with that password refuses the SELECT (NOAUTH) and takes the AUTH ...
    assert replay(hush.port, setup) == replay(real.port, setup)
    assert replay(hush.port, setup)[0].startswith(b"-NOAUTH")
    # ... one without a password takes the SELECT and refuses the AUTH.
    assert replay(hush_process.port, setup) == replay(redis_process.port, setup)


@needs_nutcracker
def test_with_auth_keys_land_in_db_0_as_with_redis(tmp_path, password_servers):
    hush, real = password_servers
    to_hush, to_redis = free_port(), free_port()
    config = (pool("to_hush", to_hush, [hush.port], redis_auth=PASSWORD, redis_db=2)
              + pool("to_redis", to_redis, [real.port], redis_auth=PASSWORD, redis_db=2))
    proxy = Nutcracker(tmp_path, config, [to_hush, to_redis])
    try:
        for port in (to_hush, to_redis):
            assert client(port, password=PASSWORD).set("placed", "1") is True
    finally:
        proxy.stop()
    placement = {}
    for name, server in (("hush", hush), ("redis", real)):
        placement[name] = [redis.Redis(port=server.port, db=db, password=PASSWORD).exists("placed")
                           for db in (0, 2)]
    assert placement["hush"] == placement["redis"] == [1, 0]


# -- a backend that dies --------------------------------------------------------------


@needs_nutcracker
def test_a_dead_backend_leaves_the_ring(tmp_path):
    processes = [start_hush("--maxkeys", "0") for _ in range(3)]
    port = free_port()
    proxy = Nutcracker(tmp_path, pool("hush", port, [p.port for p in processes]), [port])
    try:
        r = client(port)
        keys = [f"page:{index}" for index in range(60)]
        r.mset({key: "cached" for key in keys})
        victim = backend(processes[1].port)
        lost = [key for key in keys if victim.exists(key)]
        assert len(lost) >= 2
        processes[1].stop()
        conn = RawConnection(port)
        try:
            replies = [conn.call("SET", lost[0], "again") for _ in range(5)]
            # Up to server_failure_limit (2) errors, then the key has a new home.
            errors = [reply for reply in replies if reply.startswith(b"-")]
            assert len(errors) <= 2, replies
            assert all(reply.startswith(b"-ERR ") for reply in errors), replies
            assert replies[-1] == b"+OK\r\n", replies
            # The other keys of the dead backend are now plain cache misses.
            assert conn.call("GET", lost[1]) == b"$-1\r\n"
        finally:
            conn.close()
        survivors = [backend(processes[index].port) for index in (0, 2)]
        assert sum(survivor.get(lost[0]) == b"again" for survivor in survivors) == 1
    finally:
        proxy.stop()
        for process in processes:
            process.stop()
