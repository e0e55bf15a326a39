"""Scripting end to end: redis-py against a real twistd process (RESP2 and RESP3)."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest
import redis

from tests.differential.harness import RawConnection

BUSY = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"


def test_eval_keys_args_and_conversions(r):
    assert r.eval("return {KEYS[1], ARGV[1], #KEYS, #ARGV}", 1, "k", "a") == [b"k", b"a", 1, 1]
    assert r.eval("return redis.call('set', KEYS[1], ARGV[1])", 1, "k", "v") in (True, b"OK")
    assert r.get("k") == b"v"
    assert r.eval("return 3.99", 0) == 3
    assert r.eval("return {1, 2, nil, 3}", 0) == [1, 2]
    assert r.eval("return false", 0) is None
    assert r.eval("return {ok='fine'}", 0) in (b"fine", "fine")
    with pytest.raises(redis.ResponseError, match="My Error"):
        r.eval("return {err='My Error'}", 0)


def test_resp3_types_reach_resp3_clients(r):
    r.hset("h", mapping={"f": "1"})
    reply = r.eval("redis.setresp(3) return redis.call('hgetall', KEYS[1])", 1, "h")
    if r.get_connection_kwargs().get("protocol") == 3:
        assert reply == {b"f": b"1"}
        assert r.eval("return {double=1.5}", 0) == 1.5
        assert r.eval("redis.setresp(3) return true", 0) is True
    else:
        assert reply == [b"f", b"1"]
        assert r.eval("return {double=1.5}", 0) == b"1.5"
        assert r.eval("redis.setresp(3) return true", 0) == 1


def test_register_script_and_evalsha(r):
    r.script_flush()
    incr = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    # The first call gets NOSCRIPT for EVALSHA and falls back to EVAL, which caches it.
    assert incr(keys=["n"], args=[2]) == 2
    assert incr(keys=["n"], args=[3]) == 5
    sha = hashlib.sha1(b"return redis.call('incrby', KEYS[1], ARGV[1])").hexdigest()
    assert r.script_exists(sha, "0" * 40) == [True, False]
    assert r.evalsha(sha, 1, "n", 1) == 6
    r.script_flush()
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha(sha, 1, "n", 1)
    assert r.script_load("return 7") == hashlib.sha1(b"return 7").hexdigest()


def test_script_errors(r):
    r.set("s", "x")
    with pytest.raises(redis.ResponseError) as info:
        r.eval("return redis.call('incr', KEYS[1])", 1, "s")
    sha = hashlib.sha1(b"return redis.call('incr', KEYS[1])").hexdigest()
    assert str(info.value) == (
        f"value is not an integer or out of range script: {sha}, on @user_script:1.")
    with pytest.raises(redis.ResponseError, match="nonexistent global variable 'nope'"):
        r.eval("return nope", 0)
    with pytest.raises(redis.ResponseError, match="read-only scripts"):
        r.eval_ro("return redis.call('set', KEYS[1], 'v')", 1, "k")


def test_blocked_client_is_served_after_the_script(r, hush_process):
    waiter = RawConnection(hush_process.port)
    waiter.send("BLPOP", "queue", "5")
    time.sleep(0.1)
    assert r.eval("redis.call('rpush', KEYS[1], 'a', 'b') return redis.call('llen', KEYS[1])",
                  1, "queue") == 2
    assert waiter.read_reply() == b"*2\r\n$5\r\nqueue\r\n$1\r\na\r\n"
    assert r.lrange("queue", 0, -1) == [b"b"]
    waiter.close()


@pytest.fixture
def low_threshold(hush_process):
    admin = RawConnection(hush_process.port)
    assert admin.call("CONFIG", "SET", "busy-reply-threshold", "100") == b"+OK\r\n"
    yield admin
    admin.call("CONFIG", "SET", "lua-time-limit", "5000")
    admin.close()


def _wait_for_busy(conn: RawConnection) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        reply = conn.call("GET", "x")
        if reply == BUSY:
            return
        time.sleep(0.01)
    raise AssertionError("the script never became busy")


def test_busy_script_is_killed_by_script_kill(low_threshold, hush_process):
    runner = redis.Redis(port=hush_process.port)
    outcome: dict[str, str] = {}

    def run() -> None:
        try:
            runner.eval("while true do end", 0)
        except redis.ResponseError as error:
            outcome["error"] = str(error)

    thread = threading.Thread(target=run)
    started = time.monotonic()
    thread.start()
    other = RawConnection(hush_process.port)
    _wait_for_busy(other)
    # Only SCRIPT KILL passes; MULTI's transaction is poisoned by the BUSY reply.
    assert other.call("PING") == BUSY
    assert other.call("SCRIPT", "KILL") == b"+OK\r\n"
    thread.join(5)
    assert not thread.is_alive()
    sha = hashlib.sha1(b"while true do end").hexdigest()
    assert outcome["error"] == (
        f"Script killed by user with SCRIPT KILL... script: {sha}, on @user_script:1.")
    assert other.call("PING") == b"+PONG\r\n"
    assert runner.eval("return 1", 0) == 1
    assert time.monotonic() - started < 2
    other.close()
    runner.close()


def test_script_that_wrote_is_unkillable(low_threshold, hush_process):
    runner = redis.Redis(port=hush_process.port)
    # Writes, then spins for 600 ms of server time (TIME), then ends by itself.
    body = ("redis.call('set', KEYS[1], '1') local s = redis.call('time') "
            "while true do local t = redis.call('time') "
            "if (t[1] - s[1]) * 1000000 + (t[2] - s[2]) > 600000 then break end end "
            "return 'done'")
    outcome: dict[str, object] = {}
    thread = threading.Thread(target=lambda: outcome.update(reply=runner.eval(body, 1, "w")))
    thread.start()
    other = RawConnection(hush_process.port)
    _wait_for_busy(other)
    assert other.call("SCRIPT", "KILL").startswith(b"-UNKILLABLE Sorry the script already executed")
    thread.join(5)
    assert outcome["reply"] == b"done"
    assert other.call("GET", "w") == b"$1\r\n1\r\n"
    other.close()
    runner.close()
