"""Security and connection limits against real twistd processes, with redis-py.

requirepass, TLS (``ssl:`` endpoints, a certificate made at test time), Unix
sockets (``unix:``), systemd socket activation (``systemd:``), maxclients and
the idle timeout.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.support import (
    REPO,
    ServerProcess,
    checkout_env,
    free_port,
    hush_argv,
    start_hush,
    wait_for_port,
)

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / "key.pem", directory / "cert.pem"
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def wait_for_path(path: Path, proc: ServerProcess, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"no socket at {path}: {proc.output()}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def secure():
    """One server: a password, plus a TLS port and a Unix socket beside the TCP port."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        key, cert = make_certificate(directory)
        tls_port = free_port()
        unix_path = directory / "hush.sock"
        proc = start_hush(
            "--requirepass", PASSWORD,
            "--port", f"ssl:{tls_port}:interface=127.0.0.1:privateKey={key}:certKey={cert}",
            "--port", f"unix:{unix_path}:mode=600",
        )
        try:
            wait_for_port(tls_port, proc.proc)
            wait_for_path(unix_path, proc)
            yield proc, tls_port, cert, unix_path
        finally:
            proc.stop()


# -- requirepass -------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [2, 3])
def test_password(secure, protocol):
    proc = secure[0]
    conn = redis.Redis(port=proc.port, password=PASSWORD, protocol=protocol)
    assert conn.set("k", "v")
    assert conn.get("k") == b"v"
    assert conn.acl_whoami() in (b"default", "default")
    conn.close()
    named = redis.Redis(port=proc.port, username="default", password=PASSWORD,
                        protocol=protocol)
    assert named.ping()
    named.close()


def test_no_or_wrong_password(secure):
    proc = secure[0]
    # redis-py retries connection errors, and authentication errors are ones.
    once = Retry(NoBackoff(), 0)
    # redis-py 8 opens with HELLO, whose refusal names the HELLO AUTH form.
    with pytest.raises(redis.AuthenticationError, match="already authenticated"):
        redis.Redis(port=proc.port, retry=once).get("k")
    with socket.create_connection(("127.0.0.1", proc.port)) as raw:
        raw.sendall(b"GET k\r\n")
        assert raw.recv(100) == b"-NOAUTH Authentication required.\r\n"
    with pytest.raises(redis.AuthenticationError, match="invalid username-password pair"):
        redis.Redis(port=proc.port, password="guess-7f3a", retry=once).ping()
    with pytest.raises(redis.AuthenticationError, match="invalid username-password pair"):
        redis.Redis(port=proc.port, password="guess-7f3a", protocol=3, retry=once).ping()
    admin = redis.Redis(port=proc.port, password=PASSWORD)
    assert admin.info("stats")["acl_access_denied_auth"] >= 2
    admin.close()
    # The password, right or wrong, never reaches the log.
    assert PASSWORD not in proc.output()
    assert "guess-7f3a" not in proc.output()


# -- TLS ---------------------------------------------------------------------------


def test_tls(secure):
    proc, tls_port, cert, _ = secure
    conn = redis.Redis(host="127.0.0.1", port=tls_port, password=PASSWORD, ssl=True,
                       ssl_ca_certs=str(cert))
    assert conn.set("tls", "yes")
    assert conn.get("tls") == b"yes"
    # Large replies go through the TLS transport whole (no direct-socket send).
    big = b"x" * 3_000_000
    assert conn.set("big", big)
    assert conn.get("big") == big
    pipe = conn.pipeline(transaction=False)
    for _ in range(200):
        pipe.incr("n")
    assert pipe.execute()[-1] == 200
    conn.close()


