# -*- test-case-name: tests.commands.test_pubsub -*-
"""Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB,
and Redis 7's sharded pub/sub: SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH.

(Un)subscribe commands answer with one confirmation per channel, so they
return :class:`hush.wire.resp.Replies`. Confirmations are pushes in RESP3.
Shard channels are counted apart: an SSUBSCRIBE confirmation counts shard
channels only, a SUBSCRIBE one channels and patterns; any of the three puts
a RESP2 client in subscribed mode. Hush has no cluster, so a shard channel
is simply a channel of its own namespace, as on a Redis without cluster mode.
"""

from __future__ import annotations

from hush.commands.table import command, container, help_command, range_spec
from hush.core.errors import CommandError, SubcommandSyntax
from hush.core.glob import compile_glob
from hush.wire.resp import Push, Replies

GROUP = "pubsub"
_FLAGS = ("pubsub", "noscript", "loading", "stale")


def _count(ctx) -> int:
    return len(ctx.channels) + len(ctx.patterns)


def _shard_count(ctx) -> int:
    return len(ctx.shard_channels)


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


def _unsubscribe_all(ctx, kind: bytes, names, current: set[bytes], remove,
                     count=_count) -> Replies:
    # Without names, every current subscription is dropped; with none at all,
    # Redis still confirms once, with a null name.
    targets = list(names) if names else list(current)
    replies = Replies()
    if not targets:
        replies.append(Push([kind, None, count(ctx)]))
    for name in targets:
        remove(ctx, name)
        replies.append(Push([kind, name, count(ctx)]))
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


def _names(registry: dict, pattern: tuple[bytes, ...], subcommand: str) -> list[bytes]:
    """PUBSUB (SHARD)CHANNELS: the channels of ``registry``, those matching the pattern if any."""
    if len(pattern) > 1:
        raise SubcommandSyntax("PUBSUB", subcommand)
    names = list(registry)
    if pattern:
        match = compile_glob(pattern[0])
        names = [name for name in names if match(name)]
    return names


def _counts(registry: dict, channels: tuple[bytes, ...]) -> list:
    """PUBSUB (SHARD)NUMSUB: channel, subscriber count, ... for ``channels``."""
    # A flat array even in RESP3, as Redis 7.0 sends it.
    reply: list = []
    for channel in channels:
        reply += (channel, len(registry.get(channel, ())))
    return reply


@command("pubsub|channels", arity=-2, flags=("pubsub", "loading", "stale"), group=GROUP,
         since="2.8.0", summary="Returns the active channels.")
def pubsub_channels(ctx, *pattern: bytes):
    return _names(ctx.server.pubsub.channels, pattern, "CHANNELS")


@command("pubsub|numsub", arity=-2, flags=("pubsub", "loading", "stale"), group=GROUP,
         since="2.8.0", summary="Returns a count of subscribers to channels.")
def pubsub_numsub(ctx, *channels: bytes):
    return _counts(ctx.server.pubsub.channels, channels)


@command("pubsub|numpat", arity=2, flags=("pubsub", "loading", "stale"), group=GROUP,
         since="2.8.0", summary="Returns a count of unique pattern subscriptions.")
def pubsub_numpat(ctx):
    return len(ctx.server.pubsub.patterns)


# -- sharded pub/sub ----------------------------------------------------------------

#: Shard channels are located like keys (for a cluster's routing), but are none.
_SHARD_CHANNELS = (range_spec("not_key", lastkey=-1),)


@command("ssubscribe", arity=-2, flags=_FLAGS, keys=(1, -1, 1), key_specs=_SHARD_CHANNELS,
         group=GROUP, since="7.0.0", summary="Listens for messages published to shard channels.")
def ssubscribe(ctx, *channels: bytes):
    """Subscribe to shard channels; one confirmation each, counting shard channels."""
    if ctx.exec_running:
        # Redis's DENY_BLOCKING clients (inside EXEC) may not subscribe to
        # shard channels; unlike SUBSCRIBE there is no exception for MULTI.
        raise CommandError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
    registry = ctx.server.pubsub
    replies = Replies()
    for channel in channels:
        registry.ssubscribe(ctx, channel)
        replies.append(Push([b"ssubscribe", channel, _shard_count(ctx)]))
    ctx.update_gate()
    return replies


@command("sunsubscribe", arity=-1, flags=_FLAGS, keys=(1, -1, 1), key_specs=_SHARD_CHANNELS,
         group=GROUP, since="7.0.0",
         summary="Stops listening to messages posted to shard channels.")
def sunsubscribe(ctx, *channels: bytes):
    """Unsubscribe from shard channels (all of them without arguments)."""
    return _unsubscribe_all(ctx, b"sunsubscribe", channels, ctx.shard_channels,
                            ctx.server.pubsub.sunsubscribe, _shard_count)


@command("spublish", arity=3, flags=("pubsub", "loading", "stale", "fast", "may-replicate"),
         keys=(1, 1, 1), key_specs=(range_spec("not_key"),), group=GROUP, since="7.0.0",
         summary="Post a message to a shard channel")
def spublish(ctx, channel: bytes, message: bytes) -> int:
    """Deliver a message to a shard channel's subscribers; how many received it."""
    return ctx.server.pubsub.spublish(channel, message)


@command("pubsub|shardchannels", arity=-2, flags=("pubsub", "loading", "stale"), group=GROUP,
         since="7.0.0", summary="Returns the active shard channels.")
def pubsub_shardchannels(ctx, *pattern: bytes):
    """The shard channels with subscribers, optionally only those matching a pattern."""
    return _names(ctx.server.pubsub.shard_channels, pattern, "SHARDCHANNELS")


@command("pubsub|shardnumsub", arity=-2, flags=("pubsub", "loading", "stale"), group=GROUP,
         since="7.0.0", summary="Returns the count of subscribers of shard channels.")
def pubsub_shardnumsub(ctx, *channels: bytes):
    """Channel, subscriber count, ... for the shard channels given (a flat array)."""
    return _counts(ctx.server.pubsub.shard_channels, channels)


_PUBSUB_HELP = [
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
]

help_command("pubsub", _PUBSUB_HELP, group=GROUP, since="6.2.0", acl=("slow",))
