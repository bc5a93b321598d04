"""The gateway's Prometheus metrics (`GET /metrics`): requests by route and status, the tasks it
made by status and user (as its tracker follows them), and the briefs content screening refused,
by category. What only the instance knows (step times, provider calls, cost, budgets) is the
exporter's (videoagent_dagster/exporter.py)."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily


class GatewayMetrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("videoagent_http_requests", "Requests answered, by route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("videoagent_http_request_seconds", "Time to answer a request, by route",
                                 ["route"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self.refusals = Counter("videoagent_screening_refusals", "Briefs refused by content screening, by category",
                                ["category"], registry=self.registry)
        self._tasks = None

    def follow_tasks(self, tasks) -> None:
        """`tasks()` yields (status, user) of the gateway's tasks, read at each scrape."""
        self._tasks = tasks
        self.registry.register(self)

    def collect(self) -> Iterable:
        family = GaugeMetricFamily("videoagent_tasks", "The gateway's tasks, by status and user",
                                   labels=["status", "user"])
        for (status, user), n in sorted(Tally(self._tasks()).items()):
            family.add_metric([status, user], n)
        yield family
