# -*- test-case-name: tests.commands.test_scripting -*-
"""Lua scripting as Redis 7.0 has it: EVAL's engine and script cache.

One :class:`ScriptEngine` per server (``StoreService.scripts``) owns a Lua 5.1
state from lupa (created on first use), the cache of compiled scripts by SHA1
and the script running now, if any. A script's ``redis.call`` runs its
command through a :class:`~hush.scripting.client.ScriptSession`; replies and
return values are converted by :mod:`hush.scripting.convert`.

Busy scripts: a Lua count hook calls :meth:`ScriptEngine._interrupt` every
:data:`HOOK_INSTRUCTIONS` VM instructions. Once the script has run longer
than ``busy-reply-threshold`` milliseconds the engine enters busy mode: every
session's dispatcher is sent through its slow path, which answers
``-BUSY`` to all but ``allow-busy`` commands (SCRIPT KILL), the running
client's transport stops reading, and each later hook call processes pending
network events re-entrantly (``reactor.doIteration(0)``: I/O only, no timers,
so no BLPOP timeout or active expiry runs in the middle of a script). Keys a
script made ready for blocked clients are held back until it ends.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable
from typing import Any

from twisted.logger import Logger, LogLevel

from hush import REDIS_VERSION
from hush.commands.args import parse_int
from hush.commands.dispatch import Session
from hush.commands.table import lookup
from hush.core.errors import CommandError, c_string, c_text
from hush.core.interfaces import Server
from hush.scripting.bytecode import untail
from hush.scripting.client import ScriptSession
from hush.scripting.convert import Converter
from hush.scripting.libs import bit as lua_bit
from hush.scripting.libs import cmsgpack as msgpack
from hush.scripting.libs import struct as lua_struct
from hush.scripting.libs.args import LuaArgError, check_int, check_string
from hush.scripting.run import Script, ScriptRun
from hush.scripting.sandbox import SANDBOX
from hush.wire.parser import ProtocolReject, split_inline

log = Logger()

NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL."
NOTBUSY = "NOTBUSY No scripts in execution right now."
#: Other clients' reply while an EVAL script, or a function, is busy.
BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = (
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
UNKILLABLE = (
    "UNKILLABLE Sorry the script already executed write commands against the dataset. "
    "You can either wait the script termination or kill the server in a hard way using "
    "the SHUTDOWN NOSAVE command."
)
#: Redis's count hook interval: VM instructions between interrupt checks.
HOOK_INSTRUCTIONS = 100_000


_NO_ARGS = "ERR Please specify at least one argument for this redis lib call"
_BAD_ARG = "ERR Lua redis lib command arguments must be strings or integers"

_SHEBANG_FLAGS = frozenset(
    [b"no-writes", b"allow-oom", b"allow-stale", b"no-cluster", b"allow-cross-slot-keys"]
)
_LOG_LEVELS = {0: LogLevel.debug, 1: LogLevel.debug, 2: LogLevel.info, 3: LogLevel.warn}
_VERBOSITY = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3, "nothing": 4}
_LEVEL_NAMES = ("debug", "verbose", "notice", "warning")  # for hush.server.logconfig's filter
_MASK32 = 0xFFFFFFFF
_MASK48 = (1 << 48) - 1


class ScriptingUnavailable(CommandError):
    """lupa (with its Lua 5.1 runtime) is not installed."""


def _lua51() -> Any:
    try:
        import lupa.lua51
    except ImportError as exc:
        log.error("Scripting is unavailable: {error}", error=exc)
        raise ScriptingUnavailable(
            "ERR Scripting is unavailable: it needs lupa's Lua 5.1 runtime (lupa.lua51), "
            "install it with: pip install 'lupa>=2'"
        ) from None
    return lupa.lua51


def _no_attributes(obj: Any, name: Any, is_setting: bool) -> Any:
    # Scripts never see Python objects, but should one leak, its attributes
    # (and through them the interpreter) stay out of reach.
    raise AttributeError("not accessible from Lua")


class LuaState:
    """One Lua state with Redis's sandbox: EVAL's, or the one FUNCTION libraries live in.

    Redis keeps the two apart (SCRIPT FLUSH does not touch functions), and so
    does Hush; tables made for one state cannot be handed to the other, so
    each has its own converter.

    @ivar lua: the lupa runtime.
    @ivar helpers: the sandbox's helper table (:data:`hush.scripting.sandbox.SANDBOX`).
    @ivar convert: replies to Lua values and back, for this state.
    @ivar lua_type: lupa's ``lua_type``.
    """

    __slots__ = ("lua", "helpers", "convert", "lua_type")

    def __init__(self, lua: Any, helpers: Any, convert: Converter, lua_type: Any) -> None:
        self.lua = lua
        self.helpers = helpers
        self.convert = convert
        self.lua_type = lua_type


class ScriptEngine:
    """The script cache, the Lua states and the script or function running now.

    @ivar now: seconds, for the busy threshold (the service clock).
    @ivar load_clock: monotonic seconds, for FUNCTION LOAD's time limit.
    @ivar process_events: handles pending network events while a script is
        busy; tests replace it.
    @ivar busy_message: the BUSY error other clients get while the running
        script is busy (its text names SCRIPT KILL or FUNCTION KILL).
    """

    def __init__(self, service: Server) -> None:
        self.service = service
        self.scripts: dict[str, Script] = {}
        self.running: ScriptRun | None = None
        self.busy = False
        self.busy_message = BUSY_EVAL
        self.now: Callable[[], float] = service.clock.seconds
        self.load_clock: Callable[[], float] = time.monotonic
        iterate = getattr(service.clock, "doIteration", None)
        # The server's own reactor (a test server may run one in a thread).
        self.process_events: Callable[[], None] = (
            _reactor_events if iterate is None else lambda: iterate(0))
        #: Called after each :attr:`process_events` (the server sends the
        #: replies its connections hold to the end of the reactor's pass).
        self.after_events: Callable[[], None] | None = None
        self._eval_state: LuaState | None = None
        self._function_state: LuaState | None = None
        # While a library loads: when its time runs out (None: no limit).
        self._load_deadline: float | None = None
        self._rand = int.from_bytes(os.urandom(6), "big")

    # -- the Lua states --------------------------------------------------

    def _runtime(self) -> Any:
        """EVAL's sandbox helpers (the state is made on first use)."""
        return self._eval().helpers

    def _eval(self) -> LuaState:
        if self._eval_state is None:
            self._eval_state = self._make_state(functions=False)
        return self._eval_state

    def function_state(self) -> LuaState:
        """The Lua state FUNCTION libraries are loaded into (made on first use)."""
        if self._function_state is None:
            self._function_state = self._make_state(functions=True)
        return self._function_state

    def _make_state(self, functions: bool) -> LuaState:
        lua51 = _lua51()
        lua = lua51.LuaRuntime(encoding=None, unpack_returned_tuples=True,
                               register_eval=False, register_builtins=False,
                               attribute_filter=_no_attributes)
        callbacks: dict[bytes, Any] = {
            b"functions": functions,
            b"call": self._lua_call,
            b"interrupt": self._guarded(self._interrupt, False),
            b"load_interrupt": self._guarded(self._load_interrupt, False),
            b"random": self._checked(self._random),
            b"randomseed": self._checked(self._randomseed),
            b"sha1hex": self._guarded(_sha1hex, b""),
            b"log": self._guarded(self._log, None),
            b"setresp": self._guarded(self._setresp, None),
            b"set_repl": self._guarded(self._set_repl, None),
            b"acl_check": self._guarded(self._acl_check, None),
            b"version": REDIS_VERSION.encode(),
            b"version_num": _version_num(REDIS_VERSION),
        }

        def table(*values: Any) -> Any:
            return lua.table(*values)

        callbacks[b"msgpack_pack"] = self._checked(
            lambda *values: msgpack.pack(values, lua51.lua_type))
        callbacks[b"msgpack_unpack"] = self._checked_multi(
            table, lambda *args: self._unpack_all(table, *args))
        callbacks[b"msgpack_unpack_one"] = self._checked_multi(
            table, lambda *args: self._unpack_one(table, *args))
        callbacks[b"msgpack_unpack_limit"] = self._checked_multi(
            table, lambda *args: self._unpack_limit(table, *args))
        callbacks[b"struct_pack"] = self._checked(lua_struct.pack)
        callbacks[b"struct_unpack"] = self._checked_multi(table, lua_struct.unpack)
        callbacks[b"struct_size"] = self._checked(lua_struct.size)
        for name, function in lua_bit.FUNCTIONS.items():
            callbacks[b"bit_" + name.encode()] = self._checked(function)
        setup = lua.eval(b"loadstring")(SANDBOX.encode(), b"=hush")
        if isinstance(setup, tuple):
            raise RuntimeError(f"the Lua sandbox does not compile: {setup[1]!r}")
        helpers = setup(lua.table_from(callbacks))
        return LuaState(lua, helpers, Converter(lua, helpers.rawget, lua51.lua_type),
                        lua51.lua_type)

    @staticmethod
    def _guarded(function: Callable[..., Any], failed: Any) -> Callable[..., Any]:
        """A callback for Lua that never lets a Python exception reach the script."""

        def guarded(*args: Any) -> Any:
            try:
                return function(*args)
            except Exception:
                log.failure("Unexpected error in a Lua callback")
                return failed

        return guarded

    @staticmethod
    def _checked(function: Callable[..., Any]) -> Callable[..., Any]:
        """A library function for Lua: (True, value), or (False, message) to raise."""

        def checked(*args: Any) -> tuple[bool, Any]:
            try:
                return True, function(*args)
            except (LuaArgError, msgpack.LuaLibraryError) as error:
                return False, error.args[0].encode()
            except Exception:
                log.failure("Unexpected error in a Lua library function")
                return False, b"internal error"

        return checked

    def _checked_multi(self, table: Callable[[], Any],
                       function: Callable[..., list[Any]]) -> Callable[..., Any]:
        """As :meth:`_checked`, for functions with several results: (True, table, count)."""
        checked = self._checked(function)

        def multi(*args: Any) -> tuple[Any, ...]:
            ok, values = checked(*args)
            if not ok:
                return ok, values, 0
            result = table()
            for index, value in enumerate(values, 1):
                if value is not None:
                    result[index] = value
            return True, result, len(values)

        return multi

    @staticmethod
    def _unpack_all(table: Callable[[], Any], *args: Any) -> list[Any]:
        data = check_string(args, 0)
        return msgpack.unpack(data, 0, 0, True, table)

    @staticmethod
    def _unpack_one(table: Callable[[], Any], *args: Any) -> list[Any]:
        offset = check_int(args, 1) if len(args) > 1 and args[1] is not None else 0
        data = check_string(args, 0)
        return msgpack.unpack(data, 1, offset, False, table)

    @staticmethod
    def _unpack_limit(table: Callable[[], Any], *args: Any) -> list[Any]:
        limit = check_int(args, 1)
        offset = check_int(args, 2) if len(args) > 2 and args[2] is not None else 0
        data = check_string(args, 0)
        return msgpack.unpack(data, limit, offset, limit == 0 and offset == 0, table)

    # -- cache -----------------------------------------------------------

    def load(self, body: bytes) -> Script:
        """Compile ``body`` (or find it cached) and cache it: SCRIPT LOAD, EVAL."""
        sha = hashlib.sha1(body).hexdigest()
        script = self.scripts.get(sha)
        if script is None:
            script = self.scripts[sha] = self._compile(sha, body)
        return script

    def denies_oom(self, argv: list[bytes]) -> bool:
        """True if the script of this EVAL/EVALSHA call declares flags without
        allow-oom or no-writes (a function always declares its flags): Redis
        then flags the call denyoom."""
        if len(argv) < 2:
            return False
        if argv[0].lower().startswith(b"fcall"):
            function = self.service.functions.find(argv[1])
            return function is not None and not (
                function.script.no_writes or function.script.allow_oom)
        if argv[0].lower().startswith(b"evalsha"):
            script = self.scripts.get(argv[1].lower().decode("latin-1"))
            if script is None:
                return False
            shebang, no_writes, allow_oom = script.shebang, script.no_writes, script.allow_oom
        else:
            try:
                shebang, no_writes, _skip = _shebang(argv[1])
            except CommandError:
                return False
            allow_oom = _allows_oom(argv[1])
        return shebang and not (no_writes or allow_oom)

    def writes(self, argv: list[bytes]) -> bool:
        """True if this EVAL/EVALSHA/FCALL call declares it may write: a function or
        a script with a shebang, without no-writes (Redis then flags it ``write``)."""
        if len(argv) < 2:
            return False
        name = argv[0].lower()
        if name.startswith(b"fcall"):
            function = self.service.functions.find(argv[1])
            return function is not None and not function.script.no_writes
        if name.startswith(b"evalsha"):
            script = self.scripts.get(argv[1].lower().decode("latin-1"))
            return script is not None and script.shebang and not script.no_writes
        try:
            shebang, no_writes, _skip = _shebang(argv[1])
        except CommandError:
            return False
        return shebang and not no_writes

    def _compile(self, sha: str, body: bytes) -> Script:
        shebang, no_writes, skip = _shebang(body)
        helpers = self._runtime()
        # The shebang line is cut but its newline kept, so line numbers hold.
        result = helpers.compile(body[skip:])
        function, error = (result[0], result[1]) if isinstance(result, tuple) else (result, None)
        if function is None:
            raise CommandError(f"ERR Error compiling script (new function): {_text(error)}")
        # In Redis redis.call, cjson.encode ... are C functions, which Lua
        # never tail-calls, so `return redis.call(...)` keeps the script's
        # frame for error positions. Ours are Lua functions: the script's
        # tail calls become plain calls (same results, frame kept).
        function = helpers.load_compiled(untail(helpers.dump(function)))
        return Script(sha, body, function, shebang, no_writes, shebang and _allows_oom(body))

    def exists(self, sha: bytes) -> bool:
        """SCRIPT EXISTS for one SHA1 (any letter case)."""
        return sha.lower().decode("latin-1") in self.scripts

    def flush(self) -> None:
        """SCRIPT FLUSH: forget every script and start a fresh Lua state (functions keep theirs)."""
        self.scripts.clear()
        self._eval_state = None

    def kill(self, functions: bool = False) -> None:
        """SCRIPT KILL (FUNCTION KILL with ``functions``): stop the running script
        unless it already wrote; each kills only its own kind."""
        run = self.running
        if run is None:
            raise CommandError(NOTBUSY)
        if run.wrote:
            raise CommandError(UNKILLABLE)
        if run.function_name is None and functions:
            raise CommandError(BUSY_EVAL)
        if run.function_name is not None and not functions:
            raise CommandError(BUSY_FUNCTION)
        run.killed = True

    # -- running ---------------------------------------------------------

    def eval(self, ctx: Session, script_arg: bytes, numkeys: bytes, rest: tuple[bytes, ...],
             *, by_sha: bool, readonly: bool) -> Any:
        """EVAL / EVALSHA / EVAL_RO / EVALSHA_RO."""
        if by_sha and len(script_arg) != 40:
            raise CommandError(NOSCRIPT)
        count = parse_int(numkeys)
        if count > len(rest):
            raise CommandError("ERR Number of keys can't be greater than number of args")
        if count < 0:
            raise CommandError("ERR Number of keys can't be negative")
        if by_sha:
            script = self.scripts.get(script_arg.lower().decode("latin-1"))
            if script is None:
                raise CommandError(NOSCRIPT)
        else:
            script = self.load(script_arg)
        if ctx.server.cluster is not None and script.no_cluster:
            raise CommandError("ERR Can not run script on cluster, 'no-cluster' flag is set.")
        if readonly and script.shebang and not script.no_writes:
            raise CommandError("ERR Can not execute a script with write flag using *_ro command.")
        return self._run(ctx, script, rest[:count], rest[count:], readonly or script.no_writes)

    def _run(self, ctx: Session, script: Script, keys: tuple[bytes, ...],
             args: tuple[bytes, ...], readonly: bool) -> Any:
        state = self._eval()
        lua = state.lua
        run = ScriptRun(script, ctx, readonly, self.now(), state)
        run.client = ScriptSession(ctx, run, keys)
        ok, value = self._running(run, lambda: state.helpers.run(
            script.function, lua.table_from(keys), lua.table_from(args), HOOK_INSTRUCTIONS))
        if ok:
            return state.convert.from_lua(value, run.resp3)
        return _script_error(state, value, script.sha, f"f_{script.sha}")

    def call_function(self, ctx: Session, function: Any, keys: tuple[bytes, ...],
                      args: tuple[bytes, ...], readonly: bool, command: list[bytes]) -> Any:
        """FCALL / FCALL_RO of a registered function (:class:`hush.scripting.functions.Function`).

        It runs as an EVAL script does -- its own session, time frozen, busy
        mode, FUNCTION KILL -- with the keys and arguments as its two
        arguments; ``command`` is what FUNCTION STATS shows meanwhile.
        """
        state = self.function_state()
        lua = state.lua
        run = ScriptRun(function.script, ctx, readonly, self.now(), state)
        run.function_name = function.name
        run.command = command
        run.client = ScriptSession(ctx, run, keys)
        ok, value = self._running(run, lambda: state.helpers.call(
            function.callback, lua.table_from(keys), lua.table_from(args), HOOK_INSTRUCTIONS))
        if ok:
            return state.convert.from_lua(value, run.resp3)
        name = function.name.decode("utf-8", "surrogateescape")
        return _script_error(state, value, name, name)

    def _running(self, run: ScriptRun, body: Callable[[], Any]) -> Any:
        """Run ``body`` as the running script ``run``: time frozen, busy mode undone after."""
        self.running = run
        store = self.service.store
        # As in Redis 7.0, time stands still for a script: a key alive when
        # it starts does not expire under it.
        store.frozen_ms = store.now_ms()
        try:
            return body()
        finally:
            store.frozen_ms = None
            self.running = None
            if run.busy:
                self._leave_busy(run)

    # -- function libraries ----------------------------------------------

    def load_library(self, code: bytes, timeout: float) -> list[tuple[bytes, Any, Any, list[bytes]]]:
        """Compile and run a library's code (without its shebang line, newline kept).

        Returns what it registered: (name, callback, description or None,
        flags) per function, in order. Raises CommandError with Redis's text
        when it does not compile, fails, or runs longer than ``timeout``
        seconds (0: no limit, as for the AOF being loaded).
        """
        state = self.function_state()
        helpers = state.helpers
        result = helpers.compile(code, b"@user_function")
        function, error = (result[0], result[1]) if isinstance(result, tuple) else (result, None)
        if function is None:
            raise CommandError(f"ERR Error compiling function: {_text(error)}")
        # As for EVAL scripts: tail calls kept as plain calls, for error positions.
        function = helpers.load_compiled(untail(helpers.dump(function)), b"@user_function")
        self._load_deadline = self.load_clock() + timeout if timeout > 0 else None
        try:
            ok, value = helpers.load_library(function, HOOK_INSTRUCTIONS)
        finally:
            self._load_deadline = None
        if not ok:
            raise CommandError(f"ERR Error registering functions: {_load_error(state, value)}")
        rawget = helpers.rawget
        registered = []
        index = 1
        while (entry := rawget(value, index)) is not None:
            flags = rawget(entry, 4)
            registered.append((rawget(entry, 1), rawget(entry, 2), rawget(entry, 3),
                               [flag for _, flag in sorted(flags.items())]))
            index += 1
        return registered

    def _load_interrupt(self) -> bool:
        """FUNCTION LOAD's count hook: True once the library ran out of time."""
        deadline = self._load_deadline
        return deadline is not None and self.load_clock() > deadline

    # -- callbacks from Lua ----------------------------------------------

    def _lua_call(self, args: Any, count: int) -> tuple[bool, Any]:
        """redis.call / redis.pcall: (failed, reply converted for Lua)."""
        run = self.running
        if run is None:
            # Only a library's top-level code runs with no script running,
            # and redis.call is out of its reach.
            return True, None
        convert = run.state.convert
        try:
            if count == 0:
                return True, convert.error_table(_NO_ARGS)
            if args is None or run.client is None:
                return True, convert.error_table(_BAD_ARG)
            argv = [args[index] for index in range(1, count + 1)]
            reply = run.client.call(argv)
            if isinstance(reply, CommandError):
                return True, convert.error_table(reply.message)
            return False, convert.to_lua(reply, run.resp3)
        except Exception:
            log.failure("Unexpected error in redis.call")
            return True, convert.error_table("ERR internal error in redis.call")

    def _acl_check(self, args: Any, count: int) -> bool | None:
        """redis.acl_check_cmd: may the caller's user run this command? None: no such command."""
        argv = [args[index] for index in range(1, count + 1)]
        cmd = lookup(argv[0])
        if cmd is not None and cmd.subcommands and len(argv) > 1:
            # Redis's lookupCommand: a container's subcommand, without arity checks.
            cmd = cmd.subcommands.get(argv[1].lower())
        if cmd is None:
            return None
        run = self.running
        user = run.caller.user if run is not None else None
        return user is None or user.unrestricted or not user.check(cmd, argv)[0]

    def _interrupt(self) -> bool:
        """The count hook: True when the script must stop (SCRIPT KILL)."""
        run = self.running
        if run is None:
            return False
        if run.killed:
            return True
        if not run.busy:
            threshold = self.service.settings.busy_reply_threshold
            if threshold <= 0 or (self.now() - run.started) * 1000 < threshold:
                return False
            self._enter_busy(run)
        store = self.service.store
        # Keys the script made ready wait for its end, as its replies do.
        held, store.ready_keys = store.ready_keys, []
        try:
            self.process_events()
            if self.after_events is not None:
                self.after_events()
        finally:
            store.ready_keys = held + store.ready_keys
        return run.killed

    def _enter_busy(self, run: ScriptRun) -> None:
        run.busy = True
        self.busy = True
        function = run.function_name
        self.busy_message = BUSY_EVAL if function is None else BUSY_FUNCTION
        log.warn("Slow script detected: still in execution after {ms} milliseconds. "
                 "You can try killing the script using the {kill} command. "
                 "Script name is: {sha}.",
                 ms=int((self.now() - run.started) * 1000),
                 kill="SCRIPT KILL" if function is None else "FUNCTION KILL",
                 sha=run.script.sha if function is None else _text(function))
        for client in self.service.clients.values():
            client.update_gate()
        run.caller.connection.pause_reading()

    def _leave_busy(self, run: ScriptRun) -> None:
        self.busy = False
        for client in list(self.service.clients.values()):
            client.update_gate()
        run.caller.connection.resume_reading()
        log.info("Slow script finished in {ms} milliseconds.",
                 ms=int((self.now() - run.started) * 1000))

    def _log(self, level: int, message: bytes) -> None:
        verbosity = _VERBOSITY.get(self.service.settings.loglevel, 2)
        if level < verbosity:
            return
        log.emit(_LOG_LEVELS[level], "{message}", message=message.decode("utf-8", "replace"),
                 redis_level=_LEVEL_NAMES[level])

    def _setresp(self, version: int) -> None:
        run = self.running
        if run is not None:
            run.resp3 = version == 3
            if run.client is not None:
                run.client.resp3 = run.resp3

    def _set_repl(self, flags: int) -> None:
        run = self.running
        if run is not None and run.client is not None:
            run.client.repl_flags = int(flags)

    def _next_random(self) -> int:
        # rand48, the generator Redis's math.random uses (redisLrand48).
        self._rand = (0x5DEECE66D * self._rand + 0xB) & _MASK48
        return self._rand >> 17

    def _random(self, *args: Any) -> float | int:
        r = (self._next_random() % 2147483647) / 2147483647
        if not args:
            return r
        if len(args) == 1:
            upper = check_int(args, 0)
            if upper < 1:
                raise LuaArgError("bad argument #1 to '{fn}' (interval is empty)")
            return math.floor(r * upper) + 1
        if len(args) == 2:
            lower = check_int(args, 0)
            upper = check_int(args, 1)
            if lower > upper:
                raise LuaArgError("bad argument #2 to '{fn}' (interval is empty)")
            return math.floor(r * (upper - lower + 1)) + lower
        raise LuaArgError("wrong number of arguments")

    def _randomseed(self, *args: Any) -> None:
        seed = check_int(args, 0) & _MASK32
        self._rand = (seed << 16) | 0x330E

    # -- conversions -----------------------------------------------------


