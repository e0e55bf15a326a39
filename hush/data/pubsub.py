# -*- test-case-name: tests.commands.test_pubsub -*-
"""The publish/subscribe registry shared by all connections.

Channels, patterns and shard channels (Redis 7's sharded pub/sub: SSUBSCRIBE,
SPUBLISH) map to the set of subscribed connections; each connection also
remembers its own subscriptions so a disconnect can remove them all. Shard
channels are a namespace of their own, and patterns never match them. Delivery goes through the connection's ``push`` so the message is
ordered after replies already produced for that client, and is subject to
the pubsub output-buffer limit.
"""

from __future__ import annotations

from typing import Any, Protocol

from hush.core.glob import compile_glob
from hush.wire.resp import Push


class Subscriber(Protocol):
    """What the registry needs of a connection."""

    channels: set[bytes]
    patterns: set[bytes]
    shard_channels: set[bytes]

    def push(self, value: Any) -> None: ...


class PubSub:
    """Who listens to what.

    @ivar channels: channel -> subscribers, in subscription order.
    @ivar patterns: glob pattern -> subscribers.
    @ivar shard_channels: shard channel -> subscribers.
    """

    def __init__(self) -> None:
        self.channels: dict[bytes, dict[Subscriber, None]] = {}
        self.patterns: dict[bytes, dict[Subscriber, None]] = {}
        self.shard_channels: dict[bytes, dict[Subscriber, None]] = {}

    def subscribe(self, client: Subscriber, channel: bytes) -> bool:
        """Add ``client`` to ``channel``; False if it was already there."""
        if channel in client.channels:
            return False
        client.channels.add(channel)
        self.channels.setdefault(channel, {})[client] = None
        return True

    def unsubscribe(self, client: Subscriber, channel: bytes) -> bool:
        """Remove ``client`` from ``channel``; False if it was not subscribed."""
        if channel not in client.channels:
            return False
        client.channels.discard(channel)
        _discard(self.channels, channel, client)
        return True

    def psubscribe(self, client: Subscriber, pattern: bytes) -> bool:
        """Add ``client`` to ``pattern``; False if it was already there."""
        if pattern in client.patterns:
            return False
        client.patterns.add(pattern)
        self.patterns.setdefault(pattern, {})[client] = None
        return True

    def punsubscribe(self, client: Subscriber, pattern: bytes) -> bool:
        """Remove ``client`` from ``pattern``; False if it was not subscribed."""
        if pattern not in client.patterns:
            return False
        client.patterns.discard(pattern)
        _discard(self.patterns, pattern, client)
        return True

    def ssubscribe(self, client: Subscriber, channel: bytes) -> bool:
        """Add ``client`` to the shard channel ``channel``; False if it was already there."""
        if channel in client.shard_channels:
            return False
        client.shard_channels.add(channel)
        self.shard_channels.setdefault(channel, {})[client] = None
        return True

    def sunsubscribe(self, client: Subscriber, channel: bytes) -> bool:
        """Remove ``client`` from the shard channel ``channel``; False if it was not subscribed."""
        if channel not in client.shard_channels:
            return False
        client.shard_channels.discard(channel)
        _discard(self.shard_channels, channel, client)
        return True

    def drop(self, client: Subscriber) -> None:
        """Forget every subscription of a closed connection."""
        for channel in list(client.channels):
            self.unsubscribe(client, channel)
        for pattern in list(client.patterns):
            self.punsubscribe(client, pattern)
        for channel in list(client.shard_channels):
            self.sunsubscribe(client, channel)

    def publish(self, channel: bytes, message: bytes) -> int:
        """Deliver ``message``; return how many subscriptions received it."""
        receivers = 0
        subscribers = self.channels.get(channel)
        if subscribers:
            payload = Push([b"message", channel, message])
            for client in list(subscribers):
                client.push(payload)
                receivers += 1
        for pattern, clients in list(self.patterns.items()):
            if compile_glob(pattern)(channel):
                payload = Push([b"pmessage", pattern, channel, message])
                for client in list(clients):
                    client.push(payload)
                    receivers += 1
        return receivers

    def spublish(self, channel: bytes, message: bytes) -> int:
        """Deliver ``message`` to the shard channel's subscribers; return how many."""
        subscribers = self.shard_channels.get(channel)
        if not subscribers:
            return 0
        payload = Push([b"smessage", channel, message])
        receivers = list(subscribers)
        for client in receivers:
            client.push(payload)
        return len(receivers)


def _discard(registry: dict[bytes, dict[Subscriber, None]], name: bytes, client: Subscriber) -> None:
    members = registry.get(name)
    if members is not None:
        members.pop(client, None)
        if not members:
            del registry[name]
