"""The AOF end to end: real twistd processes restarted on their file, a real
redis-server loading Hush's file, redis-check-aof accepting it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis

from tests.support import REDIS_SERVER, REPO, ServerProcess, free_port, start_hush, twistd_path

REDIS_CHECK_AOF = shutil.which("redis-check-aof")


def hush(tmp_path: Path, *extra: str) -> ServerProcess:
    return start_hush("--appendonly", "--dir", str(tmp_path), *extra)


def connect(server: ServerProcess) -> redis.Redis:
    return redis.Redis(port=server.port, socket_timeout=10)


def fill(client: redis.Redis) -> None:
    """Some of every type, deadlines, two databases, and rewritten commands."""
    client.set("string", "value")
    client.set("ttl", "v", ex=500)
    client.rpush("list", *[str(i) for i in range(100)])
    client.hset("hash", mapping={f"f{i}": str(i) for i in range(70)})
    client.sadd("set", *[f"m{i}" for i in range(70)])
    client.sadd("popped", "a", "b", "c")
    client.spop("popped")
    client.zadd("zset", {"a": 1.5, "b": -2, "c": 1e100})
    client.incrbyfloat("float", 0.1)
    client.hincrbyfloat("hash", "float", 2.5)
    client.expire("list", 1000)
    client.execute_command("SETEX", "setex", 700, "x")
    with client.pipeline(transaction=True) as pipe:
        pipe.incr("counter")
        pipe.lpush("list", "head")
        pipe.execute()
    client.lpush("queue", "job")
    client.blpop(["queue"], 1)
    # Bitmaps (kept as bytearrays), HyperLogLogs, geo sets and SORT ... STORE.
    client.setbit("bits", 100, 1)
    client.execute_command("BITFIELD", "bits", "INCRBY", "u8", "0", "7")
    client.execute_command("BITOP", "NOT", "notbits", "bits")
    client.pfadd("hll", *[f"e{i}" for i in range(500)])
    client.pfcount("hll")
    client.geoadd("geo", (13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"))
    client.execute_command("GEORADIUS", "geo", "15", "37", "100", "km", "STOREDIST", "near")
    client.execute_command("SORT", "set", "ALPHA", "LIMIT", "0", "10", "STORE", "sorted")
    # A function library, and a write made by one of its functions.
    client.function_load(LIBRARY)
    client.fcall("bump", 1, "bumped")
    other = redis.Redis(port=client.connection_pool.connection_kwargs["port"], db=3)
    other.set("in-db-3", "yes")
    other.close()


LIBRARY = ("#!lua name=counters\n"
           "redis.register_function('bump', function(keys) return redis.call('incr', keys[1]) end)")


def snapshot(client: redis.Redis, databases=(0, 3)) -> dict:
    """Keys, types, values and TTLs of the given databases, and the function libraries."""
    libraries = client.function_list(withcode=True)
    out: dict = {("functions",): ("libraries", sorted(map(repr, libraries)), -1)}
    for index in databases:
        conn = redis.Redis(port=client.connection_pool.connection_kwargs["port"], db=index)
        for key in sorted(conn.keys()):
            kind = conn.type(key).decode()
            if kind == "string":
                value = conn.get(key)
            elif kind == "list":
                value = conn.lrange(key, 0, -1)
            elif kind == "hash":
                value = sorted(conn.hgetall(key).items())
            elif kind == "set":
                value = sorted(conn.smembers(key))
            else:
                value = conn.zrange(key, 0, -1, withscores=True)
            ttl = conn.ttl(key)
            out[(index, key)] = (kind, value, ttl)
        conn.close()
    return out


def same(actual: dict, expected: dict) -> bool:
    """Equal data, and TTLs that agree within the time a restart takes."""
    assert actual.keys() == expected.keys()
    for key, (kind, value, ttl) in expected.items():
        got_kind, got_value, got_ttl = actual[key]
        assert (got_kind, got_value) == (kind, value), key
        assert (got_ttl < 0) == (ttl < 0) and abs(got_ttl - ttl) <= 30, (key, got_ttl, ttl)
    return True


def test_restarts_keep_the_data(tmp_path):
    """One directory through SHUTDOWN, SIGTERM and kill -9 (always, then
    everysec), each followed by a restart that must find everything."""
    # SHUTDOWN: redis-py expects the connection to close without a reply.
    server = hush(tmp_path)
    client = connect(server)
    fill(client)
    expected = snapshot(client)
    client.shutdown()
    assert server.proc.wait(10) == 0

    # SIGTERM, with appendfsync no: stopping the service flushes and fsyncs.
    server = hush(tmp_path, "--appendfsync", "no")
    try:
        client = connect(server)
        assert same(snapshot(client), expected)
        client.set("after-sigterm", "1")
        expected = snapshot(client)
    finally:
        server.stop()
    # twistd stops the services, then exits by the signal it got.
    assert server.proc.returncode in (0, -signal.SIGTERM)

    # kill -9 with appendfsync always: every acknowledged write is on disk.
    server = hush(tmp_path, "--appendfsync", "always")
    try:
        client = connect(server)
        assert same(snapshot(client), expected)
        for index in range(50):
            client.set(f"always{index}", index)
    finally:
        os.kill(server.pid, signal.SIGKILL)
        server.proc.wait(10)

    # kill -9 with everysec: writes older than a second are back.
    server = hush(tmp_path, "--appendfsync", "everysec")
    try:
        client = connect(server)
        assert client.mget([f"always{i}" for i in range(50)]) == [b"%d" % i for i in range(50)]
        for index in range(50):
            client.set(f"everysec{index}", index)
        time.sleep(1.5)
    finally:
        os.kill(server.pid, signal.SIGKILL)
        server.proc.wait(10)

    server = hush(tmp_path)
    try:
        client = connect(server)
        assert client.mget([f"everysec{i}" for i in range(50)]) == [
            b"%d" % i for i in range(50)
        ]
        assert client.get("after-sigterm") == b"1"
        assert client.lrange("list", 0, 0) == [b"head"]
    finally:
        server.stop()


def test_kill_9_under_write_load_loses_no_acknowledged_write(tmp_path):
    """appendfsync always: every write whose reply arrived survives a kill -9
    that lands while writers are still sending."""
    server = hush(tmp_path, "--appendfsync", "always")
    acknowledged = {name: 0 for name in ("w1", "w2", "w3")}
    stop = threading.Event()

    def writer(name: str) -> None:
        client = connect(server)
        try:
            while not stop.is_set():
                # RPUSH answers the new length: the count of acknowledged pushes.
                acknowledged[name] = client.rpush(name, acknowledged[name])
        except redis.exceptions.ConnectionError:
            pass  # the server died under us: the last write may or may not be on disk

    threads = [threading.Thread(target=writer, args=(name,)) for name in acknowledged]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while min(acknowledged.values()) < 200 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(server.pid, signal.SIGKILL)
        server.proc.wait(10)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    assert min(acknowledged.values()) >= 200, acknowledged

    again = hush(tmp_path)
    try:
        client = connect(again)
        for name, count in acknowledged.items():
            stored = client.lrange(name, 0, -1)
            # Everything acknowledged is there, in order; at most the one write
            # in flight at the kill may be there too, unacknowledged.
            assert count <= len(stored) <= count + 1, (name, count, len(stored))
            assert stored[:count] == [b"%d" % i for i in range(count)]
    finally:
        again.stop()


def test_bgrewriteaof_while_a_client_writes(tmp_path):
    server = hush(tmp_path)
    try:
        client = connect(server)
        for index in range(2000):
            client.set(f"key:{index % 50}", index)
        size = (tmp_path / "appendonly.aof").stat().st_size
        assert client.bgrewriteaof() in (True, b"Background append only file rewriting started")
        written = 0
        deadline = time.monotonic() + 20
        while True:
            client.incr("during")
            client.rpush("log", written)
            written += 1
            info = client.info("persistence")
            if not info["aof_rewrite_in_progress"] and info["aof_rewrites"] == 1:
                break
            assert time.monotonic() < deadline
        for _ in range(10):
            client.incr("during")
            written += 1
        assert info["aof_last_bgrewrite_status"] == "ok"
        assert (tmp_path / "appendonly.aof").stat().st_size < size
        expected = snapshot(client, databases=(0,))
        assert client.get("during") == b"%d" % written
    finally:
        server.stop()
    again = hush(tmp_path)
    try:
        assert same(snapshot(connect(again), databases=(0,)), expected)
    finally:
        again.stop()


def _children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _process_state(int(entry)) not in (None, "Z"):
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _process_state(pid: int) -> str | None:
    """The state letter of a process (Z for a zombie), None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_kill_9_during_bgrewriteaof_leaves_no_child_and_no_temp_file(tmp_path):
    """The rewrite child of a killed server stops and removes its temporary file."""
    server = hush(tmp_path, "--maxkeys", "0")
    try:
        client = connect(server)
        value = "v" * 100
        for batch in range(200):
            client.mset({f"key:{batch}:{index}": value for index in range(1000)})
        assert client.bgrewriteaof() in (True, b"Background append only file rewriting started")
        children = _children(server.pid)
        assert len(children) == 1, children
        child = children[0]
        # Stopped, the child cannot finish before its parent is gone,
        # however fast it writes.
        os.kill(child, signal.SIGSTOP)
    finally:
        os.kill(server.pid, signal.SIGKILL)
        server.proc.wait(10)
    os.kill(child, signal.SIGCONT)
    deadline = time.monotonic() + 30
    while _process_state(child) not in (None, "Z"):
        assert time.monotonic() < deadline, "the rewrite child outlived its parent"
        time.sleep(0.01)
    assert sorted(os.listdir(tmp_path)) == ["appendonly.aof"]
    again = hush(tmp_path, "--maxkeys", "0")
    try:
        assert connect(again).dbsize() == 200 * 1000
    finally:
        again.stop()