def _script_error(state: LuaState, error: Any, name: str, plain_name: str) -> CommandError:
    """A script's error as its caller's reply: ``... script: <name>, on <source>:<line>.``

    ``plain_name`` names it in the text for an error that is not a table.
    """
    if state.lua_type(error) != "table":
        if error is None:
            text = "execution failure"
        else:
            # Redis prints it with %.100s.
            text = c_text(error, 100) if isinstance(error, bytes) else str(error)[:100]
        return CommandError(f"ERR Error running script {plain_name}, {text}")
    rawget = state.helpers.rawget
    message = rawget(error, b"err")
    source = rawget(error, b"source")
    line = rawget(error, b"line")
    text = _text(message) if message is not None else "(null)"
    if source is not None and line is not None:
        text += f" script: {name}, on {_text(source)}:{_text(line)}."
    return CommandError(text)


def _load_error(state: LuaState, error: Any) -> str:
    """The message of an error a library's top-level code raised (luaExtractErrorInformation)."""
    if state.lua_type(error) == "table":
        message = state.helpers.rawget(error, b"err")
        if isinstance(message, (bytes, int, float)):
            return _text(message)
        return "(null)"
    return "ERR " + _text(error)


def _reactor_events() -> None:
    from twisted.internet import reactor

    reactor.doIteration(0)  # type: ignore[attr-defined]


