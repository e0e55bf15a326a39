"""Cluster building blocks (hush.formats.keyslot, nodes_conf, cluster_replies) against Redis 7.0.

The unit tests pin the pieces on hand-written files. The differential tests
start real redis-server processes in cluster mode: a cluster of three
masters with a replica each (made by ``redis-cli --cluster create``, one
node announcing a hostname, two slots being moved with CLUSTER SETSLOT), and
a lone node loading a hand-written nodes.conf full of odd cases. Their
nodes.conf files must parse and come back byte for byte, and CLUSTER NODES,
SLOTS, SHARDS, INFO and KEYSLOT must equal what the model renders. Ping and
pong times, link states, message counters and replication offsets change
by the second: those few values are read from the live reply and put into
the model before it renders.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from hush.formats import cluster_replies as replies
from hush.formats import nodes_conf
from hush.formats.keyslot import SLOTS, crc16, key_slot
from hush.formats.nodes_conf import ClusterConfig, NodesConfError
from hush.wire import resp
from tests.differential.harness import RawConnection
from tests.differential.redis_cluster import RedisCluster, call, free_cluster_port, value
from tests.support import REDIS_CLI, REDIS_SERVER, ServerProcess

needs_redis = pytest.mark.skipif(
    REDIS_SERVER is None or REDIS_CLI is None,
    reason="redis-server and redis-cli are not installed (apt-get install redis-server redis-tools)")

# -- key slots -----------------------------------------------------------------------


def crc16_by_the_definition(data: bytes) -> int:
    """CRC-16/XMODEM bit by bit: polynomial 0x1021, initial 0, no reflection."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def test_crc16_of_redis_test_vector():
    assert crc16(b"123456789") == 0x31C3


def test_crc16_is_xmodem():
    rng = random.Random(16)
    for size in list(range(40)) + [1000]:
        data = rng.randbytes(size)
        assert crc16(data) == crc16_by_the_definition(data), data


@pytest.mark.parametrize(("key", "hashed"), [
    (b"somekey", b"somekey"),
    (b"{user1000}.following", b"user1000"),
    (b"{user1000}.followers", b"user1000"),
    (b"foo{}{bar}", b"foo{}{bar}"),          # an empty first tag: the whole key
    (b"foo{{bar}}zap", b"{bar"),             # from the first '{' to the next '}'
    (b"foo{bar}{zap}", b"bar"),
    (b"a}b{c}", b"c"),                       # a '}' before the '{' does not count
    (b"no{close", b"no{close"),
    (b"{", b"{"),
    (b"}{", b"}{"),
    (b"", b""),
    (b"\x00{\xff\x00}\r\n", b"\xff\x00"),
])
def test_key_slot_hash_tags(key, hashed):
    assert key_slot(key) == crc16(hashed) % SLOTS


def test_key_slot_of_redis_documented_examples():
    assert key_slot(b"somekey") == 11058
    assert key_slot(b"foo{hash_tag}") == 2515


# -- nodes.conf: hand-written files --------------------------------------------------

A = b"a" * 40
B = b"b" * 40
C = b"c" * 40
D = b"d" * 40
E = b"e" * 40
F = b"f" * 40
G = b"0123456789abcdefghijklmnopqrstuvwxyz0123"
H = b"9" * 40

#: Odd but loadable: lines out of order, a replica before its master, a legacy
#: address without bus port, flags in any order and case, a slot claimed
#: twice, a slot both migrating and importing, a node named only as a master
#: (E), a failed address-less master, a node in handshake, a blank line.
HAND = b"""\
%(D)s 127.0.0.1:7004@17004 slave %(B)s 0 1700000000000 9 connected
%(A)s 127.0.0.1:%(port)d@%(cport)d master,myself - 0 0 5 connected 0-99 100 101-4999 5000-5001 16383 [200->-%(B)s] [300-<-%(E)s] [200-<-%(C)s]
%(B)s 127.0.0.1:7002,node-b.example master,fail? - 1700000000001 1700000000002 7 disconnected 5002-10000 5000
%(C)s 127.0.0.1:7003@17003 noflags - 0 0 0 disconnected
%(F)s 127.0.0.1:7006@17006 slave,nofailover %(E)s 0 0 3 connected
%(G)s :0@0 FAIL,Master,noaddr - 0 0 8 disconnected 12000-12999
%(H)s 127.0.0.1:7008@17008 handshake - 0 0 0 disconnected

vars currentEpoch 9 lastVoteEpoch 4
"""


