# -*- test-case-name: tests.unit.server.test_memory -*-
"""Admission by capacity: maxmemory (an estimate of the dataset's size) and maxkeys.

maxmemory tracking is off until ``maxmemory`` is set: then the store measures
the keyspace once and its writes keep a per-key size estimate up to date
(:meth:`hush.data.store.Store.track_sizes`, :mod:`hush.data.sizes`), and
every connection's dispatcher takes its slow path (``_gate``), where
:meth:`MemoryManager.admit` evicts keys before a command while the estimate
is over the limit, or refuses a ``denyoom`` command with Redis's OOM error
when nothing (more) can be evicted. Setting ``maxmemory`` back to 0 switches
all of it off again.

maxkeys evicts in the store, when a write adds a key (:mod:`hush.data.store`).
Only while a database is at maxkeys under a policy that may have nothing to
evict (``noeviction``, ``volatile-*``) do connections take the slow path too:
there a ``denyoom`` command that names a key the database does not hold is
refused with the same OOM error, worded for keys, before it runs -- in MULTI,
at EXEC and in scripts as for maxmemory.

used_memory is the estimate plus :data:`BASELINE`, which stands for the
server itself, about what an empty Redis 7 reports, so that maxmemory values
sized for Redis leave Hush about the same room for data.
"""

from __future__ import annotations

from typing import Any

from hush.core.errors import CommandError
from hush.core.interfaces import Client, Server
from hush.data.eviction import choose_victim
from hush.data.sizes import SizeTracker
from hush.data.store import Database

#: What the server itself is counted as, in bytes (an empty Redis 7: ~1 MB).
BASELINE = 1_000_000

#: Commands a client in MULTI may still send when out of memory.
_MULTI_EXEMPT = frozenset(["exec", "discard", "quit", "reset"])

OOM = "OOM command not allowed when used memory > 'maxmemory'."

#: Redis's OOM error, for a write that would add a key past maxkeys.
OOM_KEYS = "OOM command not allowed when used keys > 'maxkeys'."

#: Commands whose denyoom flag depends on the script they run (shebang flags).
_SCRIPT_RUNNERS = frozenset(["eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"])


