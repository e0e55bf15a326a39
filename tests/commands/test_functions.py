"""Functions through the protocol (StringTransport + Clock): FUNCTION LOAD/LIST/DELETE/FLUSH/
DUMP/RESTORE/STATS/KILL, FCALL and FCALL_RO, the library API, busy functions."""

from __future__ import annotations

from typing import Any

import pytest

from hush.formats.rdb_payload import dump_functions
from tests.support import FakeClient, FakeServer, error_of, raw_reply


def lib(name: str, *bodies: str) -> str:
    """A library's code: its shebang line, then each body on its own line."""
    return f"#!lua name={name}\n" + "\n".join(bodies)


def register(function: str, body: str = "return 1", flags: str = "") -> str:
    if flags:
        return (f"redis.register_function{{function_name='{function}', "
                f"callback=function(keys, args) {body} end, flags={{{flags}}}}}")
    return f"redis.register_function('{function}', function(keys, args) {body} end)"


def load(client: FakeClient, *code: str) -> Any:
    return client.call("FUNCTION", "LOAD", *code)


# -- loading ------------------------------------------------------------------


def test_load_then_call_with_keys_and_arguments(client):
    assert load(client, lib("mylib", register("echo", "return {keys, args}"))) == b"mylib"
    assert client.call("FCALL", "echo", 2, "k1", "k2", "a1") == [[b"k1", b"k2"], [b"a1"]]
    assert client.call("FCALL", "ECHO", 0) == [[], []]


def test_a_function_writes_through_the_dispatcher(client):
    load(client, lib("w", register("setter", "return redis.call('set', keys[1], args[1])")))
    assert client.call("FCALL", "setter", 1, "k", "v") == b"OK"
    assert client.call("GET", "k") == b"v"


@pytest.mark.parametrize("code, text", [
    ("lua name=x\n", "ERR Missing library metadata"),
    ("#!lua name=x", "ERR Invalid library metadata"),
    ("#!lua\n", "ERR Library name was not given"),
    ("#!lua name=a name=b\n",
     "ERR Invalid metadata value, name argument was given multiple times"),
    ("#!lua foo=bar\n", "ERR Invalid metadata value given: foo=bar"),
    ("#!lua name=a-b\n", "ERR Library names can only contain letters, numbers, or "
                         "underscores(_) and must be at least one character long"),
    ("#!python name=p\n", "ERR Engine 'python' not found"),
    ("#!lua name=empty\nreturn 1", "ERR No functions registered"),
    ("#!lua name=bad\nlocal a = ",
     "ERR Error compiling function: user_function:2: unexpected symbol near '<eof>'"),
])
def test_bad_libraries_are_refused_with_redis_texts(client, code, text):
    assert error_of(load(client, code)) == text


@pytest.mark.parametrize("body, text", [
    ("redis.register_function()", "wrong number of arguments to redis.register_function"),
    ("redis.register_function('f')",
     "calling redis.register_function with a single argument is only applicable to Lua table "
     "(representing named arguments)."),
    ("redis.register_function({})", "redis.register_function must get a function name argument"),
    ("redis.register_function{function_name='f'}",
     "redis.register_function must get a callback argument"),
    ("redis.register_function('f', 5)",
     "second argument to redis.register_function must be a function"),
    ("redis.register_function{function_name='f', callback=function() end, flags={'bad'}}",
     "unknown flag given"),
    ("redis.register_function{function_name='f', callback=function() end, other=1}",
     "unknown argument given to redis.register_function"),
    ("redis.register_function('f 1', function() end)",
     "Library names can only contain letters, numbers, or underscores(_) and must be at "
     "least one character long"),
    ("redis.register_function('f', function() end) redis.register_function('f', function() end)",
     "Function already exists in the library"),
    ("redis.call('ping')",
     "user_function:2: Script attempted to access nonexistent global variable 'call'"),
    ("local s = string.rep('a', 2)",
     "user_function:2: Script attempted to access nonexistent global variable 'string'"),
    ("x = 1", "user_function:2: Attempt to modify a readonly table"),
])
def test_the_library_api_and_its_errors(client, body, text):
    """While a library loads it sees only redis.register_function, log and the constants."""
    assert error_of(load(client, lib("l", body))) == f"ERR Error registering functions: ERR {text}"
    assert client.call("FUNCTION", "LIST") == []


