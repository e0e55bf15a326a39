"""End-to-end stream tests: redis-py against a real twistd process, RESP2 and RESP3."""

from __future__ import annotations

import threading

import pytest
import redis

from tests.support import other_client, wait_until_blocked

pytestmark = pytest.mark.e2e




def streams(reply) -> dict[bytes, list]:
    """XREAD's reply as {key: [(id, fields)]}, from RESP2's list or RESP3's map."""
    if isinstance(reply, dict):
        items = reply.items()
    else:
        items = [(key, entries) for key, entries in reply]
    out = {}
    for key, entries in items:
        if entries and isinstance(entries[0], list) and len(entries) == 1 and \
                isinstance(entries[0][0], (list, tuple)):
            entries = entries[0]
        out[key] = [(sid, fields) for sid, fields in entries]
    return out


def test_add_range_len_del_trim(r):
    first = r.xadd("s", {"a": "1"})
    assert first.endswith(b"-0")
    r.xadd("s", {"a": "2"}, id="*")
    assert r.xlen("s") == 2
    assert [fields for _, fields in r.xrange("s")] == [{b"a": b"1"}, {b"a": b"2"}]
    assert [fields for _, fields in r.xrevrange("s", count=1)] == [{b"a": b"2"}]
    assert r.xdel("s", first) == 1
    r.xadd("s", {"a": "3"}, maxlen=1, approximate=False)
    assert r.xlen("s") == 1
    assert r.xtrim("s", maxlen=0) == 1
    assert r.type("s") == b"stream"


def test_xread_and_blocking_xread(r):
    r.xadd("s", {"a": "1"}, id="1-1")
    assert streams(r.xread({"s": "0"})) == {b"s": [(b"1-1", {b"a": b"1"})]}
    assert r.xread({"s": "$"}, block=50) in (None, [], {})
    other = other_client(r)
    result: list = []
    reader = threading.Thread(target=lambda: result.append(r.xread({"s": "$"}, block=5000)))
    reader.start()
    try:
        wait_until_blocked(other)
        other.xadd("s", {"b": "2"}, id="2-1")
    finally:
        reader.join(5)
        other.close()
    assert streams(result[0]) == {b"s": [(b"2-1", {b"b": b"2"})]}


def test_consumer_group_flow(r):
    for i in range(1, 4):
        r.xadd("jobs", {"n": str(i)}, id=f"{i}-0")
    assert r.xgroup_create("jobs", "workers", id="0")
    got = streams(r.xreadgroup("workers", "alice", {"jobs": ">"}, count=2))
    assert [sid for sid, _ in got[b"jobs"]] == [b"1-0", b"2-0"]
    assert r.xack("jobs", "workers", "1-0") == 1
    pending = r.xpending("jobs", "workers")
    assert pending["pending"] == 1
    assert pending["min"] == b"2-0"
    detail = r.xpending_range("jobs", "workers", "-", "+", 10)
    assert detail[0]["message_id"] == b"2-0"
    assert detail[0]["consumer"] == b"alice"
    assert detail[0]["times_delivered"] == 1
    claimed = r.xclaim("jobs", "workers", "bob", 0, ["2-0"])
    assert claimed[0][0] == b"2-0"
    assert r.xclaim("jobs", "workers", "bob", 0, ["2-0"], justid=True) == [b"2-0"]
    r.xreadgroup("workers", "carol", {"jobs": ">"})
    r.xdel("jobs", "3-0")
    auto = r.xautoclaim("jobs", "workers", "dave", 0, "0-0")
    assert auto[0] == b"0-0"
    assert [sid for sid, _ in auto[1]] == [b"2-0"]
    assert auto[2] == [b"3-0"]
    groups = r.xinfo_groups("jobs")
    assert groups[0]["name"] == b"workers"
    assert groups[0]["pending"] == 1
    consumers = {c["name"]: c["pending"] for c in r.xinfo_consumers("jobs", "workers")}
    assert consumers == {b"alice": 0, b"bob": 0, b"carol": 0, b"dave": 1}
    info = r.xinfo_stream("jobs")
    assert info["length"] == 2
    assert info["groups"] == 1
    assert info["last-generated-id"] == b"3-0"
    full = r.xinfo_stream("jobs", full=True)
    assert full["length"] == 2
    assert r.xgroup_delconsumer("jobs", "workers", "dave") == 1
    assert r.xgroup_destroy("jobs", "workers") == 1


def test_blocking_xreadgroup_woken_by_xadd(r):
    r.xgroup_create("q", "g", id="$", mkstream=True)
    other = other_client(r)
    result: list = []
    reader = threading.Thread(
        target=lambda: result.append(r.xreadgroup("g", "c", {"q": ">"}, block=5000)))
    reader.start()
    try:
        wait_until_blocked(other)
        other.xadd("q", {"job": "x"}, id="7-0")
    finally:
        reader.join(5)
    assert streams(result[0]) == {b"q": [(b"7-0", {b"job": b"x"})]}
    assert other.xpending("q", "g")["pending"] == 1
    other.close()


def test_group_destroy_wakes_blocked_reader_with_an_error(r):
    r.xgroup_create("q", "g", id="$", mkstream=True)
    other = other_client(r)
    errors: list = []

    def read() -> None:
        try:
            r.xreadgroup("g", "c", {"q": ">"}, block=5000)
        except redis.ResponseError as error:
            errors.append(str(error))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        wait_until_blocked(other)
        other.xgroup_destroy("q", "g")
    finally:
        reader.join(5)
        other.close()
    assert errors == ["NOGROUP the consumer group this client was blocked on no longer exists"]


def test_errors(r):
    r.xadd("s", {"a": "1"}, id="5-0")
    with pytest.raises(redis.ResponseError, match="equal or smaller than the target stream"):
        r.xadd("s", {"a": "1"}, id="4-0")
    with pytest.raises(redis.ResponseError, match="BUSYGROUP"):
        r.xgroup_create("s", "g")
        r.xgroup_create("s", "g")
    with pytest.raises(redis.ResponseError, match="NOGROUP"):
        r.xreadgroup("nope", "c", {"s": ">"})
