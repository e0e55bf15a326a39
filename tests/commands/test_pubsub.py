"""Pub/Sub through the protocol: shapes in RESP2/RESP3, subscribed mode, cleanup."""

from __future__ import annotations

from tests.support import encode_command


def test_subscribe_publish_resp2(server):
    sub, pub = server.client(1), server.client(2)
    sub.send_raw(b"SUBSCRIBE a b\r\n")
    assert sub.raw() == (
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
    )
    assert pub.call("PUBLISH", "a", "hi") == 1
    assert sub.raw() == b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n"
    assert pub.call("PUBLISH", "nobody", "x") == 0


def test_pattern_subscription(server):
    sub, pub = server.client(1), server.client(2)
    sub.send_raw(b"PSUBSCRIBE news.*\r\n")
    assert sub.raw() == b"*3\r\n$10\r\npsubscribe\r\n$6\r\nnews.*\r\n:1\r\n"
    assert pub.call("PUBLISH", "news.tech", "x") == 1
    assert sub.raw() == b"*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$9\r\nnews.tech\r\n$1\r\nx\r\n"


def test_channel_and_pattern_both_count(server):
    sub, pub = server.client(1), server.client(2)
    sub.send_raw(b"SUBSCRIBE a\r\nPSUBSCRIBE a*\r\n")
    sub.raw()
    assert pub.call("PUBLISH", "a", "m") == 2


def test_subscribed_mode_allows_only_some_commands(client):
    client.send_raw(b"SUBSCRIBE a\r\nGET a\r\nPING\r\nPING x\r\nUNSUBSCRIBE\r\nPING\r\n")
    assert client.raw() == (
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET"
        b" are allowed in this context\r\n"
        b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
        b"*2\r\n$4\r\npong\r\n$1\r\nx\r\n"
        b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n"
        b"+PONG\r\n"
    )


def test_unsubscribe_without_subscriptions(client):
    client.send_raw(b"UNSUBSCRIBE\r\nPUNSUBSCRIBE\r\n")
    assert client.raw() == (
        b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n"
    )


def test_resp3_pushes_and_commands_allowed(server):
    sub = server.client(1)
    sub.call("HELLO", "3")
    sub.send_raw(b"SUBSCRIBE a\r\nPUBLISH a hello\r\nSET k v\r\nUNSUBSCRIBE\r\n")
    assert sub.raw() == (
        b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
        b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n:1\r\n"
        b"+OK\r\n"
        b">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n"
    )


def test_message_ordered_after_earlier_replies_of_the_same_read(server):
    sub = server.client(1)
    sub.call("HELLO", "3")
    sub.call("SUBSCRIBE", "a")
    sub.send_raw(encode_command("ECHO", "first") + encode_command("PUBLISH", "a", "m"))
    assert sub.raw() == (
        b"$5\r\nfirst\r\n>3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n:1\r\n"
    )


def test_pubsub_introspection(server):
    sub1, sub2, other = server.client(1), server.client(2), server.client(3)
    sub1.send_raw(b"SUBSCRIBE a b\r\nPSUBSCRIBE x*\r\n")
    sub2.send_raw(b"SUBSCRIBE a\r\nPSUBSCRIBE x*\r\n")
    assert sorted(other.call("PUBSUB", "CHANNELS")) == [b"a", b"b"]
    assert other.call("PUBSUB", "CHANNELS", "b*") == [b"b"]
    assert other.call("PUBSUB", "NUMSUB", "a", "b", "c", "a") == [b"a", 2, b"b", 1, b"c", 0, b"a", 2]
    assert other.call("PUBSUB", "NUMPAT") == 1


def test_disconnect_removes_subscriptions(server):
    sub, pub = server.client(1), server.client(2)
    sub.send_raw(b"SUBSCRIBE a\r\nPSUBSCRIBE a*\r\n")
    sub.disconnect()
    registry = server.service.pubsub
    assert registry.channels == {} and registry.patterns == {}
    assert pub.call("PUBLISH", "a", "x") == 0


def test_reset_leaves_subscribed_mode(client):
    client.send_raw(b"SUBSCRIBE a\r\nRESET\r\nSET k v\r\n")
    assert client.raw().endswith(b"+RESET\r\n+OK\r\n")


def test_slow_subscriber_is_disconnected_over_the_hard_limit(server):
    sub, pub = server.client(1), server.client(2)
    sub.call("SUBSCRIBE", "a")
    sub.protocol.pending_output = lambda: 33 * 1024 * 1024
    pub.call("PUBLISH", "a", "x")
    assert sub.closed
    assert server.service.store.stats.client_output_buffer_limit_disconnections == 1


def test_slow_subscriber_over_the_soft_limit_for_too_long(server):
    sub, pub = server.client(1), server.client(2)
    sub.call("SUBSCRIBE", "a")
    sub.protocol.pending_output = lambda: 9 * 1024 * 1024
    pub.call("PUBLISH", "a", "x")
    assert not sub.closed
    server.clock.advance(61)
    pub.call("PUBLISH", "a", "x")
    assert sub.closed


