"""Prometheus metrics of the service: requests, latency, cache hits, served model versions.

With several workers (`lakeforge serve --workers N`) each worker writes its values to files in
$PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode) and /metrics, whichever worker
answers it, sums them: a scrape sees the whole service, not one worker's share.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus_client when it is imported


def cache_hit_rate(families: list) -> GaugeMetricFamily:
    """The hit rate from the (possibly summed) lookup counters, since per-worker rates cannot be added up."""
    lookups = {"hit": 0.0, "miss": 0.0}
    for family in families:
        if family.name == "recs_cache_lookups":
            for sample in family.samples:
                if sample.name == "recs_cache_lookups_total":
                    lookups[sample.labels["result"]] += sample.value
    total = lookups["hit"] + lookups["miss"]
    return GaugeMetricFamily("recs_cache_hit_rate", "share of recommendation lookups served from the cache", value=lookups["hit"] / total if total else 0.0)


@dataclass(frozen=True)
class Collected:
    """Families already collected, in the shape generate_latest reads (anything with collect())."""

    families: list

    def collect(self) -> list:
        return self.families


class ServiceMetrics:
    """Registered on a registry of their own, so several apps in one process (tests) never clash."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("recs_requests", "HTTP requests by endpoint and status", ["endpoint", "status"], registry=self.registry)
        self.latency = Histogram("recs_request_seconds", "request latency by endpoint", ["endpoint"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.cache = Counter("recs_cache_lookups", "recommendation cache lookups", ["result"], registry=self.registry)
        self.model_version = Gauge("recs_model_version", "served registered model version per A/B arm", ["variant"], registry=self.registry,
                                   multiprocess_mode="livemax")
        self.events = Counter("recs_events", "interactions applied to live user state", ["origin"], registry=self.registry)
        self.inferences = Counter("recs_inference_records", "inference log records by what became of them", ["result"], registry=self.registry)
        # labels() takes a lock and builds a key on every call: each request reuses its series' children.
        self._cache_results = {True: self.cache.labels("hit"), False: self.cache.labels("miss")}
        self._series: dict[tuple[str, int], tuple] = {}

    def cache_lookup(self, hit: bool) -> None:
        self._cache_results[hit].inc()

    def inference_records(self, result: str, records: int) -> None:
        """delivered (Kafka confirmed), failed (Kafka refused), dropped (never sent: buffer full or shutdown)."""
        self.inferences.labels(result).inc(records)

    def request(self, endpoint: str, status: int, seconds: float) -> None:
        series = self._series.get((endpoint, status))
        if series is None:
            series = self._series[(endpoint, status)] = (self.requests.labels(endpoint, str(status)), self.latency.labels(endpoint))
        series[0].inc()
        series[1].observe(seconds)

    def exposition(self) -> bytes:
        source = self.registry
        if os.environ.get(MULTIPROCESS_ENV):
            source = CollectorRegistry()
            multiprocess.MultiProcessCollector(source)
        families = list(source.collect())  # read once (in multiprocess mode, every worker's files)
        return generate_latest(Collected([*families, cache_hit_rate(families)]))


def worker_stopped() -> None:
    """Drops this worker's live gauges from the shared files (a restarted worker gets a new pid)."""
    if os.environ.get(MULTIPROCESS_ENV):
        multiprocess.mark_process_dead(os.getpid())


class MetricsMiddleware:
    """Pure ASGI (no per-request task like BaseHTTPMiddleware): counts and times each HTTP request by
    its route's endpoint name."""

    def __init__(self, app, metrics: ServiceMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def send_status(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.request(getattr(scope.get("endpoint"), "__name__", "unmatched"), status[0], time.perf_counter() - started)
