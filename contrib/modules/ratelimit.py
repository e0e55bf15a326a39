"""A token-bucket rate limiter as one Hush command: RATELIMIT.TAKE.

    RATELIMIT.TAKE key capacity refill-per-second [tokens]

takes ``tokens`` (default 1) from the bucket at ``key``, which holds at most
``capacity`` tokens and regains ``refill-per-second`` of them each second.
The reply is ``[allowed, remaining, retry-after-ms]``: 1 and the tokens left
when the tokens were taken, else 0, the tokens there are and the
milliseconds after which enough will be. A full bucket is a missing key: the
key (a hash of ``tokens`` and ``ts``) expires once the bucket would be full
again, so idle clients cost nothing.

Load it with ``--loadmodule contrib/modules/ratelimit.py``. It reads the
server's clock, so on a test server ``HUSH.CLOCK ADVANCE`` refills buckets
without sleeping; the AOF logs what it stored (HSET and PEXPIREAT at absolute
times), never the command, whose result depends on when it ran.
"""

from __future__ import annotations

import math

from hush.module import CommandError, Module, now_ms, replicate

module = Module("ratelimit", version=1)

_NOT_POSITIVE = "ERR capacity, refill rate and tokens must be positive numbers"


def _positive(raw: bytes) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise CommandError(_NOT_POSITIVE) from None
    if not (value > 0 and math.isfinite(value)):
        raise CommandError(_NOT_POSITIVE)
    return value


@module.command("ratelimit.take", arity=-4, flags=("write", "denyoom", "fast"),
                keys=(1, 1, 1), acl=("hash",), since="1.0.0",
                summary="Take tokens from a token bucket, refilled at a steady rate")
def take(ctx, key: bytes, raw_capacity: bytes, raw_rate: bytes, *rest: bytes) -> list[int]:
    """[1, tokens left, 0] when the tokens were taken, else [0, tokens there, ms to wait]."""
    if len(rest) > 1:
        raise CommandError("ERR syntax error")
    capacity = _positive(raw_capacity)
    rate = _positive(raw_rate)
    wanted = _positive(rest[0]) if rest else 1.0
    now = now_ms(ctx)
    bucket = ctx.db.get_typed(key, dict)
    tokens = capacity
    if bucket is not None:
        try:
            stored = float(bucket[b"tokens"])
            then = int(bucket[b"ts"])
        except (KeyError, ValueError):
            raise CommandError("ERR the key does not hold a token bucket") from None
        tokens = min(capacity, stored + max(0, now - then) * rate / 1000.0)
    if wanted > tokens:
        # Nothing changes: the refill is computed again on the next call.
        replicate(ctx)
        wait = math.ceil((wanted - tokens) * 1000.0 / rate)
        return [0, math.floor(tokens), wait]
    tokens -= wanted
    value = {b"tokens": repr(tokens).encode(), b"ts": b"%d" % now}
    ctx.db.set(key, value)
    full_at = now + math.ceil((capacity - tokens) * 1000.0 / rate)
    ctx.db.set_expire(key, full_at)
    replicate(ctx, ["HSET", key, "tokens", value[b"tokens"], "ts", value[b"ts"]],
              ["PEXPIREAT", key, full_at])
    return [1, math.floor(tokens), 0]