def test_tls_refuses_plain_text_and_unknown_ca(secure):
    _, tls_port, _, _ = secure
    plain = redis.Redis(host="127.0.0.1", port=tls_port, password=PASSWORD,
                        socket_timeout=2, retry=Retry(NoBackoff(), 0))
    with pytest.raises(redis.ConnectionError):
        plain.ping()
    untrusted = redis.Redis(host="127.0.0.1", port=tls_port, password=PASSWORD, ssl=True,
                            ssl_cert_reqs="required", ssl_ca_certs=None, socket_timeout=2,
                            retry=Retry(NoBackoff(), 0))
    with pytest.raises(redis.ConnectionError):
        untrusted.ping()
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", tls_port)) as raw:
        with context.wrap_socket(raw) as tls:
            tls.sendall(b"PING\r\n")
            assert tls.recv(100) == b"-NOAUTH Authentication required.\r\n"


# -- Unix socket -------------------------------------------------------------------


def test_unix_socket(secure):
    proc, _, _, unix_path = secure
    assert oct(os.stat(unix_path).st_mode & 0o777) == oct(0o600)
    conn = redis.Redis(unix_socket_path=str(unix_path), password=PASSWORD)
    assert conn.set("unix", "yes")
    assert conn.get("unix") == b"yes"
    big = b"y" * 2_000_000
    assert conn.set("big", big)
    assert conn.get("big") == big
    me = conn.client_info()
    assert "U" in me["flags"]
    assert me["addr"] == f"{unix_path}:0"
    conn.close()


# -- maxclients and RLIMIT_NOFILE ----------------------------------------------------


#: Sets RLIMIT_NOFILE to (soft, hard) and becomes the rest of argv, as a
#: shell's ``ulimit -Sn soft -Hn hard; exec ...`` would.
_ULIMIT = """
import os, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), int(sys.argv[2])))
os.execv(sys.argv[3], sys.argv[3:])
"""


def start_hush_with_nofile(soft: int, hard: int, *extra: str) -> ServerProcess:
    port = free_port()
    env = checkout_env()
    argv = [sys.executable, "-c", _ULIMIT, str(soft), str(hard),
            *hush_argv("--port", f"tcp:{port}:interface=127.0.0.1", *extra)]
    return ServerProcess(argv, port, env=env, cwd=str(REPO))


def _nofile(pid: int) -> tuple[int, int]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no open-files limit in /proc")


def test_maxclients_and_the_open_files_limit():
    proc = start_hush_with_nofile(16, 4096, "--maxclients", "3")
    try:
        assert _nofile(proc.pid) == (35, 4096)
        assert ("Increased maximum number of open files to 35 (it was originally set "
                "to 16).") in proc.output()
        first = redis.Redis(port=proc.port)
        # The startup probe's connection may still be open: wait until it is gone.
        deadline = time.monotonic() + 5
        while len(first.client_list()) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        others = [redis.Redis(port=proc.port) for _ in range(2)]
        for conn in others:
            assert conn.ping()
        with socket.create_connection(("127.0.0.1", proc.port), timeout=5) as extra:
            assert extra.recv(100) == b"-ERR max number of clients reached\r\n"
            assert extra.recv(100) == b""
        assert first.info("stats")["rejected_connections"] == 1
        assert first.config_get("maxclients") == {"maxclients": "3"}
        for conn in (first, *others):
            conn.close()
    finally:
        proc.stop()


def test_maxclients_lowered_to_the_hard_limit():
    proc = start_hush_with_nofile(64, 80, "--maxclients", "100")
    try:
        assert _nofile(proc.pid) == (80, 80)
        conn = redis.Redis(port=proc.port)
        assert conn.config_get("maxclients") == {"maxclients": "48"}
        assert conn.info("clients")["maxclients"] == 48
        conn.close()
        output = proc.output()
        assert ("You requested maxclients of 100 requiring at least 132 max file "
                "descriptors.") in output
        assert "maxclients has been reduced to 48 to compensate for low ulimit." in output
    finally:
        proc.stop()


# -- idle timeout ------------------------------------------------------------------


def test_idle_timeout():
    proc = start_hush("--timeout", "1")
    try:
        blocked = redis.Redis(port=proc.port, socket_timeout=10)
        with socket.create_connection(("127.0.0.1", proc.port), timeout=10) as idle:
            idle.sendall(b"PING\r\n")
            assert idle.recv(100) == b"+PONG\r\n"
            started = time.monotonic()
            # BLPOP outlives the timeout: blocked clients are never idle.
            assert blocked.blpop(["q"], timeout=3) is None
            assert idle.recv(100) == b""
            assert time.monotonic() - started < 5
    finally:
        proc.stop()


