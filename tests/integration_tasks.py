"""Job functions and the Celery app the library integration tests run.

They live in an importable module of their own because RQ and Celery
workers run in other processes and import jobs by dotted name.
"""

from __future__ import annotations

import os

from celery import Celery


def add(a: int, b: int) -> int:
    """An RQ job: its return value is stored by the worker and read back."""
    return a + b


def fail() -> None:
    """An RQ job that raises, so the worker records a failure."""
    raise ValueError("boom")


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