def fill(template: bytes, **values: bytes | int) -> bytes:
    """``template % values`` (bytes formatting takes bytes keys)."""
    return template % {name.encode(): item for name, item in values.items()}


def hand_file(port: int = 7001) -> bytes:
    return fill(HAND, A=A, B=B, C=C, D=D, E=E, F=F, G=G, H=H, port=port, cport=port + 10000)


#: What Redis writes after loading HAND (Redis's own order of nodes differs;
#: this model keeps the order of the lines, the address-less E last).
HAND_WRITTEN = b"""\
%(D)s 127.0.0.1:7004@17004 slave %(B)s 0 1700000000000 7 connected
%(A)s 127.0.0.1:7001@17001 myself,master - 0 0 5 connected 0-5001 16383 [200->-%(B)s] [300-<-%(E)s]
%(B)s 127.0.0.1:7002@17002,node-b.example master,fail? - 1700000000001 1700000000002 7 disconnected 5002-10000
%(C)s 127.0.0.1:7003@17003 noflags - 0 0 0 disconnected
%(F)s 127.0.0.1:7006@17006 slave,nofailover %(E)s 0 0 0 connected
%(G)s :0@0 master,fail,noaddr - 0 0 8 disconnected 12000-12999
%(E)s :0@0 noflags - 0 0 0 disconnected
vars currentEpoch 9 lastVoteEpoch 4
"""
HAND_WRITTEN = fill(HAND_WRITTEN, A=A, B=B, C=C, D=D, E=E, F=F, G=G)


def test_parse_hand_written_file():
    config = nodes_conf.parse(hand_file())
    assert config.myself == A
    assert list(config.nodes) == [D, A, B, C, F, G, H, E]
    b = config.nodes[B]
    assert (b.ip, b.port, b.cport, b.hostname) == (b"127.0.0.1", 7002, 17002, b"node-b.example")
    assert b.flags == {b"master", b"fail?"} and b.timed_out and not b.failed
    assert (b.ping_sent, b.pong_recv, b.config_epoch, b.connected) == (
        1700000000001, 1700000000002, 7, False)
    d = config.nodes[D]
    assert d.master == B and d.is_replica and d.config_epoch == 0
    assert config.shown_epoch(d) == 7
    assert config.nodes[G].flags == {b"master", b"fail", b"noaddr"} and config.nodes[G].ip == b""
    assert config.nodes[E] == nodes_conf.ClusterNode(E)
    assert config.slots[:5002] == [A] * 5002 and config.slots[16383] == A
    assert config.slots[5002:10001] == [B] * 4999
    assert config.slots[10001:12000] == [None] * 1999
    assert config.migrating == {200: B} and config.importing == {300: E, 200: C}
    assert (config.current_epoch, config.last_vote_epoch) == (9, 4)
    assert [node.id for node in config.replicas(B)] == [D]
    assert config.slot_count(A) == 5003


def test_dump_writes_as_redis_does():
    assert nodes_conf.dump(nodes_conf.parse(hand_file())) == HAND_WRITTEN


def test_cluster_nodes_keeps_nodes_in_handshake():
    text = nodes_conf.cluster_nodes(nodes_conf.parse(hand_file()))
    handshake = H + b" 127.0.0.1:7008@17008 handshake - 0 0 0 disconnected\n"
    assert text == HAND_WRITTEN.replace(b"\n" + E, b"\n" + handshake + E).rsplit(b"vars", 1)[0]


