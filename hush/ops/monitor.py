# -*- test-case-name: tests.unit.ops.test_monitor -*-
"""MONITOR: every command run, streamed to the monitoring clients.

After a command has run, the dispatcher hands it to :func:`feed` when at
least one client is monitoring (the check is one truth test of the service's
``monitors`` list, so there is no cost without monitors). Each monitor gets
Redis's line as a status reply::

    +1700000000.123456 [0 127.0.0.1:50000] "SET" "k" "v"

Commands flagged ``admin`` (CONFIG, CLIENT KILL, DEBUG, MONITOR...) are not
shown, secrets are redacted, and commands refused before running (unknown,
wrong arity) never reach the monitors, all as in Redis 7.0.
"""

from __future__ import annotations

from typing import Any

from hush.ops.clientinfo import peer_id
from hush.ops.slowlog import redacted_argv
from hush.wire.resp import SimpleString

_ESCAPES = {
    ord("\\"): b"\\\\",
    ord('"'): b'\\"',
    ord("\n"): b"\\n",
    ord("\r"): b"\\r",
    ord("\t"): b"\\t",
    7: b"\\a",
    8: b"\\b",
}
_REPR = [
    _ESCAPES.get(byte, bytes([byte]) if 32 <= byte <= 126 else b"\\x%02x" % byte)
    for byte in range(256)
]


def quote(arg: bytes) -> bytes:
    """Redis's ``sdscatrepr``: double-quoted, C escapes, ``\\xHH`` for the rest."""
    return b'"' + b"".join([_REPR[byte] for byte in arg]) + b'"'


def origin(client: Any) -> bytes:
    """``127.0.0.1:50000`` for TCP, ``unix:/path`` for a Unix socket, ``lua`` for a
    script's commands, as Redis shows them."""
    if getattr(client, "is_script", False):
        return b"lua"
    address = peer_id(client)
    host = getattr(client.transport.getPeer(), "host", None) if client.transport else None
    if host is None:
        return b"unix:" + address[:-2]
    return address


def line(now: float, client: Any, argv: list[bytes]) -> bytes:
    """The monitor line for ``argv`` run by ``client`` at unix time ``now``."""
    micros = int(round(now * 1_000_000))
    seconds, fraction = divmod(micros, 1_000_000)
    shown = b" ".join([quote(arg) for arg in redacted_argv(argv)])
    return b"%d.%06d [%d %s] %s" % (seconds, fraction, client.db.index, origin(client), shown)


def feed(monitors: list[Any], client: Any, cmd: Any, argv: list[bytes]) -> None:
    """Send ``argv``, just run by ``client``, to every monitor."""
    flags = cmd.flags
    # Admin commands are too dangerous to show; skip-monitor ones (EVAL and
    # friends) were shown before they ran, by feed_before.
    if "admin" in flags or "skip-monitor" in flags:
        return
    _send(monitors, client, argv)


def feed_before(client: Any, argv: list[bytes]) -> None:
    """Show a skip-monitor command (EVAL ...) before it runs, as Redis 7.0 does:
    the script's own commands follow it, from ``lua``."""
    monitors = client.server.monitors
    if monitors:
        _send(monitors, client, argv)


def _send(monitors: list[Any], client: Any, argv: list[bytes]) -> None:
    message = SimpleString(line(client.server.clock.seconds(), client, argv))
    for monitor in list(monitors):
        monitor.push(message)


def start_monitoring(service: Any, client: Any) -> None:
    """Make ``client`` a monitor; the first one installs the feed as a watcher."""
    client.monitoring = True
    service.monitors.append(client)
    if _watch not in service.watchers:
        service.watchers.append(_watch)
        _regate(service)


def stop_monitoring(service: Any, client: Any) -> None:
    """Forget a monitor; the last one takes the feed out of the dispatcher's path."""
    client.monitoring = False
    if client in service.monitors:
        service.monitors.remove(client)
    if not service.monitors and _watch in service.watchers:
        service.watchers.remove(_watch)
        _regate(service)


def _regate(service: Any) -> None:
    # Watchers take every client off its connection's lean lane, and their
    # end puts it back (Session.update_gate).
    for client in service.clients.values():
        client.update_gate()


def _watch(client: Any, cmd: Any, argv: list[bytes], seconds: float) -> None:
    feed(client.server.monitors, client, cmd, argv)