def test_startup_and_shutdown_log_lines_come_once_in_redis_order(tmp_path):
    """The AOF is loaded after the banner; SHUTDOWN's goodbye is logged once."""
    (tmp_path / "appendonly.aof").write_bytes(b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n")
    server = hush(tmp_path)
    try:
        client = connect(server)
        assert client.get("a") == b"1"
        client.shutdown()
        assert server.proc.wait(10) == 0
    finally:
        server.stop()
    text = server.output()
    order = ["Hush is starting", "Server initialized", "DB loaded from append only file",
             "Ready to accept connections", "User requested shutdown",
             "ready to exit, bye bye"]
    assert [text.count(line) for line in order] == [1] * len(order), text
    assert [text.index(line) for line in order] == sorted(text.index(line) for line in order)


def test_a_corrupt_file_stops_the_server_with_the_offset(tmp_path):
    (tmp_path / "appendonly.aof").write_bytes(
        b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\nnot a command\r\n"
    )
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [twistd_path(), "-n", "--pidfile=", "hush", "--port", f"tcp:{port}:interface=127.0.0.1",
         "--appendonly", "--dir", str(tmp_path)],
        env=env, cwd=str(REPO), capture_output=True, timeout=30,
    )
    assert proc.returncode != 0
    output = (proc.stdout + proc.stderr).decode()
    assert "Bad file format reading the append only file at offset 27" in output


