"""Generic keyspace commands through redis-py against a real twistd process (RESP2, RESP3)."""

from __future__ import annotations

import time

import pytest
import redis

pytestmark = pytest.mark.e2e


def test_del_unlink_exists_touch(r):
    r.mset({"a": "1", "b": "2", "c": "3"})
    assert r.exists("a", "a", "missing") == 2
    assert r.touch("a", "b", "missing") == 2
    assert r.delete("a", "missing") == 1
    assert r.unlink("b", "c") == 2
    assert r.exists("a", "b", "c") == 0


def test_type(r):
    r.set("s", "v")
    r.rpush("l", "x")
    assert r.type("s") in ("string", b"string")
    assert r.type("l") in ("list", b"list")
    assert r.type("missing") in ("none", b"none")


def test_expire_family_and_ttls(r):
    r.set("k", "v")
    assert r.ttl("k") == -1
    assert r.ttl("missing") == -2
    assert r.expire("k", 100) is True
    assert 99 <= r.ttl("k") <= 100
    assert 99_000 <= r.pttl("k") <= 100_000
    assert r.expire("k", 50, gt=True) is False
    assert r.expire("k", 200, gt=True) is True
    assert r.expire("k", 300, lt=True) is False
    assert r.expire("k", 100, xx=True) is True
    assert r.expire("k", 100, nx=True) is False
    deadline = int(time.time()) + 1000
    assert r.expireat("k", deadline) is True
    assert r.expiretime("k") == deadline
    assert r.pexpireat("k", deadline * 1000 + 5) is True
    assert r.pexpiretime("k") == deadline * 1000 + 5
    assert r.persist("k") is True
    assert r.persist("k") is False
    assert r.pexpiretime("k") == -1


def test_expire_option_conflict_reaches_client(r):
    r.set("k", "v")
    with pytest.raises(redis.ResponseError,
                       match="NX and XX, GT or LT options at the same time are not compatible"):
        r.expire("k", 10, nx=True, xx=True)
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'expire' command"):
        r.expire("k", 2**62)


def test_keys_expire_in_real_time(r):
    r.set("soon", "1")
    assert r.pexpire("soon", 30) is True
    r.set("later", "1")
    r.pexpire("later", 60_000)
    time.sleep(0.1)
    assert r.exists("soon") == 0
    assert r.exists("later") == 1
    assert r.expire("later", -1) is True
    assert r.exists("later") == 0


def test_keys_and_randomkey(r):
    assert r.randomkey() is None
    r.mset({"user:1": "a", "user:2": "b", "item:1": "c"})
    assert sorted(r.keys("user:*")) == [b"user:1", b"user:2"]
    assert sorted(r.keys("*:1")) == [b"item:1", b"user:1"]
    assert r.randomkey() in (b"user:1", b"user:2", b"item:1")


def test_scan_iter_covers_everything(r):
    r.mset({f"key:{i}": i for i in range(1000)})
    r.rpush("key:list", "x")
    keys = list(r.scan_iter(count=37))
    assert len(keys) == len(set(keys)) == 1001
    assert sorted(r.scan_iter(match="key:99*")) == sorted(
        [b"key:99"] + [b"key:99%d" % i for i in range(10)])
    assert list(r.scan_iter(_type="list", count=50)) == [b"key:list"]


def test_scan_iter_while_keys_change(r):
    r.mset({f"stable:{i}": i for i in range(500)})
    r.mset({f"doomed:{i}": i for i in range(300)})
    seen = set()
    for step, key in enumerate(r.scan_iter(count=25)):
        seen.add(key)
        if step % 10 == 0:
            # Reads reorder the server's LRU list; writes insert and delete.
            r.get(f"stable:{(step * 7) % 500}")
            r.delete(f"doomed:{step % 300}")
            r.set(f"new:{step}", 1)
    assert {f"stable:{i}".encode() for i in range(500)} <= seen


def test_scan_reply_and_errors(r):
    r.set("a", 1)
    cursor, keys = r.scan(0)
    assert cursor == 0 and keys == [b"a"]
    with pytest.raises(redis.ResponseError, match="invalid cursor"):
        r.execute_command("SCAN", "abc")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.scan(0, count=0)


def test_rename_renamenx(r):
    r.set("a", "1", ex=100)
    assert r.rename("a", "b") is True
    assert 99 <= r.ttl("b") <= 100
    r.set("c", "2")
    assert r.renamenx("b", "c") is False
    assert r.renamenx("b", "d") is True
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.rename("missing", "x")


def test_copy_and_move(r):
    r.rpush("l", "a", "b")
    r.expire("l", 100)
    assert r.copy("l", "m") is True
    r.rpush("m", "c")
    assert r.lrange("l", 0, -1) == [b"a", b"b"]
    assert 99 <= r.ttl("m") <= 100
    assert r.copy("l", "m") is False
    assert r.copy("l", "m", replace=True) is True
    assert r.copy("l", "l", destination_db=2) is True
    assert r.move("m", 3) is True
    assert r.exists("m") == 0
    with pytest.raises(redis.ResponseError, match="source and destination objects are the same"):
        r.copy("l", "l")
    other = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=3)
    try:
        assert other.lrange("m", 0, -1) == [b"a", b"b"]
    finally:
        other.close()


def test_object(r):
    r.set("i", "123")
    r.set("s", "hello")
    r.set("raw", "x" * 50)
    r.rpush("l", "a")
    assert r.object("encoding", "i") in ("int", b"int")
    assert r.object("encoding", "s") in ("embstr", b"embstr")
    assert r.object("encoding", "raw") in ("raw", b"raw")
    assert r.object("encoding", "l") in ("quicklist", b"quicklist")
    assert r.object("refcount", "s") == 1
    assert r.object("idletime", "s") == 0
    assert r.object("encoding", "missing") is None
    with pytest.raises(redis.ResponseError, match="LFU maxmemory policy is not selected"):
        r.object("freq", "s")
