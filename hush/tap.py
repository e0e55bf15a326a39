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


def _fsync_policy(value: str) -> str:
    if value not in ("always", "everysec", "no"):
        raise ValueError("must be always, everysec or no")
    return value


_fsync_policy.coerceDoc = "always, everysec or no."  # type: ignore[attr-defined]


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
        ["dir", None, ".", "Directory of the append-only file."],
        ["appendfilename", None, "appendonly.aof", "Name of the append-only file in --dir."],
        ["appendfsync", None, "everysec", "always, everysec or no: when the AOF is fsynced.",
         _fsync_policy],
    ]
    optFlags = [
        ["appendonly", None, "Log every write to the append-only file and load it at start."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["ports"] = []

    def opt_port(self, description: str) -> None:
        """Listen on this Twisted endpoint (tcp:6379, unix:/run/hush.sock,
        ssl:6380:privateKey=key.pem:certKey=cert.pem, systemd:domain=INET:index=0).
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
            listen=list(self["ports"]),
            appendonly=bool(self["appendonly"]),
            dir=self["dir"],
            appendfilename=self["appendfilename"],
            appendfsync=self["appendfsync"],
        )


def makeService(options: Options) -> IService:
    """Build the Hush service from parsed options."""
    return make_service(options.settings())