def test_dump_round_trips_its_own_output():
    config = nodes_conf.parse(HAND_WRITTEN)
    assert nodes_conf.dump(config) == HAND_WRITTEN


def test_myself_is_the_config_not_a_flag():
    config = nodes_conf.parse(HAND_WRITTEN)
    config.myself = B
    lines = nodes_conf.dump(config).splitlines()
    assert lines[1].split()[2] == b"master" and lines[1].endswith(b"16383")
    assert lines[2].split()[2] == b"myself,master,fail?"
    # The slots in move are myself's; myself is always connected.
    assert lines[2].split()[7] == b"connected" and lines[2].endswith(b"5002-10000 [200->-%s] [300-<-%s]" % (B, E))


#: A nodes.conf that redis-server 7.0.15 wrote for a 3 x 2 cluster.
REDIS_WRITTEN = b"""\
8940db3af6c08fe06c922d0e7362ef0d19fce14b 127.0.0.1:21268@31268,node-0.hush.test myself,master - 0 1796646756000 1 connected 0-5460
0289018a535ba083d6425e4a43ced297c7f269a4 127.0.0.1:22035@32035 master - 0 1796646758170 2 connected 5461-10922
3db19cf40857b696c6b42094b6b294461c147175 127.0.0.1:29986@39986 slave 8940db3af6c08fe06c922d0e7362ef0d19fce14b 0 1796646756159 1 connected
d6fee0a293c87ac19700f37e1283e9a9a0aff557 127.0.0.1:28080@38080 slave ed51dd68876aecfa38e39fbd355e6ac6749e1979 0 1796646757000 3 connected
ed51dd68876aecfa38e39fbd355e6ac6749e1979 127.0.0.1:21567@31567 master - 0 1796646757165 3 connected 10923-16383
cc18918e8c45cf11dc5b44896ecd8b521e4de75b 127.0.0.1:20612@30612 slave 0289018a535ba083d6425e4a43ced297c7f269a4 0 1796646755000 2 connected
vars currentEpoch 6 lastVoteEpoch 0
"""


def test_redis_written_file_round_trips():
    config = nodes_conf.parse(REDIS_WRITTEN)
    assert nodes_conf.dump(config) == REDIS_WRITTEN
    assert config.myself == b"8940db3af6c08fe06c922d0e7362ef0d19fce14b"
    assert config.slot_ranges() == {
        b"8940db3af6c08fe06c922d0e7362ef0d19fce14b": [(0, 5460)],
        b"0289018a535ba083d6425e4a43ced297c7f269a4": [(5461, 10922)],
        b"ed51dd68876aecfa38e39fbd355e6ac6749e1979": [(10923, 16383)],
    }


def test_file_without_vars_line_and_padded_with_newlines():
    text = REDIS_WRITTEN.rsplit(b"vars", 1)[0] + b"\n\n\n"
    config = nodes_conf.parse(text)
    assert (config.current_epoch, config.last_vote_epoch) == (0, 0)
    assert nodes_conf.cluster_nodes(config) == text.rstrip(b"\n") + b"\n"


def test_vars_line_skips_unknown_names_and_ignores_case():
    config = nodes_conf.parse(REDIS_WRITTEN.replace(
        b"vars currentEpoch 6 lastVoteEpoch 0",
        b"VARS lastvoteepoch 3 somethingNew 1 CURRENTEPOCH 12"))
    assert (config.current_epoch, config.last_vote_epoch) == (12, 3)


MYSELF = A + b" 127.0.0.1:7001@17001 myself,master - 0 0 1 connected"


