"""The RDB codec against a real redis-server 7.0.15.

- DUMP in redis-server -> :func:`load_payload` gives the values redis-server reports.
- :func:`dump_payload` -> RESTORE in redis-server gives the same values and the
  OBJECT ENCODING Redis gave the original, and the payload is byte for byte
  Redis's own DUMP wherever Redis's output is deterministic (everything but
  hashtable-encoded sets and hashes, whose order is the dict's).
- A dump.rdb saved by redis-server is read whole and equals what it holds.
- A dump.rdb written here is loaded by a redis-server started on it (key by
  key) and passes redis-check-rdb.
- Older encodings (ziplist, zipmap, quicklist 1, RDB version 9) crafted from
  the format description load the same in redis-server and here.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

from hush.core.errors import CommandError
from hush.formats import intset, rdb
from hush.formats.crc64 import crc64
from hush.formats.rdb import Thresholds
from hush.formats.rdb_file import AuxRecord, FunctionRecord, KeyRecord, RdbFileReader, RdbFileWriter
from hush.formats.rdb_payload import dump_payload, load_payload
from hush.formats.rdb_stream import Consumer, ConsumerGroup, PendingEntry, Stream
from tests.support import REDIS_SERVER, ServerProcess, free_port
from tests.unit.formats.test_formats_ziplist import craft as craft_ziplist
from tests.unit.formats.test_formats_zipmap import craft as craft_zipmap

pytestmark = pytest.mark.differential

REDIS_CHECK_RDB = shutil.which("redis-check-rdb")
LIBRARY = "#!lua name=rdblib\nredis.register_function('answer', function() return 42 end)"


def start_redis_in(directory: Path, dbfilename: str = "dump.rdb", *extra: str) -> ServerProcess:
    port = free_port()
    argv = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no",
            "--enable-debug-command", "yes", "--dir", str(directory), "--dbfilename", dbfilename,
            *extra]
    return ServerProcess(argv, port)


@pytest.fixture(scope="module")
def workdir():
    path = Path(tempfile.mkdtemp(prefix="hush-rdb-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def server(workdir):
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    proc = start_redis_in(workdir)
    yield proc
    proc.stop()


@pytest.fixture
def r(server):
    conn = redis.Redis(port=server.port)
    conn.flushall()
    conn.function_flush()
    yield conn
    conn.config_set("rdbcompression", "yes")
    conn.config_set("maxmemory-policy", "noeviction")
    conn.close()


# -- what Redis holds, as neutral values ---------------------------------------------------


def parse_id(text: bytes) -> tuple[int, int]:
    ms, seq = text.split(b"-")
    return int(ms), int(seq)


def redis_stream(r: redis.Redis, key: bytes) -> Stream:
    info = r.execute_command("XINFO", "STREAM", key, "FULL", "COUNT", "0")
    stream = Stream(
        entries={parse_id(i): list(zip(f[0::2], f[1::2], strict=True)) for i, f in info[b"entries"]},
        last_id=parse_id(info[b"last-generated-id"]),
        first_id=parse_id(info[b"recorded-first-entry-id"]),
        max_deleted_entry_id=parse_id(info[b"max-deleted-entry-id"]),
        entries_added=info[b"entries-added"],
    )
    for g in info[b"groups"]:
        entries_read = g[b"entries-read"]
        group = ConsumerGroup(g[b"name"], parse_id(g[b"last-delivered-id"]),
                              -1 if entries_read is None else entries_read)
        for entry_id, consumer, delivered, count in g[b"pending"]:
            group.pel[parse_id(entry_id)] = PendingEntry(consumer, delivered, count)
        for c in g[b"consumers"]:
            group.consumers.append(Consumer(c[b"name"], c[b"seen-time"],
                                            [parse_id(p[0]) for p in c[b"pending"]]))
        stream.groups.append(group)
    return stream


def redis_value(r: redis.Redis, key: bytes):
    kind = r.type(key).decode()
    if kind == "string":
        return kind, r.get(key)
    if kind == "list":
        return kind, r.lrange(key, 0, -1)
    if kind == "set":
        return kind, r.smembers(key)
    if kind == "zset":
        return kind, [(m, float(s)) for m, s in r.zrange(key, 0, -1, withscores=True)]
    if kind == "hash":
        return kind, r.hgetall(key)
    assert kind == "stream", kind
    return kind, redis_stream(r, key)


def populate(r: redis.Redis) -> None:
    """Keys of every type in every encoding Redis 7.0.15 gives them by default."""
    r.set("str:small", "hello")
    r.set("str:int8", "-7")
    r.set("str:int32", "2000000000")
    r.set("str:int64", "123456789012345")
    r.set("str:empty", "")
    r.set("str:compressible", "abcdefgh" * 40)
    r.set("str:random", bytes(range(256)))
    r.set("str:binary-key\x00\xff", "v")
    r.rpush("list:small", "a", "1", "-5", "hello", "x" * 100, "300000", "9223372036854775807")
    r.rpush("list:nodes", *[("item%d" % i) * 3 for i in range(3000)])
    r.rpush("list:long", "y" * 5000, "z" * 20000)
    r.sadd("set:intset16", 1, 2, 3, -300)
    r.sadd("set:intset64", 1, 2 ** 40, -(2 ** 62))
    r.sadd("set:hashtable", "a", "b", "c", "1")
    r.sadd("set:many-ints", *range(600))
    r.hset("hash:listpack", mapping={"a": "1", "b": "hello", "c": "x" * 64, "d": "-70000"})
    r.hset("hash:long-value", mapping={"a": "1", "b": "x" * 65})
    r.hset("hash:many", mapping={"f%d" % i: i for i in range(200)})
    r.zadd("zset:listpack", {"a": 1, "b": 1.5, "c": -0.25, "d": float("inf"), "e": 1e300,
                             "f": 0.1, "g": float("-inf"), "h": 0, "i": 2 ** 53})
    r.zadd("zset:skiplist", {"m%d" % i: i * 0.5 for i in range(300)})
    r.zadd("zset:long-member", {"m" * 65: 1, "b": 2})
    for i in range(10):
        r.xadd("stream:same-fields", {"f1": "v%d" % i, "f2": i}, id="%d-%d" % (1000 + i, i))
    r.xadd("stream:same-fields", {"other": "x"}, id="2000-0")
    for i in range(250):
        r.xadd("stream:nodes", {"a": i, "b": "y" * i}, id="%d-0" % (i + 1))
    for i in range(20):
        r.xadd("stream:groups", {"n": i}, id="%d-1" % (i + 1))
    r.xdel("stream:groups", "3-1", "20-1")
    r.xgroup_create("stream:groups", "g1", id="0")
    r.xgroup_create("stream:groups", "g0", id="$")
    r.execute_command("XGROUP", "CREATE", "stream:groups", "g2", "5-1", "ENTRIESREAD", "4")
    r.xreadgroup("g1", "alice", {"stream:groups": ">"}, count=3)
    r.xreadgroup("g1", "bob", {"stream:groups": ">"}, count=2)
    r.xgroup_createconsumer("stream:groups", "g1", "carol")
    r.xack("stream:groups", "g1", "1-1")
    r.xclaim("stream:groups", "g1", "bob", 0, ["2-1"])
    r.xadd("stream:emptied", {"a": "b"}, id="7-7")
    r.xdel("stream:emptied", "7-7")
    r.xgroup_create("stream:empty-group", "g", id="$", mkstream=True)
    r.set("expiring", "soon", px=10 ** 9)


def keys_of(r: redis.Redis) -> list[bytes]:
    return sorted(r.keys())


# -- DUMP / RESTORE --------------------------------------------------------------------


def test_dump_decodes_to_what_redis_holds(r):
    populate(r)
    for key in keys_of(r):
        assert load_payload(r.dump(key)) == redis_value(r, key), key


# No byte comparison for these: Redis writes a hashtable set or hash in its
# dict's order, and a stream's deleted entries stay in its listpacks as
# tombstones (history the value does not carry).
UNORDERED = {b"set:hashtable", b"set:many-ints", b"hash:long-value", b"hash:many",
             b"stream:groups", b"stream:emptied"}


@pytest.mark.parametrize("compression", [True, False], ids=["rdbcompression", "no-compression"])
def test_our_payloads_restore_like_the_original(r, compression):
    r.config_set("rdbcompression", "yes" if compression else "no")
    populate(r)
    thresholds = Thresholds(rdb_compression=compression)
    for key in keys_of(r):
        kind, value = redis_value(r, key)
        payload = dump_payload(kind, value, thresholds)
        if key not in UNORDERED:
            assert payload == r.dump(key), key
        copy = b"copy:" + key
        assert r.restore(copy, 0, payload)
        assert r.object("encoding", copy) == r.object("encoding", key), key
        assert redis_value(r, copy) == (kind, value), key
        r.delete(copy)


def test_non_default_thresholds(r):
    settings = {
        "list-max-listpack-size": "5", "hash-max-listpack-entries": "3",
        "hash-max-listpack-value": "4", "set-max-intset-entries": "3",
        "zset-max-listpack-entries": "2", "zset-max-listpack-value": "3",
        "stream-node-max-entries": "4", "stream-node-max-bytes": "0",
    }
    thresholds = Thresholds(
        list_max_listpack_size=5, hash_max_listpack_entries=3, hash_max_listpack_value=4,
        set_max_intset_entries=3, zset_max_listpack_entries=2, zset_max_listpack_value=3,
        stream_node_max_entries=4, stream_node_max_bytes=0,
    )
    old = {name: r.config_get(name)[name] for name in settings}
    try:
        for name, value in settings.items():
            r.config_set(name, value)
        r.rpush("l", *range(13))
        r.hset("h1", mapping={"a": "1", "b": "2", "c": "3"})
        r.hset("h2", mapping={"a": "1", "b": "2", "c": "3", "d": "4"})
        r.hset("h3", mapping={"a": "12345"})
        r.sadd("s1", 1, 2, 3)
        r.sadd("s2", 1, 2, 3, 4)
        r.zadd("z1", {"a": 1, "b": 2})
        r.zadd("z2", {"a": 1, "b": 2, "c": 3})
        r.zadd("z3", {"abcd": 1})
        for i in range(10):
            r.xadd("st", {"f": i} if i % 3 else {"g": i, "f": i}, id="%d-0" % (i + 1))
        for key in keys_of(r):
            kind, value = redis_value(r, key)
            payload = dump_payload(kind, value, thresholds)
            if r.object("encoding", key) not in (b"hashtable",):
                assert payload == r.dump(key), key
            r.restore(b"copy:" + key, 0, payload)
            assert r.object("encoding", b"copy:" + key) == r.object("encoding", key), key
    finally:
        for name, value in old.items():
            r.config_set(name, value)


def test_plain_list_nodes(r):
    r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100")
    try:
        r.rpush("l", "a", "x" * 150, "b", "c", "y" * 200)
        kind, value = redis_value(r, "l")
        payload = dump_payload(kind, value, Thresholds(list_packed_threshold=100))
        assert payload == r.dump("l")
        assert load_payload(payload) == ("list", value)
    finally:
        r.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1GB")


def test_compressed_list_nodes_are_read(r):
    # With list-compress-depth, Redis keeps inner quicklist nodes LZF-compressed
    # and writes them as they are.
    r.config_set("list-compress-depth", "1")
    try:
        r.rpush("l", *[("element %d " % i) * 4 for i in range(3000)])
        payload = r.dump("l")
        assert payload.count(b"\x02\xc3") > 1  # compressed packed nodes
        assert load_payload(payload) == redis_value(r, "l")
    finally:
        r.config_set("list-compress-depth", "0")


def test_restore_errors_match(r):
    good = dump_payload("string", b"v")
    bad_checksum = good[:-1] + bytes([good[-1] ^ 1])
    sealed = [head + struct.pack("<Q", crc64(head)) for head in (
        b"\x00\x0fab\x0a\x00",      # a string longer than the payload
        b"\x02\x00\x0a\x00",        # an empty set
        b"\x00\x01v\x0b\x00",       # RDB version 11
        b"\x14\x01v\x0a\x00",       # unknown type 20
    )]
    for payload in (bad_checksum, b"short", *sealed):
        with pytest.raises(redis.ResponseError) as info:
            r.restore("k", 0, payload)
        with pytest.raises(CommandError) as ours:
            load_payload(payload)
        assert ours.value.message == "ERR " + str(info.value)
    # A string a little too long takes the footer's bytes, in Redis as here.
    head = b"\x00\x05ab\x0a\x00"
    payload = head + struct.pack("<Q", crc64(head))
    assert r.restore("k", 0, payload)
    assert load_payload(payload) == redis_value(r, "k")


# -- dump.rdb files --------------------------------------------------------------------


def expire_of(r: redis.Redis, key: bytes) -> int | None:
    deadline = r.execute_command("PEXPIRETIME", key)
    return None if deadline < 0 else deadline


def test_redis_dump_rdb_is_read_whole(r, workdir):
    populate(r)
    r.function_load(LIBRARY)
    r.select(2)
    r.set("in-db-2", "x")
    r.select(0)
    r.save()
    reader = RdbFileReader(open(workdir / "dump.rdb", "rb"), chunk_size=4096)
    records = list(reader)
    assert reader.checksum_verified and reader.version == 10
    aux = {rec.name: rec.value for rec in records if isinstance(rec, AuxRecord)}
    assert aux[b"redis-ver"] == b"7.0.15" and aux[b"redis-bits"] == b"64"
    assert [rec.code for rec in records if isinstance(rec, FunctionRecord)] == [LIBRARY.encode()]
    keys = {(rec.db, rec.key): rec for rec in records if isinstance(rec, KeyRecord)}
    assert keys[(2, b"in-db-2")].value == b"x"
    db0 = {key: rec for (db, key), rec in keys.items() if db == 0}
    assert sorted(db0) == keys_of(r)
    for key, rec in db0.items():
        assert (rec.kind, rec.value) == redis_value(r, key), key
        assert rec.expire_ms == expire_of(r, key), key


@pytest.mark.parametrize("policy,field", [("allkeys-lru", "lru_idle"), ("allkeys-lfu", "lfu_freq")])
def test_eviction_metadata_in_redis_files(r, workdir, policy, field):
    r.config_set("maxmemory-policy", policy)
    r.set("k", "v")
    r.save()
    (rec,) = [x for x in RdbFileReader(open(workdir / "dump.rdb", "rb")) if isinstance(x, KeyRecord)]
    assert getattr(rec, field) is not None


def test_our_dump_rdb_loads_in_redis(r, tmp_path):
    populate(r)
    r.function_load(LIBRARY)
    path = tmp_path / "ours.rdb"
    keys = keys_of(r)
    expected = {key: (redis_value(r, key), expire_of(r, key)) for key in keys}
    with open(path, "wb") as out:
        writer = RdbFileWriter(out, chunk_size=8192)
        writer.write_header(ctime=int(time.time()), used_mem=1 << 20)
        writer.write_function(LIBRARY.encode())
        writer.select_db(0, len(keys), sum(1 for _, exp in expected.values() if exp))
        for key in keys:
            (kind, value), expire_ms = expected[key]
            writer.write_key(key, kind, value, expire_ms=expire_ms)
        writer.select_db(5, 1, 0)
        writer.write_key(b"in-db-5", "string", b"five")
        writer.finish()
    check = subprocess.run([REDIS_CHECK_RDB, str(path)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "RDB looks OK" in check.stdout
    loaded = start_redis_in(tmp_path, "ours.rdb")
    try:
        other = redis.Redis(port=loaded.port)
        assert keys_of(other) == keys
        for key in keys:
            assert (redis_value(other, key), expire_of(other, key)) == expected[key], key
            assert other.object("encoding", key) == r.object("encoding", key), key
        assert other.fcall("answer", 0) == 42
        other.select(5)
        assert other.get("in-db-5") == b"five"
    finally:
        loaded.stop()


def seal_file(body: bytes, version: int = 9) -> bytes:
    head = b"REDIS%04d" % version + body + b"\xff"
    return head + struct.pack("<Q", crc64(head))


def test_older_encodings_load_alike(tmp_path):
    """Crafted ziplist/zipmap/quicklist-1/old-type records: what redis-server loads, we read."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    s = rdb.encode_string
    zl_list = craft_ziplist([b"\x01a", b"\xfe\x07", b"\xd0" + struct.pack("<i", 100000)])
    zl_hash = craft_ziplist([b"\x02f1", b"\x02v1", b"\x02f2", b"\xf3"])
    zl_zset = craft_ziplist([b"\x01a", b"\x031.5", b"\x01b", b"\xf4"])
    body = b"\xfe\x00"
    body += bytes((rdb.TYPE_LIST_ZIPLIST,)) + s(b"zl-list") + s(zl_list)
    body += bytes((rdb.TYPE_LIST_QUICKLIST,)) + s(b"ql1-list") + b"\x02" + s(zl_list) + s(craft_ziplist([b"\x01z"]))
    body += bytes((rdb.TYPE_HASH_ZIPLIST,)) + s(b"zl-hash") + s(zl_hash)
    body += bytes((rdb.TYPE_HASH_ZIPMAP,)) + s(b"zm-hash") + s(craft_zipmap([(b"f", b"v"), (b"g", b"w" * 300)]))
    body += bytes((rdb.TYPE_ZSET_ZIPLIST,)) + s(b"zl-zset") + s(zl_zset)
    body += bytes((rdb.TYPE_ZSET,)) + s(b"old-zset") + b"\x02" + s(b"m") + rdb.encode_string_double(2.5) \
        + s(b"n") + rdb.encode_string_double(float("-inf"))
    body += bytes((rdb.TYPE_LIST,)) + s(b"old-list") + b"\x02" + s(b"p") + s(b"12")
    body += bytes((rdb.TYPE_SET_INTSET,)) + s(b"intset") + s(intset.encode([5, -3, 70000]))
    body += b"\xfd" + struct.pack("<i", 2_000_000_000) + bytes((rdb.TYPE_STRING,)) + s(b"sec-expiry") + s(b"v")
    data = seal_file(body)
    (tmp_path / "old.rdb").write_bytes(data)
    ours = {rec.key: rec for rec in RdbFileReader(io.BytesIO(data)) if isinstance(rec, KeyRecord)}
    loaded = start_redis_in(tmp_path, "old.rdb")
    try:
        other = redis.Redis(port=loaded.port)
        assert sorted(ours) == keys_of(other)
        for key, rec in ours.items():
            assert (rec.kind, rec.value) == redis_value(other, key), key
            assert rec.expire_ms == expire_of(other, key)
    finally:
        loaded.stop()
