"""twistd plugin: ``twistd hush``. Only the service maker lives here."""

from twisted.application.service import ServiceMaker

hush = ServiceMaker(
    "Hush",
    "hush.tap",
    "A Redis-compatible in-memory data store (cache with LRU and TTL, queues).",
    "hush",
)
