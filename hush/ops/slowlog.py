# -*- test-case-name: tests.unit.ops.test_slowlog -*-
"""SLOWLOG's memory: the slowest commands, newest first, as Redis keeps them.

The dispatcher times every handler; when one took at least
``slowlog-log-slower-than`` microseconds (a negative value disables the log, 0
logs everything) it calls :meth:`SlowLog.add`. The log keeps at most
``slowlog-max-len`` entries. Arguments are stored as Redis stores them: at
most 32 (the last one then says how many more there were), each at most 128
bytes (then ``... (N more bytes)``), passwords redacted.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from hush.ops.clientinfo import peer_id

#: Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING.
MAX_ARGC = 32
MAX_STRING = 128

REDACTED = b"(redacted)"


def redacted_argv(argv: list[bytes]) -> list[bytes]:
    """``argv`` with secrets replaced, as Redis shows them to MONITOR and SLOWLOG.

    AUTH's arguments, HELLO's ``AUTH username password`` and ACL SETUSER's
    user and rules are replaced by ``(redacted)``.
    """
    name = argv[0].lower()
    if name == b"auth":
        return argv[:1] + [REDACTED] * (len(argv) - 1)
    if name == b"acl" and len(argv) > 2 and argv[1].lower() == b"setuser":
        return argv[:2] + [REDACTED] * (len(argv) - 2)
    if name == b"hello":
        shown = list(argv)
        index = 2
        while index < len(shown):
            option = shown[index].lower()
            if option == b"auth" and index + 2 < len(shown):
                shown[index + 1] = shown[index + 2] = REDACTED
                index += 3
            elif option == b"setname":
                index += 2
            else:
                index += 1
        return shown
    return argv


def entry_argv(argv: list[bytes]) -> list[bytes]:
    """The arguments as a slowlog entry keeps them (redacted, truncated)."""
    argv = redacted_argv(argv)
    argc = len(argv)
    kept = min(argc, MAX_ARGC)
    shown = []
    for index in range(kept):
        arg = argv[index]
        if kept != argc and index == kept - 1:
            shown.append(b"... (%d more arguments)" % (argc - kept + 1))
        elif len(arg) > MAX_STRING:
            shown.append(arg[:MAX_STRING] + b"... (%d more bytes)" % (len(arg) - MAX_STRING))
        else:
            shown.append(bytes(arg))
    return shown


class SlowLog:
    """The entries SLOWLOG GET returns, newest first.

    @ivar entries: [id, unix seconds, microseconds, argv, addr, name] lists.
    """

    def __init__(self) -> None:
        self.entries: deque[list[Any]] = deque()
        self.next_id = 0

    def add(self, client: Any, argv: list[bytes], usec: int, max_len: int) -> None:
        """Log one command run by ``client`` that took ``usec`` microseconds."""
        entry = [
            self.next_id,
            int(client.server.clock.seconds()),
            usec,
            entry_argv(argv),
            peer_id(client),
            client.name,
        ]
        self.next_id += 1
        self.entries.appendleft(entry)
        while len(self.entries) > max_len:
            self.entries.pop()

    def get(self, count: int) -> list[list[Any]]:
        """The newest ``count`` entries (all of them for -1)."""
        if count < 0:
            return list(self.entries)
        return list(self.entries)[:count]

    def reset(self) -> None:
        """Forget every entry (ids keep counting, as in Redis)."""
        self.entries.clear()