@pytest.mark.parametrize("text", [
    MYSELF.rsplit(b" ", 1)[0],                                   # seven fields
    b"X" + MYSELF[1:],                                           # id with upper case
    A[:39] + MYSELF[40:],                                        # id of 39 characters
    MYSELF.replace(b"127.0.0.1:7001@17001", b"127.0.0.1"),       # no port
    MYSELF.replace(b":7001@", b":x@"),
    MYSELF.replace(b"myself,master", b"myself,primary"),         # unknown flag
    MYSELF.replace(b"myself,master", b"master"),                 # nobody is myself
    MYSELF + b"\n" + MYSELF.replace(A, B),                       # two are myself
    MYSELF.replace(b" - ", b" " + b"Z" * 40 + b" "),             # bad master id
    MYSELF.replace(b" 0 0 1 ", b" 0 0 one "),
    MYSELF + b" 16384",
    MYSELF + b" 0-16384",
    MYSELF + b" [16384->-" + B + b"]",
    MYSELF + b" [5->-" + B,                                      # no closing bracket
    MYSELF + b" [5-" + B + b"]",                                 # no direction
    MYSELF + b" [5->-" + B[:20] + b"]",
    MYSELF + b"\nvars currentEpoch",                             # a name without value
    MYSELF + b"\n   \t",                                         # spaces only
])
def test_files_redis_refuses(text):
    with pytest.raises(NodesConfError):
        nodes_conf.parse(text + b"\n")


def test_error_names_the_line():
    with pytest.raises(NodesConfError, match="line 2: unknown flag b'boss'"):
        nodes_conf.parse(MYSELF + b"\n" + B + b" 127.0.0.1:7002@17002 boss - 0 0 1 connected\n")


def test_damaged_files_parse_or_are_refused_never_crash():
    rng = random.Random(7)
    pieces = [b" ", b"\n", b"-", b"@", b":", b",", b"[", b"]", b"->-", b"-<-", b"0", b"16383",
              b"myself", b"master", b"slave", b"vars", A, b"\r", b"\0", b"\xff"]
    sources = [REDIS_WRITTEN, hand_file(), HAND_WRITTEN]
    parsed = 0
    for _ in range(2000):
        text = bytearray(rng.choice(sources))
        for _ in range(rng.randrange(1, 3)):
            at = rng.randrange(len(text))
            if rng.random() < 0.5:
                del text[at:at + rng.randrange(1, 30)]
            else:
                text[at:at] = rng.choice(pieces)
        try:
            config = nodes_conf.parse(bytes(text))
        except NodesConfError:
            continue
        parsed += 1
        # What parses is written in a form that reads back the same.
        written = nodes_conf.dump(config)
        assert nodes_conf.dump(nodes_conf.parse(written)) == written
        replies.cluster_slots(config)
        replies.cluster_shards(config)
        replies.cluster_info(config)
    assert 100 < parsed < 1900, parsed  # both ways were taken


# -- replies built from the model ----------------------------------------------------


def with_offsets(config: ClusterConfig, offset: int) -> ClusterConfig:
    for node in config.nodes.values():
        node.repl_offset = offset
    return config


def test_cluster_slots_from_a_redis_written_file():
    config = with_offsets(nodes_conf.parse(REDIS_WRITTEN), 14)
    reply = replies.cluster_slots(config)
    assert [entry[:2] for entry in reply] == [[0, 5460], [5461, 10922], [10923, 16383]]
    assert reply[0][2:] == [
        [b"127.0.0.1", 21268, b"8940db3af6c08fe06c922d0e7362ef0d19fce14b",
         {b"hostname": b"node-0.hush.test"}],
        [b"127.0.0.1", 29986, b"3db19cf40857b696c6b42094b6b294461c147175", {}],
    ]


def test_cluster_slots_leaves_out_replicas_not_serving():
    config = with_offsets(nodes_conf.parse(REDIS_WRITTEN), 14)
    config.nodes[b"3db19cf40857b696c6b42094b6b294461c147175"].repl_offset = 0
    config.nodes[b"cc18918e8c45cf11dc5b44896ecd8b521e4de75b"].flags |= {b"fail"}
    reply = replies.cluster_slots(config)
    assert [len(entry) for entry in reply] == [3, 3, 4]


