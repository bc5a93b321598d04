"""Retention on a real task and on thousands of old ones: what expired goes (the dry run only says
so), a pinned task or one with a run in progress stays, old partitions and their runs are pruned."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import dagster as dg
from dagster._core.test_utils import create_run_for_test

from videoagent_dagster.defs.retention.schedule import retention
from videoagent_dagster.domain.keys import TASK_PARTITIONS, brief_key, manifest_key
from videoagent_dagster.domain.manifests import FinalVideo
from videoagent_dagster.media.probe import probe
from videoagent_dagster.tasks.local_run import run_in_process
from videoagent_dagster.tasks.operations import create_task, final_video_of
from videoagent_dagster.tasks.retention import pin


def aged(store, task: str, **delta) -> None:
    """The task's final video as if made `delta` ago."""
    key = manifest_key(task, "final_video")
    final = json.loads(store.read_bytes(key))
    final["made_at"] = (datetime.now(timezone.utc) - timedelta(**delta)).isoformat(timespec="seconds")
    store.write_bytes(key, json.dumps(final).encode())


def run_retention(instance, store, dry_run=False) -> dict:
    result = retention.execute_in_process(instance=instance, resources={"media_store": store},
                                          run_config={"ops": {"apply_retention": {"config": {"dry_run": dry_run}}}})
    assert result.success
    meta = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"][0]
    return {k: v.value for k, v in meta.event_specific_data.metadata.items()}


def test_expired_media_goes_a_pinned_or_busy_task_stays(store, instance):
    tasks = [create_task({"topic": t, "options": {"duration": 5, "resolution": "180p", "shots": 2}}, store,
                         instance).task for t in ("Tide pools", "Sea caves", "Kelp forests")]
    for task in tasks:
        assert run_in_process(instance, task).success
    done, pinned, busy = tasks
    for task in tasks:
        aged(store, task, days=2)
    pin(store, pinned)
    create_run_for_test(instance, job_name="make_video", tags={"dagster/partition": busy},
                        status=dg.DagsterRunStatus.STARTED)

    preview = run_retention(instance, store, dry_run=True)
    assert preview["dry_run"] and preview["tasks_trimmed"] == 1 and preview["files"] > 0
    assert store.exists(f"tasks/{done}/clips/shot_001.mp4")  # a dry run deletes nothing
    report = run_retention(instance, store)
    assert report["tasks_trimmed"] == 1 and report["freed_mb"] > 0
    assert report["left_alone"] == {pinned: "pinned", busy: "a run in progress"}
    assert not store.list(f"tasks/{done}/clips") and not store.list(f"tasks/{done}/frames")
    final = final_video_of(store, done)  # the video itself stays, and plays
    assert probe(store.path(final.key))["duration"] > 4 and store.exists(brief_key(done))
    assert store.exists(f"tasks/{pinned}/clips/shot_001.mp4") and store.exists(f"tasks/{busy}/clips/shot_001.mp4")

    aged(store, done, days=31)
    report = run_retention(instance, store)
    assert report["tasks_forgotten"] == 1 and report["runs_pruned"] == 1
    assert not store.list(f"tasks/{done}") and not store.exists(brief_key(done))
    assert not instance.has_dynamic_partition(TASK_PARTITIONS, done)
    assert not instance.get_runs(dg.RunsFilter(tags={"dagster/partition": done}))
    assert instance.has_dynamic_partition(TASK_PARTITIONS, pinned)


def test_thousands_of_old_tasks_are_pruned_and_the_instance_stays_fast(store, instance):
    n = 3000
    old = (datetime.now(timezone.utc) - timedelta(days=40)).isoformat(timespec="seconds")
    tasks = [f"20260101-old-task-{i:06d}" for i in range(n)]
    for task in tasks:
        store.write_bytes(brief_key(task), b'{"topic": "x"}')
        store.write_bytes(manifest_key(task, "final_video"), FinalVideo(
            key=f"tasks/{task}/final/{task}.mp4", uri="x", duration=5, width=320, height=180, fps=24, codec="h264",
            audio_codec="aac", bitrate=1, size_bytes=1, thumbnail="x", subtitles="x", shots=1, style="nature",
            total_cost_usd=0, made_at=old).model_dump_json().encode())
        store.write_bytes(f"tasks/{task}/frames/shot_001.png", b"\x89PNG")
    instance.add_dynamic_partitions(TASK_PARTITIONS, tasks)
    for task in tasks[:50]:
        create_run_for_test(instance, job_name="make_video", tags={"dagster/partition": task},
                            status=dg.DagsterRunStatus.SUCCESS)
    started = time.perf_counter()
    report = run_retention(instance, store)
    took = time.perf_counter() - started
    assert report["tasks_forgotten"] == n and report["runs_pruned"] == 50
    assert instance.get_dynamic_partitions(TASK_PARTITIONS) == [] and not store.list("briefs")
    assert took < 120, took  # (about 15 s on this 2-core machine)


def test_a_cache_entry_is_kept_while_it_is_used(store, instance):
    import os

    from videoagent_dagster.providers.cache import cached
    from videoagent_dagster.tasks.retention import Retention, plan

    month_ago = time.time() - 40 * 86400
    for name in ("used", "unused"):
        for key in (f"cache/{name[:2]}/{name}.png", f"cache/{name[:2]}/{name}.made.json"):
            store.write_bytes(key, b"x")
            os.utime(store.path(key), (month_ago, month_ago))
    assert cached(store, "used", "png")  # a hit this run
    doomed = set(plan(store, Retention(), busy=set()).delete)
    assert doomed == {"cache/un/unused.png", "cache/un/unused.made.json"}  # the used one, with its cost, stays