class MemoryManager:
    """The capacity limits of one server: maxmemory tracking, eviction and OOM
    refusals, and the maxkeys settings with their refusals.

    @ivar limited: True while maxmemory is set or a database is full under a
        maxkeys policy that may refuse; connections take their gated dispatch
        path then.
    @ivar pre_command_oom: whether the last admitted command found memory
        over maxmemory with nothing to evict (Redis's pre_command_oom_state:
        what a script's first write is judged by).
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self.store = server.store
        self.settings = server.settings
        self.tracker: SizeTracker | None = None
        self.limited = False
        self.pre_command_oom = False
        settings = self.settings
        settings.on_change("maxmemory", self._limit_changed)
        store = self.store
        store.maxkeys_policy = settings.maxkeys_policy
        store.samples = settings.maxmemory_samples
        store.on_full = self._update_limited
        settings.on_change("maxkeys", self._maxkeys_changed)
        settings.on_change("maxkeys-policy", self._maxkeys_changed)
        settings.on_change("maxmemory-samples", self._samples_changed)
        if settings.maxmemory:
            self._limit_changed(settings.maxmemory)

    # -- switching on and off ------------------------------------------------

    def _limit_changed(self, limit: int) -> None:
        if limit and self.tracker is None:
            self._start()
        elif not limit and self.tracker is not None:
            self._stop()
        self._update_limited()
        if limit:
            # Redis starts evicting as soon as the limit is lowered.
            self.evict()

    def _maxkeys_changed(self, _value: Any) -> None:
        store = self.store
        store.maxkeys = self.settings.maxkeys
        store.maxkeys_policy = self.settings.maxkeys_policy
        # Lowering maxkeys evicts at once, as lowering maxmemory does.
        store.enforce_maxkeys()
        self._update_limited()

    def _samples_changed(self, samples: int) -> None:
        self.store.samples = samples

    def _update_limited(self) -> None:
        """Recompute :attr:`limited`; tell every connection when it changed."""
        limited = bool(self.settings.maxmemory) or bool(self.store.full)
        if limited == self.limited:
            return
        self.limited = limited
        for client in list(self.server.clients.values()):
            client.update_gate()

    def _start(self) -> None:
        self.tracker = self.store.track_sizes()

    def _stop(self) -> None:
        self.store.untrack_sizes()
        self.tracker = None

    # -- figures -------------------------------------------------------------

    def used_memory(self) -> int | None:
        """The estimate INFO reports as used_memory, or None while not tracking."""
        tracker = self.tracker
        return None if tracker is None else BASELINE + tracker.used

    # -- admission -------------------------------------------------------------

    def admit(self, client: Client, cmd: Any, argv: list[bytes]) -> CommandError | None:
        """Before a command: evict while over maxmemory; the error if it must be refused.

        As in Redis: out of memory, a ``denyoom`` command is refused, and so is
        every command queued in MULTI but EXEC/DISCARD/QUIT/RESET; EXEC of a
        transaction that holds a ``denyoom`` command discards it. A database at
        maxkeys with nothing to evict refuses ``denyoom`` commands (queued ones
        included) that name a key it does not hold; EXEC of a transaction
        holding one is discarded. The AOF being loaded is never refused.
        """
        if self.store.loading:
            return None
        name = (cmd.parent or cmd).name
        tracker = self.tracker
        self.pre_command_oom = (
            tracker is not None and BASELINE + tracker.used > self.settings.maxmemory
            and not self.evict()
        )
        if self.pre_command_oom:
            if name == "exec":
                if client.in_multi and self._queue_refused(client, self._denies_oom):
                    return self._abort(client, OOM)
            elif self._denies_oom(client.db, cmd, argv) or (
                    client.in_multi and name not in _MULTI_EXEMPT):
                return CommandError(OOM)
        if self.store.full:
            self.store.release_full()
            if not self.store.full:
                self._update_limited()
                return None
            if name == "exec":
                if client.in_multi and self._queue_refused(client, self._adds_key):
                    return self._abort(client, OOM_KEYS)
            elif self._adds_key(client.db, cmd, argv):
                return CommandError(OOM_KEYS)
        return None

    def script_refusal(self, client: Client, cmd: Any, argv: list[bytes]) -> CommandError | None:
        """The OOM error for a script's first write that may add data, or None.

        A script that has not written yet is stopped there, as Redis does: if
        memory was over maxmemory when it started, or if this command would
        add a key to a database at maxkeys with nothing to evict.
        """
        if "denyoom" not in cmd.flags or self.store.loading:
            return None
        if self.tracker is not None and self.pre_command_oom:
            return CommandError(OOM)
        if self.store.full and self._adds_key(client.db, cmd, argv):
            return CommandError(OOM_KEYS)
        return None

    def _denies_oom(self, _db: Database, cmd: Any, argv: list[bytes]) -> bool:
        """Redis's denyoom flag of this call: a script with a shebang and
        neither allow-oom nor no-writes makes EVAL one too."""
        if "denyoom" in cmd.flags:
            return True
        return cmd.name in _SCRIPT_RUNNERS and self.server.scripts.denies_oom(argv)

    def _adds_key(self, db: Database, cmd: Any, argv: list[bytes]) -> bool:
        """True if this may-add-data command names a key ``db`` does not hold,
        and ``db`` has no room for one (maxkeys)."""
        if not self.store.cannot_grow(db) or not self._denies_oom(db, cmd, argv):
            return False
        data = db.data
        return any(argv[index] not in data for index in cmd.key_positions(argv))

    def _queue_refused(self, client: Client, refused: Any) -> bool:
        """True if ``refused(db, cmd, argv)`` holds for a command queued in MULTI."""
        dbs = self.store.dbs
        db = client.db
        for cmd, argv in client.queued():
            if cmd.name == "select" and len(argv) == 2:
                # Later keys are checked against the database they will use.
                try:
                    index = int(argv[1])
                except ValueError:
                    continue
                if 0 <= index < len(dbs):
                    db = dbs[index]
            elif refused(db, cmd, argv):
                return True
        return False

    def _abort(self, client: Client, error: str) -> CommandError:
        client.end_transaction()
        return CommandError(f"EXECABORT Transaction discarded because of: {error}")

    # -- eviction ------------------------------------------------------------

    def evict(self) -> bool:
        """Evict keys by the policy until under maxmemory; False if that was not possible."""
        tracker = self.tracker
        if tracker is None:
            return True
        limit = self.settings.maxmemory
        store = self.store
        while BASELINE + tracker.used > limit:
            victim = choose_victim(store, self.settings.maxmemory_policy, store.dbs,
                                   self.settings.maxmemory_samples)
            if victim is None:
                return False
            db, key = victim
            db._evict(key)
        return True