# -- systemd socket activation -----------------------------------------------------


#: Puts the inherited listening socket at fd 3, sets LISTEN_FDS, LISTEN_FDNAMES
#: and LISTEN_PID (which must be the pid of the process that reads them: exec
#: keeps it) and becomes twistd -- what systemd does for hush.socket before
#: starting hush.service. Twisted ignores the descriptors unless LISTEN_FDNAMES
#: names each one; systemd always sets it (FileDescriptorName=hush).
_ACTIVATE = """
import os, sys
fd = int(sys.argv[1])
if fd != 3:
    os.dup2(fd, 3)
    os.close(fd)
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="1", LISTEN_FDNAMES="hush")
os.execv(sys.argv[2], sys.argv[2:])
"""


@pytest.mark.parametrize("endpoint", ["systemd:domain=INET:index=0",
                                      "systemd:domain=INET:name=hush"])
def test_systemd_socket_activation(endpoint):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    env = checkout_env()
    fd = listener.fileno()
    argv = [sys.executable, "-c", _ACTIVATE, str(fd), *hush_argv("--port", endpoint)]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(argv, env=env, cwd=str(REPO), pass_fds=(fd,),
                            stdout=log, stderr=subprocess.STDOUT)
    # Only the server holds the socket now; connections queue in its backlog
    # until twistd accepts them, as with systemd.
    listener.close()
    try:
        conn = redis.Redis(host="127.0.0.1", port=port, socket_timeout=15)
        assert conn.set("activated", "yes")
        assert conn.get("activated") == b"yes"
        assert conn.client_info()["laddr"] == f"127.0.0.1:{port}"
        conn.close()
    finally:
        proc.terminate()
        proc.wait(10)
        log.seek(0)
        output = log.read().decode(errors="replace")
    assert "Traceback" not in output, output


