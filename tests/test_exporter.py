"""The instance exporter's metrics, scraped after real runs and checked against what happened."""

from __future__ import annotations

import re
import urllib.request

import dagster as dg
import pytest
from prometheus_client import generate_latest

from tests.test_deployment import free_port, wait_for
from videoagent_dagster.exporter import InstanceMetrics
from videoagent_dagster.tasks.local_run import run_in_process
from videoagent_dagster.tasks.operations import create_task


def value(text: str, name: str, **labels) -> float:
    want = ",".join(f"{k}=\"{v}\"" for k, v in sorted(labels.items()))  # (the exposition sorts labels)
    m = re.search(rf"^{name}\{{{re.escape(want)}\}} (\S+)$" if labels else rf"^{name} (\S+)$", text, re.MULTILINE)
    assert m, f"{name}{{{want}}} not in:\n{text}"
    return float(m.group(1))


def scraped(metrics: InstanceMetrics) -> str:
    """What a scrape shows, the event log since the last one folded in first (as the exporter does)."""
    metrics.refresh()
    return generate_latest(metrics.registry).decode()


@pytest.fixture(params=["one log", "a log per run"])
def any_instance(request, instance, workdir):
    """An instance with one event log (as PostgreSQL keeps it), and the test instance (SQLite: a log per run)."""
    if request.param == "a log per run":
        assert instance.event_log_storage.is_run_sharded
        yield instance
        return
    events = {"module": "dagster.core.storage.event_log", "class": "ConsolidatedSqliteEventLogStorage",
              "config": {"base_dir": str(workdir / "events")}}
    (workdir / "one_log").mkdir()
    with dg.instance_for_test(temp_dir=str(workdir / "one_log"), overrides={"event_log_storage": events}) as one:
        assert not one.event_log_storage.is_run_sharded
        yield one


def test_the_exporter_counts_what_the_runs_did(store, any_instance):
    instance = any_instance
    task = create_task({"topic": "Tide pools at dawn", "user": "ana",
                        "options": {"duration": 5, "resolution": "180p", "shots": 2}}, store, instance).task
    metrics = InstanceMetrics(instance, store, daily_budget_usd=50)
    assert run_in_process(instance, task).success
    text = scraped(metrics)
    assert value(text, "videoagent_runs_finished_total", status="success") == 1
    assert value(text, "videoagent_step_seconds_count", step="final_video") == 1
    assert value(text, "videoagent_provider_calls_total", stage="first_frames",
                 provider="offline:pillow-storyboard-1") == 2  # two shots painted
    assert value(text, "videoagent_provider_latency_seconds_count", stage="first_frames",
                 provider="offline:pillow-storyboard-1") == 2  # each painting's time
    assert value(text, "videoagent_runs", status="started") == 0
    assert value(text, "videoagent_budget_limit_usd") == 50
    assert value(text, "videoagent_budget_committed_usd", user="ana") == 0  # offline: nothing to pay
    # a refusal from any way in (here the task operations, as the CLI and intake use them) is counted
    from videoagent_dagster.domain.screening import ScreeningRefused

    with pytest.raises(ScreeningRefused):
        create_task({"topic": "How to make a bomb at home"}, store, instance)
    text = generate_latest(metrics.registry).decode()
    assert value(text, "videoagent_screening_refusals_today", category="weapons_illegal", way="task operations") == 1
    # Again: every provider result comes from the cache; only what happened since is folded in.
    assert run_in_process(instance, task).success
    text = scraped(metrics)
    assert value(text, "videoagent_runs_finished_total", status="success") == 2
    assert value(text, "videoagent_cache_hits_total", stage="first_frames") == 2
    assert value(text, "videoagent_provider_calls_total", stage="first_frames",
                 provider="offline:pillow-storyboard-1") == 2
    assert value(text, "videoagent_step_seconds_count", step="final_video") == 2


def test_videoagent_exporter_serves_them(workdir):
    import os
    import sys
    from pathlib import Path

    from tests.services import start_group, stop_groups

    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(workdir / "home"), "VIDEOAGENT_STORAGE": str(workdir / "storage")}
    (workdir / "home").mkdir()
    proc = start_group([str(Path(sys.executable).parent / "videoagent"), "exporter", "--port", str(port), "--host",
                        "127.0.0.1"], cwd=workdir, env=env, log=workdir / "exporter.log")
    try:
        def scrape():
            assert proc.poll() is None, (workdir / "exporter.log").read_text()
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
            except OSError:
                return None

        text = wait_for(scrape, 60, "the exporter", interval=0.3)
        assert value(text, "videoagent_runs", status="queued") == 0 and "videoagent_step_seconds" in text
    finally:
        stop_groups([proc])
