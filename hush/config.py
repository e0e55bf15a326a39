# -*- test-case-name: tests.test_config -*-
"""Server settings, under Redis's names, with Redis's defaults.

One :class:`Settings` object is shared by the service and every connection;
CONFIG GET reads it. Values are kept as Python ints/strs; :meth:`Settings.get`
renders them as Redis does for CONFIG GET.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import lru_cache

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
    appendonly: str = "no"
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
        return self.output_limit("pubsub")

    def output_limit(self, kind: str) -> tuple[int, int, int]:
        """(hard bytes, soft bytes, soft seconds) for a client class; 0 = no limit.

        ``kind`` is ``normal``, ``pubsub`` or ``slave`` (``replica``).
        """
        return _output_limits(self.client_output_buffer_limit).get(kind, (0, 0, 0))

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


_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2,
          "g": 1000**3, "gb": 1024**3}


@lru_cache(maxsize=8)
def _output_limits(text: str) -> dict[str, tuple[int, int, int]]:
    """Parse client-output-buffer-limit (``class hard soft seconds``, repeated)."""
    words = text.split()
    limits = {}
    for index in range(0, len(words) - 3, 4):
        kind = words[index].lower()
        kind = "slave" if kind == "replica" else kind
        hard, soft = (_memory(word) for word in words[index + 1 : index + 3])
        limits[kind] = (hard, soft, int(words[index + 3]))
    return limits


def _memory(word: str) -> int:
    """A Redis memory size: ``1048576``, ``1mb``, ``64k``..."""
    lowered = word.lower()
    digits = lowered.rstrip("kmgb")
    return int(digits) * _UNITS[lowered[len(digits):]]


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
