"""Protocol tests of the connection commands, on a fake server and clock."""

from __future__ import annotations

import pytest

import hush
from tests.support import error_of as error

HELLO2 = (
    b"*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n" + hush.REDIS_VERSION.encode()
    + b"\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
    b"$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
)


def test_ping(client):
    client.send_raw(b"*1\r\n$4\r\nPING\r\n")
    assert client.raw() == b"+PONG\r\n"
    assert client.call("PING", "hi") == b"hi"
    assert error(client.call("PING", "a", "b")) == (
        "ERR wrong number of arguments for 'ping' command")


def test_ping_resp3_is_the_same(client):
    client.call("HELLO", "3")
    client.send_raw(b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n")
    assert client.raw() == b"+PONG\r\n$2\r\nhi\r\n"


def test_ping_while_subscribed_in_resp2(client):
    client.protocol.session.channels = {b"news"}
    client.protocol.session.patterns = set()
    assert client.call("PING") == [b"pong", b""]
    assert client.call("PING", "x") == [b"pong", b"x"]


def test_echo(client):
    assert client.call("ECHO", "hello world") == b"hello world"
    assert error(client.call("ECHO")) == "ERR wrong number of arguments for 'echo' command"


def test_quit_replies_then_closes(client):
    assert client.call("QUIT") == b"OK"
    assert client.closed


def test_select(client):
    assert client.call("SELECT", "15") == b"OK"
    assert client.protocol.session.db.index == 15
    assert error(client.call("SELECT", "16")) == "ERR DB index is out of range"
    assert error(client.call("SELECT", "-1")) == "ERR DB index is out of range"
    assert error(client.call("SELECT", "a")) == "ERR value is not an integer or out of range"
    assert client.protocol.session.db.index == 15


def test_hello_bytes(client):
    client.send_raw(b"*1\r\n$5\r\nHELLO\r\n")
    assert client.raw() == HELLO2
    client.send_raw(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n")
    assert client.raw() == b"%7" + HELLO2[3:].replace(b":2\r\n", b":3\r\n", 1)
    assert client.protocol.session.resp3
    client.send_raw(b"*2\r\n$5\r\nHELLO\r\n$1\r\n2\r\n")
    assert client.raw() == HELLO2
    assert not client.protocol.session.resp3


@pytest.mark.parametrize("args, message", [
    (("4",), "NOPROTO unsupported protocol version"),
    (("1",), "NOPROTO unsupported protocol version"),
    (("a",), "ERR Protocol version is not an integer or out of range"),
    ((" 3",), "ERR Protocol version is not an integer or out of range"),
    (("3", "setname"), "ERR Syntax error in HELLO option 'setname'"),
    (("3", "foo"), "ERR Syntax error in HELLO option 'foo'"),
    (("3", "auth", "default"), "ERR Syntax error in HELLO option 'auth'"),
    (("3", "setname", "a b"),
     "ERR Client names cannot contain spaces, newlines or special characters."),
])
def test_hello_errors_keep_protocol(client, args, message):
    assert error(client.call("HELLO", *args)) == message
    assert not client.protocol.session.resp3


def test_hello_applies_options_in_order(client):
    # Redis 7.0 keeps a SETNAME that came before a bad option.
    assert error(client.call("HELLO", "3", "SETNAME", "first", "bogus")).startswith("ERR Syntax")
    assert client.call("CLIENT", "GETNAME") == b"first"
    assert not client.protocol.session.resp3
    reply = client.call("HELLO", "2", "AUTH", "default", "pw", "SETNAME", "second")
    assert reply[reply.index(b"proto") + 1] == 2
    assert client.call("CLIENT", "GETNAME") == b"second"


def test_hello_wrong_user(client):
    message = error(client.call("HELLO", "3", "AUTH", "nobody", "pw"))
    assert message.startswith("WRONGPASS")
    assert not client.protocol.session.resp3


# -- CLIENT ---------------------------------------------------------------

def test_client_id_is_unique(server, client):
    other = server.client(40001)
    assert client.call("CLIENT", "ID") == 1
    assert other.call("CLIENT", "ID") == 2


def test_client_names(client):
    assert client.call("CLIENT", "GETNAME") is None
    assert client.call("CLIENT", "SETNAME", "worker-1") == b"OK"
    assert client.call("client", "getname") == b"worker-1"
    assert client.call("CLIENT", "SETNAME", "") == b"OK"
    assert client.call("CLIENT", "GETNAME") is None


@pytest.mark.parametrize("name", ["a b", "a\nb", "\x7f", "caf\xe9"])
def test_client_setname_refuses_special_characters(client, name):
    client.call("CLIENT", "SETNAME", "kept")
    assert error(client.call("CLIENT", "SETNAME", name)) == (
        "ERR Client names cannot contain spaces, newlines or special characters.")
    assert client.call("CLIENT", "GETNAME") == b"kept"


def test_client_arity_and_unknown_subcommands(client):
    assert error(client.call("CLIENT")) == "ERR wrong number of arguments for 'client' command"
    assert error(client.call("CLIENT", "SETNAME")) == (
        "ERR wrong number of arguments for 'client|setname' command")
    assert error(client.call("CLIENT", "ID", "x")) == (
        "ERR wrong number of arguments for 'client|id' command")
    assert error(client.call("CLIENT", "nosuch")) == (
        "ERR unknown subcommand 'nosuch'. Try CLIENT HELP.")


def test_client_setinfo(client):
    assert client.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == b"OK"
    assert client.call("CLIENT", "SETINFO", "lib-ver", "5.0.1") == b"OK"
    line = client.call("CLIENT", "INFO")
    assert line.endswith(b" lib-name=redis-py lib-ver=5.0.1\n")
    assert error(client.call("CLIENT", "SETINFO", "LIB-FOO", "x")) == (
        "ERR Unrecognized option 'LIB-FOO'")
    assert error(client.call("CLIENT", "SETINFO", "LIB-NAME", "a b")) == (
        "ERR LIB-NAME cannot contain spaces, newlines or special characters.")
    assert client.call("CLIENT", "SETINFO", "lib-name", "") == b"OK"
    assert b" lib-name= lib-ver=5.0.1\n" in client.call("CLIENT", "INFO")


def _parse_line(line: bytes) -> dict[str, str]:
    return dict(field.split("=", 1) for field in line.decode().split())


def test_client_info_fields(server, client):
    client.call("CLIENT", "SETNAME", "me")
    client.call("SELECT", "2")
    server.clock.advance(7)
    line = client.call("CLIENT", "INFO")
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert list(_parse_line(line)) == [
        "id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub",
        "ssub", "multi", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl",
        "oll", "omem", "tot-mem", "events", "cmd", "user", "redir", "resp", "lib-name",
        "lib-ver",
    ]
    fields = _parse_line(line)
    assert fields["id"] == "1"
    assert fields["addr"] == "127.0.0.1:40000"
    assert fields["laddr"] == "10.0.0.1:12345"
    assert fields["name"] == "me"
    assert fields["age"] == "7"
    assert fields["idle"] == "0"
    assert fields["flags"] == "N"
    assert fields["db"] == "2"
    assert fields["multi"] == "-1"
    assert fields["cmd"] == "client|info"
    assert fields["user"] == "default"
    assert fields["resp"] == "2"


def test_client_info_is_verbatim_in_resp3(client):
    client.call("HELLO", "3")
    client.send_raw(b"*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n")
    raw = client.raw()
    assert raw.startswith(b"=") and b"\r\ntxt:id=1 " in raw
    assert b" resp=3 " in raw


def test_client_list_shows_idle_and_last_command(server, client):
    other = server.client(40001)
    other.call("CLIENT", "SETNAME", "sleeper")
    server.clock.advance(30)
    text = client.call("CLIENT", "LIST")
    lines = [_parse_line(line) for line in text.split(b"\n") if line]
    assert [line["id"] for line in lines] == ["1", "2"]
    assert lines[1]["name"] == "sleeper"
    assert lines[1]["idle"] == "30"
    assert lines[1]["cmd"] == "client|setname"
    assert lines[0]["cmd"] == "client|list"


def test_client_list_filters(server, client):
    server.client(40001)
    assert client.call("CLIENT", "LIST", "ID", "2").startswith(b"id=2 ")
    assert client.call("CLIENT", "LIST", "ID", "2", "1").split(b"\n")[1].startswith(b"id=1 ")
    assert client.call("CLIENT", "LIST", "ID", "99") == b""
    assert client.call("CLIENT", "LIST", "ID", "0") == b""
    assert client.call("CLIENT", "LIST", "TYPE", "normal").count(b"\n") == 2
    assert client.call("CLIENT", "LIST", "TYPE", "PUBSUB") == b""
    assert client.call("CLIENT", "LIST", "TYPE", "replica") == b""
    assert error(client.call("CLIENT", "LIST", "TYPE", "foo")) == "ERR Unknown client type 'foo'"
    assert error(client.call("CLIENT", "LIST", "ID", "1", "a")) == "ERR Invalid client ID"
    assert error(client.call("CLIENT", "LIST", "foo")) == "ERR syntax error"


def test_client_list_flags_blocked_and_multi(server, client):
    other = server.client(40001)
    other.protocol.waiter = object()  # what a blocking command leaves behind
    try:
        line = client.call("CLIENT", "LIST", "ID", "2")
    finally:
        other.protocol.waiter = None
    assert _parse_line(line)["flags"] == "b"
    other.protocol.session.in_multi = True
    other.protocol.session.multi_queue = [[b"SET", b"a", b"1"]]
    fields = _parse_line(client.call("CLIENT", "LIST", "ID", "2"))
    assert fields["flags"] == "x"
    assert fields["multi"] == "1"


def test_client_kill_by_id_and_addr(server, client):
    victim = server.client(40001)
    bystander = server.client(40002)
    assert client.call("CLIENT", "KILL", "ID", "2") == 1
    assert victim.closed and not bystander.closed
    assert client.call("CLIENT", "KILL", "127.0.0.1:40002") == b"OK"
    assert bystander.closed
    assert error(client.call("CLIENT", "KILL", "127.0.0.1:40002")) == "ERR No such client"
    assert client.call("CLIENT", "LIST").count(b"\n") == 1


def test_client_kill_skips_self_by_default(server, client):
    other = server.client(40001)
    assert client.call("CLIENT", "KILL", "TYPE", "normal") == 1
    assert other.closed and not client.closed
    assert client.call("CLIENT", "KILL", "ID", "1", "SKIPME", "no") == 1
    assert client.closed


@pytest.mark.parametrize("args, message", [
    (("1.2.3.4:5",), "ERR No such client"),
    (("id", "abc"), "ERR client-id should be greater than 0"),
    (("id", "0"), "ERR client-id should be greater than 0"),
    (("foo", "bar"), "ERR syntax error"),
    (("id", "1", "2"), "ERR syntax error"),
    (("id", "1", "skipme", "maybe"), "ERR syntax error"),
    (("type", "foo"), "ERR Unknown client type 'foo'"),
    (("user", "nobody"), "ERR No such user 'nobody'"),
])
def test_client_kill_errors(client, args, message):
    assert error(client.call("CLIENT", "KILL", *args)) == message


def test_client_no_evict(client):
    assert client.call("CLIENT", "NO-EVICT", "on") == b"OK"
    assert _parse_line(client.call("CLIENT", "INFO"))["flags"] == "e"
    assert client.call("CLIENT", "NO-EVICT", "OFF") == b"OK"
    assert _parse_line(client.call("CLIENT", "INFO"))["flags"] == "N"
    assert error(client.call("CLIENT", "NO-EVICT", "maybe")) == "ERR syntax error"


def test_client_help(client):
    lines = client.call("CLIENT", "HELP")
    assert lines[0] == b"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[-1] == b"    Prints this help."
    for name in (b"GETNAME", b"ID", b"INFO", b"SETNAME <name>", b"NO-EVICT (ON|OFF)"):
        assert name in lines


def test_unix_socket_client_addresses(server):
    from twisted.internet.address import UNIXAddress
    from twisted.internet.testing import StringTransport

    transport = StringTransport(hostAddress=UNIXAddress("/run/hush.sock"),
                                peerAddress=UNIXAddress(None))
    protocol = server.factory.buildProtocol(None)
    protocol.makeConnection(transport)
    protocol.dataReceived(b"*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n")
    line = transport.value().split(b"\r\n")[1]
    fields = _parse_line(line)
    assert fields["addr"] == "/run/hush.sock:0"
    assert fields["laddr"] == "/run/hush.sock:0"
    assert fields["flags"] == "U"