def _has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")
def test_dual_stack_socket_activation(tmp_path):
    """systemd's ``ListenStream=6379``: one IPv6 socket that also takes IPv4 clients.

    Local clients come from ``::1`` and ``::ffff:127.0.0.1``: protected mode
    serves both. The port Hush reports is the adopted socket's.
    """
    listener = socket.socket(socket.AF_INET6)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.bind(("::", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    unix_path = tmp_path / "hush.sock"
    env = checkout_env()
    fd = listener.fileno()
    # domain=INET as in contrib/systemd/hush.service: the socket's own family wins.
    argv = [sys.executable, "-c", _ACTIVATE, str(fd),
            *hush_argv("--port", "systemd:domain=INET:name=hush", "--port", f"unix:{unix_path}")]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(argv, env=env, cwd=str(REPO), pass_fds=(fd,),
                            stdout=log, stderr=subprocess.STDOUT)
    listener.close()
    try:
        for host, laddr in (("127.0.0.1", "::ffff:127.0.0.1"), ("::1", "::1")):
            conn = redis.Redis(host=host, port=port, socket_timeout=15)
            assert conn.ping() is True
            assert conn.client_info()["laddr"] == f"[{laddr}]:{port}"
            assert conn.config_get("port") == {"port": str(port)}
            assert conn.info("server")["tcp_port"] == port
            conn.close()
        # Not a TCP connection: INFO can only know the port from the listener.
        over_unix = redis.Redis(unix_socket_path=str(unix_path), socket_timeout=15)
        assert over_unix.info("server")["tcp_port"] == port
        over_unix.close()
    finally:
        proc.terminate()
        proc.wait(10)
        log.seek(0)
        output = log.read().decode(errors="replace")
    assert f"Running mode=standalone, port={port}." in output, output
    assert "Traceback" not in output, output


# -- the direct-socket fast path ---------------------------------------------------


def test_direct_socket_only_for_plain_tcp():
    """RedisProtocol._write may bypass the transport only for plain TCP.

    TLS must encrypt what is sent and Unix transports (a tcp.Server subclass)
    are left to Twisted; the TLS and Unix tests above send multi-megabyte
    replies through both.
    """
    from twisted.internet import tcp, unix
    from twisted.protocols.tls import TLSMemoryBIOProtocol

    from hush.server.protocol import _direct_socket

    plain = object.__new__(tcp.Server)
    plain.socket = sentinel = object()
    assert _direct_socket(plain) is sentinel
    plain.TLS = True  # startTLS on a plain connection
    assert _direct_socket(plain) is None
    on_unix = object.__new__(unix.Server)
    on_unix.socket = object()
    assert _direct_socket(on_unix) is None
    assert _direct_socket(TLSMemoryBIOProtocol(None, None)) is None


# -- ACL users -----------------------------------------------------------------------


def test_acl_users_from_the_config_file_and_config_rewrite(tmp_path):
    config = tmp_path / "hush.conf"
    config.write_text(
        "requirepass adminpass\n"
        "user worker on >workpass ~jobs:* &events +@list +@connection -@dangerous +acl|whoami\n")
    proc = start_hush("--config", str(config))
    try:
        worker = redis.Redis(port=proc.port, username="worker", password="workpass")
        assert worker.acl_whoami() in (b"worker", "worker")
        assert worker.rpush("jobs:1", "a") == 1
        with pytest.raises(redis.exceptions.NoPermissionError, match="keys used as arguments"):
            worker.rpush("other", "a")
        with pytest.raises(redis.exceptions.NoPermissionError, match="'get' command"):
            worker.get("jobs:1")
        admin = redis.Redis(port=proc.port, password="adminpass", protocol=3)
        assert admin.acl_setuser("reader", enabled=True, passwords=["+readpass"],
                                 keys=["jobs:*"], commands=["+@read"])
        assert admin.config_rewrite()
        worker.close()
        admin.close()
    finally:
        proc.stop()
    text = config.read_text()
    assert "user reader on #" in text and "user worker on #" in text
    # The rewritten file brings every user back.
    again = start_hush("--config", str(config))
    try:
        reader = redis.Redis(port=again.port, username="reader", password="readpass")
        assert reader.lrange("jobs:1", 0, -1) == []
        assert sorted(redis.Redis(port=again.port, password="adminpass").acl_users()) in (
            [b"default", b"reader", b"worker"], ["default", "reader", "worker"])
        reader.close()
    finally:
        again.stop()


def test_acl_file_survives_a_restart(tmp_path):
    users = tmp_path / "users.acl"
    users.write_text("user default on nopass ~* &* +@all\n")
    config = tmp_path / "hush.conf"
    config.write_text(f"aclfile {users}\n")
    proc = start_hush("--config", str(config))
    try:
        client = redis.Redis(port=proc.port)
        client.acl_setuser("carol", enabled=True, passwords=["+pw"], keys=["c:*"],
                           commands=["+get", "+set"])
        assert client.execute_command("ACL", "SAVE") in (b"OK", "OK", True)
        client.close()
    finally:
        proc.stop()
    assert b"user carol on #" in users.read_bytes()
    again = start_hush("--config", str(config))
    try:
        carol = redis.Redis(port=again.port, username="carol", password="pw")
        assert carol.set("c:1", "v")
        with pytest.raises(redis.exceptions.NoPermissionError):
            carol.set("d:1", "v")
        carol.close()
    finally:
        again.stop()


def test_a_bad_acl_file_stops_the_start(tmp_path):
    users = tmp_path / "users.acl"
    users.write_text("user carol bogus\n")
    config = tmp_path / "hush.conf"
    config.write_text(f"aclfile {users}\n")
    result = subprocess.run([*hush_argv("--config", str(config), "--port",
                                        f"tcp:{free_port()}:interface=127.0.0.1")],
                            env=checkout_env(), cwd=str(REPO), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert (f"Aborting Redis startup because of ACL errors: {users}:1: Syntax error. "
            "WARNING: ACL errors detected") in result.stdout + result.stderr
