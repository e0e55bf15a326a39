"""A capped leaderboard on a sorted set: LEADERBOARD.ADD keeps only the best N.

    LEADERBOARD.ADD key size member score   -> the member's rank (0: best), or nil
    LEADERBOARD.TOP key count               -> [member, score, member, score, ...]

``ADD`` records ``score`` when it beats the member's previous one, then drops
whatever falls outside the best ``size``: the reply is the member's rank, or
nil when it did not make it. ``size`` is given on each call, or once for all
when the module is loaded: ``loadmodule contrib/modules/leaderboard.py 100``
(then ``ADD``'s size may be ``-`` to use it).

It is written with :func:`hush.module.call`, running ZADD, ZREMRANGEBYRANK
and ZREVRANK as a client would: the AOF logs those commands.
"""

from __future__ import annotations

from hush.module import CommandError, Module, call

module = Module("leaderboard", version=1)

#: The size given at load time (loadmodule ... SIZE), used for ADD's "-".
DEFAULT_SIZE: list[int] = []


@module.on_load
def configure(args: list[bytes]) -> None:
    """An optional argument: the default size."""
    DEFAULT_SIZE.clear()
    if len(args) > 1:
        raise ValueError("one optional argument: the default size")
    if args:
        DEFAULT_SIZE.append(_size(args[0]))


def _size(raw: bytes) -> int:
    if raw == b"-" and DEFAULT_SIZE:
        return DEFAULT_SIZE[0]
    if not raw.isdigit() or int(raw) < 1:
        raise CommandError("ERR size must be a positive integer")
    return int(raw)


@module.command("leaderboard.add", arity=5, flags=("write", "denyoom"), keys=(1, 1, 1),
                acl=("sortedset",), since="1.0.0",
                summary="Record a score and keep only the best entries")
def add(ctx, key: bytes, raw_size: bytes, member: bytes, score: bytes):
    """The member's rank after the update (0 is the best), or None if it fell off."""
    size = _size(raw_size)
    call(ctx, "ZADD", key, "GT", score, member)
    call(ctx, "ZREMRANGEBYRANK", key, 0, -(size + 1))
    return call(ctx, "ZREVRANK", key, member)


@module.command("leaderboard.top", arity=3, flags=("readonly",), keys=(1, 1, 1),
                acl=("sortedset",), since="1.0.0", summary="The best entries, best first")
def top(ctx, key: bytes, raw_count: bytes) -> list[bytes]:
    """The best ``count`` members with their scores (call() gives RESP2's flat shape)."""
    count = _size(raw_count)
    return call(ctx, "ZRANGE", key, 0, count - 1, "REV", "WITHSCORES")
