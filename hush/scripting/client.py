# -*- test-case-name: tests.commands.test_scripting -*-
"""The session a script's ``redis.call`` runs its commands as.

A :class:`ScriptSession` is a :class:`hush.commands.dispatch.Session` without
a connection, so a script's commands go through the dispatcher every client
uses: anything hooked into it -- statistics, AOF propagation of write
commands, MONITOR -- sees them one by one, with the script's selected
database. Its gates are the script's rules instead of a client's: commands
flagged ``noscript`` are refused, so are those the caller's ACL user may not
run, writes from read-only scripts, and
its first write may be stopped by the memory limits. It behaves as a client
in MULTI for blocking commands, which therefore answer as if their timeout
had expired.
"""

from __future__ import annotations

from typing import Any

from hush.commands.acl_users import DENIED_CMD, LUA, SCRIPT_REASONS
from hush.commands.dispatch import WRONG_ARITY, Session, Unresolved
from hush.commands.routing import DOWN, DOWN_READONLY, route
from hush.commands.table import Command
from hush.core.errors import CommandError
from hush.data.blocking import Block
from hush.formats.keyslot import key_slot
from hush.scripting.run import ScriptRun

_UNKNOWN = "ERR Unknown Redis command called from script"
_WRONG_ARITY = "ERR Wrong number of args calling Redis command from script"
_NOT_ALLOWED = "ERR This Redis command is not allowed from script"
_READONLY = "ERR Write commands are not allowed from read-only scripts."
_CLUSTER_DOWN_READONLY = ("ERR Script attempted to execute a write command while the cluster "
                          "is down and readonly")
_CLUSTER_DOWN = "ERR Script attempted to execute a command while the cluster is down"
_NOT_LOCAL = "ERR Script attempted to access a non local key in a cluster node"
_CROSS_SLOT = "ERR Script attempted to access keys that do not hash to the same slot"


class ScriptSession(Session):
    """The client a script's ``redis.call`` runs commands as.

    It starts on the caller's database (SELECT moves only this session) and
    shares the caller's id and name.

    @ivar repl_flags: ``redis.set_repl``'s flags (``REPL_AOF`` = 1,
        ``REPL_REPLICA`` = 2): the AOF skips a script's write when
        ``repl_flags & 1`` is 0 (hush.persistence.propagation).
    @ivar typed_name: the running command's name as the script spelled it
        (Redis quotes it so in some errors).
    """

    #: MONITOR names the origin of a script's commands "lua", as Redis does.
    is_script = True

    __slots__ = ("run", "repl_flags", "typed_name", "slot", "cross_slot")

    def __init__(self, caller: Session, run: ScriptRun, keys: tuple[bytes, ...] = ()) -> None:
        super().__init__(caller.server)
        self.db = caller.db
        self.client_id = caller.client_id
        self.name = caller.name
        # Its commands are checked against the caller's ACL user.
        self.user = caller.user
        # The script's writes reach the AOF one by one (MULTI/EXEC around them).
        self.propagator = caller.propagator
        # Blocking commands check in_multi: in a script, as in MULTI, they
        # answer at once as if their timeout had expired.
        self.in_multi = True
        self.exec_running = True
        # A tracking caller caches the keys its script's reads name (Redis's
        # script_caller), under the caller's id and OPTIN/OPTOUT state.
        self.tracking = caller.tracking
        self.run = run
        self.repl_flags = 3
        self.typed_name = b""
        # Cluster mode: the caller's ASKING and READONLY count for the script's
        # commands, whose keys must be this node's. A script with a shebang
        # must also keep to one slot -- that of its KEYS, or of the first key
        # it uses -- unless it declares allow-cross-slot-keys; one without
        # (Redis's compatibility mode) may cross slots.
        self.cluster = caller.cluster
        self.asking = caller.asking
        self.readonly = caller.readonly
        self.slot = -1
        self.cross_slot = False
        if self.cluster is not None:
            self.cross_slot = run.script.cross_slot
            if keys:
                self.slot = key_slot(keys[0])

    def update_gate(self) -> None:
        """Every command of a script passes the script's gate."""
        self._gated = True

    def call(self, argv: list[bytes]) -> Any:
        """Run one command for the script: its reply value, errors as CommandError."""
        self.typed_name = argv[0]
        reply = self.execute(argv)
        if reply.__class__ is Block:
            reply = reply.timeout_reply
        return reply

    def _unresolved(self, argv: list[bytes], why: Unresolved) -> CommandError:
        # Scripts get their own texts, and nothing is counted as rejected.
        return CommandError(_WRONG_ARITY if why.kind is WRONG_ARITY else _UNKNOWN)

    def _gate(self, cmd: Command, argv: list[bytes]) -> Any:
        flags = cmd.flags
        parent = cmd.parent
        if "noscript" in flags or (parent is not None and "noscript" in parent.flags):
            return CommandError(_NOT_ALLOWED)
        user = self.user
        if user is not None and not user.unrestricted:
            reason, index = user.check(cmd, argv)
            if reason:
                obj = cmd.full_name.encode() if reason == DENIED_CMD else argv[index]
                self.server.acl.add_log(self.run.caller, reason, LUA, obj)
                return CommandError("ERR The user executing the script " + SCRIPT_REASONS[reason])
        if "write" in flags or "may-replicate" in flags:
            run = self.run
            if run.readonly:
                return CommandError(_READONLY)
            if "denyoom" in flags and not run.wrote and not run.script.allow_oom:
                # Redis stops a script at the limits only before its first write.
                refused = self.server.memory.script_refusal(self, cmd, argv)
                if refused is not None:
                    return refused
            if "write" in flags:
                run.wrote = True
        if self.cluster is not None:
            return self._route(self.cluster, cmd, argv)
        return None

    def _route(self, cluster: Any, cmd: Command, argv: list[bytes]) -> CommandError | None:
        """Redis's scriptVerifyClusterState: this node's keys, one slot per script."""
        error, slot = route(cluster, self.db, ((cmd, argv),), command=cmd, asking=self.asking)
        if error is not None:
            if error == DOWN_READONLY:
                return CommandError(_CLUSTER_DOWN_READONLY)
            if error == DOWN:
                return CommandError(_CLUSTER_DOWN)
            return CommandError(_NOT_LOCAL)
        if slot != -1 and not self.cross_slot:
            if self.slot == -1:
                self.slot = slot
            elif self.slot != slot:
                return CommandError(_CROSS_SLOT)
        return None

    def _reject(self, error: CommandError, cmd: Command | None = None) -> CommandError:
        return error
