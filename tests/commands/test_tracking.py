"""Client-side caching through the protocol: CLIENT TRACKING and its invalidations."""

from __future__ import annotations

import pytest

from tests.support import encode_command

INVALIDATE_K = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"


@pytest.fixture
def tracker(resp3):
    """A RESP3 client with tracking on."""
    assert resp3.call("CLIENT", "TRACKING", "ON") == b"OK"
    return resp3


def test_a_write_by_another_client_invalidates_once(tracker, a):
    assert tracker.call("GET", "k") is None
    a.call("SET", "k", "1")
    assert tracker.raw() == INVALIDATE_K
    # The entry went with the invalidation: a second write says nothing.
    a.call("SET", "k", "2")
    assert tracker.raw() == b""


def test_keys_are_tracked_in_every_database(tracker, a):
    tracker.call("GET", "k")
    a.call("SELECT", "3")
    a.call("SET", "k", "1")
    assert tracker.raw() == INVALIDATE_K


def test_own_write_is_told_after_its_reply(tracker):
    tracker.call("GET", "k")
    tracker.send_raw(encode_command("SET", "k", "v") + encode_command("GET", "k"))
    assert tracker.raw() == b"+OK\r\n" + INVALIDATE_K + b"$1\r\nv\r\n"


def test_noloop_skips_own_writes(server, a):
    c = server.client(7)
    c.call("HELLO", "3")
    c.call("CLIENT", "TRACKING", "ON", "NOLOOP")
    c.call("GET", "k")
    c.send_raw(encode_command("SET", "k", "v"))
    assert c.raw() == b"+OK\r\n"
    c.call("GET", "k")
    a.call("DEL", "k")
    assert c.raw() == INVALIDATE_K


def test_writes_inside_exec_are_told_after_the_exec_reply(tracker):
    tracker.call("GET", "k")
    tracker.send_raw(b"MULTI\r\nSET k 1\r\nGET k\r\nEXEC\r\n")
    assert tracker.raw() == (b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n$1\r\n1\r\n"
                             + INVALIDATE_K)


def test_flush_sends_a_null_invalidation(tracker, a):
    a.call("FLUSHALL")
    assert tracker.raw() == b">2\r\n$10\r\ninvalidate\r\n_\r\n"
    tracker.call("GET", "k")
    a.call("FLUSHDB")
    assert tracker.raw() == b">2\r\n$10\r\ninvalidate\r\n_\r\n"
    a.call("SET", "k", "1")
    assert tracker.raw() == b""


def test_expiry_invalidates(tracker, a, server):
    a.call("SET", "k", "v", "PX", "100")
    tracker.call("GET", "k")
    server.clock.advance(1)
    assert tracker.raw() == INVALIDATE_K


def test_optin_tracks_only_after_caching_yes(server, a):
    c = server.client(7)
    c.call("HELLO", "3")
    c.call("CLIENT", "TRACKING", "ON", "OPTIN")
    c.call("GET", "x")
    c.call("CLIENT", "CACHING", "YES")
    c.call("GET", "k")
    a.call("MSET", "x", "1", "k", "1")
    assert c.raw() == INVALIDATE_K


def test_resp2_redirect_to_a_subscriber(server, client, a):
    listener = server.client(9)
    listener_id = listener.call("CLIENT", "ID")
    listener.call("SUBSCRIBE", "__redis__:invalidate")
    assert client.call("CLIENT", "TRACKING", "ON", "REDIRECT", listener_id) == b"OK"
    assert client.call("CLIENT", "GETREDIR") == listener_id
    client.call("GET", "k")
    a.call("SET", "k", "1")
    assert listener.raw() == (b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"
                              b"*1\r\n$1\r\nk\r\n")
    # The redirect client goes: the tracking client is marked.
    client.call("GET", "k")
    listener.disconnect()
    a.call("SET", "k", "2")
    assert b"flags=tR " in client.call("CLIENT", "INFO")
    assert client.call("CLIENT", "TRACKINGINFO")[1] == [b"on", b"broken_redirect"]


