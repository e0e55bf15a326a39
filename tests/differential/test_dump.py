"""DUMP and RESTORE between Hush and a real redis-server, for every type and encoding.

A value built on one server is DUMPed there, RESTOREd on the other, DUMPed
again and RESTOREd back: both copies must read the same on both servers, with
the same OBJECT ENCODING; where Redis's encoding is deterministic the
payloads are the same bytes.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.differential.harness import parse_reply

pytestmark = pytest.mark.differential

BIG = "x" * 70

#: name -> (commands building key "k", payloads byte-identical on both servers)
CASES: dict[str, tuple[list[tuple], bool]] = {
    "string-int": ([("SET", "k", "12345")], True),
    "string-big-int": ([("SET", "k", "123456789012345")], True),
    "string-embstr": ([("SET", "k", "hello")], True),
    "string-raw-lzf": ([("SET", "k", "abc" * 100)], True),
    "string-raw-random": ([("SET", "k", "".join(chr(33 + (i * 7919) % 90) for i in range(300)))],
                          True),
    "list-small": ([("RPUSH", "k", "a", "1", "-5", "300000", BIG)], True),
    "list-many-nodes": ([("RPUSH", "k", *[f"item-{i}" * 3 for i in range(2000)])], True),
    "set-intset": ([("SADD", "k", "1", "-7", "65536", "9999999999")], True),
    "set-hashtable": ([("SADD", "k", "a", "b", "c", "1")], False),
    "set-big-intset": ([("SADD", "k", *[str(i) for i in range(600)])], False),
    "hash-listpack": ([("HSET", "k", "f1", "v1", "f2", "22", "n", "-3")], True),
    "hash-hashtable": ([("HSET", "k", "f", BIG, "g", "1")], False),
    "zset-listpack": ([("ZADD", "k", "1.5", "a", "-2", "b", "3", "c", "inf", "d")], True),
    "zset-skiplist": ([("ZADD", "k", *[x for i in range(200) for x in (str(i / 3), f"m{i}")])],
                      True),
    "stream-plain": ([("XADD", "k", "1-1", "f", "v"), ("XADD", "k", "2-0", "f", "w", "g", "x"),
                      ("XADD", "k", "5-3", "a", "1")], True),
    "stream-many": ([("XADD", "k", f"{i + 1}-0", "field", str(i)) for i in range(250)], True),
    "stream-deleted": ([("XADD", "k", "1-1", "f", "v"), ("XADD", "k", "2-1", "f", "v"),
                        ("XDEL", "k", "2-1")], False),
    "stream-empty": ([("XADD", "k", "MAXLEN", "0", "7-7", "f", "v")], True),
    "stream-groups": ([("XADD", "k", "1-1", "f", "v"), ("XADD", "k", "2-1", "f", "v"),
                       ("XGROUP", "CREATE", "k", "g1", "0"),
                       ("XGROUP", "CREATE", "k", "g2", "$"),
                       ("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "1", "STREAMS", "k", ">"),
                       ("XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "k", ">"),
                       ("XGROUP", "CREATECONSUMER", "k", "g2", "carol")], False),
}


def _call(conn: Any, *args: Any) -> Any:
    return parse_reply(conn.call(*args))


def content(conn: Any, key: str) -> Any:
    """What a client can read of ``key``, in a comparable form."""
    kind = _call(conn, "TYPE", key)
    if kind == b"string":
        body: Any = _call(conn, "GET", key)
    elif kind == b"list":
        body = _call(conn, "LRANGE", key, 0, -1)
    elif kind == b"set":
        body = sorted(_call(conn, "SMEMBERS", key))
    elif kind == b"hash":
        body = _call(conn, "HGETALL", key)
        pairs = body.items() if isinstance(body, dict) else zip(body[0::2], body[1::2], strict=True)
        body = sorted(pairs)
    elif kind == b"zset":
        body = _call(conn, "ZRANGE", key, 0, -1, "WITHSCORES")
    else:
        body = _call(conn, "XINFO", "STREAM", key, "FULL")
    return kind, _call(conn, "OBJECT", "ENCODING", key), body


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("origin", ["redis", "hush"])
def test_dump_restores_on_the_other_server_and_back(pair, case, origin):
    setup, same_bytes = CASES[case]
    source = pair.redis if origin == "redis" else pair.hush
    target = pair.hush if origin == "redis" else pair.redis
    for command in setup:
        source.call(*command)
    payload = _call(source, "DUMP", "k")
    assert _call(target, "RESTORE", "k", 0, payload) == b"OK"
    again = _call(target, "DUMP", "k")
    assert _call(source, "RESTORE", "back", 0, again) == b"OK"
    assert content(target, "k") == content(source, "k")
    assert content(source, "back") == content(source, "k")
    if same_bytes:
        assert again == payload


def test_restore_options_and_errors_alike(pair):
    pair.redis.call("RPUSH", "src", "a", "b")
    payload = parse_reply(pair.redis.call("DUMP", "src"))
    bad_crc = payload[:-1] + bytes([payload[-1] ^ 1])
    new_version = payload[:-10] + b"\x0b\x00" + payload[-8:]
    script = [
        ("RESTORE", "k", 0, payload),
        ("RESTORE", "k", 0, payload),
        ("RESTORE", "k", 0, payload, "REPLACE"),
        ("RESTORE", "k", -1, payload, "REPLACE"),
        ("RESTORE", "k", "x", payload, "REPLACE"),
        ("RESTORE", "k", 0, bad_crc, "REPLACE"),
        ("RESTORE", "k", 0, new_version, "REPLACE"),
        ("RESTORE", "k", 0, b"\x00" * 3, "REPLACE"),
        ("RESTORE", "k", 0, payload, "BOGUS"),
        ("RESTORE", "k", 0, payload, "REPLACE", "IDLETIME", -1),
        ("RESTORE", "k", 0, payload, "REPLACE", "IDLETIME", 100, "FREQ", 3),
        ("RESTORE", "k", 0, payload, "REPLACE", "FREQ", 256),
        ("RESTORE", "k", 0, payload, "REPLACE", "FREQ"),
        ("RESTORE", "k2", 100000, payload, "REPLACE", "IDLETIME", 1000),
        ("OBJECT", "IDLETIME", "k2"),
        ("RESTORE", "k3", 1, payload, "ABSTTL"),
        ("EXISTS", "k3"),
        ("RESTORE", "k", 1, payload, "REPLACE", "ABSTTL"),
        ("EXISTS", "k"),
        ("RESTORE", "k4", 4102444800000, payload, "ABSTTL"),
        ("PEXPIRETIME", "k4"),
        ("DUMP", "nosuchkey"),
        ("SET", "str", "v"),
        ("RESTORE", "str", 0, payload),
        ("TYPE", "str"),
    ]
    pair.run_script(script)


def test_corrupt_payloads_get_bad_data_format_alike(pair):
    """Payloads whose checksum is right but whose object is not: Redis's error, no crash."""
    from hush.formats.crc64 import crc64

    def framed(body: bytes) -> bytes:
        head = body + b"\x0a\x00"
        return head + crc64(head).to_bytes(8, "little")

    for body in (b"\x00\x05ab", b"\x63", b"\x0e\x00", b"\x02\x02\x01a\x01a", b"\x12\x01\x02\x00",
                 b"\x04\x01\x01a", b"\x10\x03abc", b"\x06\x00", b"\x15"):
        pair.check("RESTORE", "k", 0, framed(body), "REPLACE")
    pair.check("EXISTS", "k")
