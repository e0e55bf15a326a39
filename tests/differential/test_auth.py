"""AUTH, HELLO AUTH, ACL and protected mode: Hush and redis-server byte for byte.

Both servers run with the same ``requirepass`` (and a second pair without
one); each script starts on fresh connections, so the authentication state
is the one under test.
"""

from __future__ import annotations

import selectors
import socket
import time

import pytest

from tests.differential.harness import Pair, RawConnection
from tests.support import REDIS_SERVER, ServerProcess, free_port, start_hush, wait_for_port

pytestmark = pytest.mark.differential

PASSWORD = "s3cret pass"


def start_redis_with(*extra: str) -> ServerProcess:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    argv = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", *extra]
    return ServerProcess(argv, port)


@pytest.fixture(scope="module")
def secured_ports():
    redis_proc = start_redis_with("--requirepass", PASSWORD)
    hush_proc = start_hush("--requirepass", PASSWORD)
    yield hush_proc.port, redis_proc.port
    hush_proc.stop()
    redis_proc.stop()


@pytest.fixture
def secured(secured_ports):
    pair = Pair(*secured_ports)
    yield pair
    pair.close()


UNAUTHENTICATED = [
    ("GET", "k"),
    ("PING",),
    ("SET", "k", "v"),
    ("NOSUCHCMD", "x"),
    ("GET",),
    ("MULTI",),
    ("CLIENT", "ID"),
    ("ACL", "WHOAMI"),
    ("HELLO",),
    ("HELLO", "3"),
    ("HELLO", "2", "SETNAME", "early"),
    ("HELLO", "3", "AUTH", "default", "wrong"),
    ("HELLO", "3", "AUTH", "default"),
    ("HELLO", "4", "AUTH", "default", PASSWORD),
    ("AUTH", "a", "b", "c"),
    ("AUTH", "wrong"),
    ("AUTH", "default", "wrong"),
    ("AUTH", "nobody", PASSWORD),
    ("AUTH", ""),
    ("RESET",),
    ("GET", "k"),
]

AUTHENTICATED = [
    ("AUTH", PASSWORD),
    ("CLIENT", "GETNAME"),
    ("GET", "nokey"),
    ("ACL", "WHOAMI"),
    ("ACL", "USERS"),
    ("ACL", "LIST"),
    ("ACL", "CAT"),
    ("ACL", "CAT", "nosuch"),
    ("ACL", "CAT", "a", "b"),
    ("ACL", "WHOAMI", "x"),
    ("ACL",),
    ("AUTH", "wrong"),
    ("GET", "nokey"),
    ("MULTI",),
    ("AUTH", "wrong"),
    ("AUTH", PASSWORD),
    ("AUTH", "default", PASSWORD),
    ("EXEC",),
    ("AUTH", "default", PASSWORD),
    ("HELLO", "2", "SETNAME", "bad name"),
    ("RESET",),
    ("PING",),
    ("AUTH", "default", PASSWORD),
    ("PING",),
]


def test_unauthenticated(secured):
    secured.run_script(UNAUTHENTICATED)


def test_authenticated(secured):
    secured.run_script(AUTHENTICATED)


def test_hello_auth_in_resp3(secured):
    hush, redis = secured.both("HELLO", "3", "AUTH", "default", PASSWORD, "SETNAME", "x")
    # The maps differ only in the client id.
    assert hush.split(b"id\r\n")[0] == redis.split(b"id\r\n")[0]
    secured.run_script([("CLIENT", "GETNAME"), ("GET", "nokey"), ("ACL", "USERS"),
                        ("AUTH", "wrong"), ("ACL", "LIST")])


def test_config_set_requirepass(secured, secured_ports):
    secured.check("AUTH", PASSWORD)
    try:
        secured.check("CONFIG", "SET", "requirepass", "changed")
        secured.check("PING")
        later = Pair(*secured_ports)
        later.run_script([("PING",), ("AUTH", PASSWORD), ("AUTH", "changed"), ("PING",)])
        waiting = Pair(*secured_ports)
        waiting.check("GET", "k")
        secured.check("CONFIG", "SET", "requirepass", "")
        # With no password the waiting connection is let in.
        waiting.run_script([("GET", "k"), ("AUTH", "x"), ("AUTH", "default", "x"),
                            ("ACL", "LIST")])
        later.close()
        waiting.close()
    finally:
        secured.both("CONFIG", "SET", "requirepass", PASSWORD)


