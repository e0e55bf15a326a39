"""End-to-end sorted-set tests: redis-py against a real twistd process, RESP2 and RESP3."""

from __future__ import annotations

import threading

import pytest
import redis

from tests.support import other_client, wait_until_blocked

pytestmark = pytest.mark.e2e




def pairs(reply) -> list[tuple[bytes, float]]:
    """(member, score) pairs from whatever shape redis-py gives in RESP2 or RESP3."""
    if reply and not isinstance(reply[0], (list, tuple)):
        reply = list(zip(reply[::2], reply[1::2], strict=True))
    return [(member, float(score)) for member, score in reply]


def test_leaderboard(r):
    assert r.zadd("board", {"alice": 10, "bob": 30, "carol": 20}) == 3
    assert r.zincrby("board", 15, "alice") == 25.0
    assert pairs(r.zrevrange("board", 0, 1, withscores=True)) == [(b"bob", 30.0), (b"alice", 25.0)]
    assert r.zrank("board", "carol") == 0
    assert r.zrevrank("board", "carol") == 2
    assert r.zscore("board", "alice") == 25.0
    assert r.zmscore("board", ["bob", "nobody"]) == [30.0, None]
    assert r.zcard("board") == 3
    assert r.zcount("board", "(20", "+inf") == 2


def test_zadd_options(r):
    r.zadd("z", {"a": 1, "b": 2})
    assert r.zadd("z", {"a": 5, "c": 3}, nx=True) == 1
    assert r.zadd("z", {"a": 5, "d": 3}, xx=True, ch=True) == 1
    assert r.zadd("z", {"a": 4}, gt=True, ch=True) == 0
    assert r.zadd("z", {"a": 4}, lt=True, ch=True) == 1
    assert r.zadd("z", {"a": 1.5}, incr=True) == 5.5
    assert r.zadd("z", {"a": 1}, nx=True, incr=True) is None
    with pytest.raises(redis.ResponseError, match="not compatible"):
        r.execute_command("ZADD", "z", "NX", "XX", "1", "a")


def test_ranges(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.zrange("z", 0, -1) == [b"a", b"b", b"c", b"d"]
    assert pairs(r.zrange("z", 0, 1, withscores=True)) == [(b"a", 1.0), (b"b", 2.0)]
    assert r.zrange("z", "(1", 3, byscore=True) == [b"b", b"c"]
    assert r.zrange("z", 4, 1, byscore=True, desc=True, offset=1, num=2) == [b"c", b"b"]
    assert pairs(r.zrangebyscore("z", "-inf", "inf", start=1, num=2, withscores=True)) == [
        (b"b", 2.0), (b"c", 3.0)]
    assert r.zrevrangebyscore("z", 3, 2) == [b"c", b"b"]
    r.zadd("lex", {"apple": 0, "banana": 0, "cherry": 0})
    assert r.zrangebylex("lex", "[b", "+") == [b"banana", b"cherry"]
    assert r.zrevrangebylex("lex", "(c", "-") == [b"banana", b"apple"]
    assert r.zlexcount("lex", "-", "+") == 3
    assert r.zrangestore("dst", "z", 1, 2) == 2
    assert pairs(r.zrange("dst", 0, -1, withscores=True)) == [(b"b", 2.0), (b"c", 3.0)]


def test_removals(r):
    r.zadd("z", {m: i for i, m in enumerate("abcdef")})
    assert r.zrem("z", "a", "zz") == 1
    assert r.zremrangebyrank("z", 0, 0) == 1
    assert r.zremrangebyscore("z", 2, 3) == 2
    r.zadd("lex", {"x": 0, "y": 0})
    assert r.zremrangebylex("lex", "-", "+") == 2
    assert r.exists("lex") == 0
    assert r.zrange("z", 0, -1) == [b"e", b"f"]


def test_pops(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert pairs(r.zpopmin("z")) == [(b"a", 1.0)]
    assert pairs(r.zpopmax("z", 2)) == [(b"d", 4.0), (b"c", 3.0)]
    assert tuple(r.bzpopmin(["none", "z"], timeout=1)) == (b"z", b"b", 2.0)
    assert r.bzpopmax("z", timeout=0.05) is None
    r.zadd("z", {"x": 1, "y": 2})
    key, popped = r.zmpop(1, ["z"], max=True, count=5)
    assert (key, pairs(popped)) == (b"z", [(b"y", 2.0), (b"x", 1.0)])


def test_set_operations(r):
    r.zadd("a", {"x": 1, "y": 2})
    r.zadd("b", {"y": 10, "z": 20})
    assert pairs(r.zunion(["a", "b"], withscores=True)) == [(b"x", 1.0), (b"y", 12.0), (b"z", 20.0)]
    assert pairs(r.zinter({"a": 2, "b": 1}, aggregate="MAX", withscores=True)) == [(b"y", 10.0)]
    assert pairs(r.zdiff(["a", "b"], withscores=True)) == [(b"x", 1.0)]
    assert r.zintercard(2, ["a", "b"]) == 1
    assert r.zunionstore("u", ["a", "b"], aggregate="MIN") == 3
    assert r.zscore("u", "y") == 2.0
    assert r.zinterstore("i", ["a", "b"]) == 1
    assert r.zdiffstore("d", ["b", "a"]) == 1
    assert r.zrange("d", 0, -1) == [b"z"]


def test_random_members_and_scan(r):
    members = {f"m{i}": i for i in range(300)}
    r.zadd("big", members)
    assert r.zrandmember("big") in {m.encode() for m in members}
    picked = r.zrandmember("big", 5)
    assert len(picked) == len(set(picked)) == 5
    assert len(r.zrandmember("big", -400)) == 400
    with_scores = pairs(r.zrandmember("big", 3, withscores=True))
    assert len(with_scores) == 3
    assert all(members[m.decode()] == s for m, s in with_scores)
    seen = dict(r.zscan_iter("big", count=25))
    assert seen == {m.encode(): float(s) for m, s in members.items()}
    assert r.object("encoding", "big") == b"skiplist"


def test_blocking_pop_is_woken_by_another_client(r):
    writer = other_client(r)
    result = {}

    def block():
        result["reply"] = r.bzpopmin("queue", timeout=5)

    thread = threading.Thread(target=block)
    thread.start()
    try:
        wait_until_blocked(writer)
        writer.zadd("queue", {"job": 7})
    finally:
        thread.join(10)
        writer.close()
    assert tuple(result["reply"]) == (b"queue", b"job", 7.0)
    assert r.exists("queue") == 0


def test_bzmpop_is_woken(r):
    writer = other_client(r)
    result = {}

    def block():
        result["reply"] = r.bzmpop(5, 2, ["q1", "q2"], max=True, count=2)

    thread = threading.Thread(target=block)
    thread.start()
    try:
        wait_until_blocked(writer)
        writer.zadd("q2", {"a": 1, "b": 2, "c": 3})
    finally:
        thread.join(10)
        writer.close()
    key, popped = result["reply"]
    assert (key, pairs(popped)) == (b"q2", [(b"c", 3.0), (b"b", 2.0)])


def test_wrong_type(r):
    r.set("s", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.zadd("s", {"a": 1})
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.zrange("s", 0, -1)
    assert r.type("s") == b"string"
    r.zadd("z", {"a": 1})
    assert r.type("z") == b"zset"
