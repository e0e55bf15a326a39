"""HUSH.CLOCK ADVANCE: everything time-based in Hush follows the server clock it moves.

The fake server's reactor is a task.Clock that the tests never advance here:
only HUSH.CLOCK ADVANCE moves the time, and what falls due runs before it replies.
"""

from __future__ import annotations

import pytest

from hush.commands.clock import DISABLED
from tests.support import FakeServer, encode_command, error_of, send, waiting

START = 1_700_000_000


@pytest.fixture
def server() -> FakeServer:
    return FakeServer(maxkeys=0, enable_time_control=True)


def advance(client, seconds) -> None:
    assert client.call("HUSH.CLOCK", "ADVANCE", str(seconds)) == b"OK"


def test_refused_unless_enabled():
    plain = FakeServer(maxkeys=0)
    c = plain.client()
    assert error_of(c.call("HUSH.CLOCK", "ADVANCE", "10")) == DISABLED
    assert plain.service.clock is plain.clock


def test_bad_amounts(client):
    for raw in ("-1", "abc", "inf", "nan", ""):
        assert error_of(client.call("HUSH.CLOCK", "ADVANCE", raw)) == (
            "ERR seconds must be a non-negative finite number")
    assert error_of(client.call("HUSH.CLOCK", "ADVANCE")).startswith(
        "ERR wrong number of arguments for 'hush.clock|advance'")
    assert client.call("HUSH.CLOCK", "HELP")[1] == b"ADVANCE <seconds>"


def test_time_and_ttl_follow(client):
    client.call("SET", "k", "v", "EX", "100")
    advance(client, 40.5)
    assert client.call("TTL", "k") == 60
    seconds, micros = client.call("TIME")
    assert (int(seconds), int(micros)) == (START + 40, 500000)


def test_keys_expire_actively(server, client):
    client.call("SET", "k", "v", "PX", "1500")
    advance(client, 1.499)
    assert b"k" in server.service.store.dbs[0].data
    advance(client, 0.001)
    # Gone from the keyspace without any lookup: the expiry timer ran.
    assert b"k" not in server.service.store.dbs[0].data
    assert b"expired_keys:1" in client.call("INFO", "stats")


def test_blocking_timeouts_answer(server, client, a):
    send(a, "BLPOP", "q", "5")
    send(a, "XREAD", "BLOCK", "1000", "STREAMS", "s", "$")
    advance(client, 4)
    assert a.raw() == b"" and waiting(server) == 1
    advance(client, 1)
    # BLPOP timed out, then XREAD blocked; its timeout comes one second on.
    assert a.replies() == [None]
    advance(client, 1)
    assert a.replies() == [None]
    assert waiting(server) == 0


def test_timers_run_in_deadline_order_each_at_its_time(client, a):
    client.call("SET", "k", "v", "EX", "3")
    # a blocks for 5 seconds; its pipelined commands run when it wakes.
    a.send_raw(encode_command("BLPOP", "q", "5") + encode_command("EXISTS", "k")
               + encode_command("TIME"))
    advance(client, 60)
    timeout, exists, (seconds, _micros) = a.replies()
    # The key's expiry (at +3) ran before the BLPOP timeout (at +5), which
    # saw the clock at its own deadline, not at the end of the advance.
    assert (timeout, exists, int(seconds)) == (None, 0, START + 5)
    assert int(client.call("TIME")[0]) == START + 60


def test_object_idletime_and_client_list_ages(client, a):
    client.call("SET", "k", "v")
    a.call("CLIENT", "SETNAME", "worker")
    advance(client, 90)
    assert client.call("OBJECT", "IDLETIME", "k") == 90
    line = [x for x in client.call("CLIENT", "LIST").split(b"\n") if b"name=worker" in x][0]
    assert b" age=90 " in line and b" idle=90 " in line
    # Keys used after the advance are stamped with the new time.
    client.call("GET", "k")
    advance(client, 5)
    assert client.call("OBJECT", "IDLETIME", "k") == 5


def test_stream_ids_and_idle_times(client):
    first = client.call("XADD", "s", "*", "f", "v")
    assert first == b"%d-0" % (START * 1000)
    client.call("XGROUP", "CREATE", "s", "g", "0")
    client.call("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    advance(client, 30)
    assert client.call("XADD", "s", "*", "f", "v") == b"%d-0" % ((START + 30) * 1000)
    (entry,) = client.call("XPENDING", "s", "g", "-", "+", "10")
    assert entry[2] == 30000
    claimed = client.call("XAUTOCLAIM", "s", "g", "bob", "20000", "0")
    assert claimed[1][0][0] == first


def test_client_pause_ends(client, a):
    client.call("CLIENT", "PAUSE", "10000")
    send(a, "SET", "k", "v")
    advance(client, 9)
    assert a.raw() == b""
    advance(client, 1)
    assert a.replies() == [b"OK"]


def test_idle_clients_are_closed():
    server = FakeServer(maxkeys=0, enable_time_control=True, timeout=60)
    admin, idle = server.client(), server.client(41000)
    idle.call("PING")
    advance(admin, 30)
    admin.call("PING")
    assert not idle.closed
    advance(admin, 40)
    assert idle.closed and not admin.closed


def test_slowlog_timestamps(client):
    client.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
    advance(client, 1000)
    client.call("PING")
    entry = client.call("SLOWLOG", "GET", "1")[0]
    assert entry[1] == START + 1000


def test_not_in_transactions_nor_scripts(client):
    client.call("MULTI")
    assert error_of(client.call("HUSH.CLOCK", "ADVANCE", "1")) == (
        "ERR Command not allowed inside a transaction")
    client.call("DISCARD")
    reply = client.call("EVAL", "return redis.call('hush.clock', 'advance', '1')", "0")
    assert "This Redis command is not allowed from script" in error_of(reply)
