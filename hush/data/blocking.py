# -*- test-case-name: tests.commands.test_blocking -*-
"""Clients blocked on keys (BLPOP and friends): Deferred-based waiters.

A blocking command that finds nothing to pop returns a :class:`Block`; the
connection hands it to :class:`BlockingManager`, which queues a
:class:`Waiter` on each key in arrival order and gives back a Deferred. When a
write makes a key ready (:meth:`hush.data.store.Store.signal_ready`), the
dispatcher calls :meth:`BlockingManager.serve_ready` after that command has
replied; each waiter's ``serve`` function then tries the pop itself, so an
element is only ever taken for a live waiter and none is lost on disconnect.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime

from hush.core.errors import CommandError
from hush.core.faults import FailureLog
from hush.data.store import Store

#: Returned by a serve function when its key cannot serve the waiter yet.
NOT_READY = object()

#: Returned by a serve function when its key cannot serve this waiter yet but
#: may serve later ones (stream readers each wait for their own ID).
SKIP = object()


class Block:
    """A handler's request to block the client until a key is ready.

    :ivar keys: the keys to wait on, in the order given.
    :ivar timeout: seconds to wait; 0 waits forever.
    :ivar serve: ``serve(key)`` does the pop and returns the reply, or
        :data:`NOT_READY` if ``key`` still has nothing for this waiter.
    :ivar timeout_reply: the reply when the timeout passes.
    """

    __slots__ = ("keys", "timeout", "serve", "timeout_reply", "argv")

    def __init__(
        self,
        keys: Sequence[bytes],
        timeout: float,
        serve: Callable[[bytes], Any],
        timeout_reply: Any,
    ) -> None:
        self.keys = list(dict.fromkeys(keys))
        self.timeout = timeout
        self.serve = serve
        self.timeout_reply = timeout_reply
        #: The blocking command's argv, set by the dispatcher (for the AOF).
        self.argv: list[bytes] | None = None


class Waiter:
    """One blocked client waiting on one or more keys of one database."""

    __slots__ = ("db_index", "block", "deferred", "timer", "done")

    def __init__(self, db_index: int, block: Block) -> None:
        self.db_index = db_index
        self.block = block
        self.deferred: Deferred = Deferred()
        self.timer: IDelayedCall | None = None
        self.done = False


class BlockingManager:
    """Queues of waiters per key, served first come, first served."""

    def __init__(self, store: Store, clock: IReactorTime) -> None:
        self.store = store
        self.clock = clock
        self._serving = False
        self._served: list[tuple[Waiter, Any]] = []
        self.blocked_clients = 0
        store.serve_ready = self.serve_ready
        self.failures = FailureLog(clock)

    def block(self, db_index: int, block: Block) -> Waiter:
        """Queue a waiter for ``block``; its Deferred fires with the reply."""
        waiter = Waiter(db_index, block)
        queues = self.store.blocking_keys
        for key in block.keys:
            queue = queues.get((db_index, key))
            if queue is None:
                queue = queues[(db_index, key)] = deque()
            queue.append(waiter)
        if block.timeout > 0:
            waiter.timer = self.clock.callLater(block.timeout, self._time_out, waiter)
        self.blocked_clients += 1
        return waiter

    def unblock(self, waiter: Waiter, reply: Any) -> None:
        """End a wait early with ``reply`` (CLIENT UNBLOCK, CLIENT UNPAUSE)."""
        if waiter.done:
            return
        self._finish(waiter)
        waiter.deferred.callback(reply)

    def cancel(self, waiter: Waiter) -> None:
        """Forget a waiter whose client went away; its Deferred never fires."""
        self._finish(waiter)

    def _time_out(self, waiter: Waiter) -> None:
        waiter.timer = None
        if waiter.done:
            return
        self._finish(waiter)
        waiter.deferred.callback(waiter.block.timeout_reply)

    def _finish(self, waiter: Waiter) -> None:
        if waiter.done:
            return
        waiter.done = True
        self.blocked_clients -= 1
        if waiter.timer is not None and waiter.timer.active():
            waiter.timer.cancel()
        waiter.timer = None
        queues = self.store.blocking_keys
        for key in waiter.block.keys:
            queue = queues.get((waiter.db_index, key))
            if queue is None:
                continue
            try:
                queue.remove(waiter)
            except ValueError:
                pass
            if not queue:
                del queues[(waiter.db_index, key)]

    def serve_ready(self) -> None:
        """Serve waiters on every key that became ready, until none is left."""
        store = self.store
        if self._serving:
            return
        self._serving = True
        try:
            while store.ready_keys or self._served:
                while store.ready_keys:
                    ready = store.ready_keys
                    store.ready_keys = []
                    for db_index, key in dict.fromkeys(ready):
                        self._serve_key(db_index, key)
                # Reply (and run the served clients' pipelined commands) only
                # once every ready key has served its waiters, as Redis does:
                # a served client must not jump ahead of those still queued.
                served, self._served = self._served, []
                for waiter, reply in served:
                    waiter.deferred.callback(reply)
        finally:
            self._serving = False

    def _serve_key(self, db_index: int, key: bytes) -> None:
        queue = self.store.blocking_keys.get((db_index, key))
        if not queue:
            return
        for waiter in list(queue):
            if waiter.done:
                continue
            dirty = self.store.dirty
            try:
                reply = waiter.block.serve(key)
            except Exception:
                # A bug in one serve function must not leave its client hung
                # nor stop the other waiters from being served.
                self.failures.report("a blocked client's serve function")
                reply = CommandError("ERR internal error while serving a blocked client")
            if reply is NOT_READY:
                return
            if reply is SKIP:
                continue
            self._finish(waiter)
            propagator = self.store.propagator
            if propagator is not None and self.store.dirty != dirty:
                propagator.served(waiter.db_index, waiter.block.argv, reply)
            self._served.append((waiter, reply))
