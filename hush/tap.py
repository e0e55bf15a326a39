# -*- test-case-name: tests.test_tap -*-
"""The twistd plugin's options and service maker: ``twistd -n hush --port tcp:6379``."""

from __future__ import annotations

from twisted.application.service import IService
from twisted.python import usage

from hush import __version__
from hush.config import Settings
from hush.service import make_service

DEFAULT_PORT = "tcp:6379:interface=127.0.0.1"


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must not be negative")
    return number


_non_negative.coerceDoc = "A whole number, 0 or more."  # type: ignore[attr-defined]


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


_positive.coerceDoc = "A whole number, 1 or more."  # type: ignore[attr-defined]


def _yes_no(value: str) -> bool:
    word = value.lower()
    if word not in ("yes", "no"):
        raise ValueError("must be yes or no")
    return word == "yes"


_yes_no.coerceDoc = "yes or no."  # type: ignore[attr-defined]


class Options(usage.Options):
    """Command-line options of ``twistd hush``."""

    synopsis = "[--port ENDPOINT ...] [--maxkeys N] [--databases N]"
    longdesc = (
        "Hush: a Redis-compatible in-memory data store. Serves the Redis protocol "
        "(RESP2 and RESP3) on each --port endpoint."
    )

    optParameters = [
        [
            "maxkeys",
            None,
            1000,
            "LRU capacity of each database, in keys: a write that would exceed it "
            "evicts the least recently used key. 0 means unlimited.",
            _non_negative,
        ],
        ["databases", None, 16, "Number of databases (SELECT 0..N-1).", _positive],
        [
            "requirepass",
            None,
            "",
            "Password clients must give with AUTH (or HELLO ... AUTH) before any "
            "other command. Visible to other local users in the process list: "
            "prefer a configuration file.",
        ],
        [
            "protected-mode",
            None,
            True,
            "yes: without --requirepass, refuse connections from other hosts "
            "(only loopback and Unix sockets are served). Default: yes.",
            _yes_no,
        ],
        [
            "maxclients",
            None,
            10000,
            "Most simultaneous client connections; more are refused with "
            "'max number of clients reached'.",
            _positive,
        ],
        [
            "timeout",
            None,
            0,
            "Close connections idle for more than this many seconds (not blocked "
            "or subscribed ones). 0 means never.",
            _non_negative,
        ],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["ports"] = []

    def opt_port(self, description: str) -> None:
        """Listen on this Twisted endpoint (tcp:6379, unix:/run/hush.sock,
        ssl:6380:privateKey=key.pem:certKey=cert.pem, systemd:domain=INET:index=0
        for the first socket systemd passes, or systemd:domain=INET:name=NAME).
        May be given several times. Default: tcp:6379:interface=127.0.0.1."""
        self["ports"].append(description)

    opt_p = opt_port

    def opt_version(self) -> None:
        """Print Hush's version and exit."""
        print(f"hush {__version__}")
        raise SystemExit(0)

    def postOptions(self) -> None:
        if not self["ports"]:
            self["ports"] = [DEFAULT_PORT]

    def settings(self) -> Settings:
        """The server settings these options describe."""
        return Settings(
            databases=self["databases"],
            maxkeys=self["maxkeys"],
            requirepass=self["requirepass"],
            protected_mode=self["protected-mode"],
            maxclients=self["maxclients"],
            timeout=self["timeout"],
            listen=list(self["ports"]),
        )


def makeService(options: Options) -> IService:
    """Build the Hush service from parsed options."""
    return make_service(options.settings())