def _shebang(body: bytes) -> tuple[bool, bool, int]:
    """(has a shebang, declares no-writes, bytes to skip) for a script body.

    Redis's evalExtractShebangFlags: the line is split as sdssplitargs splits
    (quotes and escapes), and names are compared as C strings (up to a NUL).
    """
    if not body.startswith(b"#!"):
        return False, False, 0
    end = c_string(body).find(b"\n")
    if end < 0:
        raise CommandError("ERR Invalid script shebang")
    try:
        parts = split_inline(body[:end])
    except ProtocolReject:
        parts = []
    if not parts:
        raise CommandError("ERR Invalid engine in script shebang")
    if c_string(parts[0]) != b"#!lua":
        raise CommandError(f"ERR Unexpected engine in script shebang: {_text(parts[0])}")
    no_writes = False
    for part in parts[1:]:
        if not part.startswith(b"flags="):
            raise CommandError(f"ERR Unknown lua shebang option: {_text(part)}")
        flags = part[len(b"flags="):]
        # sdssplitlen splits an empty string into no flags at all.
        for flag in flags.split(b",") if flags else ():
            if c_string(flag) not in _SHEBANG_FLAGS:
                raise CommandError(f"ERR Unexpected flag in script shebang: {_text(flag)}")
            no_writes = no_writes or c_string(flag) == b"no-writes"
    return True, no_writes, end


def _allows_oom(body: bytes) -> bool:
    """True if a (valid) shebang line declares allow-oom."""
    line = body[:body.find(b"\n")]
    return any(b"allow-oom" in part[len(b"flags="):].split(b",")
               for part in line.split()[1:])


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return c_text(value)  # Redis prints these with %s
    return str(value)


def _sha1hex(data: bytes) -> bytes:
    return hashlib.sha1(data).hexdigest().encode()


def _version_num(version: str) -> int:
    major, minor, patch = (int(part) for part in version.split("."))
    return (major << 16) | (minor << 8) | patch
