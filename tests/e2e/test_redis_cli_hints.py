"""redis-cli 7's typing hints, built from Hush's COMMAND DOCS.

redis-cli asks the server for ``COMMAND DOCS`` when it starts and shows, in
grey after what is typed, the arguments still to come. It is run here in a
pseudo-terminal (the ``pty`` module) as a person would run it, answering
the cursor-position query its line editor sends. The hint for ``CLIENT
SETINFO`` proves the hints come from Hush: redis-cli 7.0's own fallback
table predates that command.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time

import pytest

from tests.support import REDIS_CLI

pytestmark = pytest.mark.e2e

#: The grey colour redis-cli draws hints in, and its end.
HINT_START = b"\x1b[0;90;49m"
HINT_END = b"\x1b[0m"


class Terminal:
    """redis-cli in a pseudo-terminal of 24 x 200 characters."""

    def __init__(self, port: int) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes redis-cli
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
            os.environ["TERM"] = "xterm"
            os.execv(REDIS_CLI, [REDIS_CLI, "-p", str(port)])

    def read_until(self, wanted: bytes, timeout: float = 20.0) -> bytes:
        """What the terminal shows until ``wanted`` appears (bounded wait)."""
        out = b""
        deadline = time.monotonic() + timeout
        while wanted not in out:
            left = deadline - time.monotonic()
            assert left > 0, f"{wanted!r} never appeared in {out[-300:]!r}"
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.5))
            if not ready:
                continue
            chunk = os.read(self.fd, 65536)
            if b"\x1b[6n" in chunk:
                # The line editor asks where the cursor is.
                os.write(self.fd, b"\x1b[1;1R")
            out += chunk
        return out

    def type(self, text: bytes) -> None:
        os.write(self.fd, text)

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.fixture
def terminal(hush_process):
    if REDIS_CLI is None:
        pytest.skip("redis-cli is not installed (apt-get install redis-tools)")
    term = Terminal(hush_process.port)
    term.read_until(b"> ")
    yield term
    term.close()


def _hint(screen: bytes) -> bytes:
    """The last hint drawn on the screen."""
    start = screen.rindex(HINT_START) + len(HINT_START)
    return screen[start:screen.index(HINT_END, start)]


def test_hint_of_a_command_redis_cli_knows_only_from_the_server(terminal):
    terminal.type(b"client setinfo ")
    screen = terminal.read_until(b"client setinfo " + HINT_START)
    assert _hint(screen) == b"lib-name libname|lib-ver libver"


def test_hint_follows_what_is_typed(terminal):
    terminal.type(b"set k v ")
    screen = terminal.read_until(b"set k v " + HINT_START)
    assert _hint(screen) == (b"[NX|XX] [GET] [EX seconds|PX milliseconds|"
                             b"EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]")
