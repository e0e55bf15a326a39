# -*- test-case-name: tests.commands.test_client_admin -*-
"""CLIENT PAUSE: hold clients' commands until a deadline on the injected clock.

While a pause is on, every session takes the dispatcher's gated path
(:meth:`hush.commands.dispatch.Session._gate`), which asks :meth:`ClientPause.holds`
about each command. A held command is postponed as a key-less
:class:`hush.data.blocking.Block` whose timeout is the end of the pause and whose
reply is a :class:`Retry`: when it fires (or CLIENT UNPAUSE releases it) the
connection runs the command again, then its pipelined followers, in order.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import IDelayedCall

from hush.core.interfaces import Client, Server
from hush.data.blocking import Block


class Retry:
    """The wake-up reply of a postponed command: run ``argv`` again."""

    __slots__ = ("argv",)

    def __init__(self, argv: list[bytes]) -> None:
        self.argv = argv


def _no_key(key: bytes) -> Any:
    raise AssertionError("a postponed client waits on no key")


class ClientPause:
    """The server's pause: its end (unix seconds) and mode, and the clients it holds.

    @ivar end: when the pause ends, or None when there is none.
    @ivar mode: ``"all"`` or ``"write"`` (write commands and EXEC of writes).
    """

    def __init__(self, service: Server) -> None:
        self.service = service
        self.end: float | None = None
        self.mode = "write"
        self._timer: IDelayedCall | None = None
        self._postponed: list[Client] = []

    def pause(self, seconds: float, mode: str) -> None:
        """Pause for ``seconds``; like Redis, never shortens or weakens a running pause."""
        clock = self.service.clock
        end = clock.seconds() + seconds
        if self.end is None:
            self.mode = mode
        elif mode == "all":
            self.mode = "all"
        if self.end is not None and end <= self.end:
            return
        self.end = end
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = clock.callLater(max(0.0, seconds), self.unpause)
        for client in list(self.service.clients.values()):
            client.update_gate()

    def unpause(self) -> None:
        """End the pause and run the postponed clients, in the order they were held."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        self.end = None
        for client in list(self.service.clients.values()):
            client.update_gate()
        postponed, self._postponed = self._postponed, []
        blocking = self.service.blocking
        for client in postponed:
            waiter = client.connection.waiter
            if waiter is not None and waiter.block.timeout_reply.__class__ is Retry:
                blocking.unblock(waiter, waiter.block.timeout_reply)

    def holds(self, client: Client, cmd: Any, argv: list[bytes] | None = None) -> bool:
        """True if ``cmd`` from ``client`` must wait for the pause to end."""
        if self.end is None or self.service.clock.seconds() >= self.end:
            return False
        if (cmd.parent or cmd).name == "hush.clock":
            # A test moving the clock is what ends the pause it set.
            return False
        if self.mode == "all":
            return True
        if self._may_write(cmd, argv):
            return True
        top = cmd.parent or cmd
        if top.name == "exec" and client.in_multi:
            # Judged by the top-level command's flags (a container's are empty).
            return any(self._may_write(queued.parent or queued, queued_argv)
                       for queued, queued_argv in client.queued())
        return False

    def _may_write(self, cmd: Any, argv: list[bytes] | None) -> bool:
        if _may_write(cmd):
            return True
        # A function, or a script with a shebang, writes unless it says no-writes.
        return argv is not None and cmd.name in _SCRIPT_RUNNERS and self.service.scripts.writes(
            argv)

    def postpone(self, client: Client, argv: list[bytes]) -> Block:
        """The Block that holds ``argv`` until the pause ends."""
        self._postponed.append(client)
        remaining = max(self.end - self.service.clock.seconds(), 0.0) if self.end else 0.0
        # A tiny floor: Block treats 0 as "forever", and unpause() wakes it anyway.
        return Block([], max(remaining, 1e-6), _no_key, Retry(argv))

    @property
    def postponed_clients(self) -> int:
        """Clients now waiting for the pause to end (not counted as blocked_clients)."""
        return sum(
            1 for client in self.service.clients.values()
            if (waiter := client.connection.waiter) is not None
            and waiter.block.timeout_reply.__class__ is Retry
        )


_SCRIPT_RUNNERS = frozenset(["eval", "evalsha", "fcall"])


def _may_write(cmd: Any) -> bool:
    flags = cmd.flags
    return "write" in flags or "may-replicate" in flags or "may_replicate" in flags
