"""Real Python libraries that put their queues and locks on Redis, run on Hush.

Each test drives a library end to end against a ``twistd -n hush`` process:
RQ (enqueue, a burst worker process runs the job, the result is read back),
Celery with the redis broker and result backend (a worker subprocess runs a
task), redis-py's Lock, and the ``limits`` rate limiters. They exercise Lua
scripting (EVALSHA), streams (RQ's results), blocking pops and transactions
the way those libraries really use them. Every wait is bounded.

Set HUSH_INTEGRATION_REDIS=1 to run the same tests against a real
redis-server instead (to check a test itself).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.support import REDIS_SERVER, checkout_env, start_redis

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def target(request):
    """The server under test: the session's Hush server (hush.testing's hush_server), or
    redis-server when asked for."""
    if not os.environ.get("HUSH_INTEGRATION_REDIS"):
        yield request.getfixturevalue("hush_server")
        return
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    proc = start_redis()
    yield proc
    proc.stop()


@pytest.fixture
def url(target) -> str:
    conn = redis.Redis(port=target.port)
    conn.flushall()
    conn.close()
    return f"redis://127.0.0.1:{target.port}/0"


def _worker_env(url: str) -> dict[str, str]:
    return checkout_env(HUSH_CELERY_URL=url)


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


# -- RQ ----------------------------------------------------------------------------


def test_rq_burst_worker_runs_jobs_and_results_come_back(url):
    from rq import Queue
    from rq.job import JobStatus

    from tests.integration import tasks as integration_tasks

    conn = redis.Redis.from_url(url)
    queue = Queue("hush-it", connection=conn)
    ok = queue.enqueue(integration_tasks.add, 2, 3)
    bad = queue.enqueue(integration_tasks.fail)
    assert queue.count == 2

    # A real `rq worker --burst` process: it forks a work horse per job,
    # stores results (streams in RQ 3) and exits when the queue is empty. The
    # worker class only shortens the pub/sub thread's wake-up (see its
    # docstring: a client-side race that otherwise idles the exit for 60 s).
    done = subprocess.run(
        [_bin("rq"), "worker", "--burst", "--worker-class",
         "tests.integration.tasks.PromptStopWorker", "--url", url, "hush-it"],
        env=_worker_env(url), cwd=str(REPO), capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    ok.refresh()
    assert ok.get_status() == JobStatus.FINISHED
    assert ok.return_value() == 5
    result = ok.latest_result()
    assert result is not None and result.return_value == 5
    bad.refresh()
    assert bad.get_status() == JobStatus.FAILED
    assert "ValueError: boom" in bad.latest_result().exc_string
    assert queue.count == 0
    assert bad.id in queue.failed_job_registry.get_job_ids()


# -- Celery ------------------------------------------------------------------------


def test_celery_task_round_trip_through_broker_and_backend(url):
    env = _worker_env(url)
    worker = subprocess.Popen(
        [_bin("celery"), "-A", "tests.integration.tasks", "worker", "--pool=solo",
         "--concurrency=1", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-l", "warning"],
        env=env, cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        code = (
            "from tests.integration.tasks import multiply\n"
            "r = multiply.delay(6, 7)\n"
            "print(r.get(timeout=40))\n"
            "print(multiply.apply_async((3, 4), countdown=1).get(timeout=40))\n"
        )
        done = subprocess.run([sys.executable, "-c", code], env=env, cwd=str(REPO),
                              capture_output=True, text=True, timeout=70)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.split() == ["42", "12"]
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert "Traceback" not in output, output


# -- redis-py's Lock ---------------------------------------------------------------


def test_redis_py_lock(url):
    conn = redis.Redis.from_url(url)
    other = redis.Redis.from_url(url)
    lock = conn.lock("resource", timeout=5)
    assert lock.acquire(blocking=False)
    assert lock.owned()
    rival = other.lock("resource", timeout=5)
    assert not rival.acquire(blocking=False)
    assert not rival.acquire(blocking=True, blocking_timeout=0.2)
    assert lock.extend(5)
    ttl = conn.pttl("resource")
    assert 5000 < ttl <= 10000
    assert lock.reacquire()
    lock.release()
    assert not conn.exists("resource")
    assert rival.acquire(blocking=False)
    # The release script compares tokens: a lock taken over by someone else
    # is not released by its former owner.
    assert lock.acquire(blocking=False) is False
    conn.set("resource", "someone-else")
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        rival.release()
    assert conn.get("resource") == b"someone-else"
    # An expired lock can be taken by someone else.
    short = conn.lock("short", timeout=0.2)
    assert short.acquire(blocking=False)
    time.sleep(0.3)
    assert other.lock("short", timeout=5).acquire(blocking=False)


# -- limits (Flask-Limiter's engine) -----------------------------------------------


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window", "sliding-window-counter"])
def test_limits_rate_limiter(url, strategy):
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import (
        FixedWindowRateLimiter,
        MovingWindowRateLimiter,
        SlidingWindowCounterRateLimiter,
    )

    storage = storage_from_string(url)
    limiter = {
        "fixed-window": FixedWindowRateLimiter,
        "moving-window": MovingWindowRateLimiter,
        "sliding-window-counter": SlidingWindowCounterRateLimiter,
    }[strategy](storage)
    rule = parse("3/minute")
    assert [limiter.hit(rule, "user", "a") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(rule, "user", "b")
    stats = limiter.get_window_stats(rule, "user", "a")
    assert stats.remaining == 0
    assert not limiter.test(rule, "user", "a")
    limiter.clear(rule, "user", "a")
    assert limiter.test(rule, "user", "a")
    assert storage.check()
