"""Cluster mode, Hush against a real redis-server 7.0 cluster node.

A lone cluster-mode redis-server and a lone Hush load the same nodes.conf:
this node (A) serves slots 0-5460, and two nodes that do not run (B, C) serve
the rest. Every redirection names B or C, at the same address for both, so
the replies compare byte for byte: -MOVED, -ASK, -CROSSSLOT, -TRYAGAIN,
-CLUSTERDOWN, the CLUSTER subcommands and their errors, SELECT, MULTI/EXEC
and scripts. Replies that name the node itself show its own port, which is
masked; CLUSTER NODES is compared line by line without the ping times and
link states, which Redis's attempts to reach B and C change.

The Redis node gets a node timeout of an hour, so B and C are never marked
as failing, and both nodes start from the same file, so each test leaves
them as alike as it found them (the ``fresh`` fixture puts back what the
tests change).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hush.formats.keyslot import key_slot
from tests.differential.harness import Pair, parse_reply
from tests.differential.redis_cluster import call, free_cluster_port, value
from tests.support import REDIS_SERVER, ServerProcess, checkout_env, hush_argv

pytestmark = pytest.mark.differential

A = "a" * 40
B = "b" * 40
C = "c" * 40

NODES_CONF = """\
{A} 127.0.0.1:{port}@{cport} myself,master - 0 0 1 connected 0-5460
{B} 127.0.0.1:{b}@{b_bus} master - 0 0 2 connected 5461-10922
{C} 127.0.0.1:{c}@{c_bus} master - 0 0 3 connected 10923-16383
vars currentEpoch 3 lastVoteEpoch 0
"""


def key_in(first: int, last: int, prefix: str = "k") -> str:
    """A key whose slot is within first..last."""
    for number in range(100000):
        key = f"{prefix}{number}"
        if first <= key_slot(key.encode()) <= last:
            return key
    raise AssertionError("no such key")


MINE = key_in(0, 5460)            # served by A, the node under test
MINE2 = key_in(0, 5460, "m")      # another slot of A's
THEIRS_B = key_in(5461, 10922)
THEIRS_C = key_in(10923, 16383)
assert key_slot(MINE.encode()) != key_slot(MINE2.encode())


class Nodes:
    """The two lone nodes, their ports and the peers' (unused) ports."""

    def __init__(self, directory: Path) -> None:
        taken: set[int] = set()
        for name in ("redis_port", "hush_port", "b", "c"):
            port = free_cluster_port(taken)
            taken.add(port)
            setattr(self, name, port)
        self.redis_dir = directory / "redis"
        self.hush_dir = directory / "hush"
        self.redis_dir.mkdir()
        self.hush_dir.mkdir()
        (self.redis_dir / "nodes.conf").write_text(self.conf(self.redis_port))
        (self.hush_dir / "nodes.conf").write_text(self.conf(self.hush_port))
        (self.hush_dir / "hush.conf").write_text(
            f"cluster-enabled yes\ncluster-config-file nodes.conf\ndir {self.hush_dir}\n")
        self.redis = ServerProcess(
            [REDIS_SERVER, "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
             "--dir", str(self.redis_dir), "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--cluster-node-timeout", "3600000"], self.redis_port)
        try:
            self.hush = ServerProcess(
                hush_argv("--port", f"tcp:{self.hush_port}:interface=127.0.0.1",
                          "--config", str(self.hush_dir / "hush.conf"), "--maxkeys", "0"),
                self.hush_port, env=checkout_env(), cwd=str(self.hush_dir))
        except Exception:
            self.redis.stop()
            raise

    def conf(self, port: int) -> str:
        return NODES_CONF.format(A=A, B=B, C=C, port=port, cport=port + 10000, b=self.b,
                                 b_bus=self.b + 10000, c=self.c, c_bus=self.c + 10000)

    def mask(self, _args: tuple, raw: bytes) -> bytes:
        """The reply with either node's own port (and bus port) written as PORT."""
        for port in (self.hush_port, self.redis_port):
            raw = raw.replace(b"%d" % (port + 10000), b"BUS").replace(b"%d" % port, b"PORT")
        return raw

    def stop(self) -> None:
        self.hush.stop()
        self.redis.stop()


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    started = Nodes(tmp_path_factory.mktemp("cluster-diff"))
    try:
        # A master that starts with a cluster in the fail state waits two seconds
        # (CLUSTER_WRITABLE_DELAY) before it says ok.
        wait_for(lambda: b"cluster_state:ok" in value(call(started.redis_port, "CLUSTER", "INFO")),
                 "the Redis node's cluster_state:ok")
        yield started
    finally:
        started.stop()


