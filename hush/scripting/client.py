# -*- test-case-name: tests.commands.test_scripting -*-
"""The client a script's ``redis.call`` runs its commands as."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hush.commands.table import lookup
from hush.core.errors import CommandError
from hush.data.blocking import Block
from hush.server.protocol import RedisProtocol

if TYPE_CHECKING:
    from hush.scripting.engine import ScriptRun

_UNKNOWN = "ERR Unknown Redis command called from script"
_WRONG_ARITY = "ERR Wrong number of args calling Redis command from script"
_NOT_ALLOWED = "ERR This Redis command is not allowed from script"
_READONLY = "ERR Write commands are not allowed from read-only scripts."


class ScriptClient(RedisProtocol):
    """The client a script's ``redis.call`` runs commands as.

    It has no connection; it starts on the caller's database (SELECT moves
    only this client) and shares the caller's id and name.

    @ivar repl_flags: ``redis.set_repl``'s flags (``REPL_AOF`` = 1,
        ``REPL_REPLICA`` = 2): the AOF skips a script's write when
        ``repl_flags & 1`` is 0 (hush.persistence.propagation).
    """

    #: MONITOR names the origin of a script's commands "lua", as Redis does.
    is_script = True

    def __init__(self, caller: RedisProtocol, run: ScriptRun) -> None:
        super().__init__()
        self.factory = caller.factory
        self.db = caller.db
        self.client_id = caller.client_id
        self.name = caller.name
        self._stats = caller.factory.service.store.stats
        self._seconds = caller.factory.service.clock.seconds
        # The dispatcher's per-command accounting (SLOWLOG, MONITOR, --metrics).
        self._settings = caller.factory.service.settings
        self._watchers = caller.factory.service.watchers
        # The script's writes reach the AOF one by one (MULTI/EXEC around them).
        self._propagator = caller._propagator
        # Blocking commands check in_multi: in a script, as in MULTI, they
        # answer at once as if their timeout had expired.
        self.in_multi = True
        self.exec_running = True
        self._gated = True
        self.run = run
        self.repl_flags = 3
        #: The running command's name as the script spelled it (Redis quotes it so).
        self.typed_name = b""

    def update_gate(self) -> None:
        self._gated = True

    def call(self, argv: list[bytes]) -> Any:
        """Run one command for the script: its reply value, errors as CommandError."""
        cmd = lookup(argv[0])
        if cmd is None:
            return CommandError(_UNKNOWN)
        nargs = len(argv)
        if (cmd.arity > 0 and nargs != cmd.arity) or nargs < -cmd.arity:
            return CommandError(_WRONG_ARITY)
        if cmd.subcommands and nargs > 1:
            sub = cmd.subcommands.get(argv[1]) or cmd.subcommands.get(argv[1].lower())
            if sub is None:
                return CommandError(_UNKNOWN)
            if (sub.arity > 0 and nargs != sub.arity) or nargs < -sub.arity:
                return CommandError(_WRONG_ARITY)
        self.typed_name = argv[0]
        reply = self.execute(argv)
        if reply.__class__ is Block:
            reply = reply.timeout_reply
        return reply

    def _gate(self, cmd: Any, argv: list[bytes]) -> Any:
        flags = cmd.flags
        parent = cmd.parent
        if "noscript" in flags or (parent is not None and "noscript" in parent.flags):
            return CommandError(_NOT_ALLOWED)
        if "write" in flags or "may-replicate" in flags:
            if self.run.readonly:
                return CommandError(_READONLY)
            if "denyoom" in flags and not self.run.wrote and not self.run.script.allow_oom:
                # Redis stops a script at the limits only before its first write.
                refused = self.factory.service.memory.script_refusal(self, cmd, argv)
                if refused is not None:
                    return refused
            if "write" in flags:
                self.run.wrote = True
        return None

    def _reject(self, error: CommandError, cmd: Any = None) -> CommandError:
        return error
