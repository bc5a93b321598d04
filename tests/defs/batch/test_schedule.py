"""The batch schedule: CSV rows become tasks once each."""

import dagster as dg

from videoagent_dagster.defs.batch.schedule import batch_schedule_for
from videoagent_dagster.settings import current


def tick(instance, store):
    with dg.build_schedule_context(instance=instance, resources={"media_store": store}) as context:
        return batch_schedule_for(current())(context)


def apply(instance, requests):
    """What the daemon does with a tick's run requests: create the runs."""
    from dagster._core.test_utils import create_run_for_test

    for request in requests:
        create_run_for_test(instance, job_name="make_video", tags={**request.tags, "dagster/run_key": request.run_key,
                                                                   "dagster/partition": request.partition_key})


def test_manifest_rows_become_tasks_once(store, instance, workdir, monkeypatch):
    manifest = workdir / "batch.csv"
    manifest.write_text("topic,style,duration,aspect,language,priority,user\n"
                        "Tide pools,nature,20,9:16,,high,ana\n"
                        "城市的夜生活,,30,,,,ben\n"
                        ",,10,,,,\n", encoding="utf-8")
    monkeypatch.setenv("VIDEOAGENT_BATCH_MANIFEST", str(manifest))
    first = tick(instance, store)
    assert len(first) == 2  # the row without a topic is logged and skipped
    assert first[0].tags["dagster/priority"] == "1" and first[0].tags["videoagent/user"] == "ana"
    assert set(instance.get_dynamic_partitions("video_tasks")) == {r.partition_key for r in first}
    apply(instance, first)  # the daemon creates the runs
    again = tick(instance, store)
    assert "no new rows" in again.skip_message  # rows already submitted are not run again
    assert len(instance.get_dynamic_partitions("video_tasks")) == 2

    manifest.write_text(manifest.read_text(encoding="utf-8").replace("Tide pools", "Tide pools at night"),
                        encoding="utf-8")
    edited = tick(instance, store)
    assert len(edited) == 1 and edited[0].partition_key not in {r.partition_key for r in first}


def test_no_manifest_skips(store, instance, monkeypatch):
    monkeypatch.delenv("VIDEOAGENT_BATCH_MANIFEST", raising=False)
    assert "not set" in tick(instance, store).skip_message


def test_a_tick_whose_runs_were_never_created_is_asked_again(store, instance, workdir, monkeypatch):
    """The daemon died after a tick returned its run requests but before the runs were created: the
    next tick asks for the same runs again (same run keys, same tasks) — when the budget is full by
    then it still does (a row's budget was counted when it was taken) — and stops once they exist."""
    monkeypatch.setenv("VIDEOAGENT_VIDEO", "runway:gen4_turbo")
    monkeypatch.setenv("VIDEOAGENT_DAILY_BUDGET_USD", "4")
    manifest = workdir / "batch.csv"
    rows = "topic,duration,user\nHarbours,30,ana\nPiers,15,ana\n"  # $2.50 + $1.00 of ana's $4
    manifest.write_text(rows, encoding="utf-8")
    monkeypatch.setenv("VIDEOAGENT_BATCH_MANIFEST", str(manifest))
    lost = tick(instance, store)  # never turned into runs
    assert len(lost) == 2
    manifest.write_text(rows + "Bridges,30,ana\n", encoding="utf-8")
    queries = []
    real = instance.get_run_records
    monkeypatch.setattr(instance, "get_run_records", lambda *a, **k: queries.append(a or k) or real(*a, **k))
    again = tick(instance, store)
    assert isinstance(again, list), again
    assert [(r.run_key, r.partition_key) for r in again] == [(r.run_key, r.partition_key) for r in lost]  # Bridges: over budget
    assert len(queries) <= 1  # one look-up of runs for the tick, not one per row
    assert len(store.list("briefs")) == 2  # no new task
    assert sorted(instance.get_dynamic_partitions("video_tasks")) == sorted(r.partition_key for r in lost)
    apply(instance, again)
    assert "no new rows" in tick(instance, store).skip_message  # its run exists: not asked again
