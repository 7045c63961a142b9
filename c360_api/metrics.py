"""Request metrics: per-route counts, statuses and latency percentiles, in memory.

Latencies keep the most recent `window` samples per route (a sliding window, so the
percentiles describe current behaviour rather than the whole uptime).
"""

from __future__ import annotations

import math
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

QUANTILES = (0.5, 0.95, 0.99)


@dataclass
class RouteStats:
    """Counters of one route."""

    requests: int = 0
    seconds_total: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=4096))


class RequestMetrics:
    """Thread-safe per-route request statistics."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str], RouteStats] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        with self._lock:
            stats = self._routes.get((method, route))
            if stats is None:
                stats = self._routes[(method, route)] = RouteStats()
            stats.requests += 1
            stats.seconds_total += seconds
            stats.statuses[status] += 1
            stats.latencies.append(seconds)

    def snapshot(self) -> list[dict[str, object]]:
        """One summary per route: requests, statuses, latency percentiles in milliseconds."""
        return [
            {
                "method": method,
                "route": route,
                "requests": stats.requests,
                "statuses": {str(code): count for code, count in sorted(stats.statuses.items())},
                **{
                    f"p{round(q * 100)}_ms": round(percentile(latencies, q) * 1000, 2)
                    for q in QUANTILES
                },
            }
            for (method, route), stats, latencies in sorted(self.routes(), key=lambda item: item[0])
        ]

    def routes(self) -> list[tuple[tuple[str, str], RouteStats, list[float]]]:
        """(key, counters, sorted latencies) per route, copied under the lock."""
        with self._lock:
            return [
                (
                    key,
                    RouteStats(stats.requests, stats.seconds_total, Counter(stats.statuses)),
                    sorted(stats.latencies),
                )
                for key, stats in self._routes.items()
            ]


def percentile(sorted_values: list[float], quantile: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(quantile * len(sorted_values)))
    return sorted_values[rank - 1]


GaugeSource = Callable[[], list[tuple[str, str, float | None]]]


class PrometheusCollector(Collector):
    """Exposes request metrics and the service's gauges to prometheus_client at scrape time."""

    def __init__(self, metrics: RequestMetrics, gauges: GaugeSource) -> None:
        self._metrics = metrics
        self._gauges = gauges

    def collect(self) -> Iterator[Metric]:
        """Build the metric families from the current counters."""
        requests = CounterMetricFamily(
            "c360_http_requests",
            "HTTP requests by route and status.",
            labels=["method", "route", "status"],
        )
        duration = SummaryMetricFamily(
            "c360_http_request_duration_seconds",
            "Request latency.",
            labels=["method", "route"],
        )
        recent = GaugeMetricFamily(
            "c360_http_request_recent_latency_seconds",
            "Latency percentiles over the most recent requests of each route.",
            labels=["method", "route", "quantile"],
        )
        for (method, route), stats, latencies in self._metrics.routes():
            for status, count in sorted(stats.statuses.items()):
                requests.add_metric([method, route, str(status)], count)
            duration.add_metric(
                [method, route], count_value=stats.requests, sum_value=stats.seconds_total
            )
            for quantile in QUANTILES:
                recent.add_metric([method, route, str(quantile)], percentile(latencies, quantile))
        yield from (requests, duration, recent)
        for name, documentation, value in self._gauges():
            if value is not None:
                yield GaugeMetricFamily(name, documentation, value=value)
