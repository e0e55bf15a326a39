# -*- test-case-name: tests.commands.test_clock -*-
"""HUSH.CLOCK: moving a test server's clock forward (Hush's own command).

Only a server started with ``enable-time-control yes`` accepts it: its
clock is then a :class:`hush.core.clock.AdjustableClock`, and ``HUSH.CLOCK
ADVANCE seconds`` moves it forward, running every timer that falls due in
the order of their deadlines -- keys expire, BLPOP and XREAD timeouts
answer, CLIENT PAUSE ends, idle clients are closed -- before it replies.
Anything read from the clock afterwards (TTL, OBJECT IDLETIME, stream idle
times, TIME, CLIENT LIST ages, LASTSAVE ...) sees the new time.
"""

from __future__ import annotations

import math

from hush.commands.args import parse_float
from hush.commands.table import command, container, help_command
from hush.core.clock import ClockError
from hush.core.errors import CommandError
from hush.wire.resp import OK

GROUP = "server"
_FLAGS = ("admin", "noscript", "no-multi", "loading", "stale")
_ACL = ("admin", "slow", "dangerous")

#: The refusal on a server that did not enable time control.
DISABLED = ("ERR HUSH.CLOCK is disabled: it is for test servers, started with "
            "'enable-time-control yes' (or --enable-time-control yes)")
NOT_SECONDS = "ERR seconds must be a non-negative finite number"

container("hush.clock", group=GROUP, since="7.0.0",
          summary="Move a test server's clock (Hush's own)")


@command("hush.clock|advance", arity=3, flags=_FLAGS, group=GROUP, since="7.0.0",
         summary="Move the server's clock forward, running the timers that fall due",
         acl=_ACL)
def clock_advance(ctx, raw_seconds: bytes):
    """Move the clock forward by ``seconds`` (a float) and run what fell due."""
    if not ctx.server.settings.enable_time_control:
        raise CommandError(DISABLED)
    seconds = parse_float(raw_seconds, NOT_SECONDS)
    if seconds < 0 or not math.isfinite(seconds):
        raise CommandError(NOT_SECONDS)
    clock = ctx.server.clock
    try:
        clock.advance(seconds)
    except ClockError as error:
        raise CommandError(f"ERR {error}") from None
    # Keys used after this command are stamped with the new time (OBJECT IDLETIME).
    ctx.store.tick(clock.seconds())
    return OK


help_command("hush.clock", [
    "HUSH.CLOCK <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ADVANCE <seconds>",
    "    Move the server's clock forward by <seconds> (may be fractional) and run",
    "    every timer that falls due (key expiry, blocking timeouts, CLIENT PAUSE,",
    "    idle clients), in the order of their deadlines. Only on servers started",
    "    with 'enable-time-control yes'.",
    "HELP",
    "    Prints this help.",
], group=GROUP, since="7.0.0", acl=("slow",))
