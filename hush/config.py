# -*- test-case-name: tests.test_config -*-
"""Server settings, under Redis's names, with Redis's defaults.

One :class:`Settings` object is shared by the service and every connection;
CONFIG GET reads it. Values are kept as Python ints/strs; :meth:`Settings.get`
renders them as Redis does for CONFIG GET.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from hush.glob import compile_glob


@dataclass
class Settings:
    """Every setting Hush has. Attribute names are Redis's with ``_`` for ``-``."""

    port: int = 6379
    bind: str = "127.0.0.1"
    databases: int = 16
    maxkeys: int = 1000
    maxclients: int = 10000
    timeout: int = 0
    proto_max_bulk_len: int = 512 * 1024 * 1024
    client_query_buffer_limit: int = 1024 * 1024 * 1024
    appendonly: bool = False
    appendfsync: str = "everysec"
    appendfilename: str = "appendonly.aof"
    auto_aof_rewrite_percentage: int = 100
    auto_aof_rewrite_min_size: int = 64 * 1024 * 1024
    aof_load_truncated: bool = True
    save: str = ""
    dir: str = "."
    loglevel: str = "notice"
    maxmemory: int = 0
    maxmemory_policy: str = "noeviction"
    client_output_buffer_limit: str = (
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    )
    listen: list[str] = field(default_factory=list)

    @property
    def pubsub_output_limit(self) -> tuple[int, int, int]:
        """(hard bytes, soft bytes, soft seconds) for pub/sub clients."""
        words = self.client_output_buffer_limit.split()
        for index in range(0, len(words) - 3, 4):
            if words[index] == "pubsub":
                hard, soft, seconds = words[index + 1 : index + 4]
                return int(hard), int(soft), int(seconds)
        return 0, 0, 0

    def __post_init__(self) -> None:
        # CONFIG GET port and INFO should name the port actually listened on:
        # the first TCP endpoint's, when one is given.
        for description in self.listen:
            port = tcp_port(description)
            if port is not None:
                self.port = port
                break

    def names(self) -> list[str]:
        """Every CONFIG name, in Redis's spelling."""
        return [f.name.replace("_", "-") for f in fields(self) if f.name != "listen"]

    def get(self, pattern: bytes) -> dict[bytes, bytes]:
        """CONFIG GET: every setting whose name matches the glob ``pattern``."""
        match = compile_glob(pattern.lower())
        found = {}
        for name in self.names():
            if match(name.encode()):
                value = getattr(self, name.replace("-", "_"))
                found[name.encode()] = str(value).encode()
        return found


def tcp_port(description: str) -> int | None:
    """The port of a Twisted ``tcp:``/``tcp6:`` endpoint string, else None."""
    kind, _, rest = description.partition(":")
    if kind.lower() not in ("tcp", "tcp6"):
        return None
    for part in rest.split(":"):
        if part.startswith("port="):
            part = part[len("port="):]
        if part.isdigit():
            return int(part)
    return None
