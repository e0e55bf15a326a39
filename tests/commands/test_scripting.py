"""Scripting through the protocol (StringTransport + Clock): conversions, errors, cache, sandbox, busy."""

from __future__ import annotations

import hashlib
from typing import Any

import hiredis
import pytest

from hush.scripting.bytecode import untail
from tests.support import FakeClient, FakeServer, encode_command


def sha(body: str) -> str:
    return hashlib.sha1(body.encode()).hexdigest()


def raw(client: FakeClient, *args: Any) -> bytes:
    client.send_raw(encode_command(*args))
    return client.raw()


def ev(client: FakeClient, body: str, *rest: Any) -> Any:
    return client.call("EVAL", body, *(rest or (0,)))


# -- Lua -> reply ------------------------------------------------------------


@pytest.mark.parametrize("body, wire", [
    ("return 1", b":1\r\n"),
    ("return 1.9", b":1\r\n"),
    ("return -1.9", b":-1\r\n"),
    ("return 1e400", b":-9223372036854775808\r\n"),
    ("return 0/0", b":-9223372036854775808\r\n"),
    ("return 'a\\0b'", b"$3\r\na\x00b\r\n"),
    ("return true", b":1\r\n"),
    ("return false", b"$-1\r\n"),
    ("return nil", b"$-1\r\n"),
    ("return {1,2,nil,3}", b"*2\r\n:1\r\n:2\r\n"),
    ("return {1,'a',{2,false,true}}", b"*3\r\n:1\r\n$1\r\na\r\n*3\r\n:2\r\n$-1\r\n:1\r\n"),
    ("return {err='My Error'}", b"-My Error\r\n"),
    ("return {err='-My Error'}", b"--My Error\r\n"),
    ("return {ok='fine'}", b"+fine\r\n"),
    ("return {ok='a\\r\\nb'}", b"+a  b\r\n"),
    ("return {err=1}", b"*0\r\n"),
    ("return {ok=1, 5}", b"*1\r\n:5\r\n"),
    ("return {double=3.5}", b"$3\r\n3.5\r\n"),
    ("return {map={a=1}}", b"*2\r\n$1\r\na\r\n:1\r\n"),
    ("return {set={a=true}}", b"*1\r\n$1\r\na\r\n"),
    ("return {big_number='12345678901234567890'}", b"$20\r\n12345678901234567890\r\n"),
    ("return {verbatim_string={format='txt', string='hi'}}", b"$2\r\nhi\r\n"),
    ("return redis.error_reply('boom')", b"-ERR boom\r\n"),
    ("return redis.error_reply('-X boom')", b"-X boom\r\n"),
    ("return redis.status_reply('s')", b"+s\r\n"),
    ("redis.setresp(3) return true", b":1\r\n"),
    ("redis.setresp(3) return false", b":0\r\n"),
])
def test_lua_values_to_resp2(client, body, wire):
    assert raw(client, "EVAL", body, 0) == wire


@pytest.mark.parametrize("body, wire", [
    ("return nil", b"_\r\n"),
    ("return false", b"_\r\n"),
    ("redis.setresp(3) return true", b"#t\r\n"),
    ("redis.setresp(3) return false", b"#f\r\n"),
    ("return {double=3.5}", b",3.5\r\n"),
    ("return {map={a=1}}", b"%1\r\n$1\r\na\r\n:1\r\n"),
    ("return {set={a=true}}", b"~1\r\n$1\r\na\r\n"),
    ("return {big_number='12345678901234567890'}", b"(12345678901234567890\r\n"),
    ("return {verbatim_string={format='txt', string='hi'}}", b"=6\r\ntxt:hi\r\n"),
])
def test_lua_values_to_resp3(client, body, wire):
    client.call("HELLO", "3")
    assert raw(client, "EVAL", body, 0) == wire


# -- reply -> Lua ------------------------------------------------------------