def wait_for(condition, what: str, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}: {condition.__doc__ or ''}")


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(request, nodes):
    """A connection to each node, both flushed, in RESP2 and RESP3."""
    p = Pair(nodes.hush_port, nodes.redis_port)
    p.both("FLUSHALL")
    if request.param == 3:
        p.hush.call("HELLO", "3")
        p.redis.call("HELLO", "3")
    yield p
    p.close()


def check(pair: Pair, nodes: Nodes, *args) -> bytes:
    return pair.check(*args, mask=nodes.mask)


# -- routing -------------------------------------------------------------------------


def test_keys_of_other_nodes_are_moved(pair, nodes):
    for key in (MINE, THEIRS_B, THEIRS_C, "{" + THEIRS_B + "}x", "x{}" + THEIRS_C):
        check(pair, nodes, "SET", key, "v")
        check(pair, nodes, "GET", key)
        check(pair, nodes, "DEL", key)
    check(pair, nodes, "PING")
    check(pair, nodes, "ECHO", THEIRS_B)
    check(pair, nodes, "DBSIZE")


def test_keys_over_several_slots_are_crossslot(pair, nodes):
    check(pair, nodes, "MSET", MINE, "1", MINE2, "2")
    check(pair, nodes, "MSET", MINE, "1", THEIRS_B, "2")
    check(pair, nodes, "MSET", "{t}a", "1", "{t}b", "2")
    check(pair, nodes, "MGET", "{t}a", "{t}b", "{t}a")
    check(pair, nodes, "DEL", MINE, MINE)
    check(pair, nodes, "EXISTS", MINE, MINE2)
    check(pair, nodes, "BLPOP", MINE, MINE2, "0")
    check(pair, nodes, "ZUNIONSTORE", MINE, "2", MINE, MINE2)
    check(pair, nodes, "LMPOP", "2", MINE, THEIRS_C, "LEFT")
    check(pair, nodes, "XREAD", "STREAMS", MINE, MINE2, "0", "0")
    check(pair, nodes, "WATCH", THEIRS_B)
    check(pair, nodes, "RENAME", MINE, THEIRS_B)


def test_shard_channels_route_by_their_slot(pair, nodes):
    """SPUBLISH and SSUBSCRIBE hash their shard channels as keys (not_key specs)."""
    check(pair, nodes, "SPUBLISH", MINE, "m")
    check(pair, nodes, "SPUBLISH", THEIRS_B, "m")
    check(pair, nodes, "SSUBSCRIBE", THEIRS_C)
    check(pair, nodes, "SSUBSCRIBE", MINE, THEIRS_B)
    check(pair, nodes, "SUNSUBSCRIBE", THEIRS_B)
    check(pair, nodes, "PUBLISH", THEIRS_B, "m")


def test_only_database_zero(pair, nodes):
    for args in (("SELECT", "1"), ("SELECT", "0"), ("SELECT", "x"), ("SELECT", "99"),
                 ("SWAPDB", "0", "1"), ("MOVE", MINE, "1"), ("COPY", MINE, MINE, "DB", "1"),
                 ("COPY", "{t}a", "{t}b", "DB", "0")):
        check(pair, nodes, *args)


def test_transactions(pair, nodes):
    script = [
        ("MULTI",), ("SET", MINE, "1"), ("GET", THEIRS_B), ("EXEC",),
        ("MULTI",), ("SET", MINE, "1"), ("SET", MINE2, "1"), ("EXEC",), ("EXEC",),
        ("MULTI",), ("SET", "{t}a", "1"), ("GET", "{t}b"), ("EXEC",),
        ("MULTI",), ("MSET", MINE, "1", THEIRS_C, "2"), ("EXEC",),
        ("GET", MINE),
    ]
    for args in script:
        check(pair, nodes, *args)