def test_load_time_limit(server, client):
    clock = iter(range(1000))
    server.service.scripts.load_clock = lambda: next(clock) * 0.1
    assert error_of(load(client, lib("spin", "while true do end"))) == (
        "ERR Error registering functions: ERR FUNCTION LOAD timeout")
    assert client.call("FUNCTION", "LIST") == []


def test_named_arguments_flags_and_description(client):
    code = lib("named", "redis.register_function{FUNCTION_NAME='f', Callback=function() "
                        "return 1 end, flags={'ALLOW-OOM', 'no-writes'}, description='d'}")
    assert load(client, code) == b"named"
    assert raw_reply(client, "FUNCTION", "LIST") == (
        b"*1\r\n*6\r\n$12\r\nlibrary_name\r\n$5\r\nnamed\r\n$6\r\nengine\r\n$3\r\nLUA\r\n"
        b"$9\r\nfunctions\r\n*1\r\n*6\r\n$4\r\nname\r\n$1\r\nf\r\n$11\r\ndescription\r\n"
        b"$1\r\nd\r\n$5\r\nflags\r\n*2\r\n+no-writes\r\n+allow-oom\r\n")


def test_replace(client):
    load(client, lib("l", register("f", "return 1")))
    assert error_of(load(client, lib("l", register("f", "return 2")))) == (
        "ERR Library 'l' already exists")
    assert load(client, "REPLACE", lib("l", register("f", "return 2"))) == b"l"
    assert client.call("FCALL", "f", 0) == 2
    # A replacement that fails leaves the old library in place.
    assert error_of(load(client, "replace", lib("l", "local a ="))).startswith(
        "ERR Error compiling function")
    assert client.call("FCALL", "f", 0) == 2
    assert error_of(load(client, "bogus", lib("l", register("f")))) == (
        "ERR Unknown option given: bogus")


def test_function_names_are_unique_across_libraries_in_any_case(client):
    load(client, lib("one", register("Shared")))
    assert error_of(load(client, lib("two", register("other"), register("sHARED")))) == (
        "ERR Function sHARED already exists")
    assert client.call("FUNCTION", "LIST", "LIBRARYNAME", "two") == []
    assert client.call("FCALL", "shared", 0) == 1


def test_runtime_globals_of_a_function(client):
    load(client, lib("g", register("has", "return type(redis[args[1]])"),
                     register("keys_global", "return KEYS")))
    assert [client.call("FCALL", "has", 0, name) for name in
            ("call", "register_function", "breakpoint", "replicate_commands")] == [
        b"function", b"nil", b"nil", b"nil"]
    assert error_of(client.call("FCALL", "keys_global", 0)) == (
        "ERR user_function:3: Script attempted to access nonexistent global variable 'KEYS' "
        "script: keys_global, on @user_function:3.")


# -- calling ------------------------------------------------------------------


@pytest.mark.parametrize("args, text", [
    (("nosuch", "0"), "ERR Function not found"),
    (("f", "x"), "ERR Bad number of keys provided"),
    (("f", "2", "a"), "ERR Number of keys can't be greater than number of args"),
    (("f", "-1"), "ERR Number of keys can't be negative"),
])
def test_fcall_argument_errors(client, args, text):
    load(client, lib("l", register("f")))
    assert error_of(client.call("FCALL", *args)) == text