def test_command_replies_as_resp2_lua_values(client):
    client.call("HSET", "h", "f", "1")
    client.call("ZADD", "z", "1.5", "m")
    assert ev(client, "return type(redis.call('get', 'nokey'))") == b"boolean"
    assert ev(client, "return redis.call('ping').ok") == b"PONG"
    assert ev(client, "return redis.call('zscore', 'z', 'm')") == b"1.5"
    assert ev(client, "return redis.call('hgetall', 'h')") == [b"f", b"1"]
    assert ev(client, "return type(redis.call('lmpop', 1, 'nolist', 'left'))") == b"boolean"
    assert ev(client, "return redis.pcall('incr', 'h').err") == (
        b"WRONGTYPE Operation against a key holding the wrong kind of value")


def test_command_replies_as_resp3_lua_values(client):
    client.call("HSET", "h", "f", "1")
    client.call("SADD", "s", "m")
    client.call("ZADD", "z", "1.5", "m")
    assert ev(client, "redis.setresp(3) return redis.call('hgetall', 'h').map.f") == b"1"
    assert ev(client, "redis.setresp(3) return tostring(redis.call('smembers', 's').set.m)") == (
        b"true")
    assert ev(client, "redis.setresp(3) return tostring(redis.call('zscore', 'z', 'm').double)") == (
        b"1.5")
    assert ev(client, "redis.setresp(3) return tostring(redis.call('get', 'nokey'))") == b"nil"
    assert raw(client, "EVAL", "redis.setresp(3) return redis.call('zrange', 'z', 0, -1, "
               "'withscores')", 0) == b"*1\r\n*2\r\n$1\r\nm\r\n$3\r\n1.5\r\n"


def test_numbers_become_arguments_as_redis_formats_them(client):
    for number, text in [("1e20", b"1e+20"), ("0.1", b"0.10000000000000001"), ("-0.0", b"-0"),
                         ("1/0", b"inf"), ("3", b"3")]:
        assert ev(client, f"redis.call('set', 'k', {number}) return redis.call('get', 'k')") == text


def test_keys_and_argv(client):
    assert ev(client, "return {KEYS[1], KEYS[2], ARGV[1], #ARGV}", 2, "k1", "k2", "a") == (
        [b"k1", b"k2", b"a", 1])
    assert ev(client, "return redis.call('set', KEYS[1], ARGV[1])", 1, "key", "val") == b"OK"
    assert client.call("GET", "key") == b"val"


# -- errors ------------------------------------------------------------------


def error_text(reply: Any) -> str:
    assert isinstance(reply, hiredis.ReplyError), reply
    return str(reply)


@pytest.mark.parametrize("args, message", [
    (("return 1", -1), "ERR Number of keys can't be negative"),
    (("return 1", 2, "a"), "ERR Number of keys can't be greater than number of args"),
    (("return 1", "abc"), "ERR value is not an integer or out of range"),
    (("syntax error here", 0),
     "ERR Error compiling script (new function): user_script:1: '=' expected near 'error'"),
    (("#!lua flags=bad\nreturn 1", 0), "ERR Unexpected flag in script shebang: bad"),
    (("#!python\nreturn 1", 0), "ERR Unexpected engine in script shebang: #!python"),
])
def test_eval_argument_errors(client, args, message):
    assert error_text(client.call("EVAL", *args)) == message