def test_broadcast_prefixes_are_sent_once_the_round_is_served(server, resp3, a):
    resp3.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "u:", "PREFIX", "j:")
    a.call("MSET", "u:2", "x", "u:1", "y", "j:1", "z", "other", "w")
    assert resp3.raw() == b""
    server.clock.advance(0)
    # One message per prefix, prefixes and keys in order.
    assert resp3.raw() == (
        b">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nj:1\r\n"
        b">2\r\n$10\r\ninvalidate\r\n*2\r\n$3\r\nu:1\r\n$3\r\nu:2\r\n")
    assert resp3.call("CLIENT", "TRACKINGINFO")[b"prefixes"] == [b"j:", b"u:"]


def test_overlapping_prefixes(resp3):
    reply = resp3.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "ab")
    assert str(reply) == ("ERR Prefix 'a' overlaps with another provided prefix 'ab'. "
                          "Prefixes for a single client must not overlap.")
    # Redis reports an overlap found after the first prefix and enables tracking all the same.
    resp3.send_raw(encode_command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX",
                                  "b", "PREFIX", "bc"))
    assert resp3.raw() == (b"-ERR Prefix 'b' overlaps with another provided prefix 'bc'. "
                           b"Prefixes for a single client must not overlap.\r\n+OK\r\n")


def test_table_limit_invalidates_random_keys_before_the_next_command(server, tracker, a):
    a.call("CONFIG", "SET", "tracking-table-max-keys", "3")
    tracker.call("MGET", "k1", "k2", "k3", "k4", "k5")
    store = server.service.store
    assert store.tracking.total_keys == 5 and store.tracking.over_limit
    a.call("PING")
    assert store.tracking.total_keys == 3 and not store.tracking.over_limit
    assert tracker.raw().count(b"invalidate") == 2
    # Back under the limit: clients leave the checks again.
    assert not a.protocol.session._gated


def test_a_script_read_tracks_the_keys_it_declares(tracker, a):
    tracker.call("EVAL", "return redis.call('get', 'other')", "1", "k")
    a.call("SET", "other", "1")
    assert tracker.raw() == b""
    a.call("SET", "k", "1")
    assert tracker.raw() == INVALIDATE_K


def test_reset_and_disconnect_turn_tracking_off(server, tracker, a):
    store = server.service.store
    tracker.call("GET", "k")
    assert tracker.call("RESET") == b"RESET"
    assert tracker.call("CLIENT", "GETREDIR") == -1
    assert store.tracking.tracking_clients == 0
    c = server.client(8)
    c.call("CLIENT", "TRACKING", "ON", "BCAST")
    c.disconnect()
    assert store.tracking.tracking_clients == 0 and store.tracking.prefixes == {}
    # The table keeps its entries until their keys change, as in Redis.
    assert store.tracking.total_keys == 1
    a.call("SET", "k", "1")
    assert store.tracking.total_keys == 0 and not store.signalling


def test_clients_without_tracking_leave_writes_untouched(server, client):
    store = server.service.store
    client.call("SET", "k", "v")
    client.call("GET", "k")
    assert not store.signalling and not client.protocol.session._gated
    client.call("WATCH", "k")
    assert store.signalling
    client.call("UNWATCH")
    assert not store.signalling


def test_info_and_client_list(server, tracker, a):
    tracker.call("MGET", "a", "b")
    info = a.call("INFO", "everything")
    assert b"tracking_clients:1\r\n" in info
    assert b"tracking_total_keys:2\r\n" in info and b"tracking_total_items:2\r\n" in info
    assert b"tracking_total_prefixes:0\r\n" in info
    line = a.call("CLIENT", "LIST", "ID", tracker.call("CLIENT", "ID"))
    assert b" flags=t " in line and b" redir=0 " in line
