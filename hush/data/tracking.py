# -*- test-case-name: tests.commands.test_tracking -*-
"""Client-side caching: which clients cached which keys, and their invalidations.

Redis 7.0's ``CLIENT TRACKING`` (``src/tracking.c``), as data:

- the *tracking table* maps a key name -- of any database, as in Redis -- to
  the ids of the clients that read it while tracking; a change to the key
  sends each of them one invalidation and forgets the entry;
- in *broadcasting* mode (BCAST) a client gives key prefixes instead; the
  keys changed under each prefix are collected and sent once the current
  round of requests is served (Redis sends them before it sleeps), sorted;
- FLUSHDB and FLUSHALL send every tracking client a null invalidation and
  empty the table;
- ``tracking-table-max-keys`` bounds the table: past it, random keys are
  invalidated before the next command, with Redis's growing effort.

An invalidation is ``invalidate [keys]`` pushed to a RESP3 client, or, for a
client that redirects its invalidations to another one, sent there: a push
to a RESP3 connection, a message on ``__redis__:invalidate`` to a RESP2 one
in pub/sub mode. A client's own command that changes a key it tracks gets
its invalidation after its reply (:meth:`Tracking.take_pending`).

No Twisted in here: sessions are reached through the client registry the
server hands over (:attr:`Tracking.clients`); a session offers ``tracking``
(its :class:`ClientTracking`, or None), ``client_id``, ``resp3``,
``subscriptions`` and ``push``. The store calls :meth:`Tracking.invalidate`
for each changed key while :attr:`Tracking.active`; nothing here costs a
server without tracking clients anything.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from twisted.internet.interfaces import IReactorTime

from hush.core.errors import c_text
from hush.wire.resp import Push, Raw

#: The pub/sub channel RESP2 clients receive redirected invalidations on.
INVALIDATE_CHANNEL = b"__redis__:invalidate"

#: The null of each protocol version (RESP2, RESP3).
_NULLS = {False: Raw(b"$-1\r\n"), True: Raw(b"_\r\n")}

#: Redis's default tracking-table-max-keys.
DEFAULT_MAX_KEYS = 1_000_000

#: Keys the table-size limit invalidates per pass, times the passes that
#: found the table still too large (Redis's trackingLimitUsedSlots effort).
EFFORT_STEP = 100


class ClientTracking:
    """One client's tracking mode (Redis's CLIENT_TRACKING_* flags).

    @ivar redirect: the client id invalidations go to (0: the client itself).
    @ivar prefixes: the BCAST prefixes, sorted as Redis lists them.
    @ivar caching: CLIENT CACHING was given for the next command.
    @ivar broken_redirect: the redirect client went away.
    @ivar running: the command (and argv) the client runs now, for its scripts.
    """

    __slots__ = ("redirect", "bcast", "optin", "optout", "noloop", "caching",
                 "broken_redirect", "prefixes", "running")

    def __init__(self, redirect: int = 0, bcast: bool = False, optin: bool = False,
                 optout: bool = False, noloop: bool = False) -> None:
        self.redirect = redirect
        self.bcast = bcast
        self.optin = optin
        self.optout = optout
        self.noloop = noloop
        self.caching = False
        self.broken_redirect = False
        self.prefixes: list[bytes] = []
        #: (command, argv) the client runs now: a script's reads track its keys.
        self.running: tuple[Any, list[bytes]] = (None, [])

    def remembers(self) -> bool:
        """True if the command now running is to be tracked (OPTIN/OPTOUT with CACHING)."""
        if self.optin:
            return self.caching
        if self.optout:
            return not self.caching
        return True


class _Prefix:
    """One BCAST prefix: its clients, and the keys changed under it since the last send."""

    __slots__ = ("clients", "keys")

    def __init__(self) -> None:
        #: Session -> None, in subscription order.
        self.clients: dict[Any, None] = {}
        #: Changed key -> the session that changed it last (None: expiry, eviction).
        self.keys: dict[bytes, Any] = {}


class Tracking:
    """The server's tracking table, BCAST prefixes and the invalidations they cause.

    @ivar clients: client id -> session (the server's registry; set at wiring time).
    @ivar table: key -> ids of the clients that may have cached it.
    @ivar items: entries of the table, summed over its keys (INFO's tracking_total_items).
    @ivar tracking_clients: clients with tracking on (INFO's tracking_clients).
    @ivar current: the tracking client whose command is running (Redis's
        current_client, when it tracks), else None.
    @ivar active: True while a change to a key may concern anyone: the store
        calls :meth:`invalidate` only then.
    @ivar over_limit: True while the table holds more keys than ``max_keys``:
        the dispatcher then calls :meth:`enforce_limit` before each command.
    """

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock
        self.clients: dict[int, Any] = {}
        self.table: dict[bytes, dict[int, None]] = {}
        self.prefixes: dict[bytes, _Prefix] = {}
        self.items = 0
        self.tracking_clients = 0
        self.current: Any = None
        self.max_keys = DEFAULT_MAX_KEYS
        self.active = False
        self.over_limit = False
        self._pending: list[bytes | None] = []
        self._broadcast_call: Any = None
        self._effort_rounds = 0
        self._limit_timer: Any = None
        #: Called with no arguments when :attr:`active` or :attr:`over_limit`
        #: changed (the store re-reads the first, the server regates for the other).
        self.on_active_change: Callable[[], None] | None = None
        self.on_limit_change: Callable[[], None] | None = None

    # -- modes ---------------------------------------------------------------------

    def enable(self, session: Any, state: ClientTracking, prefixes: Iterable[bytes]) -> None:
        """Turn tracking on for ``session`` (or change its options) as ``state`` says."""
        old = session.tracking
        if old is None:
            self.tracking_clients += 1
        else:
            # Redis keeps the prefixes and a pending CLIENT CACHING across a re-enable.
            state.prefixes = old.prefixes
            state.caching = old.caching
        session.tracking = state
        if state.bcast:
            wanted = list(prefixes) or [b""]
            for prefix in wanted:
                entry = self.prefixes.get(prefix)
                if entry is None:
                    entry = self.prefixes[prefix] = _Prefix()
                if session not in entry.clients:
                    entry.clients[session] = None
                    state.prefixes.append(prefix)
            state.prefixes.sort()
        session.update_gate()
        self._update_active()

    def disable(self, session: Any) -> None:
        """Turn tracking off for ``session`` (CLIENT TRACKING OFF, RESET, a closed connection).

        Its entries stay in the table, as in Redis: they go when their keys change.
        """
        state = session.tracking
        if state is None:
            return
        for prefix in state.prefixes:
            entry = self.prefixes.get(prefix)
            if entry is None:
                continue
            entry.clients.pop(session, None)
            if not entry.clients:
                del self.prefixes[prefix]
        session.tracking = None
        self.tracking_clients -= 1
        if self.current is session:
            self.current = None
            self._pending.clear()
        session.update_gate()
        self._update_active()

    def overlapping(self, state: ClientTracking | None, prefixes: list[bytes]
                    ) -> tuple[str, bool] | None:
        """Redis's error when BCAST prefixes overlap one another or the client's, else None.

        Redis checks each given prefix against the client's existing ones,
        then against the given ones after it. The flag says whether Redis
        goes on to enable tracking after the error all the same: its check
        reports an overlap among the given prefixes by returning the
        position found, which counts as success unless it is the first
        (so the client gets the error and then OK).
        """
        existing = state.prefixes if state is not None else []
        for index, prefix in enumerate(prefixes):
            for other in existing:
                if _overlap(other, prefix):
                    return (f"ERR Prefix '{c_text(prefix)}' overlaps with an existing prefix "
                            f"'{c_text(other)}'. Prefixes for a single client must not overlap.",
                            False)
            for other in prefixes[index + 1:]:
                if _overlap(prefix, other):
                    return (f"ERR Prefix '{c_text(prefix)}' overlaps with another provided "
                            f"prefix '{c_text(other)}'. Prefixes for a single client must not "
                            "overlap.", index > 0)
        return None

    def _update_active(self) -> None:
        active = bool(self.tracking_clients or self.table or self.prefixes)
        if active != self.active:
            self.active = active
            if self.on_active_change is not None:
                self.on_active_change()

    # -- reads -------------------------------------------------------------------------

    def remember(self, client_id: int, keys: Iterable[bytes]) -> None:
        """``client_id`` read ``keys``: invalidate them for it when they change."""
        table = self.table
        added = False
        for key in keys:
            ids = table.get(key)
            if ids is None:
                ids = table[key] = {}
                added = True
            if client_id not in ids:
                ids[client_id] = None
                self.items += 1
        if added:
            if not self.active:
                self._update_active()
            if self.max_keys and len(table) > self.max_keys:
                self._set_over_limit(True)

    # -- changes -----------------------------------------------------------------------

    def invalidate(self, key: bytes, by_command: bool = True) -> None:
        """``key`` changed (in any database): tell the clients that cached it.

        ``by_command`` is False for expiries and evictions, which no client
        made (NOLOOP broadcasting clients get those too).
        """
        if self.prefixes:
            self._note_for_broadcast(key, self.current if by_command else None)
        ids = self.table.pop(key, None)
        if ids is None:
            return
        self.items -= len(ids)
        current = self.current
        for client_id in ids:
            target = self.clients.get(client_id)
            if target is None:
                continue
            state = target.tracking
            if state is None or state.bcast:
                continue
            if target is current:
                if state.noloop:
                    continue
                # Its reply comes first: sent by take_pending after the command.
                self._pending.append(key)
            else:
                self._send(target, state, [key])
        if not self.table:
            self._update_active()

    def flushed(self) -> None:
        """FLUSHDB or FLUSHALL: every tracking client gets a null invalidation."""
        if self.tracking_clients:
            for client in list(self.clients.values()):
                state = client.tracking
                if state is None:
                    continue
                if client is self.current:
                    self._pending.append(None)
                else:
                    self._send(client, state, None)
        if self.table:
            self.table = {}
            self.items = 0
            self._set_over_limit(False)
            self._update_active()

    def take_pending(self, session: Any) -> list[tuple[Any, Push]]:
        """The invalidations ``session``'s own command caused, as (receiver, message) pairs.

        Called once the command is answered; ``current`` is cleared.
        """
        self.current = None
        if not self._pending:
            return []
        pending, self._pending = self._pending, []
        state = session.tracking
        messages = []
        for key in pending:
            found = self._route(session, state, None if key is None else [key])
            if found is not None:
                messages.append(found)
        return messages

    # -- broadcasting ---------------------------------------------------------------------

    def _note_for_broadcast(self, key: bytes, changer: Any) -> None:
        for prefix, entry in self.prefixes.items():
            if key.startswith(prefix):
                entry.keys[key] = changer
                if self._broadcast_call is None:
                    # Redis broadcasts before it sleeps: once the requests
                    # read in this round are served.
                    self._broadcast_call = self.clock.callLater(0, self.broadcast)

    def broadcast(self) -> None:
        """Send each BCAST client the keys changed under its prefixes, one message per prefix."""
        self._broadcast_call = None
        for prefix in sorted(self.prefixes):
            entry = self.prefixes[prefix]
            if not entry.keys:
                continue
            changed = sorted(entry.keys.items())
            entry.keys = {}
            everything = [key for key, _changer in changed]
            for client in list(entry.clients):
                state = client.tracking
                if state is None:
                    continue
                if state.noloop:
                    keys = [key for key, changer in changed if changer is not client]
                    if not keys:
                        continue
                else:
                    keys = everything
                self._send(client, state, keys)

    # -- the table's size limit --------------------------------------------------------

    def set_max_keys(self, max_keys: int) -> None:
        """``tracking-table-max-keys`` changed (0: no limit)."""
        self.max_keys = max_keys
        self._set_over_limit(bool(max_keys) and len(self.table) > max_keys)

    def enforce_limit(self) -> None:
        """Redis's trackingLimitUsedSlots: invalidate random keys until the table fits.

        Each pass may invalidate 100 keys times the number of passes in a row
        that could not bring the table down to the limit.
        """
        table = self.table
        max_keys = self.max_keys
        if not max_keys or len(table) <= max_keys:
            self._effort_rounds = 0
            self._set_over_limit(False)
            return
        effort = EFFORT_STEP * (self._effort_rounds + 1)
        victims = random.sample(list(table), min(effort, len(table)))
        for key in victims:
            self.invalidate(key, by_command=False)
            if len(table) <= max_keys:
                self._effort_rounds = 0
                self._set_over_limit(False)
                return
        self._effort_rounds += 1

    def _set_over_limit(self, over: bool) -> None:
        if over == self.over_limit:
            return
        self.over_limit = over
        if over:
            # Redis's cron trims the table too, so an idle server gets there.
            self._limit_timer = self.clock.callLater(0.1, self._cron)
        elif self._limit_timer is not None and self._limit_timer.active():
            self._limit_timer.cancel()
            self._limit_timer = None
        if self.on_limit_change is not None:
            self.on_limit_change()

    def _cron(self) -> None:
        self._limit_timer = None
        self.enforce_limit()
        if self.over_limit and self._limit_timer is None:
            self._limit_timer = self.clock.callLater(0.1, self._cron)

    # -- delivery ----------------------------------------------------------------------

    def _send(self, client: Any, state: ClientTracking, keys: list[bytes] | None) -> None:
        found = self._route(client, state, keys)
        if found is not None:
            receiver, message = found
            receiver.push(message)

    def _route(self, client: Any, state: ClientTracking | None,
               keys: list[bytes] | None) -> tuple[Any, Push] | None:
        """Who receives an invalidation of ``keys`` (None: everything) for ``client``, and what.

        Redis's sendTrackingMessage: through the redirect client if there is
        one (a redirect to a client that went away is reported to a RESP3
        client, and marks it); a RESP3 receiver gets a push, a RESP2 one only
        through a redirect, and only while it is subscribed to something.
        "Everything" is the null of the tracking client's protocol, even when
        the receiver speaks the other one (as Redis sends it).
        """
        receiver = client
        redirect = state.redirect if state is not None else 0
        value: list[bytes] | Raw = _NULLS[client.resp3] if keys is None else keys
        if redirect:
            receiver = self.clients.get(redirect)
            if receiver is None:
                state.broken_redirect = True
                if client.resp3:
                    return client, Push([b"tracking-redir-broken", redirect])
                return None
        if receiver.resp3:
            return receiver, Push([b"invalidate", value])
        if redirect and receiver.subscriptions:
            return receiver, Push([b"message", INVALIDATE_CHANNEL, value])
        return None

    # -- INFO ----------------------------------------------------------------------------

    @property
    def total_keys(self) -> int:
        """Keys in the tracking table (INFO's tracking_total_keys)."""
        return len(self.table)

    @property
    def total_prefixes(self) -> int:
        """BCAST prefixes in use (INFO's tracking_total_prefixes)."""
        return len(self.prefixes)


def _overlap(one: bytes, other: bytes) -> bool:
    """True if either prefix starts the other (Redis's stringCheckPrefix)."""
    shorter = min(len(one), len(other))
    return one[:shorter] == other[:shorter]
