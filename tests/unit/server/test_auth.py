"""requirepass, AUTH, HELLO ... AUTH, ACL and protected mode, on fake connections.

The texts were taken from a real Redis 7.0.15 (``redis-server --requirepass``).
"""

from __future__ import annotations

import hashlib
import hmac

import pytest
from twisted.internet.address import IPv6Address, UNIXAddress
from twisted.internet.testing import StringTransport
from twisted.logger import globalLogPublisher

from hush.server import auth
from tests.support import FakeClient, FakeServer
from tests.support import error_of as error

NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
HELLO_NOAUTH = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
    "HELLO AUTH <user> <pass> option can be used to authenticate the client and select "
    "the RESP protocol version at the same time"
)


def info_field(client: FakeClient, name: str) -> str:
    text = client.call("INFO", "stats").decode()
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    raise AssertionError(f"{name} not in INFO stats")


@pytest.fixture
def secured() -> FakeServer:
    return FakeServer(maxkeys=0, requirepass="s3cret")


# -- requirepass and AUTH ---------------------------------------------------------


def test_commands_need_auth(secured):
    client = secured.client()
    assert error(client.call("GET", "k")) == NOAUTH
    assert error(client.call("PING")) == NOAUTH
    assert error(client.call("SET", "k", "v")) == NOAUTH
    assert error(client.call("CLIENT", "ID")) == NOAUTH
    assert error(client.call("ACL", "WHOAMI")) == NOAUTH
    assert error(client.call("MULTI")) == NOAUTH
    # Nothing ran: the key was never written.
    assert secured.service.store.dbs[0].peek(b"k") is None


def test_unknown_command_and_arity_come_before_auth(secured):
    client = secured.client()
    assert error(client.call("NOSUCHCMD", "x")) == (
        "ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' ")
    assert error(client.call("GET")) == "ERR wrong number of arguments for 'get' command"


def test_auth_then_commands_run(secured):
    client = secured.client()
    assert client.call("AUTH", "s3cret") == b"OK"
    assert client.call("SET", "k", "v") == b"OK"
    assert client.call("GET", "k") == b"v"
    assert client.call("ACL", "WHOAMI") == b"default"
    # Authenticated clients take the dispatcher's fast path again.
    assert client.protocol.session._gated is False


def test_auth_with_user_name(secured):
    client = secured.client()
    assert client.call("AUTH", "default", "s3cret") == b"OK"
    assert client.call("PING") == b"PONG"


@pytest.mark.parametrize("args", [("wrong",), ("default", "wrong"), ("bob", "s3cret"),
                                  ("s3cre",), ("s3cret2",), ("",)])
def test_wrong_credentials(secured, args):
    client = secured.client()
    assert error(client.call("AUTH", *args)) == WRONGPASS
    assert error(client.call("GET", "k")) == NOAUTH


def test_auth_syntax(secured):
    client = secured.client()
    assert error(client.call("AUTH", "a", "b", "c")) == "ERR syntax error"
    assert error(client.call("AUTH")) == "ERR wrong number of arguments for 'auth' command"


def test_failed_auth_is_counted_and_keeps_an_earlier_success(secured):
    client = secured.client()
    client.call("AUTH", "nope")
    client.call("AUTH", "default", "nope")
    client.call("HELLO", "3", "AUTH", "default", "nope")
    assert client.call("AUTH", "s3cret") == b"OK"
    assert error(client.call("AUTH", "again-wrong")) == WRONGPASS
    # A failed AUTH does not log an authenticated client out (as Redis).
    assert client.call("GET", "k") is None
    assert info_field(client, "acl_access_denied_auth") == "4"
    client.call("CONFIG", "RESETSTAT")
    assert info_field(client, "acl_access_denied_auth") == "0"


def test_quit_and_reset_need_no_auth(secured):
    client = secured.client()
    assert client.call("RESET") == b"RESET"
    assert client.call("AUTH", "s3cret") == b"OK"
    assert client.call("GET", "k") is None
    # RESET goes back to the default user's unauthenticated state.
    assert client.call("RESET") == b"RESET"
    assert error(client.call("GET", "k")) == NOAUTH
    assert client.call("QUIT") == b"OK"
    assert client.closed


