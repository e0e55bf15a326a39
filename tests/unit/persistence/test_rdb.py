"""dump.rdb: saving and loading every type, start-up loading and refusal, save points,
DEBUG RELOAD, the AOF's RDB preamble, the function-library seam, RESTORE's
propagation, and a fuzz test of the RDB reader."""

from __future__ import annotations

import io
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest

from hush.data.types.registry import to_neutral
from hush.data.types.stream import Stream
from hush.formats import rdb as rdb_format
from hush.formats.rdb_file import FunctionRecord, KeyRecord, RdbFileReader
from hush.persistence import rdb
from hush.persistence.aof import parse
from hush.persistence.check_aof import run as check_aof
from tests.support import FakeServer
from tests.unit.persistence.test_aof import dataset as aof_dataset
from tests.unit.persistence.test_aof import encode


def dataset(server: FakeServer) -> dict[int, dict[bytes, Any]]:
    """Every live key of every database, streams in RDB's (comparable) model."""
    out = aof_dataset(server)
    for keys in out.values():
        for key, (kind, value, deadline) in keys.items():
            if isinstance(value, Stream):
                keys[key] = (kind, to_neutral(value)[1], deadline)
    return out


def server_in(tmp_path: Path, **settings: Any) -> FakeServer:
    """A FakeServer persisting into ``tmp_path``, loaded as at start."""
    server = FakeServer(dir=str(tmp_path), maxkeys=0, **settings)
    server.service.persistence.start()
    return server