def test_cluster_slots_endpoint_types():
    config = with_offsets(nodes_conf.parse(REDIS_WRITTEN), 14)
    first, replica = replies.cluster_slots(config, "hostname")[0][2:]
    assert first == [b"node-0.hush.test", 21268, first[2], {b"ip": b"127.0.0.1"}]
    assert replica == [b"?", 29986, replica[2], {b"ip": b"127.0.0.1"}]
    first = replies.cluster_slots(config, "unknown-endpoint")[0][2]
    assert first == [None, 21268, first[2], {b"ip": b"127.0.0.1", b"hostname": b"node-0.hush.test"}]
    with pytest.raises(ValueError):
        replies.cluster_slots(config, "dns")


def test_cluster_shards_of_the_hand_written_file():
    config = nodes_conf.parse(hand_file())
    shards = replies.cluster_shards(config)
    assert [shard[b"slots"] for shard in shards] == [[0, 5001, 16383, 16383], [5002, 10000],
                                                     [12000, 12999]]
    assert shards[1][b"nodes"] == [
        {b"id": B, b"port": 7002, b"ip": b"127.0.0.1", b"endpoint": b"127.0.0.1",
         b"hostname": b"node-b.example", b"role": b"master", b"replication-offset": 0,
         b"health": b"online"},
        {b"id": D, b"port": 7004, b"ip": b"127.0.0.1", b"endpoint": b"127.0.0.1",
         b"role": b"replica", b"replication-offset": 0, b"health": b"loading"},
    ]
    # The address-less master: no port, and health fail.
    assert shards[2][b"nodes"][0] == {
        b"id": G, b"ip": b"", b"endpoint": b"", b"role": b"master", b"replication-offset": 0,
        b"health": b"fail"}
    assert replies.cluster_shards(config, "unknown-endpoint")[1][b"nodes"][0][b"endpoint"] == b""


def test_cluster_info_of_the_hand_written_file():
    config = nodes_conf.parse(hand_file())
    assert replies.cluster_info(config) == (
        b"cluster_state:fail\r\n"
        b"cluster_slots_assigned:11002\r\n"
        b"cluster_slots_ok:5003\r\n"
        b"cluster_slots_pfail:4999\r\n"
        b"cluster_slots_fail:1000\r\n"
        b"cluster_known_nodes:8\r\n"
        b"cluster_size:3\r\n"
        b"cluster_current_epoch:9\r\n"
        b"cluster_my_epoch:5\r\n"
        b"cluster_stats_messages_sent:0\r\n"
        b"cluster_stats_messages_received:0\r\n"
        b"total_cluster_links_buffer_limit_exceeded:0\r\n"
    )


def test_cluster_info_message_counters_in_redis_order():
    config = nodes_conf.parse(REDIS_WRITTEN)
    text = replies.cluster_info(config, messages_sent={"pong": 2, "ping": 3},
                                messages_received={"publishshard": 1, "meet": 1})
    assert b"cluster_stats_messages_ping_sent:3\r\ncluster_stats_messages_pong_sent:2\r\n" \
           b"cluster_stats_messages_sent:5\r\n" in text
    assert b"cluster_stats_messages_meet_received:1\r\n" \
           b"cluster_stats_messages_publishshard_received:1\r\n" \
           b"cluster_stats_messages_received:2\r\n" in text
    with pytest.raises(ValueError):
        replies.cluster_info(config, messages_sent={"gossip": 1})


