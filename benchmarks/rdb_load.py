"""Load and save a ~1M-key dump.rdb: Hush's RDB codec next to redis-server.

    python benchmarks/rdb_load.py                 # 1M keys, table on stdout
    python benchmarks/rdb_load.py --keys 200000   # a smaller run

Steps:

1. Start Debian's redis-server (no persistence, debug commands on) on a free
   port in a temporary directory and fill it: DEBUG POPULATE for plain string
   keys, and pipelines for lists, hashes, sets (intset and hashtable), sorted
   sets (listpack and skiplist) and streams -- about 70% strings, 30% the rest.
2. SAVE, and time redis-server's own load of that file by restarting it on it
   (the "DB loaded from disk: N seconds" log line) and its peak RSS (VmHWM).
3. In a fresh Python child process each (so ru_maxrss is theirs alone):
   - *decode*: iterate every record of the file and drop it (streaming);
   - *load + save*: keep every key in a dict (as a store would), then write
     them all back with RdbFileWriter; time both halves, peak RSS of the whole.
   - *store load*: the server's loader (hush.persistence.rdb.load_dataset)
     into a real Store, with the garbage collector paused as the server
     pauses it, and once with it left running (to measure what pausing buys).
4. Start Hush (twistd, this checkout) on the file: its "DB loaded from disk"
   log line and peak RSS (VmHWM); then SAVE (foreground, timed by the
   client) and BGSAVE (rdb_last_bgsave_time_sec), with rdbcompression yes.
5. Check the files Hush wrote with redis-check-rdb.

Every process is stopped by its PID. The script is not part of the pytest suite.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_redis(directory: Path, dbfilename: str, log: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    proc = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--enable-debug-command", "yes",
         "--dir", str(directory), "--dbfilename", dbfilename, "--logfile", str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("redis-server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(60)


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def populate(port: int, keys: int) -> dict[str, int]:
    """Fill redis-server with ``keys`` keys of mixed types; returns the count per type."""
    import redis

    r = redis.Redis(port=port)
    counts = {
        "string": int(keys * 0.70),
        "list": int(keys * 0.08),
        "hash": int(keys * 0.08),
        "set": int(keys * 0.06),
        "zset": int(keys * 0.07),
    }
    counts["stream"] = keys - sum(counts.values())
    r.execute_command("DEBUG", "POPULATE", counts["string"], "str", 24)
    pipe = r.pipeline(transaction=False)
    sent = 0

    def flush_sometimes() -> None:
        nonlocal sent
        sent += 1
        if sent % 5000 == 0:
            pipe.execute()

    for i in range(counts["list"]):
        pipe.rpush(f"list:{i}", *[f"item-{i}-{j}" for j in range(8)], i)
        flush_sometimes()
    for i in range(counts["hash"]):
        big = i % 50 == 0  # every 50th hash is a hashtable
        pipe.hset(f"hash:{i}", mapping={f"field{j}": ("v" * 80 if big else f"value{j}") for j in range(10)})
        flush_sometimes()
    for i in range(counts["set"]):
        members = range(i, i + 10) if i % 2 else [f"m{j}" for j in range(i, i + 10)]
        pipe.sadd(f"set:{i}", *members)
        flush_sometimes()
    for i in range(counts["zset"]):
        size = 200 if i % 100 == 0 else 10  # a few skiplists
        pipe.zadd(f"zset:{i}", {f"member{j}": j * 1.5 for j in range(size)})
        flush_sometimes()
    for i in range(counts["stream"]):
        for j in range(5):
            pipe.xadd(f"stream:{i}", {"a": j, "b": "payload"}, id=f"{j + 1}-0")
        flush_sometimes()
    pipe.execute()
    assert r.dbsize() == keys, r.dbsize()
    return counts


def child_decode(path: str) -> dict:
    """Decode every record and drop it; runs in its own process."""
    sys.path.insert(0, str(REPO))
    from hush.formats.rdb_file import KeyRecord, RdbFileReader

    start = time.perf_counter()
    keys = 0
    with open(path, "rb") as source:
        for record in RdbFileReader(source):
            if isinstance(record, KeyRecord):
                keys += 1
    elapsed = time.perf_counter() - start
    return {"keys": keys, "seconds": elapsed,
            "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def child_load_save(path: str, out_path: str) -> dict:
    """Load every key into a dict, then write them all back; runs in its own process."""
    sys.path.insert(0, str(REPO))
    from hush.formats.rdb import Thresholds
    from hush.formats.rdb_file import KeyRecord, RdbFileReader, RdbFileWriter

    start = time.perf_counter()
    store: dict[int, dict[bytes, tuple]] = {}
    with open(path, "rb") as source:
        for record in RdbFileReader(source):
            if isinstance(record, KeyRecord):
                store.setdefault(record.db, {})[record.key] = (record.kind, record.value,
                                                                record.expire_ms)
    loaded = time.perf_counter()
    seconds = {}
    for compression, path in ((True, out_path), (False, out_path + ".plain")):
        began = time.perf_counter()
        with open(path, "wb") as out:
            writer = RdbFileWriter(out, Thresholds(rdb_compression=compression))
            writer.write_header(ctime=int(time.time()), used_mem=0)
            for db, keys in sorted(store.items()):
                writer.select_db(db, len(keys), sum(1 for v in keys.values() if v[2] is not None))
                for key, (kind, value, expire_ms) in keys.items():
                    writer.write_key(key, kind, value, expire_ms=expire_ms)
            writer.finish()
        seconds[compression] = time.perf_counter() - began
    return {"load_seconds": loaded - start, "save_seconds": seconds[True],
            "save_plain_seconds": seconds[False],
            "keys": sum(len(k) for k in store.values()),
            "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def child_store_load(path: str, gc_mode: str) -> dict:
    """The server's loader into a real Store; ``gc_mode`` "paused" (as the server) or "running"."""
    sys.path.insert(0, str(REPO))
    import gc

    from twisted.internet.task import Clock

    from hush.data.store import Store
    from hush.persistence import rdb

    if gc_mode == "running":
        gc.disable = lambda: None  # the loader's pause becomes a no-op
    clock = Clock()
    clock.advance(time.time())
    store = Store(clock, 16, 0)
    start = time.perf_counter()
    with open(path, "rb") as source:
        result = rdb.load_dataset(store, source, now_ms=int(clock.seconds() * 1000))
    return {"seconds": time.perf_counter() - start, "keys": result.keys_loaded,
            "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def hush_server(directory: Path) -> dict:
    """Start Hush on ``directory``/dump.rdb; its load time, peak RSS, SAVE and BGSAVE times."""
    import redis

    port = _free_port()
    twistd = Path(sys.executable).with_name("twistd")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    log = directory / "hush.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(twistd), "-n", "--pidfile=", "hush", "--port",
                                 f"tcp:{port}:interface=127.0.0.1", "--maxkeys", "0",
                                 "--dir", str(directory)], stdout=out, stderr=subprocess.STDOUT,
                                env=env, cwd=str(directory))
    try:
        deadline = time.monotonic() + 900
        match = None
        while match is None and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("hush exited: " + log.read_text()[-2000:])
            time.sleep(0.2)
            match = re.search(r"DB loaded from disk: ([0-9.]+) seconds", log.read_text())
        load = float(match.group(1)) if match else float("nan")
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        rss = _peak_rss_kib(proc.pid)
        client = redis.Redis(port=port, socket_timeout=900)
        keys = client.dbsize()
        start = time.perf_counter()
        client.save()
        save = time.perf_counter() - start
        shutil.copy(directory / "dump.rdb", directory / "hush-save.rdb")
        client.bgsave()
        while client.info("persistence")["rdb_bgsave_in_progress"]:
            time.sleep(0.2)
        bgsave = client.info("persistence")["rdb_last_bgsave_time_sec"]
        return {"load_seconds": load, "maxrss_kib": rss, "save_seconds": save,
                "bgsave_seconds": bgsave, "keys": keys}
    finally:
        _stop(proc)


