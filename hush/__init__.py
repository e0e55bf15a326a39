"""Hush: a Redis-compatible in-memory data store on Twisted."""

__version__ = "0.1.0"

#: The Redis version whose commands and replies Hush implements. Clients such
#: as RQ pick commands by it, so it must name a real Redis release.
REDIS_VERSION = "7.0.15"
