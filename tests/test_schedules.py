"""The batch schedule: CSV rows become tasks once each."""

import dagster as dg

from videoagent_dagster.schedules import batch_schedule


def tick(instance, store):
    with dg.build_schedule_context(instance=instance, resources={"media_store": store}) as context:
        return batch_schedule(context)


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
