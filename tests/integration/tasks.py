"""Job functions and the Celery app the library integration tests run.

They live in an importable module of their own because RQ and Celery
workers run in other processes and import jobs by dotted name.
"""

from __future__ import annotations

import os

from celery import Celery
from rq.worker import Worker


def add(a: int, b: int) -> int:
    """An RQ job: its return value is stored by the worker and read back."""
    return a + b


def fail() -> None:
    """An RQ job that raises, so the worker records a failure."""
    raise ValueError("boom")


class PromptStopWorker(Worker):
    """RQ's worker, its pub/sub thread looking at its stop flag every 0.2 s.

    RQ 3.0 stops a burst worker by sending UNSUBSCRIBE and then stopping the
    thread that reads the worker's command channel; redis-py 8.2's
    ``PubSubWorkerThread.stop()`` joins that thread with no timeout. When the
    thread reads the unsubscribe confirmation before the stop flag is cleared,
    it waits ``sleep_time`` for a new subscription before it looks at the flag
    again, and RQ's sleep_time is 60 s: the worker sits idle for a minute
    after its last job. It happens against redis-server 7.0.15 as against
    Hush (seen in a loop of burst runs on both), so it is a client-side race;
    a short sleep_time bounds it without changing what the worker does.
    """

    def subscribe(self) -> None:
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=0.2, daemon=True, exception_handler=self._pubsub_exception_handler
        )


#: The broker and result backend URL is given to the worker through its
#: environment: the test starts Hush on a free port.
CELERY_URL = os.environ.get("HUSH_CELERY_URL", "redis://127.0.0.1:6379/0")

app = Celery("hush_integration", broker=CELERY_URL, backend=CELERY_URL)
app.conf.update(
    broker_connection_retry_on_startup=True,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    worker_hijack_root_logger=False,
)


@app.task(name="hush_integration.multiply")
def multiply(a: int, b: int) -> int:
    """A Celery task: the result travels back through the result backend."""
    return a * b
