# -*- test-case-name: tests.test_e2e_ops -*-
"""Prometheus metrics: ``twistd hush --metrics tcp:9121`` serves ``GET /metrics``.

The figures are read when Prometheus scrapes (a custom collector over the
service's counters, INFO's sources), on the reactor thread, so nothing is
shared across threads. The one thing that needs every command is the latency
histogram: with ``--metrics`` on, a watcher on the dispatcher
(``StoreService.watchers``) observes each handler's time; without
``--metrics`` there is no watcher and no cost.

Exposed (all prefixed ``hush_``): commands processed, keyspace hits and
misses, keys and keys with a TTL per database, resident memory, connected
and blocked clients, evicted and expired keys, uptime, whether AOF is
enabled, per-command calls and failures, and per-command latency histograms.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from twisted.application import strports
from twisted.application.service import IService
from twisted.web.resource import Resource
from twisted.web.server import Site

from hush import commandstats
from hush.info import _rss_bytes

if TYPE_CHECKING:
    from hush.service import StoreService

#: Latency buckets in seconds: Redis commands live between microseconds and
#: milliseconds; the top buckets catch the pathological ones.
LATENCY_BUCKETS = (
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
)


class HushCollector:
    """Reads the service's counters at scrape time."""

    def __init__(self, service: StoreService) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        """Every metric, from the live counters."""
        service = self.service
        stats = service.store.stats
        counters = [
            ("commands_processed", "Commands run", stats.total_commands_processed),
            ("connections_received", "Connections accepted", stats.total_connections_received),
            ("keyspace_hits", "Key lookups that found the key", stats.keyspace_hits),
            ("keyspace_misses", "Key lookups that missed", stats.keyspace_misses),
            ("evicted_keys", "Keys evicted by the LRU limit", stats.evicted_keys),
            ("expired_keys", "Keys expired", stats.expired_keys),
            ("error_replies", "Error replies sent", commandstats.totals.total_error_replies),
            ("net_input_bytes", "Bytes read from clients", stats.total_net_input_bytes),
            ("net_output_bytes", "Bytes written to clients", stats.total_net_output_bytes),
        ]
        for name, doc, value in counters:
            yield CounterMetricFamily(f"hush_{name}", doc, value=value)
        postponed = service.pause.postponed_clients
        gauges = [
            ("connected_clients", "Client connections", len(service.clients)),
            ("blocked_clients", "Clients blocked in BLPOP and friends",
             service.blocking.blocked_clients - postponed),
            ("memory_rss_bytes", "Resident memory of the process", _rss_bytes()),
            ("uptime_seconds", "Seconds since the server started",
             service.clock.seconds() - service.started_at),
            ("aof_enabled", "1 when appendonly is on",
             int(bool(service.settings.appendonly) and service.settings.appendonly != "no")),
        ]
        for name, doc, value in gauges:
            yield GaugeMetricFamily(f"hush_{name}", doc, value=value)
        keys = GaugeMetricFamily("hush_db_keys", "Keys per database", labels=["db"])
        expiring = GaugeMetricFamily("hush_db_keys_expiring", "Keys with a TTL per database",
                                     labels=["db"])
        for db in service.store.dbs:
            if len(db.data):
                keys.add_metric([f"db{db.index}"], len(db.data))
                expiring.add_metric([f"db{db.index}"], len(db.expires))
        yield keys
        yield expiring
        calls = CounterMetricFamily("hush_command_calls", "Calls per command",
                                    labels=["command"])
        failed = CounterMetricFamily("hush_command_failed_calls",
                                     "Calls per command that replied with an error",
                                     labels=["command"])
        rejected = CounterMetricFamily("hush_command_rejected_calls",
                                       "Calls per command refused before running",
                                       labels=["command"])
        for cmd in commandstats.every_command():
            if cmd.calls or cmd.failed_calls or cmd.rejected_calls:
                calls.add_metric([cmd.full_name], cmd.calls)
                failed.add_metric([cmd.full_name], cmd.failed_calls)
                rejected.add_metric([cmd.full_name], cmd.rejected_calls)
        yield calls
        yield failed
        yield rejected


class LatencyWatcher:
    """Feeds the per-command latency histogram from the dispatcher's timing."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.histogram = Histogram(
            "hush_command_duration_seconds", "Handler time per command",
            ["command"], registry=registry, buckets=LATENCY_BUCKETS)
        self._children: dict[Any, Any] = {}

    def __call__(self, client: Any, cmd: Any, argv: list[bytes], seconds: float) -> None:
        child = self._children.get(cmd)
        if child is None:
            child = self._children[cmd] = self.histogram.labels(cmd.full_name)
        child.observe(seconds)


class MetricsResource(Resource):
    """``/metrics`` in Prometheus's text format, rendered on the reactor thread."""

    isLeaf = True

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__()
        self.registry = registry

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"Content-Type", CONTENT_TYPE_LATEST.encode())
        return generate_latest(self.registry)


def metrics_service(service: StoreService, endpoint: str) -> IService:
    """A listening service for ``endpoint`` serving ``/metrics`` about ``service``."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(HushCollector(service))
    service.watchers.append(LatencyWatcher(registry))
    root = Resource()
    root.putChild(b"metrics", MetricsResource(registry))
    return strports.service(endpoint, Site(root))
