"""End-to-end hash and set tests: redis-py against a real twistd process, RESP2 and RESP3."""

from __future__ import annotations

import pytest
import redis

pytestmark = pytest.mark.e2e


def resp3(r: redis.Redis) -> bool:
    return r.connection_pool.connection_kwargs.get("protocol", 2) == 3


# -- hashes ------------------------------------------------------------------------------


def test_hash_round_trip(r):
    assert r.hset("h", mapping={"a": "1", "b": "2"}) == 2
    assert r.hset("h", "c", "3") == 1
    assert r.hsetnx("h", "a", "x") == 0
    assert r.hsetnx("h", "d", "4") == 1
    assert r.hget("h", "a") == b"1"
    assert r.hmget("h", ["a", "zz", "d"]) == [b"1", None, b"4"]
    assert r.hgetall("h") == {b"a": b"1", b"b": b"2", b"c": b"3", b"d": b"4"}
    assert r.hkeys("h") == [b"a", b"b", b"c", b"d"]
    assert r.hvals("h") == [b"1", b"2", b"3", b"4"]
    assert r.hlen("h") == 4
    assert r.hexists("h", "b") is True
    assert r.hstrlen("h", "a") == 1
    assert r.type("h") == b"hash"
    assert r.hdel("h", "a", "b", "zz") == 2
    assert r.hdel("h", "c", "d") == 2
    assert r.exists("h") == 0
    assert r.hgetall("h") == {}


def test_hmset_and_counters(r):
    # HMSET itself, not redis-py's deprecated hmset(): whether that warns is
    # the client's business and changed in redis-py 8.2.
    assert r.execute_command("HMSET", "h", "n", "10", "f", "1.5") is True
    assert r.hincrby("h", "n", 5) == 15
    assert r.hincrby("h", "new", -3) == -3
    assert r.hincrbyfloat("h", "f", 0.25) == 1.75
    assert r.hget("h", "f") == b"1.75"
    r.hset("h", "s", "abc")
    with pytest.raises(redis.ResponseError, match="hash value is not an integer"):
        r.hincrby("h", "s", 1)
    with pytest.raises(redis.ResponseError, match="hash value is not a float"):
        r.hincrbyfloat("h", "s", 1)


def test_hrandfield(r):
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert r.hrandfield("h") in (b"a", b"b", b"c")
    assert r.hrandfield("none") is None
    two = r.hrandfield("h", 2)
    assert len(set(two)) == 2 and set(two) <= {b"a", b"b", b"c"}
    assert len(r.hrandfield("h", -7)) == 7
    assert r.hrandfield("h", 5) == [b"a", b"b", b"c"]
    with_values = r.hrandfield("h", 5, withvalues=True)
    if resp3(r):
        assert with_values == [[b"a", b"1"], [b"b", b"2"], [b"c", b"3"]]
    else:
        assert with_values == [b"a", b"1", b"b", b"2", b"c", b"3"]


def test_hscan_iter_small_and_large(r):
    r.hset("small", mapping={"a": "1", "b": "2"})
    assert r.hscan("small") == (0, {b"a": b"1", b"b": b"2"})
    mapping = {f"f{i}": str(i) for i in range(700)}
    r.hset("big", mapping=mapping)
    cursor, page = r.hscan("big", 0, count=50)
    assert cursor != 0 and 0 < len(page) <= 50
    found = dict(r.hscan_iter("big", count=100))
    assert found == {k.encode(): v.encode() for k, v in mapping.items()}
    assert dict(r.hscan_iter("big", match="f69?")) == \
        {f"f69{i}".encode(): f"69{i}".encode() for i in range(10)}


def test_hash_wrongtype(r):
    r.set("s", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.hget("s", "a")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'hset'"):
        r.execute_command("HSET", "h", "a")


def test_hash_in_pipeline_and_transaction(r):
    with r.pipeline(transaction=True) as pipe:
        pipe.hset("h", "a", "1").hgetall("h").hset("h", "b", "2").hkeys("h")
        assert pipe.execute() == [1, {b"a": b"1"}, 1, [b"a", b"b"]]


# -- sets ------------------------------------------------------------------------------------


def test_set_round_trip(r):
    assert r.sadd("s", "a", "b", "c", "a") == 3
    assert r.smembers("s") == {b"a", b"b", b"c"}
    assert r.sismember("s", "a") in (1, True)
    assert r.smismember("s", ["a", "zz"]) in ([1, 0], [True, False])
    assert r.scard("s") == 3
    assert r.srem("s", "a", "zz") == 1
    assert r.type("s") == b"set"
    assert r.smove("s", "t", "b") is True
    assert r.smove("s", "t", "zz") is False
    assert r.smembers("t") == {b"b"}
    assert r.srem("s", "c") == 1
    assert r.exists("s") == 0
    assert r.smembers("s") == set()


def read_unparsed(r: redis.Redis, *args):
    """A reply as the connection's parser gives it, before redis-py's callbacks."""
    conn = r.connection_pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        r.connection_pool.release(conn)


def test_intset_members_come_in_ascending_order(r):
    r.sadd("ints", 10, -3, 2, 7)
    assert read_unparsed(r, "SMEMBERS", "ints") == [b"-3", b"2", b"7", b"10"]
    assert read_unparsed(r, "SUNION", "ints", "none") == [b"-3", b"2", b"7", b"10"]


def test_spop_and_srandmember(r):
    r.sadd("s", *range(10))
    everything = {str(i).encode() for i in range(10)}
    assert r.srandmember("s") in everything
    assert len(set(r.srandmember("s", 4))) == 4
    assert len(r.srandmember("s", -25)) == 25
    popped = r.spop("s", 3)
    assert len(set(popped)) == 3 and set(popped) <= everything
    assert r.scard("s") == 7
    one = r.spop("s")
    assert one in everything - set(popped)
    assert set(r.spop("s", 100)) == everything - set(popped) - {one}
    assert r.exists("s") == 0
    assert r.spop("s") is None
    assert r.srandmember("none") is None


def test_set_algebra(r):
    r.sadd("a", "1", "2", "3", "x")
    r.sadd("b", "2", "3", "4")
    assert r.sinter("a", "b") == {b"2", b"3"}
    assert r.sunion("a", "b") == {b"1", b"2", b"3", b"4", b"x"}
    assert r.sdiff("a", "b") == {b"1", b"x"}
    assert r.sintercard(2, ["a", "b"]) == 2
    assert r.sintercard(2, ["a", "b"], limit=1) == 1
    assert r.sinterstore("d", ["a", "b"]) == 2
    assert r.smembers("d") == {b"2", b"3"}
    assert r.sunionstore("d", ["a", "b"]) == 5
    assert r.sdiffstore("d", ["a", "a"]) == 0
    assert r.exists("d") == 0


def test_sscan_iter(r):
    members = {f"m{i}".encode() for i in range(600)}
    r.sadd("s", *members)
    found = list(r.sscan_iter("s", count=50))
    assert len(found) == len(members) and set(found) == members
    r.sadd("ints", 3, 1, 2)
    assert r.sscan("ints") == (0, [b"1", b"2", b"3"])


def test_set_errors(r):
    r.set("str", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.sadd("str", "a")
    with pytest.raises(redis.ResponseError, match="must be positive"):
        r.spop("s", -1)
    with pytest.raises(redis.ResponseError, match="numkeys should be greater than 0"):
        r.execute_command("SINTERCARD", "0", "a")
