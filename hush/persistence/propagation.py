# -*- test-case-name: tests.unit.persistence.test_aof -*-
"""Propagation of the effects of write commands, Redis's model (``call()`` / ``alsoPropagate``).

The dispatcher runs every command through :meth:`Propagator.call` while the AOF
is on (one attribute check otherwise). After the handler returns, the store's
``dirty`` counter says whether it changed data; if so the command's argv is
recorded -- or, for the commands Redis rewrites to their deterministic
effect (SPOP -> SREM, EXPIRE -> PEXPIREAT, BLPOP -> LPOP ...), what the
command's ``effects`` give (declared beside each command with
:func:`hush.commands.table.effects`) -- unless the handler chose what to
propagate itself (:meth:`Propagator.propagate` /
:meth:`Propagator.propagate_instead`).

Commands run from inside another command (EXEC, and scripts calling the
dispatcher) record their own effects, and the enclosing command's argv is
dropped. Keys deleted by lazy or active expiry and by eviction are recorded as
``DEL``. When the top-level command ends, its effects go to the sink (the
AOF) in one batch, wrapped in MULTI/EXEC when there is more than one, as Redis
7 does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hush.commands.table import lookup
from hush.core.errors import CommandError

#: (database index, argv) of one propagated command.
Op = tuple[int, list[bytes]]

_MULTI = [b"MULTI"]
_EXEC = [b"EXEC"]


class ReplicasOnly(list):
    """An argv propagated to replicas and not to the AOF (PUBLISH, as Redis's
    forceCommandPropagation with PROPAGATE_REPL)."""


class Propagator:
    """Collects the effects of the running top-level command and hands them to a sink.

    @ivar sink: called with a list of ops once per top-level command that wrote.
    @ivar depth: how many dispatcher calls are running (0: none, 1: top level).
    """

    def __init__(self, store: Any, sink: Callable[[list[Op]], None]) -> None:
        self.store = store
        self.sink = sink
        self.depth = 0
        self.ops: list[Op] = []
        #: Called before replies are sent (the AOF writes its buffer).
        self.before_reply: Callable[[], None] = _nothing
        #: Set while the AOF cannot be written: writes (and PING) are refused
        #: with this MISCONF error, as Redis does, until a write succeeds.
        self.write_error: str | None = None
        # Per running call: the handler's replacement effects (None: its own argv).
        self._instead: list[Op] | None = None
        # Per running call: whether a command ran inside it.
        self._nested = False

    def call(self, ctx: Any, cmd: Any, args: list[bytes], argv: list[bytes]) -> Any:
        """Run ``cmd``'s handler for ``ctx`` and record what it changed."""
        if self.write_error is not None and (cmd.is_write or cmd.name == "ping"):
            refusal = self.write_refusal()
            if refusal is not None:
                raise refusal
        store = self.store
        dirty = store.dirty
        db_index = ctx.db.index
        depth = self.depth
        outer_instead, outer_nested = self._instead, self._nested
        self._instead = None
        self._nested = False
        self.depth = depth + 1
        reply: Any = None
        ran = False
        try:
            reply = cmd.handler(ctx, *args)
            ran = True
            return reply
        finally:
            self.depth = depth
            instead, nested = self._instead, self._nested
            self._instead, self._nested = outer_instead, True if depth else outer_nested
            if instead is not None:
                self.ops.extend(instead)
            elif not nested and store.dirty != dirty and getattr(ctx, "repl_flags", 1) & 1:
                # repl_flags: a script's redis.set_repl without REPL_AOF keeps
                # its writes out of the AOF, as in Redis.
                # A handler that raised after writing: its argv is all there is.
                rewrite = cmd.effects if ran else None
                if rewrite is None or isinstance(reply, CommandError):
                    self.ops.append((db_index, argv))
                else:
                    for effect in rewrite(ctx, argv, reply):
                        self.ops.append((db_index, effect))
            if not depth:
                self.flush_ops()

    def write_refusal(self) -> CommandError | None:
        """Redis's MISCONF while the AOF cannot be written, else None.

        Tries the write once more first: one that succeeds lifts the refusal.
        """
        if self.write_error is None:
            return None
        self.before_reply()
        if self.write_error is None:
            return None
        return CommandError(f"MISCONF Errors writing to the AOF file: {self.write_error}")

    def propagate(self, ctx: Any, argv: list[bytes], aof: bool = True) -> None:
        """Record ``argv`` now, in addition to whatever the running command propagates
        (``aof`` False: for replicas only, not the AOF)."""
        self.ops.append((ctx.db.index, argv if aof else ReplicasOnly(argv)))
        if not self.depth:
            self.flush_ops()

    def propagate_instead(self, ctx: Any, *argvs: list[bytes]) -> None:
        """Propagate these commands instead of the running command's argv (none: nothing)."""
        if self._instead is None:
            self._instead = []
        index = ctx.db.index
        self._instead.extend((index, argv) for argv in argvs)

    def deleted(self, db_index: int, key: bytes) -> None:
        """A key expired or was evicted: Redis propagates its deletion."""
        self.ops.append((db_index, [b"DEL", key]))
        if not self.depth:
            self.flush_ops()

    def served(self, db_index: int, argv: list[bytes] | None, reply: Any) -> None:
        """A blocked client was served: propagate the non-blocking pop it amounts to."""
        cmd = lookup(argv[0]) if argv else None
        rewrite = cmd.effects if cmd is not None else None
        if rewrite is not None:
            # The waiter's connection is not at hand: rewrites that read the
            # key's state after the command get its database this way.
            ctx = _Served(self.store.dbs[db_index], self.store)
            self.ops.extend((db_index, effect) for effect in rewrite(ctx, argv, reply))
        if not self.depth:
            self.flush_ops()

    def flush_ops(self) -> None:
        """Hand the collected ops to the sink, wrapped in MULTI/EXEC if several."""
        ops = self.ops
        if not ops:
            return
        self.ops = []
        if len(ops) > 1:
            ops = [(ops[0][0], _MULTI), *ops, (ops[-1][0], _EXEC)]
        self.sink(ops)


class _Served:
    """What a rewrite may read for a served blocked client: its database and the store."""

    __slots__ = ("db", "store")

    def __init__(self, db: Any, store: Any) -> None:
        self.db = db
        self.store = store


def _nothing() -> None:
    pass