def fill(client) -> None:
    """One key of every type and encoding, in several databases, some with a TTL."""
    client.call("SET", "int", "12345")
    client.call("SET", "str", "hello" * 30, "PX", "100000")
    client.call("RPUSH", "list", *[f"e{i}" for i in range(700)])
    client.call("SADD", "intset", "3", "1", "2")
    client.call("SADD", "set", "a", "b")
    client.call("HSET", "hash", "f", "v", "g", "w")
    client.call("HSET", "bighash", "f", "v" * 100)
    client.call("ZADD", "zset", "1", "a", "2.5", "b", "-inf", "c")
    client.call("ZADD", "bigzset", *[x for i in range(150) for x in (str(i), f"m{i}")])
    client.call("XADD", "stream", "1-1", "f", "v")
    client.call("XADD", "stream", "2-2", "f", "w")
    client.call("XGROUP", "CREATE", "stream", "g", "0")
    client.call("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "stream", ">")
    client.call("XGROUP", "CREATECONSUMER", "stream", "g", "bob")
    client.call("SELECT", "3")
    client.call("SET", "three", "3")
    client.call("SELECT", "0")


def restarted(server: FakeServer, tmp_path: Path, **settings: Any) -> FakeServer:
    """A new server on ``tmp_path`` at ``server``'s time, loaded as at start."""
    settings.setdefault("maxkeys", 0)
    again = FakeServer(dir=str(tmp_path), **settings)
    again.clock.advance(server.clock.seconds() - again.clock.seconds())
    again.service.persistence.start()
    return again


def info(client) -> dict[str, str]:
    text = client.call("INFO", "persistence").decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def test_save_and_load_keep_every_type_ttl_and_database(tmp_path):
    server = server_in(tmp_path)
    client = server.client()
    fill(client)
    expected = dataset(server)
    assert client.call("SAVE") == b"OK"
    again = restarted(server, tmp_path)
    again.service.persistence.start()  # a second start loads nothing again
    assert dataset(again) == expected
    other = again.client()
    assert other.call("XPENDING", "stream", "g") == [2, b"1-1", b"2-2", [[b"alice", b"2"]]]
    assert other.call("OBJECT", "ENCODING", "bigzset") == b"skiplist"
    assert info(other)["rdb_last_load_keys_loaded"] == "11"


def test_expired_keys_are_dropped_at_load_and_counted(tmp_path):
    server = server_in(tmp_path)
    client = server.client()
    client.call("SET", "soon", "v", "PX", "500")
    client.call("SET", "later", "v", "EX", "500")
    client.call("SAVE")
    server.clock.advance(1)
    again = restarted(server, tmp_path)
    assert again.client().call("KEYS", "*") == [b"later"]
    fields = info(again.client())
    assert (fields["rdb_last_load_keys_loaded"], fields["rdb_last_load_keys_expired"]) == (
        "1", "1")


def test_maxkeys_applies_to_a_loaded_file_with_a_warning(tmp_path, logged):
    server = server_in(tmp_path)
    client = server.client()
    for index in range(30):
        client.call("SET", f"k{index}", "v")
    client.call("SAVE")
    small = restarted(server, tmp_path, maxkeys=10)
    assert small.client().call("DBSIZE") == 10
    assert any("more than maxkeys 10" in str(event.get("log_format", "")).format(**event)
               for event in logged if "log_format" in event)


def test_the_aof_wins_over_the_dump_file_at_start(tmp_path):
    server = server_in(tmp_path)
    server.client().call("SET", "from-rdb", "1")
    server.client().call("SAVE")
    (tmp_path / "appendonly.aof").write_bytes(encode([b"SET", b"from-aof", b"1"]))
    again = restarted(server, tmp_path, appendonly=True)
    assert again.client().call("KEYS", "*") == [b"from-aof"]


@pytest.mark.parametrize("damage, offset", [
    (lambda data: data[:-20], "Unexpected EOF reading RDB file"),
    (lambda data: data[:-1] + bytes([data[-1] ^ 0xFF]), "RDB CRC error"),
    (lambda data: b"REDIS0099" + data[9:], "Can't handle RDB format version 0099"),
])
def test_a_damaged_file_stops_the_start_naming_the_offset(tmp_path, capsys, damage, offset):
    server = server_in(tmp_path)
    server.client().call("SET", "k", "v" * 40)
    server.client().call("SAVE")
    path = tmp_path / "dump.rdb"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(SystemExit):
        restarted(server, tmp_path)
    error = capsys.readouterr().err
    assert "Internal error in RDB reading offset" in error and offset in error
    assert "Terminating server after rdb file reading failure." in error


def test_a_key_in_a_database_past_databases_stops_the_start(tmp_path, capsys):
    server = server_in(tmp_path)
    client = server.client()
    client.call("SELECT", "9")
    client.call("SET", "k", "v")
    client.call("SAVE")
    with pytest.raises(SystemExit):
        restarted(server, tmp_path, databases=4)
    assert "configured to handle more than 4 databases" in capsys.readouterr().err


def wait_for_children(server: FakeServer) -> None:
    deadline = time.monotonic() + 20
    while server.service.persistence.rewriting:
        assert time.monotonic() < deadline, "the child did not finish"
        time.sleep(0.01)
        server.clock.advance(0.05)


def test_save_points_start_a_bgsave(tmp_path):
    server = server_in(tmp_path, save="100 2 5 1000")
    client = server.client()
    client.call("SET", "a", "1")
    server.clock.advance(200)
    assert not (tmp_path / "dump.rdb").exists(), "one change, two needed"
    client.call("SET", "b", "1")
    server.clock.advance(1)
    assert server.service.persistence.saving
    wait_for_children(server)
    assert info(client)["rdb_changes_since_last_save"] == "0"
    assert info(client)["rdb_saves"] == "1"
    with open(tmp_path / "dump.rdb", "rb") as handle:
        assert sorted(r.key for r in RdbFileReader(handle) if isinstance(r, KeyRecord)) == [
            b"a", b"b"]
    client.call("SET", "c", "1")
    server.clock.advance(50)
    assert not server.service.persistence.saving, "100 seconds have not passed"
    client.call("CONFIG", "SET", "save", "")
    server.clock.advance(200)
    assert not server.service.persistence.saving, "no save points left"


def test_writes_are_refused_after_a_failed_bgsave_until_a_save_works(tmp_path, monkeypatch):
    from hush.commands.dispatch import MISCONF_RDB

    server = server_in(tmp_path, save="3600 1")
    client, other = server.client(), server.client(40001)
    client.call("SET", "a", "1")

    def failing(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(rdb, "write_dataset", failing)  # the child inherits it
    assert client.call("BGSAVE") == b"Background saving started"
    wait_for_children(server)
    assert info(client)["rdb_last_bgsave_status"] == "err"
    assert str(client.call("SET", "b", "1")) == MISCONF_RDB
    assert str(other.call("PING")) == MISCONF_RDB
    assert client.call("GET", "a") == b"1", "reads go on"
    client.call("MULTI")
    assert str(client.call("SET", "b", "1")) == MISCONF_RDB
    assert str(client.call("EXEC")).startswith("EXECABORT")
    client.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "no")
    assert client.call("SET", "b", "1") == b"OK"
    client.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes")
    assert str(client.call("SET", "b", "1")) == MISCONF_RDB
    monkeypatch.undo()
    assert client.call("SAVE") == b"OK"
    assert client.call("SET", "b", "2") == b"OK"
    assert info(client)["rdb_last_bgsave_status"] == "ok"


def test_a_stop_by_signal_saves_when_save_points_are_set(tmp_path):
    server = server_in(tmp_path, save="3600 1")
    server.client().call("SET", "a", "1")
    server.service.startService()
    server.service.stopService()
    assert restarted(server, tmp_path).client().call("GET", "a") == b"1"
    quiet = server_in(tmp_path / "quiet")
    quiet.client().call("SET", "a", "1")
    quiet.service.startService()
    quiet.service.stopService()
    assert not (tmp_path / "quiet" / "dump.rdb").exists()


def test_flushall_with_save_points_saves_the_empty_set(tmp_path):
    server = server_in(tmp_path, save="3600 1")
    client = server.client()
    client.call("SET", "a", "1")
    client.call("SAVE")
    client.call("FLUSHALL")
    assert info(client)["rdb_changes_since_last_save"] == "1", "FLUSHALL counts after its save"
    assert restarted(server, tmp_path).client().call("DBSIZE") == 0
    plain = server_in(tmp_path / "plain")
    plain.client().call("SET", "a", "1")
    plain.client().call("SAVE")
    plain.client().call("FLUSHALL")
    assert restarted(plain, tmp_path / "plain").client().call("DBSIZE") == 1


def test_debug_reload(tmp_path):
    server = server_in(tmp_path, enable_debug_command="yes")
    client = server.client()
    fill(client)
    expected = dataset(server)
    assert client.call("DEBUG", "RELOAD") == b"OK"
    assert dataset(server) == expected
    client.call("SET", "extra", "1")
    client.call("SET", "int", "changed")
    assert client.call("DEBUG", "RELOAD", "NOSAVE") == b"OK"
    assert dataset(server) == expected
    client.call("SET", "extra", "1")
    assert str(client.call("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH")) == (
        "ERR Error trying to load the RDB dump")
    assert client.call("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE") == b"OK"
    assert client.call("GET", "extra") == b"1"
    assert str(client.call("DEBUG", "RELOAD", "NOW")) == (
        "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")


def test_values_are_written_in_the_encoding_the_thresholds_gave_them(tmp_path):
    """As Redis writes o->encoding: CONFIG SET of a threshold converts nothing,
    a write past it converts for good (see tests/differential/test_encodings.py)."""
    server = server_in(tmp_path)
    client = server.client()
    client.call("HSET", "h", "a", "1", "b", "2")
    assert client.call("DUMP", "h")[0] == rdb_format.TYPE_HASH_LISTPACK
    client.call("CONFIG", "SET", "hash-max-listpack-entries", "1")
    assert client.call("DUMP", "h")[0] == rdb_format.TYPE_HASH_LISTPACK
    client.call("HSET", "h2", "a", "1", "b", "2")
    client.call("CONFIG", "SET", "hash-max-listpack-entries", "512")
    client.call("HDEL", "h2", "b")
    assert client.call("DUMP", "h2")[0] == rdb_format.TYPE_HASH
    assert client.call("SAVE") == b"OK"
    types = {record.key: record.rdb_type for record in RdbFileReader(
        (tmp_path / "dump.rdb").open("rb")) if isinstance(record, KeyRecord)}
    assert types == {b"h": rdb_format.TYPE_HASH_LISTPACK, b"h2": rdb_format.TYPE_HASH}


def test_loaded_values_keep_the_encoding_the_thresholds_gave_them(tmp_path):
    server = server_in(tmp_path)
    client = server.client()
    client.call("HSET", "big", *[item for n in range(600) for item in (b"f%d" % n, b"v")])
    client.call("SADD", "ints", *range(600))
    assert client.call("SAVE") == b"OK"
    loaded = restarted(server, tmp_path).client()
    loaded.call("CONFIG", "SET", "hash-max-listpack-entries", "1000")
    loaded.call("CONFIG", "SET", "set-max-intset-entries", "1000")
    assert loaded.call("OBJECT", "ENCODING", "big") == b"hashtable"
    assert loaded.call("OBJECT", "ENCODING", "ints") == b"hashtable"


class Libraries:
    """A stand-in for the server's FUNCTION libraries (hush.scripting.functions)."""

    def __init__(self, codes: list[bytes]) -> None:
        self.codes = codes

    def dump_sources(self) -> list[bytes]:
        return list(self.codes)

    def load_sources(self, sources) -> None:
        self.codes += list(sources)

    def flush(self) -> None:
        self.codes = []


CODE = b"#!lua name=mylib\nredis.register_function('f', function() return 1 end)"


def test_function_libraries_are_saved_and_loaded_through_the_servers_libraries(tmp_path):
    server = server_in(tmp_path, enable_debug_command="yes")
    server.service.functions = Libraries([CODE])
    server.client().call("SAVE")
    with open(tmp_path / "dump.rdb", "rb") as handle:
        assert [r.code for r in RdbFileReader(handle) if isinstance(r, FunctionRecord)] == [CODE]
    assert server.client().call("DEBUG", "RELOAD") == b"OK"
    assert server.service.functions.codes == [CODE], "emptied, then loaded back"
    loaded = FakeServer(dir=str(tmp_path), maxkeys=0)
    loaded.service.functions = Libraries([])
    loaded.service.persistence.start()
    assert loaded.service.functions.codes == [CODE]


def test_without_function_libraries_a_files_libraries_are_kept_and_written_back(tmp_path):
    server = server_in(tmp_path)
    server.service.functions = Libraries([CODE])
    server.client().call("SAVE")
    bare = FakeServer(dir=str(tmp_path), maxkeys=0)
    bare.service.functions = None
    bare.service.persistence.start()
    assert bare.service.persistence.unclaimed_functions == [CODE]
    bare.client().call("SAVE")
    with open(tmp_path / "dump.rdb", "rb") as handle:
        assert [r.code for r in RdbFileReader(handle) if isinstance(r, FunctionRecord)] == [CODE]


# -- the AOF's RDB preamble ----------------------------------------------------------------


def test_a_rewrite_writes_an_rdb_preamble_then_commands(tmp_path, capsys):
    server = server_in(tmp_path, appendonly=True)
    client = server.client()
    fill(client)
    assert client.call("BGREWRITEAOF") == b"Background append only file rewriting started"
    client.call("SET", "during", "1")
    wait_for_children(server)
    client.call("SET", "after", "1")
    expected = dataset(server)
    data = (tmp_path / "appendonly.aof").read_bytes()
    assert data.startswith(b"REDIS0010")
    reader = RdbFileReader(io.BytesIO(data))
    aux = {r.name: r.value for r in reader if not isinstance(r, KeyRecord) and hasattr(r, "name")}
    assert aux[b"aof-base"] == b"1"
    tail = [argv for argv, _end in parse(data, reader.offset)]
    assert [b"SET", b"during", b"1"] in tail and tail[-1] == [b"SET", b"after", b"1"]
    assert dataset(restarted(server, tmp_path, appendonly=True)) == expected
    assert check_aof(str(tmp_path / "appendonly.aof"), False, _out := io.StringIO(),
                     io.StringIO()) == 0
    assert "RDB preamble is OK, proceeding with AOF tail..." in _out.getvalue()


def test_preamble_keys_past_their_deadline_are_kept_for_the_commands_after(tmp_path):
    server = server_in(tmp_path, appendonly=True)
    client = server.client()
    client.call("SET", "k", "v", "PX", "1000")
    client.call("BGREWRITEAOF")
    wait_for_children(server)
    client.call("PERSIST", "k")
    server.clock.advance(5)  # past the deadline in the preamble, but PERSIST follows
    assert restarted(server, tmp_path, appendonly=True).client().call("GET", "k") == b"v"


# -- RESTORE's propagation -----------------------------------------------------------------


def test_restore_propagates_its_absolute_deadline(tmp_path):
    server = server_in(tmp_path, appendonly=True, accepted={"aof-use-rdb-preamble": False})
    client = server.client()
    client.call("SET", "src", "v")
    payload = client.call("DUMP", "src")
    client.call("RESTORE", "k", "5000", payload)
    deadline = int(server.clock.seconds() * 1000) + 5000
    client.call("SET", "old", "v")
    client.call("RESTORE", "old", "1", payload, "REPLACE", "ABSTTL")
    logged = [argv for argv, _end in parse((tmp_path / "appendonly.aof").read_bytes())]
    assert [b"RESTORE", b"k", b"%d" % deadline, payload, b"ABSTTL"] in logged
    assert logged[-1] == [b"DEL", b"old"], "a restore already expired is a deletion"


# -- fuzzing the reader ----------------------------------------------------------------------


def test_fuzzed_files_give_rdb_errors_only(tmp_path):
    """Random damage to a real file: the reader answers with RdbError or loads; nothing else."""
    server = server_in(tmp_path)
    fill(server.client())
    server.client().call("SAVE")
    good = (tmp_path / "dump.rdb").read_bytes()
    rng = random.Random(12)
    for _ in range(1500):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            how = rng.random()
            at = rng.randrange(len(data))
            if how < 0.5:
                data[at] = rng.randrange(256)
            elif how < 0.7:
                del data[at:at + rng.randint(1, 30)]
            elif how < 0.85:
                data[at:at] = os.urandom(rng.randint(1, 8))
            else:
                data[at:at + 4] = b"\xff\xff\xff\x7f"  # an absurd length
        store = FakeServer(maxkeys=0).service.store
        try:
            rdb.load_dataset(store, io.BytesIO(bytes(data)), now_ms=store.now_ms())
        except rdb_format.RdbError as error:
            assert 0 <= error.offset <= len(data)