@pytest.mark.parametrize("body, message", [
    ("return x", "ERR user_script:1: Script attempted to access nonexistent global variable 'x'"),
    ("x = 1", "ERR user_script:1: Attempt to modify a readonly table"),
    ("string.foo = 1", "ERR user_script:1: Attempt to modify a readonly table"),
    ("rawset(_G, 'x', 1)", "ERR Attempt to modify a readonly table"),
    ("return redis.call('nosuch')", "ERR Unknown Redis command called from script"),
    ("return redis.call('get')", "ERR Wrong number of args calling Redis command from script"),
    ("return redis.call()", "ERR Please specify at least one argument for this redis lib call"),
    ("return redis.call('multi')", "ERR This Redis command is not allowed from script"),
    ("return redis.call('blpop', 'l', 0)", "ERR This Redis command is not allowed from script"),
    ("return redis.call('get', {})",
     "ERR Lua redis lib command arguments must be strings or integers"),
    ("error('boom')", "ERR user_script:1: boom"),
    ("error({err='MYERR x'})", "MYERR x"),
    ("error()", "ERR nil"),
    ("return redis.setresp(4)", "ERR RESP version must be 2 or 3."),
    ("return cjson.encode(function() end)",
     "ERR user_script:1: Cannot serialise function: type not supported"),
    ("return math.random(0)", "ERR user_script:1: bad argument #1 to 'random' (interval is empty)"),
    ("\n\nlocal function f()\n  error('deep')\nend\nreturn f()", "ERR user_script:4: deep"),
])
def test_script_errors_name_the_script_and_line(client, body, message):
    line = message.split("user_script:")[1].split(":")[0] if "user_script:" in message else "1"
    expected = f"{message} script: {sha(body)}, on @user_script:{line}."
    assert error_text(ev(client, body)) == expected


def test_tail_called_library_errors_keep_the_script_frame(client):
    body = "\nreturn redis.call('nosuch')"
    assert error_text(ev(client, body)).endswith(f"script: {sha(body)}, on @user_script:2.")


def test_untail_rewrites_only_tail_calls():
    import lupa.lua51

    lua = lupa.lua51.LuaRuntime(encoding=None)
    dump = lua.eval("string.dump")
    compiled = lua.eval("loadstring")
    chunk = dump(compiled(b"local function f() return g() end return f()", b"@x"))
    patched = untail(chunk)
    assert patched != chunk and len(patched) == len(chunk)
    assert untail(patched) == patched
    plain = dump(compiled(b"local x = f() return x", b"@x"))
    assert untail(plain) == plain


def test_pcall_and_redis_pcall_give_error_values(client):
    client.call("SET", "s", "x")
    assert ev(client, "return redis.pcall('incr', 's').err") == (
        b"ERR value is not an integer or out of range")
    assert ev(client, "local ok, e = pcall(redis.call, 'incr', 's') return e") == (
        b"ERR value is not an integer or out of range")
    assert error_text(ev(client, "return redis.pcall('incr', 's')")) == (
        "ERR value is not an integer or out of range")


def test_write_refused_in_read_only_scripts(client):
    for call in (("EVAL_RO", "return redis.call('set', 'k', 'v')", 0),
                 ("EVAL", "#!lua flags=no-writes\nreturn redis.call('set', 'k', 'v')", 0)):
        assert "ERR Write commands are not allowed from read-only scripts." in error_text(
            client.call(*call))
    assert client.call("GET", "k") is None
    assert client.call("EVAL_RO", "return redis.call('get', 'k')", 0) is None
    assert error_text(client.call("EVAL_RO", "#!lua\nreturn 1", 0)) == (
        "ERR Can not execute a script with write flag using *_ro command.")


# -- cache -------------------------------------------------------------------