def test_hello_without_auth(secured):
    client = secured.client()
    assert error(client.call("HELLO")) == HELLO_NOAUTH
    assert error(client.call("HELLO", "3")) == HELLO_NOAUTH
    assert not client.protocol.session.resp3
    # Redis 7.0 has applied SETNAME before it finds the client unauthenticated.
    assert error(client.call("HELLO", "3", "SETNAME", "early")) == HELLO_NOAUTH
    assert client.call("AUTH", "s3cret") == b"OK"
    assert client.call("CLIENT", "GETNAME") == b"early"


def test_hello_auth(secured):
    client = secured.client()
    assert error(client.call("HELLO", "3", "AUTH", "default", "wrong")) == WRONGPASS
    assert not client.protocol.session.resp3
    reply = client.call("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "x")
    assert reply[b"proto"] == 3
    assert client.protocol.session.resp3
    assert client.call("CLIENT", "GETNAME") == b"x"
    # Once authenticated, HELLO alone works.
    assert client.call("HELLO", "2")[5] == 2


def test_auth_inside_multi(secured):
    client = secured.client()
    client.call("AUTH", "s3cret")
    assert client.call("MULTI") == b"OK"
    assert client.call("AUTH", "wrong") == b"QUEUED"
    assert client.call("AUTH", "s3cret") == b"QUEUED"
    replies = client.call("EXEC")
    assert error(replies[0]) == WRONGPASS
    assert replies[1] == b"OK"


def test_no_password_configured():
    server = FakeServer()
    client = server.client()
    assert error(client.call("AUTH", "x")) == (
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?")
    # The default user has no password: any password is right for it...
    assert client.call("AUTH", "default", "anything") == b"OK"
    reply = client.call("HELLO", "3", "AUTH", "default", "whatever")
    assert reply[b"proto"] == 3
    # ...but other users do not exist.
    assert error(client.call("AUTH", "bob", "x")) == WRONGPASS
    assert client.protocol.session._gated is False


def test_config_set_requirepass_at_run_time():
    server = FakeServer()
    before = server.client(40001)
    assert before.call("CONFIG", "SET", "requirepass", "newpass") == b"OK"
    assert before.call("CONFIG", "GET", "requirepass") == [b"requirepass", b"newpass"]
    # Connections made before keep their (password-less) authentication.
    assert before.call("PING") == b"PONG"
    after = server.client(40002)
    assert error(after.call("PING")) == NOAUTH
    assert after.call("AUTH", "newpass") == b"OK"
    # A later change applies to later AUTHs only.
    before.call("CONFIG", "SET", "requirepass", "other")
    assert after.call("PING") == b"PONG"
    third = server.client(40003)
    assert error(third.call("AUTH", "newpass")) == WRONGPASS
    fourth = server.client(40004)
    assert error(fourth.call("GET", "k")) == NOAUTH
    # Removing the password lets waiting clients in, as Redis's nopass does;
    # they are still not authenticated, which HELLO asks for (as in Redis).
    before.call("CONFIG", "SET", "requirepass", "")
    assert fourth.call("GET", "k") is None
    assert error(fourth.call("HELLO", "2")) == HELLO_NOAUTH
    assert fourth.call("AUTH", "default", "anything") == b"OK"
    assert fourth.call("HELLO", "2")[:2] == [b"server", b"redis"]
    assert fourth.protocol.session._gated is False


def test_password_is_never_logged(secured):
    events: list[dict] = []
    globalLogPublisher.addObserver(events.append)
    try:
        client = secured.client()
        client.call("AUTH", "hunter2-wrong")
        client.call("HELLO", "3", "AUTH", "default", "hunter2-wrong")
        client.call("AUTH", "s3cret")
    finally:
        globalLogPublisher.removeObserver(events.append)
    assert "hunter2" not in repr(events)
    assert "s3cret" not in repr(events)


def test_comparison_is_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def recording(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    server = FakeServer(requirepass="s3cret")
    assert server.client().call("AUTH", "guess") != b"OK"
    # The SHA-256 digests Redis keeps are what is compared.
    assert (hashlib.sha256(b"guess").hexdigest().encode(),
            hashlib.sha256(b"s3cret").hexdigest().encode()) in calls


def test_non_utf8_password():
    server = FakeServer(requirepass=b"p\xe9ss".decode("utf-8", "surrogateescape"))
    client = server.client()
    assert client.call("AUTH", b"p\xe9ss") == b"OK"


# -- ACL -----------------------------------------------------------------------


def test_acl_users_and_list(secured):
    client = secured.client()
    client.call("AUTH", "s3cret")
    assert client.call("ACL", "USERS") == [b"default"]
    digest = hashlib.sha256(b"s3cret").hexdigest()
    # Redis 7.0.15 shows exactly this for --requirepass s3cret.
    assert digest == "1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0"
    assert client.call("ACL", "LIST") == [f"user default on #{digest} ~* &* +@all".encode()]
    client.call("CONFIG", "SET", "requirepass", "")
    assert client.call("ACL", "LIST") == [b"user default on nopass ~* &* +@all"]
    assert error(client.call("ACL", "WHOAMI", "x")) == (
        "ERR wrong number of arguments for 'acl|whoami' command")
    assert error(client.call("ACL")) == "ERR wrong number of arguments for 'acl' command"


def test_acl_cat(client):
    categories = client.call("ACL", "CAT")
    assert len(categories) == 21
    assert categories[:3] == [b"keyspace", b"read", b"write"]
    connection = set(client.call("ACL", "CAT", "connection"))
    assert {b"auth", b"hello", b"ping", b"client|id", b"reset", b"quit"} <= connection
    assert b"client" not in connection
    assert b"get" in client.call("ACL", "CAT", "STRING")
    assert error(client.call("ACL", "CAT", "nosuch")) == "ERR Unknown category 'nosuch'"
    assert error(client.call("ACL", "CAT", "a", "b")) == (
        "ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP.")


def test_acl_help_lists_only_what_exists(client):
    from hush.commands import COMMANDS

    lines = client.call("ACL", "HELP")
    assert lines[0] == b"ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    names = {line.split()[0].lower() for line in lines[1:] if not line.startswith(b" ")}
    assert names == {b"cat", b"deluser", b"dryrun", b"getuser", b"genpass", b"list", b"load",
                     b"log", b"save", b"setuser", b"users", b"whoami", b"help"}
    assert names <= set(COMMANDS[b"acl"].subcommands)


# -- protected mode ------------------------------------------------------------


def test_protected_mode_refuses_remote_peers():
    server = FakeServer()
    remote = FakeClient(server.factory, ("192.0.2.7", 50000))
    assert remote.raw() == auth.DENIED_REPLY
    assert remote.closed
    assert auth.DENIED_REPLY.startswith(
        b"-DENIED Redis is running in protected mode because protected mode is enabled and "
        b"no password is set for the default user.")
    # It never became a client: nothing it sends is run.
    remote.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
    assert remote.raw() == b""
    assert server.service.store.dbs[0].peek(b"k") is None
    local = server.client()
    assert local.call("CLIENT", "LIST").count(b"\n") == 1
    assert info_field(local, "rejected_connections") == "1"


@pytest.mark.parametrize("peer", [
    UNIXAddress(None), IPv6Address("TCP", "::1", 5000), IPv6Address("TCP", "::ffff:127.0.0.1", 5),
    IPv6Address("TCP", "::ffff:127.1.2.3", 5), IPv6Address("TCP", "0:0:0:0:0:0:0:1", 5),
    IPv6Address("TCP", "::FFFF:7f00:1", 5),
])
def test_protected_mode_lets_local_peers_in(peer):
    server = FakeServer()
    transport = StringTransport(peerAddress=peer)
    protocol = server.factory.buildProtocol(None)
    protocol.makeConnection(transport)
    protocol.dataReceived(b"*1\r\n$4\r\nPING\r\n")
    assert transport.value() == b"+PONG\r\n"


@pytest.mark.parametrize("host", ["::ffff:192.0.2.7", "2001:db8::1", "::", "fe80::1%lo"])
def test_protected_mode_refuses_remote_ipv6_peers(host):
    server = FakeServer()
    transport = StringTransport(peerAddress=IPv6Address("TCP", host, 5000))
    protocol = server.factory.buildProtocol(None)
    protocol.makeConnection(transport)
    assert transport.value().startswith(b"-DENIED Redis is running in protected mode")
    assert transport.disconnecting


def test_loopback_range_is_local():
    server = FakeServer()
    client = FakeClient(server.factory, ("127.0.0.2", 50000))
    assert client.call("PING") == b"PONG"


def test_password_or_protected_mode_no_lets_remote_peers_in():
    with_password = FakeServer(requirepass="s3cret")
    remote = FakeClient(with_password.factory, ("192.0.2.7", 50000))
    assert error(remote.call("PING")) == NOAUTH
    assert remote.call("AUTH", "s3cret") == b"OK"
    unprotected = FakeServer(protected_mode=False)
    remote = FakeClient(unprotected.factory, ("192.0.2.7", 50000))
    assert remote.call("PING") == b"PONG"


def test_protected_mode_follows_the_password_at_run_time():
    server = FakeServer(requirepass="s3cret")
    local = server.client()
    local.call("AUTH", "s3cret")
    local.call("CONFIG", "SET", "requirepass", "")
    remote = FakeClient(server.factory, ("192.0.2.7", 50000))
    assert remote.raw() == auth.DENIED_REPLY


# -- request limits before AUTH ------------------------------------------------


def test_unauthenticated_multibulk_limit(secured):
    client = secured.client()
    client.send_raw(b"*10\r\n" + b"$1\r\nx\r\n" * 10)
    assert client.raw().startswith(b"-ERR unknown command 'x'")
    client.send_raw(b"*11\r\n")
    assert client.raw() == b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    assert client.closed


def test_unauthenticated_bulk_limit(secured):
    client = secured.client()
    client.send_raw(b"*2\r\n$3\r\nGET\r\n$16384\r\n" + b"x" * 16384 + b"\r\n")
    assert client.raw() == b"-NOAUTH Authentication required.\r\n"
    client.send_raw(b"*2\r\n$3\r\nGET\r\n$16385\r\n")
    assert client.raw() == b"-ERR Protocol error: unauthenticated bulk length\r\n"
    assert client.closed


def test_requests_split_across_reads(secured):
    client = secured.client()
    for piece in (b"*2\r", b"\n$3\r\nGE", b"T\r\n$1", b"\r\nk\r", b"\n"):
        client.send_raw(piece)
    assert client.raw() == b"-NOAUTH Authentication required.\r\n"
    client.send_raw(b"GET k\r\nPING\r\n")
    assert client.raw() == b"-NOAUTH Authentication required.\r\n" * 2
    client.send_raw(b"GET " + b"k" * 20000 + b"\r\n")
    assert client.raw() == b"-NOAUTH Authentication required.\r\n"


def test_malformed_requests_before_auth(secured):
    client = secured.client()
    client.send_raw(b"*1\r\n+x\r\n")
    assert client.raw() == b"-ERR Protocol error: expected '$', got '+'\r\n"
    assert client.closed
    other = secured.client()
    other.send_raw(b"*x\r\n")
    assert other.raw() == b"-ERR Protocol error: invalid multibulk length\r\n"
    third = secured.client()
    third.send_raw(b"*1\r\n$-5\r\n")
    assert third.raw() == b"-ERR Protocol error: invalid bulk length\r\n"


def test_limits_end_with_auth_in_the_same_read(secured):
    client = secured.client()
    big = b"v" * 100_000
    client.send_raw(b"*2\r\n$4\r\nAUTH\r\n$6\r\ns3cret\r\n"
                    + b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\n" % (len(big), big)
                    + b"*12\r\n" + b"$1\r\nx\r\n" * 12)
    replies = client.replies()
    assert replies[:2] == [b"OK", b"OK"]
    assert str(replies[2]).startswith("ERR unknown command 'x'")
    assert not client.closed
    assert "dataReceived" not in client.protocol.__dict__
    assert client.call("STRLEN", "k") == len(big)


def test_reset_brings_the_limits_back(secured):
    client = secured.client()
    client.call("AUTH", "s3cret")
    assert client.call("RESET") == b"RESET"
    client.send_raw(b"*11\r\n")
    assert client.raw() == b"-ERR Protocol error: unauthenticated multibulk length\r\n"


def test_no_limits_once_the_password_is_removed(secured):
    waiting = secured.client(1)
    admin = secured.client(2)
    admin.call("AUTH", "s3cret")
    admin.call("CONFIG", "SET", "requirepass", "")
    waiting.send_raw(b"*12\r\n" + b"$1\r\nx\r\n" * 12)
    assert waiting.raw().startswith(b"-ERR unknown command 'x'")
    assert not waiting.closed


def test_no_guard_without_password(client):
    assert "dataReceived" not in client.protocol.__dict__
    client.send_raw(b"*12\r\n" + b"$1\r\nx\r\n" * 12)
    assert client.raw().startswith(b"-ERR unknown command 'x'")
