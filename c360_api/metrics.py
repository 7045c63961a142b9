"""Request metrics: per-route counts, statuses and latency percentiles, in memory.

Latencies keep the most recent `window` samples per route (a sliding window, so the
percentiles describe current behaviour rather than the whole uptime). Requests are counted per
organisation (that of the request's credential; None for requests without a valid one), so an
organisation's admin sees its own traffic and nothing of another's.
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
        self._routes: dict[tuple[str | None, str, str], RouteStats] = {}

    def record(
        self, method: str, route: str, status: int, seconds: float, org: str | None = None
    ) -> None:
        """Count one finished request of `org`."""
        with self._lock:
            stats = self._routes.get((org, method, route))
            if stats is None:
                stats = self._routes[(org, method, route)] = RouteStats()
            stats.requests += 1
            stats.seconds_total += seconds
            stats.statuses[status] += 1
            stats.latencies.append(seconds)

    def snapshot(self, org: str | None) -> list[dict[str, object]]:
        """One summary per route of `org`: requests, statuses, latency percentiles in ms."""
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
            for (method, route), stats, latencies in sorted(
                self.routes(org), key=lambda item: item[0]
            )
        ]

    def routes(self, org: str | None) -> list[tuple[tuple[str, str], RouteStats, list[float]]]:
        """((method, route), counters, sorted latencies) per route of `org`, copied under the
        lock."""
        with self._lock:
            return [
                (
                    (method, route),
                    RouteStats(stats.requests, stats.seconds_total, Counter(stats.statuses)),
                    sorted(stats.latencies),
                )
                for (owner, method, route), stats in self._routes.items()
                if owner == org
            ]


def percentile(sorted_values: list[float], quantile: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(quantile * len(sorted_values)))
    return sorted_values[rank - 1]


GaugeSource = Callable[[], list[tuple[str, str, float | None]]]


class PrometheusCollector(Collector):
    """Exposes an organisation's request metrics and gauges to prometheus_client at scrape
    time."""

    def __init__(self, metrics: RequestMetrics, gauges: GaugeSource, org: str | None) -> None:
        self._metrics = metrics
        self._gauges = gauges
        self._org = org

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
        for (method, route), stats, latencies in self._metrics.routes(self._org):
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