# -- sharded pub/sub -------------------------------------------------------------


def test_ssubscribe_counts_shard_channels_only(server):
    sub, pub = server.client(1), server.client(2)
    sub.send_raw(b"SUBSCRIBE a\r\nSSUBSCRIBE a b\r\nSSUBSCRIBE a\r\n")
    assert sub.raw() == (
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
        b"*3\r\n$10\r\nssubscribe\r\n$1\r\na\r\n:1\r\n"
        b"*3\r\n$10\r\nssubscribe\r\n$1\r\nb\r\n:2\r\n"
        b"*3\r\n$10\r\nssubscribe\r\n$1\r\na\r\n:2\r\n"
    )
    # Shard channels are a namespace of their own: SPUBLISH reaches only
    # SSUBSCRIBErs, PUBLISH only SUBSCRIBErs.
    assert pub.call("SPUBLISH", "a", "hi") == 1
    assert sub.raw() == b"*3\r\n$8\r\nsmessage\r\n$1\r\na\r\n$2\r\nhi\r\n"
    assert pub.call("PUBLISH", "a", "yo") == 1
    assert sub.raw() == b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nyo\r\n"
    assert pub.call("SPUBLISH", "c", "x") == 0


def test_patterns_never_match_shard_channels(server):
    sub, pub = server.client(1), server.client(2)
    sub.call("PSUBSCRIBE", "*")
    assert pub.call("SPUBLISH", "a", "x") == 0
    assert sub.raw() == b""


def test_shard_subscriptions_put_resp2_clients_in_subscribed_mode(client):
    client.send_raw(b"SSUBSCRIBE a\r\nGET a\r\nSPUBLISH a x\r\nPING\r\nSUNSUBSCRIBE\r\nPING\r\n")
    assert client.raw() == (
        b"*3\r\n$10\r\nssubscribe\r\n$1\r\na\r\n:1\r\n"
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET"
        b" are allowed in this context\r\n"
        b"-ERR Can't execute 'spublish': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
        b"RESET are allowed in this context\r\n"
        b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
        b"*3\r\n$12\r\nsunsubscribe\r\n$1\r\na\r\n:0\r\n"
        b"+PONG\r\n"
    )


def test_sunsubscribe_without_subscriptions_confirms_once(client):
    client.send_raw(b"SUNSUBSCRIBE\r\nSUNSUBSCRIBE x\r\n")
    assert client.raw() == (
        b"*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n*3\r\n$12\r\nsunsubscribe\r\n$1\r\nx\r\n:0\r\n"
    )


def test_resp3_shard_messages_are_pushes(resp3, a):
    resp3.send_raw(encode_command("SSUBSCRIBE", "s"))
    assert resp3.raw() == b">3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:1\r\n"
    assert a.call("SPUBLISH", "s", "m") == 1
    assert resp3.raw() == b">3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$1\r\nm\r\n"
    # RESP3 clients may run other commands while subscribed.
    assert resp3.call("SET", "k", "v") == b"OK"


def test_ssubscribe_refused_inside_exec(client):
    client.send_raw(b"MULTI\r\nSSUBSCRIBE a\r\nEXEC\r\n")
    assert client.raw() == (
        b"+OK\r\n+QUEUED\r\n*1\r\n-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n")
    assert client.protocol.session.shard_channels == set()


def test_shard_introspection(server):
    sub1, sub2, other = server.client(1), server.client(2), server.client(3)
    sub1.send_raw(b"SSUBSCRIBE a b\r\nSUBSCRIBE c\r\n")
    sub2.send_raw(b"SSUBSCRIBE a\r\n")
    assert sorted(other.call("PUBSUB", "SHARDCHANNELS")) == [b"a", b"b"]
    assert other.call("PUBSUB", "SHARDCHANNELS", "b*") == [b"b"]
    assert other.call("PUBSUB", "SHARDNUMSUB", "a", "b", "c") == [b"a", 2, b"b", 1, b"c", 0]
    assert other.call("PUBSUB", "CHANNELS") == [b"c"]
    assert b"pubsubshard_channels:2\r\n" in other.call("INFO", "stats")
    line = other.call("CLIENT", "LIST", "TYPE", "pubsub")
    assert b" sub=1 psub=0 ssub=2 " in line and b" sub=0 psub=0 ssub=1 " in line
    assert b"flags=P " in line


def test_shard_keys_are_no_keys(client):
    # Redis declares shard channels with not_key specs: for routing, not data.
    assert str(client.call("COMMAND", "GETKEYS", "SPUBLISH", "a", "b")) == (
        "ERR The command has no key arguments")


def test_disconnect_and_reset_drop_shard_subscriptions(server):
    sub, other = server.client(1), server.client(2)
    sub.send_raw(b"SSUBSCRIBE a\r\n")
    other.send_raw(b"SSUBSCRIBE b\r\nRESET\r\n")
    assert other.raw().endswith(b"+RESET\r\n")
    sub.disconnect()
    assert server.service.pubsub.shard_channels == {}
