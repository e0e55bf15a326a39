# -*- test-case-name: tests.unit.ops.test_metrics -*-
"""``--metrics ENDPOINT``: a web listener serving ``GET /metrics`` (hush.ops.metrics's page)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from twisted.application.service import IService
from twisted.web.resource import Resource
from twisted.web.server import Site

from hush.core.interfaces import Server
from hush.ops.metrics import CONTENT_TYPE, LatencyWatcher, scrape
from hush.server.listeners import listener_service


class MetricsResource(Resource):
    """``/metrics`` in Prometheus's text format, rendered on the reactor thread."""

    isLeaf = True

    def __init__(self, service: Server, registry: CollectorRegistry) -> None:
        super().__init__()
        self.service = service
        self.registry = registry

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"Content-Type", CONTENT_TYPE.encode())
        return scrape(self.service) + generate_latest(self.registry)


def metrics_service(service: Server, endpoint: str) -> IService:
    """A listening service for ``endpoint`` serving ``/metrics`` about ``service``."""
    registry = CollectorRegistry(auto_describe=True)
    service.watchers.append(LatencyWatcher(registry))
    # Clients run off their lean lane from now on (Session.update_gate).
    for client in service.clients.values():
        client.update_gate()
    root = Resource()
    root.putChild(b"metrics", MetricsResource(service, registry))
    # Not strports.service: a tcp6: endpoint would cost a twistd plugin scan.
    return listener_service(endpoint, Site(root), lambda port: None)
