"""String commands through redis-py against a real twistd process (RESP2 and RESP3)."""

from __future__ import annotations

import time

import pytest
import redis

pytestmark = pytest.mark.e2e


def test_set_get_and_options(r):
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.set("k", "w", nx=True) is None
    assert r.set("k", "w", xx=True, get=True) == b"v"
    assert r.set("missing", "x", xx=True) is None
    assert r.get("missing") is None
    assert r.set("k", b"\x00\xff", ex=100) is True
    assert r.get("k") == b"\x00\xff"


def test_expiring_writes(r):
    assert r.set("a", "1", px=60_000) is True
    assert r.set("b", "1", exat=int(time.time()) + 100) is True
    assert r.set("c", "1", pxat=int(time.time() * 1000) + 100_000) is True
    assert r.execute_command("SETEX", "d", 100, "v") is True
    assert r.psetex("e", 100_000, "v") is True
    assert r.mget("a", "b", "c", "d", "e") == [b"1", b"1", b"1", b"v", b"v"]
    assert r.set("gone", "1", exat=1) is True
    assert r.get("gone") is None
    assert r.set("soon", "1", px=1) is True
    time.sleep(0.05)
    assert r.get("soon") is None


def test_set_errors_reach_the_client(r):
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'set' command"):
        r.set("k", "v", ex=0)
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SET", "k", "v", "NX", "XX")
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'setex' command"):
        r.execute_command("SETEX", "k", -1, "v")


def test_getset_getdel_getex(r):
    assert r.getset("k", "1") is None
    assert r.getset("k", "2") == b"1"
    assert r.getex("k", ex=100) == b"2"
    assert r.getex("k", persist=True) == b"2"
    assert r.getex("k", exat=1) == b"2"
    assert r.get("k") is None
    r.set("d", "x")
    assert r.getdel("d") == b"x"
    assert r.getdel("d") is None


def test_setnx_mset_msetnx_mget(r):
    assert r.setnx("a", "1") is True
    assert r.setnx("a", "2") is False
    assert r.mset({"b": "2", "c": "3"}) is True
    assert r.msetnx({"c": "x", "d": "4"}) is False
    assert r.msetnx({"d": "4", "e": "5"}) is True
    assert r.mget(["a", "b", "c", "d", "e", "f"]) == [b"1", b"2", b"3", b"4", b"5", None]


def test_counters(r):
    assert r.incr("c") == 1
    assert r.incrby("c", 10) == 11
    assert r.decr("c") == 10
    assert r.decrby("c", 20) == -10
    assert r.incrbyfloat("f", 10.5) == 10.5
    assert r.incrbyfloat("f", 0.1) == pytest.approx(10.6)
    assert r.get("f") == b"10.6"
    r.set("g", "3.0e3")
    assert r.incrbyfloat("g", 0) == 3000.0
    assert r.get("g") == b"3000"
    r.set("max", 2**63 - 1)
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        r.incr("max")
    r.set("s", "abc")
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.incr("s")
    with pytest.raises(redis.ResponseError, match="value is not a valid float"):
        r.incrbyfloat("s", 1)
    with pytest.raises(redis.ResponseError, match="would produce NaN or Infinity"):
        r.incrbyfloat("f", "inf")


def test_append_strlen_ranges(r):
    assert r.append("s", "Hello") == 5
    assert r.append("s", " World") == 11
    assert r.strlen("s") == 11
    assert r.getrange("s", 0, 4) == b"Hello"
    assert r.getrange("s", -5, -1) == b"World"
    assert r.substr("s", 6, 7) == b"Wo"
    assert r.setrange("s", 6, "Redis") == 11
    assert r.get("s") == b"Hello Redis"
    assert r.setrange("p", 2, "x") == 3
    assert r.get("p") == b"\x00\x00x"
    with pytest.raises(redis.ResponseError, match="offset is out of range"):
        r.setrange("p", -1, "x")


def test_lcs(r):
    r.mset({"a": "ohmytext", "b": "mynewtext"})
    assert r.lcs("a", "b") == b"mytext"
    assert r.lcs("a", "b", len=True) == 6
    reply = r.lcs("a", "b", idx=True, withmatchlen=True)
    matches = reply[b"matches"] if isinstance(reply, dict) else reply[1]
    assert matches == [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]]


def test_pipeline_of_string_commands(r):
    pipe = r.pipeline(transaction=False)
    for index in range(100):
        pipe.set(f"key:{index}", index)
        pipe.incr(f"key:{index}")
    pipe.mget([f"key:{index}" for index in range(100)])
    replies = pipe.execute()
    assert replies[-1] == [str(index + 1).encode() for index in range(100)]
