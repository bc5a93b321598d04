"""What only the Dagster instance knows, as Prometheus metrics (`videoagent exporter`, beside the
daemon): runs by status, how long each stage's steps take and how often they fail, the provider
calls, cache hits and cost each stage recorded in its materialisation, and what each user has
committed today against the daily budget. The event log is read incrementally (a cursor per
event type), so a scrape costs what happened since the last one."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable

import dagster as dg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

from videoagent_dagster.storage.media_store import MediaStore

STEP_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 3600)
RUN_STATUSES = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")
PAGE = 1000


class InstanceMetrics:
    """A Prometheus registry fed from the instance's event log and the media store's ledger."""

    def __init__(self, instance: dg.DagsterInstance, store: MediaStore, daily_budget_usd: float):
        self.instance, self.store, self.budget = instance, store, daily_budget_usd
        self.registry = CollectorRegistry()
        self.step_seconds = Histogram("videoagent_step_seconds", "How long a stage's step took (successful steps)",
                                      ["step"], buckets=STEP_BUCKETS, registry=self.registry)
        self.step_failures = Counter("videoagent_step_failures", "Steps that failed", ["step"],
                                     registry=self.registry)
        self.calls = Counter("videoagent_provider_calls", "Provider calls made (cache misses) by stage and provider",
                             ["stage", "provider"], registry=self.registry)
        self.cache_hits = Counter("videoagent_cache_hits", "Provider results served from the cache", ["stage"],
                                  registry=self.registry)
        self.cost = Counter("videoagent_provider_cost_usd", "What the stages paid their providers", ["stage", "provider"],
                            registry=self.registry)
        self.latency = Histogram("videoagent_provider_latency_seconds", "How long a provider call took (cache misses)",
                                 ["stage", "provider"], buckets=STEP_BUCKETS, registry=self.registry)
        self.runs_finished = Counter("videoagent_runs_finished", "Runs that ended, by how", ["status"],
                                     registry=self.registry)
        self.registry.register(_Live(self))
        self._cursors: dict[dg.DagsterEventType, int | None] = {}
        self._run_cursors: dict[str, str] = {}
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Fold in what the event log holds since the last refresh."""
        folds = {dg.DagsterEventType.STEP_SUCCESS: self._step_success,
                 dg.DagsterEventType.STEP_FAILURE: self._step_failure,
                 dg.DagsterEventType.ASSET_MATERIALIZATION: self._materialization,
                 dg.DagsterEventType.RUN_SUCCESS: self._run_end, dg.DagsterEventType.RUN_FAILURE: self._run_end,
                 dg.DagsterEventType.RUN_CANCELED: self._run_end}
        with self._lock:
            if self.instance.event_log_storage.is_run_sharded:
                self._refresh_by_run(folds)
                return
            for kind, fold in folds.items():
                while True:
                    records = self.instance.get_event_records(
                        dg.EventRecordsFilter(event_type=kind, after_cursor=self._cursors.get(kind)),
                        limit=PAGE, ascending=True)
                    for record in records:
                        fold(record.event_log_entry)
                        self._cursors[kind] = record.storage_id
                    if len(records) < PAGE:
                        break

    def _refresh_by_run(self, folds) -> None:
        """A local SQLite instance keeps a log per run (its ids are not global): each run updated since
        the last refresh is read from where it was left."""
        import datetime

        now = datetime.datetime.now(datetime.timezone.utc)
        since = getattr(self, "_since", None)
        for record in self.instance.get_run_records(dg.RunsFilter(updated_after=since) if since else None):
            run_id = record.dagster_run.run_id
            connection = self.instance.get_records_for_run(run_id, cursor=self._run_cursors.get(run_id),
                                                           of_type=set(folds))
            for event in connection.records:
                folds[event.event_log_entry.dagster_event.event_type](event.event_log_entry)
            if connection.cursor:
                self._run_cursors[run_id] = connection.cursor
        self._since = now - datetime.timedelta(seconds=5)  # (a run updated while this was read comes again)

    def _step_success(self, entry) -> None:
        duration = getattr(entry.dagster_event.event_specific_data, "duration_ms", None)
        if duration is not None and entry.step_key:
            self.step_seconds.labels(entry.step_key).observe(duration / 1000)

    def _step_failure(self, entry) -> None:
        if entry.step_key:
            self.step_failures.labels(entry.step_key).inc()

    def _materialization(self, entry) -> None:
        materialization = entry.asset_materialization
        stage = materialization.asset_key.to_user_string()
        meta = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
        tables = [v for v in materialization.metadata.values() if isinstance(v, dg.TableMetadataValue)]
        providers = [p for p in str(meta.get("providers") or meta.get("provider") or "").split(", ") if p]
        provider = providers[0] if len(providers) == 1 else ("mixed" if providers else "none")
        calls = meta.get("provider_calls")
        if calls is None and "cached" in meta:  # a stage of one call (script, storyboard, cast)
            calls, hits = (0, 1) if meta["cached"] else (1, 0)
        else:
            hits = meta.get("cache_hits", 0)
        if calls:
            self.calls.labels(stage, provider).inc(calls)
        if hits:
            self.cache_hits.labels(stage).inc(hits)
        if meta.get("cost_usd"):
            self.cost.labels(stage, provider).inc(float(meta["cost_usd"]))
        # each call's latency, from the stage's table of calls (or the one call of a single-call stage)
        for value in tables:
            for row in value.records:
                data = row.data
                if "latency_s" in data and "provider" in data and not data.get("cached"):
                    self.latency.labels(stage, f"{data['provider']}:{data.get('model', '')}").observe(
                        float(data["latency_s"]))
        if "latency_s" in meta and not meta.get("cached") and len(providers) == 1:
            self.latency.labels(stage, providers[0]).observe(float(meta["latency_s"]))

    def _run_end(self, entry) -> None:
        self.runs_finished.labels(entry.dagster_event.event_type_value.removeprefix("PIPELINE_")
                                  .removeprefix("RUN_").lower()).inc()


