# -*- test-case-name: tests.commands.test_scripting -*-
"""A compiled script, and one run of it."""

from __future__ import annotations

from typing import Any

from hush.commands.dispatch import Session


class Script:
    """A compiled script: its body, SHA1 and shebang flags.

    @ivar no_cluster: refused by a cluster node (``no-cluster``).
    @ivar cross_slot: in cluster mode, may use keys of several slots: a script
        without a shebang (Redis's compatibility mode) or declaring
        ``allow-cross-slot-keys``.
    """

    __slots__ = ("sha", "body", "function", "shebang", "no_writes", "allow_oom", "no_cluster",
                 "cross_slot")

    def __init__(self, sha: str, body: bytes, function: Any, shebang: bool, no_writes: bool,
                 allow_oom: bool = False):
        self.sha = sha
        self.body = body
        self.function = function
        self.shebang = shebang
        self.no_writes = no_writes
        self.allow_oom = allow_oom
        self.no_cluster = shebang and shebang_flag(body, b"no-cluster")
        self.cross_slot = not shebang or shebang_flag(body, b"allow-cross-slot-keys")


def shebang_flag(body: bytes, flag: bytes) -> bool:
    """True if the script's (valid) shebang line declares ``flag`` (no-cluster, ...)."""
    if not body.startswith(b"#!"):
        return False
    line = body[:body.find(b"\n")]
    return any(flag in part[len(b"flags="):].split(b",") for part in line.split()[1:])


class ScriptRun:
    """One execution of a script: its state as ``redis.*`` and the hook change it."""

    __slots__ = ("script", "caller", "client", "started", "busy", "killed", "wrote",
                 "readonly", "resp3", "state", "function_name", "command")

    def __init__(self, script: Script, caller: Session, readonly: bool, started: float,
                 state: Any = None):
        self.script = script
        self.caller = caller
        #: The :class:`hush.scripting.engine.LuaState` it runs in.
        self.state = state
        #: FCALL's function name (bytes), None for an EVAL script.
        self.function_name: bytes | None = None
        #: The caller's command, for FUNCTION STATS.
        self.command: list[bytes] = []
        #: The :class:`hush.scripting.client.ScriptSession` its commands run as.
        self.client: Session | None = None
        self.started = started
        self.busy = False
        self.killed = False
        self.wrote = False
        self.readonly = readonly
        self.resp3 = False