def test_fcall_ro_and_no_writes(client):
    load(client, lib("l", register("writer", "return redis.call('set', 'k', 'v')"),
                     register("reader", "return redis.call('get', 'k')", "'no-writes'"),
                     register("sneaky", "return redis.call('set', 'k', 'v')", "'no-writes'")))
    assert error_of(client.call("FCALL_RO", "writer", 0)) == (
        "ERR Can not execute a script with write flag using *_ro command.")
    assert client.call("FCALL_RO", "reader", 0) is None
    assert error_of(client.call("FCALL", "sneaky", 0)) == (
        "ERR Write commands are not allowed from read-only scripts. script: sneaky, "
        "on @user_function:4.")


def test_errors_name_the_function(client):
    load(client, lib("e", register("boom", "error('bad')"), register("custom",
                     "error({err='MYERR custom'})"), register("nested",
                     "return redis.call('fcall', 'boom', 0)")))
    assert error_of(client.call("FCALL", "boom", 0)) == (
        "ERR user_function:2: bad script: boom, on @user_function:2.")
    assert error_of(client.call("FCALL", "custom", 0)) == (
        "MYERR custom script: custom, on @user_function:3.")
    assert error_of(client.call("FCALL", "nested", 0)) == (
        "ERR This Redis command is not allowed from script script: nested, "
        "on @user_function:4.")


def test_functions_and_scripts_have_separate_states(client):
    load(client, lib("l", register("f", "return 'kept'")))
    assert client.call("SCRIPT", "FLUSH") == b"OK"
    assert client.call("FCALL", "f", 0) == b"kept"
    assert error_of(client.call("EVAL", "return redis.call('fcall', 'f', 0)", 0)).startswith(
        "ERR This Redis command is not allowed from script")


def test_in_a_transaction(client):
    client.call("MULTI")
    assert client.call("FUNCTION", "LOAD", lib("t", register("t", "return 't'"))) == b"QUEUED"
    assert client.call("FCALL", "t", 0) == b"QUEUED"
    assert client.call("EXEC") == [b"t", b"t"]


# -- listing, deleting, flushing ---------------------------------------------


def test_list_patterns_and_code(client):
    code = lib("Alpha", register("a"))
    load(client, code)
    load(client, lib("beta", register("b")))
    assert [entry[1] for entry in client.call("FUNCTION", "LIST")] == [b"Alpha", b"beta"]
    # Library names match without regard to case.
    only = client.call("FUNCTION", "LIST", "LIBRARYNAME", "al*", "WITHCODE")
    assert [(entry[1], entry[-1]) for entry in only] == [(b"Alpha", code.encode())]
    assert error_of(client.call("FUNCTION", "LIST", "LIBRARYNAME")) == (
        "ERR library name argument was not given")
    assert error_of(client.call("FUNCTION", "LIST", "WITHCODE", "WITHCODE")) == (
        "ERR Unknown argument WITHCODE")