def test_cluster_state():
    config = nodes_conf.parse(REDIS_WRITTEN)
    assert replies.cluster_state_ok(config)
    assert b"cluster_state:ok\r\n" in replies.cluster_info(config)
    assert b"cluster_state:fail\r\n" in replies.cluster_info(config, state_ok=False)
    first = b"8940db3af6c08fe06c922d0e7362ef0d19fce14b"
    config.slots[0] = None
    assert not replies.cluster_state_ok(config)
    assert replies.cluster_state_ok(config, require_full_coverage=False)
    # One master of three unreachable is still a majority; two are not.
    config.nodes[first].flags |= {b"fail?"}
    assert replies.cluster_state_ok(config, require_full_coverage=False)
    config.nodes[b"0289018a535ba083d6425e4a43ced297c7f269a4"].flags |= {b"fail"}
    assert not replies.cluster_state_ok(config, require_full_coverage=False)


# -- against real redis-server processes ---------------------------------------------


def adopt_live(config: ClusterConfig, live: ClusterConfig, reorder: bool = False) -> None:
    """Copy what changes by the second (ping/pong times, links) from a live CLUSTER NODES.

    ``reorder`` also takes the live order of the nodes (Redis lists them in
    the order of its hash table, which a hand-written file cannot know).
    """
    if reorder:
        config.nodes = {node_id: config.nodes[node_id] for node_id in live.nodes}
    assert list(config.nodes) == list(live.nodes)
    for node_id, node in config.nodes.items():
        source = live.nodes[node_id]
        node.ping_sent, node.pong_recv = source.ping_sent, source.pong_recv
        node.connected = source.connected


def adopt_offsets(config: ClusterConfig, raw_shards: bytes) -> None:
    """Copy each node's replication offset from a raw CLUSTER SHARDS reply (RESP2 or 3)."""

    def as_map(item):
        # hiredis reads a RESP3 map as a dict, a RESP2 one as a flat list.
        return item if isinstance(item, dict) else dict(zip(item[::2], item[1::2], strict=True))

    for shard in value(raw_shards):
        for node in as_map(shard)[b"nodes"]:
            details = as_map(node)
            config.nodes[details[b"id"]].repl_offset = details[b"replication-offset"]


def counters(info: bytes, direction: str) -> dict[str, int]:
    """The ``cluster_stats_messages_<type>_<direction>`` counters of a CLUSTER INFO text."""
    found = {}
    for line in info.decode().split("\r\n"):
        name, _, number = line.partition(":")
        prefix, suffix = "cluster_stats_messages_", f"_{direction}"
        if name.startswith(prefix) and name.endswith(suffix) and name != prefix + direction:
            found[name[len(prefix):-len(suffix)]] = int(number)
    return found


def both_protocols(port: int, *command: str) -> tuple[bytes, bytes]:
    """The raw reply of ``command`` in RESP2 and in RESP3."""
    resp2 = call(port, *command)
    conn = RawConnection(port)
    try:
        conn.call("HELLO", "3")
        return resp2, conn.call(*command)
    finally:
        conn.close()


def eventually(check, what: str, timeout: float = 30.0):
    """Poll ``check`` (returns a failure text or None) until it passes; fail with the last text."""
    deadline = time.monotonic() + timeout
    while True:
        problem = check()
        if problem is None:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: {problem}")
        time.sleep(0.2)


def conf_disagrees(nodes: RedisCluster, port: int) -> str | None:
    """How the node's nodes.conf, rendered, differs from its CLUSTER NODES (None: it does not)."""
    config = nodes_conf.parse(nodes.nodes_conf(port))
    reply = value(call(port, "CLUSTER", "NODES"))
    live = nodes_conf.parse(reply)
    if list(config.nodes) != list(live.nodes):
        return f"nodes.conf lists other nodes or in another order than CLUSTER NODES: {reply!r}"
    adopt_live(config, live)
    return differences(nodes_conf.cluster_nodes(config), reply)