def test_without_password(pair):
    pair.run_script([
        ("AUTH", "x"),
        ("AUTH", "default", "x"),
        ("AUTH", "nobody", "x"),
        ("AUTH",),
        ("ACL", "LIST"),
        ("ACL", "WHOAMI"),
        ("PING",),
    ])


# -- protected mode, from a real non-loopback address -------------------------------


def _outside_address() -> str | None:
    """This host's address on a non-loopback interface, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            # A UDP connect sends nothing; it only picks the source address.
            probe.connect(("192.0.2.123", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_protected_mode_denies_non_local_peers():
    address = _outside_address()
    if address is None:
        pytest.skip("this host has no non-loopback IPv4 address to connect from")
    redis_proc = start_redis_with("--bind", "127.0.0.1", address)
    outside_port = free_port()
    hush_proc = start_hush("--port", f"tcp:{outside_port}:interface={address}")
    try:
        wait_for_port_on(address, outside_port, hush_proc)
        replies = []
        for port in (outside_port, redis_proc.port):
            with socket.create_connection((address, port), timeout=5) as sock:
                assert sock.getsockname()[0] == address
                data = b""
                while chunk := sock.recv(4096):
                    data += chunk
                replies.append(data)
        hush, redis = replies
        assert hush == redis
        assert hush.startswith(b"-DENIED Redis is running in protected mode")
        # Loopback clients are still served, and see the refusals counted
        # (the readiness probe's and the test's).
        local = RawConnection(hush_proc.port)
        assert local.call("PING") == b"+PONG\r\n"
        assert b"rejected_connections:2\r\n" in local.call("INFO", "stats")
        local.close()
    finally:
        hush_proc.stop()
        redis_proc.stop()
    unprotected = start_hush("--protected-mode", "no", "--port",
                             f"tcp:{outside_port}:interface={address}")
    try:
        wait_for_port_on(address, outside_port, unprotected)
        with socket.create_connection((address, outside_port), timeout=5) as outside:
            outside.sendall(b"PING\r\n")
            assert outside.recv(100) == b"+PONG\r\n"
    finally:
        unprotected.stop()


def wait_for_port_on(address: str, port: int, proc: ServerProcess) -> None:
    wait_for_port(proc.port, proc.proc)
    for _ in range(100):
        try:
            socket.create_connection((address, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"Hush does not listen on {address}:{port}")


def _raw_exchange(ports: tuple[int, int], payload: bytes) -> list[bytes]:
    """Send raw bytes to both servers at once; what each answers until it closes
    or, having answered, stays quiet for a moment."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for port in ports]
    received = [b"", b""]
    closed = [False, False]
    try:
        for sock in socks:
            sock.sendall(payload)
        with selectors.DefaultSelector() as selector:
            for index, sock in enumerate(socks):
                selector.register(sock, selectors.EVENT_READ, index)
            deadline = time.monotonic() + 10
            while not all(closed) and time.monotonic() < deadline:
                quiet = 0.2 if all(received) else 5
                events = selector.select(quiet)
                if not events:
                    break
                for key, _ in events:
                    chunk = key.fileobj.recv(65536)
                    if chunk:
                        received[key.data] += chunk
                    else:
                        closed[key.data] = True
                        selector.unregister(key.fileobj)
    finally:
        for sock in socks:
            sock.close()
    return [data + (b"<closed>" if shut else b"<open>")
            for data, shut in zip(received, closed, strict=True)]


@pytest.mark.parametrize("payload", [
    b"*10\r\n" + b"$1\r\nx\r\n" * 10,
    b"*11\r\n",
    b"*11\r\n" + b"$1\r\nx\r\n" * 11,
    b"*2\r\n$3\r\nGET\r\n$16384\r\n" + b"x" * 16384 + b"\r\n",
    b"*2\r\n$3\r\nGET\r\n$16385\r\n",
    b"*1\r\n$4\r\nAUTH\r\n*12\r\n",
    b"*2\r\n$4\r\nAUTH\r\n$11\r\n" + PASSWORD.encode() + b"\r\n*12\r\n" + b"$1\r\nx\r\n" * 12,
    b"GET " + b"x" * 20000 + b"\r\n",
    b"*1\r\n+x\r\n",
    b"*-1\r\n*0\r\nPING\r\n",
], ids=["10-args", "11-args", "11-args-full", "bulk-16384", "bulk-16385", "auth-arity",
        "auth-then-12", "long-inline", "no-dollar", "empty-multibulks"])
def test_request_limits_before_auth(secured_ports, payload):
    hush, redis = _raw_exchange(secured_ports, payload)
    assert hush == redis