def test_delete_and_flush(client):
    load(client, lib("one", register("f1")))
    load(client, lib("two", register("f2")))
    assert error_of(client.call("FUNCTION", "DELETE", "ONE")) == "ERR Library not found"
    assert client.call("FUNCTION", "DELETE", "one") == b"OK"
    assert error_of(client.call("FCALL", "f1", 0)) == "ERR Function not found"
    assert error_of(client.call("FUNCTION", "FLUSH", "lazy")) == (
        "ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    assert client.call("FUNCTION", "FLUSH", "ASYNC") == b"OK"
    assert client.call("FUNCTION", "LIST") == []
    assert load(client, lib("one", register("f2"))) == b"one"


def test_stats_and_info(client):
    load(client, lib("one", register("f1"), register("f2")))
    assert client.call("FUNCTION", "STATS") == [
        b"running_script", None,
        b"engines", [b"LUA", [b"libraries_count", 1, b"functions_count", 2]]]
    assert b"number_of_functions:2\r\n" in client.call("INFO", "memory")


# -- dump and restore -----------------------------------------------------------


def test_dump_and_restore_policies(client):
    one, two = lib("one", register("f1", "return 1")), lib("two", register("f2", "return 2"))
    load(client, one)
    load(client, two)
    payload = client.call("FUNCTION", "DUMP")
    assert payload == dump_functions([one.encode(), two.encode()])
    assert error_of(client.call("FUNCTION", "RESTORE", payload)) == (
        "ERR Library one already exists")
    assert client.call("FUNCTION", "RESTORE", payload, "REPLACE") == b"OK"
    client.call("FUNCTION", "FLUSH")
    load(client, lib("three", register("f3")))
    assert client.call("FUNCTION", "RESTORE", payload, "append") == b"OK"
    assert sorted(entry[1] for entry in client.call("FUNCTION", "LIST")) == [
        b"one", b"three", b"two"]
    assert client.call("FUNCTION", "RESTORE", payload, "FLUSH") == b"OK"
    assert sorted(entry[1] for entry in client.call("FUNCTION", "LIST")) == [b"one", b"two"]
    assert client.call("FCALL", "f2", 0) == 2


def test_restore_fails_as_a_whole(client):
    load(client, lib("other", register("f2", "return 'mine'")))
    payload = dump_functions([lib("one", register("f1")).encode(),
                              lib("two", register("f2")).encode()])
    assert error_of(client.call("FUNCTION", "RESTORE", payload)) == (
        "ERR Function f2 already exists")
    assert [entry[1] for entry in client.call("FUNCTION", "LIST")] == [b"other"]
    assert error_of(client.call("FUNCTION", "RESTORE", payload, "REPLACE")) == (
        "ERR Function f2 already exists")
    assert [entry[1] for entry in client.call("FUNCTION", "LIST")] == [b"other"]
    twice = dump_functions([lib("one", register("f1")).encode()] * 2)
    assert error_of(client.call("FUNCTION", "RESTORE", twice, "FLUSH")) == (
        "ERR Library 'one' already exists")
    assert client.call("FCALL", "f2", 0) == b"mine"


@pytest.mark.parametrize("args, text", [
    (("junk",), "ERR DUMP payload version or checksum are wrong"),
    (("junk", "sideways"),
     "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."),
    (("junk", "append", "more"),
     "ERR unknown subcommand or wrong number of arguments for 'RESTORE'. Try FUNCTION HELP."),
])
def test_restore_argument_errors(client, args, text):
    assert error_of(client.call("FUNCTION", "RESTORE", *args)) == text


# -- busy functions ---------------------------------------------------------------


class FakeTime:
    """A clock that moves 10 ms each time the engine looks at it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.01
        return self.now


def _busy_server() -> tuple[FakeServer, FakeClient, FakeClient]:
    server = FakeServer(maxkeys=0, busy_reply_threshold=50)
    server.service.scripts.now = FakeTime()
    return server, server.client(1), server.client(2)


def test_busy_function_stats_and_function_kill():
    server, runner, other = _busy_server()
    load(runner, lib("busy", register("spin", "while true do end")))
    seen: list[Any] = []

    def events() -> None:
        if not seen:
            seen.append(other.call("GET", "x"))
            seen.append(other.call("FUNCTION", "STATS")[1])
            seen.append(other.call("SCRIPT", "KILL"))
            seen.append(other.call("FUNCTION", "KILL"))

    server.service.scripts.process_events = events
    reply = runner.call("FCALL", "spin", 0)
    busy = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
    assert error_of(seen[0]) == busy
    assert seen[1][:4] == [b"name", b"spin", b"command", [b"FCALL", b"spin", b"0"]]
    assert error_of(seen[2]) == busy
    assert seen[3] == b"OK"
    assert error_of(reply) == (
        "ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.")


def test_busy_eval_is_not_a_function():
    server, runner, other = _busy_server()
    seen: list[Any] = []

    def events() -> None:
        if not seen:
            seen.append(other.call("FUNCTION", "STATS"))
            seen.append(other.call("FUNCTION", "KILL"))
            seen.append(other.call("SCRIPT", "KILL"))

    server.service.scripts.process_events = events
    runner.call("EVAL", "while true do end", 0)
    busy = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    assert [error_of(seen[0]), error_of(seen[1]), seen[2]] == [busy, busy, b"OK"]