def test_scripts(pair, nodes):
    get = "return redis.call('get', KEYS[1])"
    script = [
        ("EVAL", get, "1", THEIRS_B),
        ("EVAL", get, "2", MINE, MINE2),
        ("EVAL", get, "1", MINE),
        ("EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "{t}a"),
        ("EVAL", f"return redis.call('get', '{THEIRS_C}')", "0"),
        ("EVAL", f"return redis.pcall('get', '{THEIRS_C}')", "0"),
        ("EVAL", f"redis.call('get', '{MINE}') return redis.call('get', '{MINE2}')", "0"),
        ("EVAL", f"#!lua\nredis.call('get', '{MINE}') return redis.call('get', '{MINE2}')", "0"),
        ("EVAL", f"#!lua\nreturn redis.call('get', '{MINE2}')", "1", MINE),
        ("EVAL", f"return redis.call('get', '{MINE2}')", "1", MINE),
        ("EVAL", "#!lua flags=allow-cross-slot-keys\n"
                 f"redis.call('set', '{MINE}', 1) return redis.call('get', '{MINE2}')", "0"),
        ("EVAL", "#!lua flags=allow-cross-slot-keys\n"
                 f"return redis.call('get', '{THEIRS_B}')", "0"),
        ("EVAL", "#!lua flags=no-cluster\nreturn 1", "0"),
        ("EVAL", "return redis.call('select', 1)", "0"),
        ("EVAL", "return 1", "0"),
    ]
    for args in script:
        check(pair, nodes, *args)


def test_the_client_flags(pair, nodes):
    for args in (("READONLY",), ("READWRITE",), ("ASKING",), ("GET", THEIRS_B),
                 ("READONLY", "x"), ("ASKING", "x")):
        check(pair, nodes, *args)


_LIBRARY = """#!lua name=clusterlib
redis.register_function('get1', function(keys, args) return redis.call('get', keys[1]) end)
local function get_args(keys, args)
  redis.call('get', args[1])
  return redis.call('get', args[2])
end
redis.register_function('getargs', get_args)
redis.register_function{function_name='cross', callback=get_args,
                        flags={'allow-cross-slot-keys'}}
redis.register_function{function_name='nocluster', callback=get_args, flags={'no-cluster'}}
redis.register_function{function_name='ro', callback=get_args, flags={'no-writes'}}
"""


def test_functions(pair, nodes):
    """FCALL routes by its keys; a function keeps to one slot unless it declares
    allow-cross-slot-keys (no compatibility mode, unlike EVAL), no-cluster ones refused."""
    check(pair, nodes, "FUNCTION", "FLUSH")
    try:
        script = [
            ("FUNCTION", "LOAD", _LIBRARY), ("SET", MINE, "1"), ("SET", MINE2, "2"),
            ("FCALL", "get1", "1", THEIRS_B), ("FCALL", "get1", "2", MINE, MINE2),
            ("FCALL", "get1", "1", MINE), ("FCALL_RO", "get1", "1", MINE),
            ("FCALL", "getargs", "0", MINE, MINE2), ("FCALL", "getargs", "0", MINE, MINE),
            ("FCALL", "getargs", "1", MINE2, MINE, MINE),
            ("FCALL", "getargs", "0", MINE, THEIRS_C),
            ("FCALL", "cross", "0", MINE, MINE2), ("FCALL", "cross", "0", MINE, THEIRS_B),
            ("FCALL", "nocluster", "0", MINE, MINE), ("FCALL_RO", "nocluster", "0", MINE, MINE),
            ("FCALL", "nocluster", "1", THEIRS_B, MINE, MINE),
            ("FCALL_RO", "ro", "0", MINE, MINE2), ("FCALL", "nosuch", "1", THEIRS_B),
        ]
        for args in script:
            check(pair, nodes, *args)
    finally:
        check(pair, nodes, "FUNCTION", "FLUSH")


def test_sort_geo_hll_and_bitmaps(pair, nodes):
    """SORT's patterns are refused in cluster mode; the store forms of SORT, GEO*,
    PFMERGE and BITOP route by all their keys."""
    tag = "{" + MINE + "}"
    script = [
        ("RPUSH", MINE, "3", "1", "2"),
        ("SORT", MINE, "BY", "w_*"), ("SORT", MINE, "GET", "#"), ("SORT", MINE, "GET", "o_*"),
        ("SORT_RO", MINE, "BY", "w_*"), ("SORT", MINE, "BY", "nosort"), ("SORT", MINE),
        ("SORT", MINE, "STORE", MINE2), ("SORT", MINE, "STORE", tag + "dst"),
        ("SORT", THEIRS_B, "BY", "w_*"), ("SORT", MINE, "STORE", THEIRS_C),
        ("GEOADD", tag + "geo", "13.361389", "38.115556", "Palermo"),
        ("GEOSEARCHSTORE", MINE2, tag + "geo", "FROMMEMBER", "Palermo", "BYRADIUS", "10",
         "km"),
        ("GEOSEARCHSTORE", tag + "near", tag + "geo", "FROMMEMBER", "Palermo", "BYRADIUS",
         "10", "km"),
        ("GEORADIUS", tag + "geo", "13", "38", "100", "km", "STORE", THEIRS_B),
        ("GEORADIUS", tag + "geo", "13", "38", "100", "km", "STOREDIST", tag + "dist"),
        ("GEORADIUSBYMEMBER", THEIRS_C, "Palermo", "1", "km"),
        ("PFADD", tag + "hll", "a", "b"), ("PFMERGE", MINE2, tag + "hll"),
        ("PFMERGE", tag + "merged", tag + "hll"), ("PFCOUNT", tag + "hll", MINE2),
        ("PFCOUNT", THEIRS_B),
        ("SETBIT", tag + "bits", "7", "1"), ("BITOP", "AND", MINE2, tag + "bits"),
        ("BITOP", "NOT", tag + "inv", tag + "bits"), ("SETBIT", THEIRS_C, "1", "1"),
        ("BITFIELD_RO", THEIRS_B, "GET", "u8", "0"),
    ]
    for args in script:
        check(pair, nodes, *args)


def test_acl_checks_come_before_routing(pair, nodes):
    """A restricted user's NOPERM comes before -MOVED, as Redis checks ACLs first."""
    rule = ("on", ">pw", f"~{{{MINE}}}*", f"~{{{THEIRS_B}}}*", "+get", "+acl|whoami")
    check(pair, nodes, "ACL", "SETUSER", "limited", *rule)
    try:
        for args in (("AUTH", "limited", "pw"), ("ACL", "WHOAMI"),
                     ("GET", "{" + MINE + "}a"), ("GET", "{" + THEIRS_B + "}a"),
                     ("GET", THEIRS_C), ("SET", THEIRS_C, "1"), ("SET", MINE, "1")):
            check(pair, nodes, *args)
    finally:
        for port in (nodes.hush_port, nodes.redis_port):
            call(port, "ACL", "DELUSER", "limited")


# -- what the node knows -----------------------------------------------------------------


def test_node_and_slot_replies(pair, nodes):
    check(pair, nodes, "SET", MINE, "1")
    check(pair, nodes, "SET", "{" + MINE + "}2", "1")
    slot = key_slot(MINE.encode())
    for args in (("CLUSTER", "MYID"), ("CLUSTER", "SLOTS"),
                 ("CLUSTER", "KEYSLOT", "{user1000}.following"), ("CLUSTER", "KEYSLOT", ""),
                 ("CLUSTER", "COUNTKEYSINSLOT", slot), ("CLUSTER", "COUNTKEYSINSLOT", 16384),
                 ("CLUSTER", "COUNTKEYSINSLOT", -1), ("CLUSTER", "COUNTKEYSINSLOT", "x"),
                 ("CLUSTER", "GETKEYSINSLOT", slot, 10), ("CLUSTER", "GETKEYSINSLOT", slot, 1),
                 ("CLUSTER", "GETKEYSINSLOT", slot, 0), ("CLUSTER", "GETKEYSINSLOT", slot, -1),
                 ("CLUSTER", "GETKEYSINSLOT", 16384, 1), ("CLUSTER", "GETKEYSINSLOT", "x", 1),
                 ("CLUSTER", "REPLICAS", B), ("CLUSTER", "SLAVES", A),
                 ("CLUSTER", "REPLICAS", "x"), ("CLUSTER", "COUNT-FAILURE-REPORTS", C),
                 ("CLUSTER", "COUNT-FAILURE-REPORTS", "nobody"),
                 ("INFO", "cluster"), ("CLUSTER", "NOSUCH"), ("CLUSTER", "SLOTS", "x"),
                 ("CLUSTER", "FAILOVER"), ("CLUSTER", "FAILOVER", "FORCE"),
                 ("CLUSTER", "FAILOVER", "x"), ("CLUSTER", "FAILOVER", "a", "b")):
        check(pair, nodes, *args)


def test_cluster_shards(pair, nodes):
    """The same shards; Redis lists them in the order of its node table's hashes."""
    ours, theirs = pair.both("CLUSTER", "SHARDS")
    ours = ours.replace(b":%d\r\n" % nodes.hush_port, b":0\r\n")
    theirs = theirs.replace(b":%d\r\n" % nodes.redis_port, b":0\r\n")
    assert len(ours) == len(theirs)
    assert sorted(map(repr, parse_reply(ours))) == sorted(map(repr, parse_reply(theirs)))


def info_without_messages(_args: tuple, raw: bytes) -> bytes:
    """CLUSTER INFO's text without the bus message counters (Redis's move with its pings)."""
    text = parse_reply(raw)
    return b"".join(line for line in text.splitlines(True) if b"cluster_stats_messages" not in line)


def test_cluster_info(pair, nodes):
    ours, theirs = pair.both("CLUSTER", "INFO")
    assert ours[:1] == theirs[:1]
    assert info_without_messages((), ours) == info_without_messages((), theirs)


def test_cluster_nodes(nodes):
    def lines(port: int) -> list[list[bytes]]:
        reply = value(call(port, "CLUSTER", "NODES"))
        rows = []
        for line in reply.splitlines():
            fields = line.split()
            if b"myself" not in fields[2]:
                # Redis pings B and C, which do not answer: times and link states move.
                fields[4] = fields[5] = fields[7] = b"-"
            rows.append(fields)
        return sorted(rows)

    ours, theirs = lines(nodes.hush_port), lines(nodes.redis_port)
    assert [nodes.mask((), b" ".join(row)) for row in ours] == \
        [nodes.mask((), b" ".join(row)) for row in theirs]


def test_command_info(pair, nodes):
    subcommands = ("addslots", "addslotsrange", "bumpepoch", "count-failure-reports",
                   "countkeysinslot", "delslots", "delslotsrange", "failover", "flushslots",
                   "forget", "getkeysinslot", "info", "keyslot", "links", "myid", "nodes",
                   "replicas", "reset", "saveconfig", "set-config-epoch", "setslot", "shards",
                   "slaves", "slots", "help")
    for name in subcommands:
        check(pair, nodes, "COMMAND", "INFO", f"cluster|{name}")
    for name in ("asking", "readonly", "readwrite", "restore-asking", "migrate"):
        check(pair, nodes, "COMMAND", "INFO", name)


# -- moving slots -----------------------------------------------------------------------


@pytest.fixture
def restore(nodes):
    """Put the slots a test moved back where the file has them, on both nodes."""
    touched: list[int] = []
    yield touched
    for port in (nodes.hush_port, nodes.redis_port):
        call(port, "FLUSHALL")
        for slot in touched:
            owner = A if slot <= 5460 else B if slot <= 10922 else C
            call(port, "CLUSTER", "SETSLOT", slot, "STABLE")
            call(port, "CLUSTER", "SETSLOT", slot, "NODE", owner)


def test_migrating_slot_asks_for_missing_keys(pair, nodes, restore):
    slot = key_slot(MINE.encode())
    restore.append(slot)
    gone, tagged = "{" + MINE + "}gone", "{" + MINE + "}here"
    script = [
        ("SET", tagged, "1"), ("SET", MINE, "1"),
        ("CLUSTER", "SETSLOT", slot, "MIGRATING", B),
        ("GET", MINE), ("GET", gone), ("SET", gone, "1"), ("MGET", MINE, tagged),
        ("MGET", MINE, gone), ("MGET", gone, gone), ("DEL", gone, tagged),
        ("EXISTS", gone, gone),
        ("EVAL", "return redis.call('get', KEYS[1])", "1", gone),
        ("CLUSTER", "COUNTKEYSINSLOT", slot),
        ("CLUSTER", "SETSLOT", slot, "NODE", B),
        ("DEL", MINE, tagged),
        ("CLUSTER", "SETSLOT", slot, "NODE", B),
        ("GET", MINE), ("CLUSTER", "COUNTKEYSINSLOT", slot),
        ("CLUSTER", "SETSLOT", slot, "NODE", A),
        ("GET", MINE),
    ]
    for args in script:
        check(pair, nodes, *args)


def test_importing_slot_serves_after_asking(pair, nodes, restore):
    slot = key_slot(THEIRS_B.encode())
    restore.append(slot)
    other = "{" + THEIRS_B + "}2"
    script = [
        ("CLUSTER", "SETSLOT", slot, "IMPORTING", C),
        ("GET", THEIRS_B), ("ASKING",), ("SET", THEIRS_B, "1"), ("GET", THEIRS_B),
        ("ASKING",), ("ASKING",), ("GET", THEIRS_B),
        ("ASKING",), ("MGET", THEIRS_B, other), ("ASKING",), ("MGET", THEIRS_B, THEIRS_B),
        ("ASKING",), ("NOSUCHCOMMAND",), ("GET", THEIRS_B),
        ("ASKING",), ("MULTI",), ("GET", THEIRS_B), ("SET", other, "2"), ("EXEC",),
        ("GET", THEIRS_B),
        ("MULTI",), ("ASKING",), ("GET", THEIRS_B), ("EXEC",),
        ("ASKING",), ("EVAL", "return redis.call('get', KEYS[1])", "1", THEIRS_B),
        ("CLUSTER", "COUNTKEYSINSLOT", slot),
        ("CLUSTER", "SETSLOT", slot, "NODE", A),
        ("GET", THEIRS_B), ("GET", other),
        ("CLUSTER", "SETSLOT", slot, "IMPORTING", B),
    ]
    for args in script:
        check(pair, nodes, *args)


def test_migrate_in_open_slots(pair, nodes, restore, redis_process):
    """MIGRATE runs where a slot is open (migrating or importing) whatever its keys;
    RESTORE-ASKING is served by an importing node without ASKING, RESTORE is not.

    Both nodes migrate to the same standalone redis-server (with REPLACE);
    MIGRATE calls that are refused or find no key never connect (node B's
    port, where nothing listens).
    """
    mine, theirs = key_slot(MINE.encode()), key_slot(THEIRS_B.encode())
    restore.extend([mine, theirs])
    here, gone = "{" + MINE + "}here", "{" + MINE + "}gone"
    arriving = "{" + THEIRS_B + "}2"
    closed, target = nodes.b, redis_process.port
    call(target, "SET", "payload", "v")
    payload = value(call(target, "DUMP", "payload"))
    script = [
        ("SET", here, "1"),
        ("MIGRATE", "127.0.0.1", closed, THEIRS_B, "0", "100"),
        ("MIGRATE", "127.0.0.1", closed, "", "0", "100", "KEYS", MINE, MINE2),
        ("MIGRATE", "127.0.0.1", closed, gone, "0", "100"),
        ("CLUSTER", "SETSLOT", mine, "MIGRATING", B),
        ("GET", gone), ("MGET", here, gone),
        ("MIGRATE", "127.0.0.1", closed, gone, "0", "100"),
        ("MIGRATE", "127.0.0.1", closed, "", "0", "100", "KEYS", gone, gone),
        ("MIGRATE", "127.0.0.1", target, "", "0", "5000", "REPLACE", "KEYS", here, gone),
        ("GET", here), ("CLUSTER", "COUNTKEYSINSLOT", mine),
        ("CLUSTER", "SETSLOT", theirs, "IMPORTING", C),
        ("MIGRATE", "127.0.0.1", closed, THEIRS_B, "0", "100"),
        ("RESTORE", THEIRS_B, "0", payload),
        ("RESTORE-ASKING", THEIRS_B, "0", payload), ("GET", THEIRS_B),
        ("ASKING",), ("RESTORE", arriving, "0", payload), ("ASKING",), ("GET", arriving),
        ("RESTORE-ASKING", THEIRS_B, "0", payload),
        ("RESTORE-ASKING", THEIRS_C, "0", payload),
        ("RESTORE-ASKING", MINE2, "0", payload, "REPLACE"),
    ]
    try:
        for args in script:
            check(pair, nodes, *args)
        assert value(call(target, "GET", here)) == b"1"
    finally:
        call(target, "DEL", here, "payload")


def test_setslot_errors(pair, nodes, restore):
    mine, theirs = key_slot(MINE.encode()), key_slot(THEIRS_B.encode())
    restore.extend([mine, theirs])
    script = [
        ("CLUSTER", "SETSLOT", theirs, "MIGRATING", C),
        ("CLUSTER", "SETSLOT", mine, "IMPORTING", B),
        ("CLUSTER", "SETSLOT", mine, "MIGRATING", "nobody"),
        ("CLUSTER", "SETSLOT", mine, "MIGRATING", "d" * 40),
        ("CLUSTER", "SETSLOT", theirs, "IMPORTING", "nobody"),
        ("CLUSTER", "SETSLOT", mine, "NODE", "nobody"),
        ("CLUSTER", "SETSLOT", mine, "MIGRATING"),
        ("CLUSTER", "SETSLOT", mine, "STABLE", "x"),
        ("CLUSTER", "SETSLOT", mine, "UPSIDEDOWN", B),
        ("CLUSTER", "SETSLOT", 16384, "STABLE"),
        ("CLUSTER", "SETSLOT", -1, "STABLE"),
        ("CLUSTER", "SETSLOT", "x", "STABLE"),
        ("CLUSTER", "SETSLOT", mine),
        ("CLUSTER", "SETSLOT", mine, "stable"),
        ("CLUSTER", "SETSLOT", mine, "migrating", B),
        ("CLUSTER", "SETSLOT", mine, "importing", B),
        ("CLUSTER", "SETSLOT", mine, "STABLE"),
    ]
    for args in script:
        check(pair, nodes, *args)


def test_slot_assignment_commands(pair, nodes, restore):
    restore.extend([0, 1, 2, 3, 5000, 16000])
    script = [
        # Refused while the node holds keys (or the cluster state would change).
        ("SET", MINE, "1"), ("CLUSTER", "FLUSHSLOTS"), ("CLUSTER", "RESET"),
        ("CLUSTER", "RESET", "SOFTLY"), ("CLUSTER", "RESET", "a", "b"),
        ("CLUSTER", "ADDSLOTS", 0), ("CLUSTER", "DELSLOTS", 0, 1, 1),
        ("CLUSTER", "DELSLOTS", 0, 1), ("CLUSTER", "DELSLOTS", 0),
        ("CLUSTER", "ADDSLOTS", 0, "x", 99999), ("CLUSTER", "ADDSLOTS", 0, 0),
        ("CLUSTER", "ADDSLOTSRANGE", 0, 1, 3), ("CLUSTER", "ADDSLOTSRANGE", 1, 0),
        ("CLUSTER", "ADDSLOTSRANGE", 0, 2, 5, 4), ("CLUSTER", "ADDSLOTSRANGE", 0, 1, 1, 1),
        ("CLUSTER", "ADDSLOTSRANGE", 0, 1, "x", 1), ("CLUSTER", "ADDSLOTSRANGE", 0, 1),
        ("CLUSTER", "DELSLOTSRANGE", 16000, 16000, 0, 0), ("CLUSTER", "DELSLOTSRANGE", 2, 3),
        ("CLUSTER", "ADDSLOTSRANGE", 2, 3), ("CLUSTER", "SLOTS"),
        ("CLUSTER", "FORGET", A), ("CLUSTER", "FORGET", "nobody"),
        ("CLUSTER", "SET-CONFIG-EPOCH", "-1"), ("CLUSTER", "SET-CONFIG-EPOCH", "x"),
        ("CLUSTER", "SET-CONFIG-EPOCH", "5"), ("CLUSTER", "SAVECONFIG"),
    ]
    for args in script:
        check(pair, nodes, *args)


def test_cluster_down(pair, nodes, restore):
    slot = key_slot(THEIRS_C.encode())
    restore.append(slot)
    script = [
        ("SET", MINE, "1"),
        ("CLUSTER", "DELSLOTS", slot),
        ("GET", THEIRS_C), ("GET", MINE), ("SET", MINE, "2"), ("PING",),
        ("EVAL", "return redis.call('get', KEYS[1])", "1", MINE),
        ("EVAL", f"return redis.call('get', '{MINE}')", "0"),
        ("CONFIG", "SET", "cluster-allow-reads-when-down", "yes"),
        ("GET", MINE), ("SET", MINE, "2"), ("GET", THEIRS_C), ("GET", THEIRS_B),
        ("EVAL", f"return redis.call('set', '{MINE}', 3)", "0"),
        ("CONFIG", "SET", "cluster-allow-reads-when-down", "no"),
    ]
    for args in script:
        check(pair, nodes, *args)
    pair.check("CLUSTER", "INFO", mask=info_without_messages)
    check(pair, nodes, "CONFIG", "SET", "cluster-require-full-coverage", "no")
    # Redis looks at the state again on its next cluster cron (100 ms); Hush at once.
    wait_for(lambda: b"cluster_state:ok" in value(call(nodes.redis_port, "CLUSTER", "INFO")),
             "the Redis node to be ok without full coverage")
    for args in (("GET", MINE), ("GET", THEIRS_C), ("GET", THEIRS_B)):
        check(pair, nodes, *args)
    pair.check("CLUSTER", "INFO", mask=info_without_messages)
    # Put back before the slot is: the fixture's SETSLOT makes Redis look again.
    check(pair, nodes, "CONFIG", "SET", "cluster-require-full-coverage", "yes")


def test_endpoint_types(pair, nodes):
    for endpoint in ("hostname", "unknown-endpoint", "ip"):
        check(pair, nodes, "CONFIG", "SET", "cluster-preferred-endpoint-type", endpoint)
        check(pair, nodes, "GET", THEIRS_B)
        check(pair, nodes, "CLUSTER", "SLOTS")


def test_blocked_client_is_moved_when_its_slot_goes(nodes, restore):
    slot = key_slot(MINE.encode())
    restore.append(slot)
    pair = Pair(nodes.hush_port, nodes.redis_port)
    admin = Pair(nodes.hush_port, nodes.redis_port)
    try:
        pair.send("BLPOP", MINE, "0")
        def blocked():
            return [value(call(port, "INFO", "clients")).split(b"blocked_clients:")[1][:1]
                    for port in (nodes.hush_port, nodes.redis_port)]

        try:
            wait_for(lambda: blocked() == [b"1", b"1"], "both clients to block")
        except AssertionError:
            raise AssertionError(f"blocked clients (Hush, Redis): {blocked()}") from None
        admin.check("CLUSTER", "SETSLOT", slot, "NODE", B)
        # Redis redirects blocked clients from its clients cron, within a second.
        pair.check_next("BLPOP after its slot moved")
    finally:
        pair.close()
        admin.close()


# -- without cluster mode -------------------------------------------------------------------


@pytest.fixture
def standalone(hush_process, redis_process):
    p = Pair(hush_process.port, redis_process.port)
    yield p
    p.close()


@pytest.mark.parametrize("args", [
    ("CLUSTER", "INFO"), ("CLUSTER", "HELP"), ("CLUSTER", "KEYSLOT", "x"),
    ("CLUSTER", "SETSLOT", "1", "STABLE"), ("READONLY",), ("READWRITE",), ("ASKING",),
    ("INFO", "cluster"), ("CLUSTER", "NOSUCH"),
])
def test_commands_outside_cluster_mode(standalone, args):
    standalone.check(*args)

