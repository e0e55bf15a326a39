# -*- test-case-name: tests.commands.test_pubsub -*-
"""Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB.

(Un)subscribe commands answer with one confirmation per channel, so they
return :class:`hush.wire.resp.Replies`. Confirmations are pushes in RESP3.
"""

from __future__ import annotations

from hush.commands.table import command, container
from hush.core.errors import wrong_arity
from hush.core.glob import compile_glob
from hush.wire.resp import Push, Replies

GROUP = "pubsub"
_FLAGS = ("pubsub", "noscript", "loading", "stale")


def _count(ctx) -> int:
    return len(ctx.channels) + len(ctx.patterns)


@command("subscribe", arity=-2, flags=_FLAGS, group=GROUP, since="2.0.0",
         summary="Listens for messages published to channels.")
def subscribe(ctx, *channels: bytes):
    registry = ctx.server.pubsub
    replies = Replies()
    for channel in channels:
        registry.subscribe(ctx, channel)
        replies.append(Push([b"subscribe", channel, _count(ctx)]))
    ctx.update_gate()
    return replies


@command("psubscribe", arity=-2, flags=_FLAGS, group=GROUP, since="2.0.0",
         summary="Listens for messages published to channels that match one or more patterns.")
def psubscribe(ctx, *patterns: bytes):
    registry = ctx.server.pubsub
    replies = Replies()
    for pattern in patterns:
        registry.psubscribe(ctx, pattern)
        replies.append(Push([b"psubscribe", pattern, _count(ctx)]))
    ctx.update_gate()
    return replies


def _unsubscribe_all(ctx, kind: bytes, names, current: set[bytes], remove) -> Replies:
    # Without names, every current subscription is dropped; with none at all,
    # Redis still confirms once, with a null name.
    targets = list(names) if names else list(current)
    replies = Replies()
    if not targets:
        replies.append(Push([kind, None, _count(ctx)]))
    for name in targets:
        remove(ctx, name)
        replies.append(Push([kind, name, _count(ctx)]))
    ctx.update_gate()
    return replies


@command("unsubscribe", arity=-1, flags=_FLAGS, group=GROUP, since="2.0.0",
         summary="Stops listening to messages posted to channels.")
def unsubscribe(ctx, *channels: bytes):
    return _unsubscribe_all(ctx, b"unsubscribe", channels, ctx.channels,
                            ctx.server.pubsub.unsubscribe)


@command("punsubscribe", arity=-1, flags=_FLAGS, group=GROUP, since="2.0.0",
         summary="Stops listening to messages published to channels that match one or more patterns.")
def punsubscribe(ctx, *patterns: bytes):
    return _unsubscribe_all(ctx, b"punsubscribe", patterns, ctx.patterns,
                            ctx.server.pubsub.punsubscribe)


@command("publish", arity=3, flags=("pubsub", "loading", "stale", "fast", "may-replicate"),
         group=GROUP, since="2.0.0", summary="Posts a message to a channel.")
def publish(ctx, channel: bytes, message: bytes):
    if ctx.server.cluster is None:
        # Replicas' subscribers get it too (not the AOF), as Redis propagates it.
        ctx.propagate([b"PUBLISH", channel, message], aof=False)
    return ctx.server.pubsub.publish(channel, message)


container("pubsub", group=GROUP, since="2.8.0", summary="A container for Pub/Sub commands.")


@command("pubsub|channels", arity=-2, flags=("pubsub", "loading", "stale"), group=GROUP,
         since="2.8.0", summary="Returns the active channels.")
def pubsub_channels(ctx, *pattern: bytes):
    if len(pattern) > 1:
        raise wrong_arity("pubsub|channels")
    names = list(ctx.server.pubsub.channels)
    if pattern:
        match = compile_glob(pattern[0])
        names = [name for name in names if match(name)]
    return names


@command("pubsub|numsub", arity=-2, flags=("pubsub", "loading", "stale"), group=GROUP,
         since="2.8.0", summary="Returns a count of subscribers to channels.")
def pubsub_numsub(ctx, *channels: bytes):
    registry = ctx.server.pubsub.channels
    # A flat array even in RESP3, as Redis 7.0 sends it.
    reply: list = []
    for channel in channels:
        reply += (channel, len(registry.get(channel, ())))
    return reply


@command("pubsub|numpat", arity=2, flags=("pubsub", "loading", "stale"), group=GROUP,
         since="2.8.0", summary="Returns a count of unique pattern subscriptions.")
def pubsub_numpat(ctx):
    return len(ctx.server.pubsub.patterns)