def test_cache_load_exists_evalsha_flush(client):
    digest = sha("return 1")
    assert client.call("EVALSHA", digest, 0).__class__ is hiredis.ReplyError
    assert error_text(client.call("EVALSHA", digest, 0)) == (
        "NOSCRIPT No matching script. Please use EVAL.")
    assert client.call("SCRIPT", "LOAD", "return 1") == digest.encode()
    assert client.call("SCRIPT", "EXISTS", digest, digest.upper(), "x") == [1, 1, 0]
    assert client.call("EVALSHA", digest.upper(), 0) == 1
    assert client.call("EVALSHA_RO", digest, 0) == 1
    assert client.call("EVAL", "return 2", 0) == 2
    assert client.call("EVALSHA", sha("return 2"), 0) == 2
    assert error_text(client.call("SCRIPT", "FLUSH", "bad")) == (
        "ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    assert client.call("SCRIPT", "FLUSH", "ASYNC") == b"OK"
    assert client.call("SCRIPT", "EXISTS", digest) == [0]
    assert error_text(client.call("SCRIPT", "LOAD", "syntax error here")).startswith(
        "ERR Error compiling script")
    assert error_text(client.call("SCRIPT", "KILL")) == "NOTBUSY No scripts in execution right now."


def test_scripts_are_shared_by_clients(server):
    first, second = server.client(1), server.client(2)
    first.call("SCRIPT", "LOAD", "return 'x'")
    assert second.call("EVALSHA", sha("return 'x'"), 0) == b"x"


# -- sandbox -----------------------------------------------------------------


def test_sandbox_globals(client):
    names = ev(client, "local t = {} for k in pairs(_G) do table.insert(t, k) end "
                       "table.sort(t) return t")
    assert b"redis" in names and b"cjson" in names and b"bit" in names
    for hidden in (b"os", b"io", b"debug", b"require", b"loadfile", b"dofile", b"print",
                   b"setfenv", b"getfenv", b"newproxy", b"python", b"module"):
        assert hidden not in names
    error = error_text(ev(client, "return loadstring('return os')()"))
    assert "nonexistent global variable 'os'" in error


def test_scripts_cannot_leave_state_for_later_scripts(client):
    for body in ("getmetatable('').__index = {}", "getmetatable('').__index.rep = nil",
                 "getmetatable(_G).__index = nil", "string.rep = nil", "redis.call = nil",
                 "cjson.encode = nil", "rawset(math, 'floor', nil)", "setmetatable(bit, {})",
                 "leaked = 1", "_G.leaked = 1"):
        assert "Attempt to modify a readonly table" in error_text(ev(client, body))
    assert ev(client, "return {('ab'):rep(2), string.rep('c', 2), math.floor(1.5),"
                      " cjson.encode({1}), bit.band(3, 1), redis.call('ping').ok}") == (
        [b"abab", b"cc", 1, b"[1]", 1, b"PONG"])
    assert "nonexistent global variable 'leaked'" in error_text(ev(client, "return leaked"))


def test_bytecode_is_refused(client):
    """Precompiled chunks can crash the VM: Redis's Lua reads every chunk as text."""
    assert ev(client, "return type(loadstring(string.dump(function() return 1 end)))") == b"nil"
    assert error_text(client.call("EVAL", "\x1bLuaQ\x00", 0)) == (
        "ERR Error compiling script (new function): user_script:1: "
        "unexpected symbol near 'char(27)'")


def test_math_random_is_rand48(client):
    assert ev(client, "math.randomseed(0) return {tostring(math.random()), math.random(10), "
                      "math.random(5, 7)}") == [b"0.17082803611217", 8, 5]


def test_bit_library(client):
    assert ev(client, "return {bit.band(0xff, 0x0f), bit.bnot(0), bit.lshift(1, 31), "
                      "bit.tohex(-1, -4), bit.bswap(0x12345678), bit.tobit(2^40 + 5)}") == (
        [15, -1, -2147483648, b"FFFF", 2018915346, 5])


def test_cjson(client):
    assert ev(client, "return cjson.encode({1, 'a', {b=true}})") == b'[1,"a",{"b":true}]'
    assert ev(client, "return cjson.decode('[1,{\"a\":[2]}]')[2].a[1]") == 2
    assert ev(client, "return cjson.decode('[null]')[1] == cjson.null") == 1
    assert "Expected comma or array end but found T_END at character 5" in error_text(
        ev(client, "return cjson.decode('[1,2')"))


def test_log_and_replication_helpers(client):
    assert ev(client, "redis.log(redis.LOG_WARNING, 'from a script') return 1") == 1
    assert ev(client, "redis.set_repl(redis.REPL_NONE) return redis.replicate_commands()") == 1
    assert ev(client, "return redis.breakpoint()") is None
    assert "ERR Invalid debug level." in error_text(ev(client, "redis.log(9, 'x')"))


# -- execution ---------------------------------------------------------------


def test_select_in_a_script_moves_only_the_script(client):
    assert ev(client, "redis.call('select', 1) redis.call('set', 'k', 'v') "
                      "return redis.call('dbsize')") == 1
    assert client.call("DBSIZE") == 0
    client.call("SELECT", 1)
    assert client.call("GET", "k") == b"v"
    assert ev(client, "return redis.call('get', 'k')") == b"v"


def test_blocking_commands_in_scripts_do_not_block(client):
    assert ev(client, "return redis.call('blmpop', 0, 1, 'nolist', 'left')") is None
    assert ev(client, "return redis.call('bzmpop', 0, 1, 'nozset', 'min')") is None


def test_eval_in_multi_runs_at_exec(client):
    client.call("MULTI")
    assert client.call("EVAL", "return redis.call('incr', 'n')", 0) == b"QUEUED"
    assert client.call("EVAL", "return redis.call('incr', 'n')", 0) == b"QUEUED"
    assert client.call("EXEC") == [1, 2]


def test_blocked_client_is_served_after_the_script(server):
    waiter, writer = server.client(1), server.client(2)
    waiter.send_raw(encode_command("BLPOP", "q", 0))
    assert writer.call("EVAL", "redis.call('rpush', 'q', 'a', 'b') "
                               "return redis.call('lrange', 'q', 0, -1)", 0) == [b"a", b"b"]
    assert waiter.replies() == [[b"q", b"a"]]


def test_commands_in_scripts_count_as_commands(server, client):
    before = server.service.store.stats.total_commands_processed
    ev(client, "redis.call('set', 'a', 1) redis.call('get', 'a')")
    assert server.service.store.stats.total_commands_processed - before == 3


# -- busy scripts ------------------------------------------------------------


class FakeTime:
    """A clock that moves 10 ms each time the engine looks at it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.01
        return self.now


def test_busy_script_serves_others_busy_and_stops_on_script_kill():
    server = FakeServer(maxkeys=0, busy_reply_threshold=50)
    runner, other, late = server.client(1), server.client(2), None
    engine = server.service.scripts
    engine.now = FakeTime()
    seen: list[Any] = []

    def events() -> None:
        nonlocal late
        if late is None:
            late = server.client(3)  # connects while the script is busy
            seen.append(other.call("GET", "x"))
            seen.append(late.call("SET", "x", "1"))
            # MULTI is allow-busy; a command refused with BUSY poisons the transaction.
            seen.append(late.call("MULTI"))
            seen.append(late.call("GET", "x"))
            seen.append(other.call("SCRIPT", "KILL"))

    engine.process_events = events
    assert runner.transport.producerState == "producing"
    reply = runner.call("EVAL", "local i = 0 while true do i = i + 1 end", 0)
    busy = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    assert [str(value) for value in seen] == [busy, busy, "b'OK'", busy, "b'OK'"]
    assert error_text(reply).startswith("ERR Script killed by user with SCRIPT KILL... script: ")
    assert runner.transport.producerState == "producing"
    assert error_text(late.call("EXEC")) == (
        "EXECABORT Transaction discarded because of previous errors.")
    assert other.call("GET", "x") is None
    assert late.call("PING") == b"PONG"
    assert engine.busy is False


def test_kill_cannot_be_swallowed_by_pcall():
    server = FakeServer(maxkeys=0, busy_reply_threshold=50)
    runner, other = server.client(1), server.client(2)
    engine = server.service.scripts
    engine.now = FakeTime()
    engine.process_events = lambda: other.call("SCRIPT", "KILL")
    body = "while true do pcall(function() while true do end end) end"
    assert "Script killed by user" in error_text(runner.call("EVAL", body, 0))


@pytest.mark.parametrize("body", [
    "coroutine.wrap(function() while true do end end)()",
    "local co = coroutine.create(function() while true do end end) coroutine.resume(co) "
    "while true do end",
    "loadstring('while true do end')()",
])
def test_loops_in_coroutines_and_loaded_chunks_are_killed_too(body):
    server = FakeServer(maxkeys=0, busy_reply_threshold=50)
    runner, other = server.client(1), server.client(2)
    engine = server.service.scripts
    engine.now = FakeTime()
    engine.process_events = lambda: other.call("SCRIPT", "KILL")
    assert "Script killed by user" in error_text(runner.call("EVAL", body, 0))


def test_script_that_wrote_is_unkillable():
    server = FakeServer(maxkeys=0, busy_reply_threshold=50)
    runner, other = server.client(1), server.client(2)
    engine = server.service.scripts
    engine.now = FakeTime()
    answers: list[Any] = []
    engine.process_events = lambda: answers.append(other.call("SCRIPT", "KILL"))
    body = "redis.call('set', 'w', 1) for i = 1, 3000000 do end return 'done'"
    assert runner.call("EVAL", body, 0) == b"done"
    assert answers and all(str(a).startswith("UNKILLABLE Sorry the script already executed")
                           for a in answers)


def test_blocked_clients_wait_for_a_busy_script_to_end():
    server = FakeServer(maxkeys=0, busy_reply_threshold=50)
    runner, waiter, other = server.client(1), server.client(2), server.client(3)
    waiter.send_raw(encode_command("BLPOP", "q", 0))
    engine = server.service.scripts
    engine.now = FakeTime()
    during: list[Any] = []

    def events() -> None:
        other.call("PING")
        during.append(waiter.replies())

    engine.process_events = events
    body = "redis.call('rpush', 'q', 'a') for i = 1, 1000000 do end return 1"
    assert runner.call("EVAL", body, 0) == 1
    assert during and all(replies == [] for replies in during)
    assert waiter.replies() == [[b"q", b"a"]]


def test_keys_do_not_expire_while_a_script_runs():
    server = FakeServer(maxkeys=0, busy_reply_threshold=50)
    client = server.client()
    client.call("SET", "k", "v", "PX", "100")
    engine = server.service.scripts
    engine.now = FakeTime()
    engine.process_events = lambda: server.clock.advance(1)
    body = "local a = redis.call('get', 'k') for i = 1, 1000000 do end " \
           "return {a, redis.call('get', 'k'), redis.call('exists', 'k')}"
    assert client.call("EVAL", body, 0) == [b"v", b"v", 1]
    assert client.call("GET", "k") is None
    assert server.service.store.now_ms() == int(server.clock.seconds() * 1000)


def test_busy_reply_threshold_config(client):
    assert client.call("CONFIG", "GET", "busy-reply-threshold") == [b"busy-reply-threshold",
                                                                    b"5000"]
    assert client.call("CONFIG", "SET", "lua-time-limit", "250") == b"OK"
    assert client.call("CONFIG", "GET", "busy-reply-threshold") == [b"busy-reply-threshold",
                                                                    b"250"]


def test_missing_lua_runtime_is_reported(monkeypatch, client):
    import sys

    monkeypatch.setitem(sys.modules, "lupa.lua51", None)
    assert error_text(client.call("EVAL", "return 1", 0)) == (
        "ERR Scripting is unavailable: it needs lupa's Lua 5.1 runtime (lupa.lua51), "
        "install it with: pip install 'lupa>=2'")
    assert client.call("PING") == b"PONG"


def test_info_counts_cached_scripts(client):
    def cached() -> int:
        text = client.call("INFO", "memory").decode()
        return int(text.split("number_of_cached_scripts:")[1].split("\r\n")[0])

    assert cached() == 0
    client.call("SCRIPT", "LOAD", "return 1")
    client.call("EVAL", "return 2", "0")
    assert cached() == 2
    client.call("SCRIPT", "FLUSH")
    assert cached() == 0