def differences(rendered: bytes, expected: bytes) -> str | None:
    """The lines where ``rendered`` differs from ``expected`` (None when they are equal)."""
    if rendered == expected:
        return None
    pairs = zip(rendered.splitlines(True), expected.splitlines(True), strict=False)
    lines = [f"\n  model {mine!r}\n  redis {theirs!r}" for mine, theirs in pairs if mine != theirs]
    return "".join(lines) or f"{rendered!r} != {expected!r}"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """3 masters x 1 replica; node 0 announces a hostname; slots 100 and 5461 are in move."""
    if REDIS_SERVER is None or REDIS_CLI is None:
        pytest.skip("redis-server and redis-cli are not installed")
    nodes = RedisCluster(tmp_path_factory.mktemp("cluster"), masters=3, replicas=1,
                         hostnames={0: "node-0.hush.test"})
    nodes.start()
    try:
        live = nodes_conf.parse(value(call(nodes.ports[0], "CLUSTER", "NODES")))
        owner = {slot: node_id for node_id, runs in live.slot_ranges().items()
                 for first, last in runs for slot in (first, last)}
        port_of = {node.id: node.port for node in live.nodes.values()}
        # The owner of 5461 imports 100 and migrates 5461: both kinds on one line.
        moves = [(100, owner[0], owner[5461]), (5461, owner[5461], owner[16383])]
        for slot, source, target in moves:
            assert call(port_of[source], "CLUSTER", "SETSLOT", slot, "MIGRATING", target) == b"+OK\r\n"
            assert call(port_of[target], "CLUSTER", "SETSLOT", slot, "IMPORTING", source) == b"+OK\r\n"
        # Redis rewrites nodes.conf shortly after a change, not at once.
        for port in nodes.ports:
            nodes.wait_until(lambda port=port: conf_disagrees(nodes, port) is None,
                             f"nodes.conf of {port} to agree with CLUSTER NODES")
        yield nodes
    finally:
        nodes.stop()


@needs_redis
def test_redis_nodes_conf_files_come_back_byte_for_byte(cluster):
    brackets = 0
    for port in cluster.ports:
        written = cluster.nodes_conf(port)
        assert nodes_conf.dump(nodes_conf.parse(written)) == written
        brackets += written.count(b"->-") + written.count(b"-<-")
    assert brackets == 4


@needs_redis
def test_cluster_nodes_renders_as_redis(cluster):
    for port in cluster.ports:
        assert conf_disagrees(cluster, port) is None
        raw2, raw3 = both_protocols(port, "CLUSTER", "NODES")
        text = value(raw2)
        assert resp.encode(resp.Verbatim(text)) == raw2
        assert resp.encode(resp.Verbatim(text), resp3=True) == raw3
        assert nodes_conf.cluster_nodes(nodes_conf.parse(text)) == text


@needs_redis
@pytest.mark.parametrize("endpoint", replies.ENDPOINT_TYPES)
def test_cluster_slots_and_shards_render_as_redis(cluster, endpoint):
    for port in cluster.ports:
        assert call(port, "CONFIG", "SET", "cluster-preferred-endpoint-type", endpoint) == b"+OK\r\n"
    try:
        for port in cluster.ports:
            config = nodes_conf.parse(cluster.nodes_conf(port))
            slots2, slots3 = both_protocols(port, "CLUSTER", "SLOTS")
            shards2, shards3 = both_protocols(port, "CLUSTER", "SHARDS")
            adopt_offsets(config, shards2)
            assert resp.encode(replies.cluster_slots(config, endpoint)) == slots2
            assert resp.encode(replies.cluster_shards(config, endpoint)) == shards2
            adopt_offsets(config, shards3)
            assert resp.encode(replies.cluster_shards(config, endpoint), resp3=True) == shards3
            assert resp.encode(replies.cluster_slots(config, endpoint), resp3=True) == slots3
    finally:
        for port in cluster.ports:
            call(port, "CONFIG", "SET", "cluster-preferred-endpoint-type", "ip")


@needs_redis
def test_cluster_info_renders_as_redis(cluster):
    for port in cluster.ports:
        config = nodes_conf.parse(cluster.nodes_conf(port))
        raw2, raw3 = both_protocols(port, "CLUSTER", "INFO")
        info = value(raw2)
        rendered = replies.cluster_info(config, messages_sent=counters(info, "sent"),
                                        messages_received=counters(info, "received"))
        assert rendered == info
        assert raw3.startswith(b"=") and b"cluster_state:ok\r\n" in raw3


