"""End to end: real ``twistd -n hush`` processes driven by redis-py, asyncio and redis-cli.

Also checks that README.rst's redis-cli session and redis-py example really
work (contrib/systemd's units are run in tests/e2e/test_contrib_systemd.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import subprocess
import threading
import time

import pytest
import redis
import redis.asyncio

from tests.support import REDIS_CLI, REPO, start_hush

pytestmark = pytest.mark.e2e

README = (REPO / "README.rst").read_text(encoding="utf-8")
PROMPT = "127.0.0.1:6379> "


def code_blocks(language: str) -> list[str]:
    """The bodies of README.rst's ``.. code-block:: language`` blocks, dedented."""
    blocks = []
    lines = README.splitlines()
    for index, line in enumerate(lines):
        if line.strip() != f".. code-block:: {language}":
            continue
        body = []
        for follow in lines[index + 1 :]:
            if follow and not follow.startswith(" "):
                break
            body.append(follow)
        text = "\n".join(body).strip("\n")
        indent = min(len(x) - len(x.lstrip()) for x in text.splitlines() if x.strip())
        blocks.append("\n".join(x[indent:] for x in text.splitlines()) + "\n")
    return blocks


def readme_cli_session() -> tuple[list[str], str]:
    """README's redis-cli session: the commands typed, and the output expected."""
    (session,) = [b for b in code_blocks("text") if b.startswith(PROMPT)]
    commands, expected = [], []
    for line in session.splitlines():
        if line.startswith(PROMPT):
            commands.append(line[len(PROMPT) :])
        else:
            expected.append(line)
    return commands, "\n".join(expected) + "\n"


def run_redis_cli(port: int, commands: list[str]) -> str:
    # --no-raw: the interactive formatting ("(integer) 1", quoted strings)
    # even though the output is a pipe.
    result = subprocess.run(
        [REDIS_CLI, "--no-raw", "-p", str(port)],
        input="\n".join(commands) + "\n",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


needs_redis_cli = pytest.mark.skipif(
    REDIS_CLI is None, reason="redis-cli is not installed (apt-get install redis-tools)"
)


# -- README.rst ------------------------------------------------------------------


@needs_redis_cli
def test_readme_redis_cli_session(hush_process):
    redis.Redis(port=hush_process.port).flushall()
    commands, expected = readme_cli_session()
    assert len(commands) >= 10
    assert run_redis_cli(hush_process.port, commands) == expected


@needs_redis_cli
def test_readme_redis_cli_session_matches_redis(redis_process):
    redis.Redis(port=redis_process.port).flushall()
    commands, expected = readme_cli_session()
    assert run_redis_cli(redis_process.port, commands) == expected


def test_readme_redis_py_example(hush_process):
    redis.Redis(port=hush_process.port).flushall()
    (example,) = [b for b in code_blocks("python") if b.startswith("import threading")]
    assert "port=6379" in example
    code = example.replace("port=6379", f"port={hush_process.port}")
    expected = [
        line.split("# ", 1)[1].strip()
        for line in example.splitlines()
        if line.strip().startswith("print(") and "# " in line
    ]
    assert len(expected) >= 4
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.rst", "exec"), {"__name__": "readme_example"})
    assert out.getvalue().splitlines() == expected


# -- the original README session: cache with TTL, queue, LRU ----------------------


def test_set_get_with_ttl_expiring(r):
    assert r.set("greeting", "hello", px=300) is True
    assert r.get("greeting") == b"hello"
    assert 0 < r.pttl("greeting") <= 300
    started = time.monotonic()
    deadline = started + 5
    while r.get("greeting") is not None:
        assert time.monotonic() < deadline, "the key never expired"
        time.sleep(0.02)
    assert time.monotonic() - started > 0.2
    assert r.ttl("greeting") == -2
    assert r.exists("greeting") == 0


def test_lpush_wakes_blpop_in_another_client(r, hush_process):
    results = []

    def worker():
        other = redis.Redis(port=hush_process.port)
        results.append(other.blpop(["jobs"], timeout=5))
        other.close()

    blocked_before = r.info("clients")["blocked_clients"]
    thread = threading.Thread(target=worker)
    thread.start()
    # Wait until the worker is blocked, so the push is what wakes it.
    deadline = time.monotonic() + 5
    while r.info("clients")["blocked_clients"] <= blocked_before:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert r.lpush("jobs", "job-1") == 1
    thread.join(10)
    assert [list(item) for item in results] == [[b"jobs", b"job-1"]]
    assert r.llen("jobs") == 0


def test_blpop_times_out(r):
    started = time.monotonic()
    assert r.blpop(["nothing"], timeout=0.2) is None
    assert time.monotonic() - started >= 0.15


def test_asyncio_client(hush_process):
    async def main():
        producer = redis.asyncio.Redis(port=hush_process.port)
        consumer = redis.asyncio.Redis(port=hush_process.port)
        await producer.flushall()
        await producer.set("k", "v", ex=30)
        assert await producer.get("k") == b"v"
        waiting = asyncio.ensure_future(consumer.blpop(["queue"], timeout=5))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        assert await producer.rpush("queue", "a", "b") == 2
        assert list(await waiting) == [b"queue", b"a"]
        assert await producer.lrange("queue", 0, -1) == [b"b"]
        async with producer.pipeline(transaction=False) as pipe:
            for _ in range(100):
                pipe.incr("counter")
            replies = await pipe.execute()
        assert replies == list(range(1, 101))
        await producer.aclose()
        await consumer.aclose()

    asyncio.run(main())


def test_binary_values_round_trip(r):
    value = bytes(range(256)) * 10
    r.set(b"bin\x00key", value)
    assert r.get(b"bin\x00key") == value


def test_lru_eviction_with_maxkeys_3():
    proc = start_hush("--maxkeys", "3")
    try:
        client = redis.Redis(port=proc.port)
        for key in ("a", "b", "c"):
            client.set(key, key)
        assert client.get("a") == b"a"  # a is now the most recently used
        client.set("d", "d")
        assert client.exists("b") == 0
        assert sorted(client.keys("*")) == [b"a", b"c", b"d"]
        client.set("e", "e")
        assert sorted(client.keys("*")) == [b"a", b"d", b"e"]
        assert client.dbsize() == 3
        assert client.info("stats")["evicted_keys"] == 2
        client.close()
    finally:
        proc.stop()


def test_pipelined_requests(r):
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        pipe.set(f"key:{i}", i)
    for i in range(1000):
        pipe.get(f"key:{i}")
    replies = pipe.execute()
    assert replies[:1000] == [True] * 1000
    assert replies[1000:] == [str(i).encode() for i in range(1000)]