def _run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--child-decode")
    parser.add_argument("--child-load-save", nargs=2)
    parser.add_argument("--child-store-load", nargs=2)
    args = parser.parse_args()
    if args.child_store_load:
        print(json.dumps(child_store_load(*args.child_store_load)))
        return
    if args.child_decode:
        print(json.dumps(child_decode(args.child_decode)))
        return
    if args.child_load_save:
        print(json.dumps(child_load_save(*args.child_load_save)))
        return

    work = Path(tempfile.mkdtemp(prefix="hush-rdb-bench-"))
    try:
        log = work / "redis.log"
        proc, port = _start_redis(work, "dump.rdb", log)
        try:
            counts = populate(port, args.keys)
            import redis

            r = redis.Redis(port=port)
            start = time.perf_counter()
            r.save()
            redis_save = time.perf_counter() - start
        finally:
            _stop(proc)
        rdb_path = work / "dump.rdb"
        size = rdb_path.stat().st_size

        log.write_text("")
        proc, port = _start_redis(work, "dump.rdb", log)
        try:
            # redis-server listens (answering -LOADING) before the load ends.
            deadline = time.monotonic() + 600
            match = None
            while match is None and time.monotonic() < deadline:
                time.sleep(0.1)
                match = re.search(r"DB loaded from disk: ([0-9.]+) seconds", log.read_text())
            redis_load = float(match.group(1)) if match else float("nan")
            redis_rss = _peak_rss_kib(proc.pid)
        finally:
            _stop(proc)

        decode = _run_child("--child-decode", str(rdb_path))
        ours_path = work / "hush.rdb"
        load_save = _run_child("--child-load-save", str(rdb_path), str(ours_path))
        check = subprocess.run([shutil.which("redis-check-rdb"), str(ours_path)],
                               capture_output=True, text=True)
        ok = "RDB looks OK" in check.stdout
        paused = _run_child("--child-store-load", str(rdb_path), "paused")
        running = _run_child("--child-store-load", str(rdb_path), "running")
        served = work / "hush"
        served.mkdir()
        shutil.copy(rdb_path, served / "dump.rdb")
        server = hush_server(served)
        check = subprocess.run([shutil.which("redis-check-rdb"), str(served / "hush-save.rdb")],
                               capture_output=True, text=True)
        server_ok = "RDB looks OK" in check.stdout

        print(f"- dataset: {args.keys:,} keys ({', '.join(f'{n:,} {t}' for t, n in counts.items())}); "
              f"dump.rdb {size / 1e6:.1f} MB written by redis-server 7.0.15")
        print(f"- Hush's file checked by redis-check-rdb: {'OK' if ok else 'FAILED'} "
              f"({load_save['keys']:,} keys, {ours_path.stat().st_size / 1e6:.1f} MB)")
        print()
        print("| what | seconds | peak RSS (MiB) |")
        print("|:-----|--------:|---------------:|")
        print(f"| redis-server: load at startup | {redis_load:.2f} | {redis_rss / 1024:.0f} |")
        print(f"| redis-server: SAVE | {redis_save:.2f} | |")
        print(f"| Hush reader: decode every record, keep none | {decode['seconds']:.2f} | "
              f"{decode['maxrss_kib'] / 1024:.0f} |")
        print(f"| Hush reader: load every key into a dict | {load_save['load_seconds']:.2f} | "
              f"{load_save['maxrss_kib'] / 1024:.0f} (whole run) |")
        print(f"| Hush writer: write them back (rdbcompression yes) | {load_save['save_seconds']:.2f} | |")
        print(f"| Hush writer: write them back (rdbcompression no) | "
              f"{load_save['save_plain_seconds']:.2f} | |")
        print(f"| Hush loader into a Store, collector paused (as the server) | "
              f"{paused['seconds']:.2f} | {paused['maxrss_kib'] / 1024:.0f} |")
        print(f"| Hush loader into a Store, collector running | "
              f"{running['seconds']:.2f} | {running['maxrss_kib'] / 1024:.0f} |")
        print(f"| Hush server: load at startup | {server['load_seconds']:.2f} | "
              f"{server['maxrss_kib'] / 1024:.0f} |")
        print(f"| Hush server: SAVE | {server['save_seconds']:.2f} | |")
        print(f"| Hush server: BGSAVE (rdb_last_bgsave_time_sec) | {server['bgsave_seconds']} | |")
        print(f"- Hush server's SAVE ({server['keys']:,} keys) checked by redis-check-rdb: "
              f"{'OK' if server_ok else 'FAILED'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