def test_a_truncated_file_loads_and_is_cut_back(tmp_path):
    good = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
    (tmp_path / "appendonly.aof").write_bytes(good + b"*3\r\n$3\r\nSET\r\n$1\r\nb")
    server = hush(tmp_path)
    try:
        assert connect(server).mget(["a", "b"]) == [b"1", None]
        assert (tmp_path / "appendonly.aof").read_bytes() == good
        assert "short read while loading the AOF file" in server.output()
    finally:
        server.stop()


def _wait_for_rewrite(client: redis.Redis, count: int = 1) -> None:
    deadline = time.monotonic() + 20
    while True:
        info = client.info("persistence")
        if not info["aof_rewrite_in_progress"] and info["aof_rewrites"] >= count:
            return
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.fixture(scope="module")
def hush_files(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    """One file as logged and one as rewritten (with writes made during the
    rewrite), each with the data it should load to."""
    directory = tmp_path_factory.mktemp("hush-files")
    server = hush(directory)
    try:
        client = connect(server)
        fill(client)
        client.set("gone", "x", px=50)
        time.sleep(0.2)
        assert client.get("gone") is None  # logged as DEL
        files = {}
        logged = directory / "logged"
        logged.mkdir()
        shutil.copy(directory / "appendonly.aof", logged / "appendonly.aof")
        files["logged"] = (logged / "appendonly.aof", snapshot(client))
        client.bgrewriteaof()
        client.set("written during the rewrite", "1")
        _wait_for_rewrite(client)
        client.rpush("list", "after the rewrite")
        rewritten = directory / "rewritten"
        rewritten.mkdir()
        files["rewritten"] = (rewritten / "appendonly.aof", snapshot(client))
        client.shutdown()
        server.proc.wait(10)
        shutil.copy(directory / "appendonly.aof", rewritten / "appendonly.aof")
    finally:
        server.stop()
    return files


@pytest.mark.skipif(REDIS_CHECK_AOF is None, reason="redis-check-aof is not installed")
@pytest.mark.parametrize("kind", ["logged", "rewritten"])
def test_redis_check_aof_accepts_hush_files(hush_files, kind):
    path, _expected = hush_files[kind]
    result = subprocess.run([REDIS_CHECK_AOF, str(path)], capture_output=True, timeout=30)
    assert result.returncode == 0, result.stdout.decode()
    assert b"is valid" in result.stdout


@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")
@pytest.mark.parametrize("kind", ["logged", "rewritten"])
def test_redis_server_loads_hush_files(hush_files, kind):
    path, expected = hush_files[kind]
    port = free_port()
    redis_server = ServerProcess(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--dir", str(path.parent), "--appendonly", "yes", "--appendfilename", "appendonly.aof",
         "--daemonize", "no", "--protected-mode", "no"],
        port,
    )
    try:
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while client.info("persistence")["loading"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert same(snapshot(client), expected)
    finally:
        redis_server.stop()


# -- what is logged, compared with a real redis-server's AOF ---------------------------

SCRIPT = [
    ["SET", "a", "1"],
    ["SET", "b", "2", "EX", "100"],
    ["SETEX", "c", "100", "x"],
    ["PSETEX", "c2", "100000", "x"],
    ["EXPIRE", "a", "50"],
    ["PEXPIRE", "a", "50000"],
    ["EXPIREAT", "a", "4000000000"],
    ["GETEX", "b", "PX", "500"],
    ["GETEX", "b", "PERSIST"],
    ["SET", "k", "w", "KEEPTTL"],
    ["SET", "x", "y", "EXAT", "9999999999"],
    ["INCRBYFLOAT", "f", "1.5"],
    ["HINCRBYFLOAT", "h", "x", "2"],
    ["SADD", "one", "a"],
    ["SPOP", "one"],
    ["SADD", "s", "a", "b"],
    ["SPOP", "s", "5"],
    ["SRANDMEMBER", "s", "3"],
    ["RPUSH", "l", "a", "b", "c", "d", "e"],
    ["BLPOP", "l", "0"],
    ["BRPOP", "l", "0"],
    ["BLMOVE", "l", "d", "LEFT", "RIGHT", "0"],
    ["BRPOPLPUSH", "l", "d", "0"],
    ["BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "5"],
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
    ["BZPOPMIN", "z", "0"],
    ["BZPOPMAX", "z", "0"],
    ["BZMPOP", "0", "1", "z", "MAX", "COUNT", "3"],
    ["SETBIT", "bits", "7", "1"],
    ["SETBIT", "bits", "7", "1"],
    ["BITFIELD", "bits", "GET", "u8", "0"],
    ["BITFIELD", "bits", "INCRBY", "u8", "8", "3"],
    ["BITOP", "NOT", "nbits", "bits"],
    ["PFADD", "hll", "a", "b"],
    ["PFCOUNT", "hll"],
    ["PFCOUNT", "hll"],
    ["PFMERGE", "hll2", "hll"],
    ["GEOADD", "geo", "CH", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669",
     "Catania"],
    ["GEOADD", "geo", "NX", "13.361389", "38.115556", "Palermo"],
    ["GEORADIUS", "geo", "15", "37", "200", "km", "STORE", "near"],
    ["GEOSEARCHSTORE", "near2", "geo", "FROMMEMBER", "Palermo", "BYRADIUS", "100", "km",
     "STOREDIST"],
    ["GEORADIUS_RO", "geo", "15", "37", "200", "km"],
    ["SET", "t", "v", "PX", "10"],
    ["SLEEP"],
    ["GET", "t"],
    ["MULTI"], ["SET", "m", "1"], ["GET", "m"], ["SELECT", "1"], ["INCR", "n"], ["EXEC"],
    ["MULTI"], ["SET", "only", "1"], ["EXEC"],
    ["MULTI"], ["GET", "only"], ["EXEC"],
    ["FUNCTION", "LOAD", "#!lua name=logged\nredis.register_function('two', function(keys) "
                         "redis.call('set', keys[1], 1) return redis.call('incr', keys[2]) end)"],
    ["FUNCTION", "LOAD", "#!lua name=broken\n"],
    ["FCALL", "two", "2", "x1", "x2"],
    ["FCALL", "nosuch", "0"],
    ["FUNCTION", "DELETE", "logged"],
    ["FUNCTION", "FLUSH"],
    ["EXPIRE", "a", "-1"],
    ["DEL", "nothing"],
    ["SELECT", "2"],
    ["SERVE", "BLPOP", "q", "5"], ["LPUSH", "q", "x"], ["SERVED"],
    ["SERVE", "BZPOPMAX", "zq", "5"], ["ZADD", "zq", "1", "a", "2", "b"], ["SERVED"],
    ["FLUSHDB"],
    ["SWAPDB", "0", "1"],
    ["FLUSHALL"],
]


def _run_script(port: int) -> None:
    import socket

    from tests.support import encode_command

    client = redis.Redis(port=port, socket_timeout=10)
    conn = client.connection_pool.get_connection()
    waiter = None
    for command in SCRIPT:
        if command == ["SLEEP"]:
            time.sleep(0.1)
        elif command[0] == "SERVE":
            waiter = socket.create_connection(("127.0.0.1", port))
            waiter.sendall(encode_command("SELECT", "2") + encode_command(*command[1:]))
            time.sleep(0.2)
        elif command == ["SERVED"]:
            assert waiter is not None
            waiter.settimeout(5)
            data = b""
            while data.count(b"\r\n") < 4:
                data += waiter.recv(4096)
            waiter.close()
        else:
            conn.send_command(*command)
            try:
                conn.read_response()
            except redis.ResponseError:
                pass  # refused commands are part of the script: nothing is logged for them
    client.connection_pool.release(conn)
    client.close()


def _normalized(data: bytes) -> list[list[bytes]]:
    from hush.persistence.aof import parse

    out = []
    for argv, _end in parse(data):
        argv = [argv[0].upper(), *argv[1:]]
        for index, arg in enumerate(argv[:-1]):
            if arg.upper() in (b"PXAT", b"PEXPIREAT"):
                argv[index + 2 if arg.upper() == b"PEXPIREAT" else index + 1] = b"<ms>"
        out.append([arg.upper() if arg.isalpha() else arg for arg in argv])
    return out


@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")
def test_hush_logs_what_redis_logs(tmp_path):
    hush_dir, redis_dir = tmp_path / "hush", tmp_path / "redis"
    hush_dir.mkdir()
    redis_dir.mkdir()
    server = hush(hush_dir)
    try:
        _run_script(server.port)
    finally:
        server.stop()
    port = free_port()
    real = ServerProcess(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--dir", str(redis_dir), "--appendonly", "yes", "--aof-use-rdb-preamble", "no",
         "--daemonize", "no", "--protected-mode", "no"],
        port,
    )
    try:
        _run_script(port)
    finally:
        real.stop()
    redis_log = b"".join(
        path.read_bytes() for path in sorted((redis_dir / "appendonlydir").glob("*.incr.aof"))
    )
    assert _normalized((hush_dir / "appendonly.aof").read_bytes()) == _normalized(redis_log)


# -- differential: what is safe to send to the shared, non-persistent pair ------------


@pytest.mark.parametrize("name", ["bgrewriteaof", "bgsave", "save", "lastsave", "shutdown"])
def test_command_info_agrees(pair, name):
    pair.check("COMMAND", "INFO", name)


@pytest.mark.parametrize("args", [
    ("SHUTDOWN", "ABORT"),
    ("SHUTDOWN", "BOGUS"),
    ("SHUTDOWN", "NOW", "NOW", "BOGUS"),
    ("BGSAVE", "NOW"),
    ("BGSAVE", "SCHEDULE", "X"),
    ("SAVE", "X"),
    ("BGREWRITEAOF", "X"),
    ("LASTSAVE", "X"),
])
def test_refusals_agree(pair, args):
    """Errors that leave both servers running and write no file."""
    pair.check(*args)


def test_info_persistence_names_agree_with_the_aof_off(pair):
    ours, theirs = pair.both("INFO", "persistence")
    names = [[line.split(b":")[0] for line in reply.split(b"\r\n") if b":" in line]
             for reply in (ours, theirs)]
    assert names[0] == names[1]


def test_save_and_shutdown_are_refused_in_a_transaction(pair):
    pair.run_script([
        ("MULTI",), ("SAVE",), ("SET", "aof:multi", "1"), ("EXEC",),
        ("MULTI",), ("SHUTDOWN",), ("DISCARD",),
        ("EXISTS", "aof:multi"),
    ])