@needs_redis
def test_key_slot_equals_cluster_keyslot(cluster):
    rng = random.Random(2024)
    # A million keys of 0-24 random bytes (every byte value, braces included)
    # reach every slot; a sample of them and of keys with tags go to Redis.
    pool = rng.randbytes(12_000_000)
    offsets = [rng.randrange(len(pool) - 24) for _ in range(1_000_000)]
    keys = [pool[start:start + rng.randrange(25)] for start in offsets]
    slots = [key_slot(key) for key in keys]
    assert len(set(slots)) == SLOTS
    sample = rng.sample(range(len(keys)), 3000)
    checked = [keys[index] for index in sample]
    expected = [slots[index] for index in sample]
    for _ in range(1000):
        parts = [rng.randbytes(rng.randrange(4)) for _ in range(3)]
        tagged = parts[0] + b"{" + parts[1] + b"}" + parts[2] + rng.choice([b"", b"}", b"{x}"])
        checked.append(tagged)
        expected.append(key_slot(tagged))
    conn = RawConnection(cluster.ports[0])
    try:
        conn.sock.sendall(b"".join(
            b"*3\r\n$7\r\nCLUSTER\r\n$7\r\nKEYSLOT\r\n$%d\r\n%s\r\n" % (len(key), key)
            for key in checked))
        answers = [int(conn.read_reply()[1:-2]) for _ in checked]
    finally:
        conn.close()
    assert answers == expected


@pytest.fixture
def hand_node(tmp_path: Path):
    """A lone cluster-mode redis-server that loaded hand_file() as its nodes.conf."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    port = free_cluster_port()
    (tmp_path / "nodes.conf").write_bytes(hand_file(port))
    # A long node timeout: the unreachable nodes keep the flags the file gave them.
    server = ServerProcess(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
         "--cluster-config-file", "nodes.conf", "--dir", str(tmp_path), "--save", "",
         "--appendonly", "no", "--daemonize", "no", "--cluster-node-timeout", "120000"], port)
    yield server, tmp_path / "nodes.conf"
    server.stop()


@needs_redis
def test_hand_written_file_loads_as_redis_loads_it(hand_node):
    server, path = hand_node
    config = nodes_conf.parse(hand_file(server.port))
    reply = value(call(server.port, "CLUSTER", "NODES"))
    adopt_live(config, nodes_conf.parse(reply), reorder=True)
    assert nodes_conf.cluster_nodes(config) == reply
    assert call(server.port, "CLUSTER", "SAVECONFIG") == b"+OK\r\n"
    assert nodes_conf.dump(config) == path.read_bytes()
    for endpoint in replies.ENDPOINT_TYPES:
        call(server.port, "CONFIG", "SET", "cluster-preferred-endpoint-type", endpoint)
        slots2, slots3 = both_protocols(server.port, "CLUSTER", "SLOTS")
        shards2, shards3 = both_protocols(server.port, "CLUSTER", "SHARDS")
        assert resp.encode(replies.cluster_slots(config, endpoint)) == slots2
        assert resp.encode(replies.cluster_slots(config, endpoint), resp3=True) == slots3
        assert resp.encode(replies.cluster_shards(config, endpoint)) == shards2
        assert resp.encode(replies.cluster_shards(config, endpoint), resp3=True) == shards3

    def info_matches():
        info = value(call(server.port, "CLUSTER", "INFO"))
        rendered = replies.cluster_info(config, messages_sent=counters(info, "sent"),
                                        messages_received=counters(info, "received"))
        return differences(rendered, info)

    # A master that starts in a failed cluster waits 2 s before it counts the
    # cluster's size (CLUSTER_WRITABLE_DELAY); after that the texts agree.
    eventually(info_matches, "CLUSTER INFO")
