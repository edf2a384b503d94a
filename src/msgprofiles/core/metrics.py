"""Prometheus metrics, served at `GET /metrics` in the text format.

Counters and histograms live in the process that observes them: requests in the API
processes, delivery attempts in whichever process runs the worker. With several API
processes (`serve --workers N`) prometheus-client's multiprocess mode adds them up across
processes: `serve` points its `PROMETHEUS_MULTIPROC_DIR` at a fresh directory. What the
database knows (queued jobs, the age of the oldest) is read at each scrape, so every process
answers the same."""

import os
from collections.abc import Iterable, Sequence

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from starlette.types import Scope

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

requests = Counter(
    "msgprofiles_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
request_duration = Histogram(
    "msgprofiles_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
delivery_attempts = Counter(
    "msgprofiles_webhook_delivery_attempts",
    "Webhook delivery attempts by outcome: succeeded, retrying (failed, another attempt is "
    "scheduled) or failed (the last attempt failed).",
    ["outcome"],
)
commit_to_delivery = Histogram(
    "msgprofiles_webhook_commit_to_delivery_seconds",
    "Time from an event's commit to its successful delivery, retries included.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 86400),
)


def route_template(scope: Scope) -> str:
    """The template of the route that answered (`/v1/profiles/{profile_id}`), with a mounted
    dialect's prefix; `unmatched` for paths no route knows, so a scan of random paths cannot
    grow the label set."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path is None:
        return "unmatched"
    return str(scope.get("root_path", "")) + str(path)


class _Snapshot(Collector):
    """Metric families read just before a scrape (from the database, the pool)."""

    def __init__(self, families: Sequence[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def render(snapshot: Sequence[Metric]) -> bytes:
    """This process's metrics (or every API process's, in multiprocess mode) and `snapshot`."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # prometheus-client's own switch
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        observed = generate_latest(registry)
    else:
        observed = generate_latest(REGISTRY)
    read = CollectorRegistry(auto_describe=False)
    read.register(_Snapshot(snapshot))
    return observed + generate_latest(read)