class _Live:
    """What is read afresh at each scrape: runs in progress by status, the oldest running run's age,
    and the budget committed per user today."""

    def __init__(self, owner: InstanceMetrics):
        self.owner = owner

    def collect(self) -> Iterable:
        import time

        from collections import Counter as Tally

        from videoagent_dagster.domain.keys import ledger_day_prefix, screening_day_prefix
        from videoagent_dagster.tasks.budget import committed_today

        instance = self.owner.instance
        runs = GaugeMetricFamily("videoagent_runs", "Runs in progress, by status", labels=["status"])
        for status in RUN_STATUSES:
            runs.add_metric([status.lower()], instance.get_runs_count(
                dg.RunsFilter(statuses=[dg.DagsterRunStatus[status]])))
        yield runs
        started = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]), limit=1,
                                           order_by="start_time", ascending=True)
        oldest = GaugeMetricFamily("videoagent_oldest_running_run_seconds",
                                   "How long the longest-running run has been running (0: none)")
        oldest.add_metric([], time.time() - started[0].start_time if started and started[0].start_time else 0.0)
        yield oldest
        spent = GaugeMetricFamily("videoagent_budget_committed_usd", "Committed today against the daily budget "
                                  "(the larger of estimate and spend, per task)", labels=["user"])
        limit = GaugeMetricFamily("videoagent_budget_limit_usd", "The daily budget per user")
        limit.add_metric([], self.owner.budget)
        day = time.strftime("%Y%m%d", time.gmtime())
        users = sorted({k.split("/")[2] for k in self.owner.store.list(ledger_day_prefix(day)) if k.count("/") >= 3})
        for user in users:
            spent.add_metric([user], committed_today(self.owner.store, user, day))
        yield spent
        yield limit
        refused = GaugeMetricFamily("videoagent_screening_refusals_today", "Briefs content screening refused today, "
                                    "by category and way in (CLI, intake, schedule, REST…)", labels=["category", "way"])
        counts: Tally[tuple[str, str]] = Tally()
        for key in self.owner.store.list(screening_day_prefix(day)):
            try:
                record = json.loads(self.owner.store.read_bytes(key))
            except (ValueError, FileNotFoundError):
                continue
            counts.update((category, record.get("way", "")) for category in record.get("categories", []))
        for (category, way), n in sorted(counts.items()):
            refused.add_metric([category, way], n)
        yield refused


def serve_exporter(port: int, host: str = "0.0.0.0") -> None:  # noqa: S104 - scraped from another container
    """Serve /metrics until stopped (each scrape refreshes from the event log first)."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from prometheus_client import make_wsgi_app

    from videoagent_dagster.settings import current
    from videoagent_dagster.storage.media_store import media_store_from_env

    metrics = InstanceMetrics(dg.DagsterInstance.get(), media_store_from_env(), current().daily_budget_usd)
    app = make_wsgi_app(metrics.registry)

    def refreshed(environ, start_response):
        metrics.refresh()
        return app(environ, start_response)

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):  # a line per scrape is noise
            pass

    with make_server(host, port, refreshed, handler_class=Quiet) as server:
        print(f"videoagent: instance metrics on http://{host}:{port}/metrics", flush=True)
        server.serve_forever()
