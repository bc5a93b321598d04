"""A snapshot of what the code location defines: any change to its assets, checks, jobs, sensors,
schedules or resources shows in review as a diff of tests/snapshots/definitions.txt.

After an intended change: `UPDATE_SNAPSHOTS=1 pytest tests/test_definitions_snapshot.py`."""

import os
from pathlib import Path

import dagster as dg

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.txt"


def describe(defs: dg.Definitions) -> str:
    graph = defs.resolve_asset_graph()
    lines = ["# assets"]
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        deps = ", ".join(sorted(p.to_user_string() for p in node.parent_keys)) or "-"
        retry = node.assets_def.op.retry_policy if node.assets_def.is_executable else None
        lines.append(f"{key.to_user_string()}: deps [{deps}] partitions {node.partitions_def.name if node.partitions_def else '-'}"
                     f" group {node.group_name} kinds {sorted(node.kinds)} retry "
                     f"{f'{retry.max_retries}x {retry.backoff.value if retry.backoff else None}' if retry else '-'}")
    lines.append("# checks")
    for check in sorted(graph.asset_check_keys, key=lambda c: (c.asset_key.to_user_string(), c.name)):
        spec = graph.get_check_spec(check)
        parts = getattr(spec, "partitions_def", None)
        lines.append(f"{check.asset_key.to_user_string()}.{check.name}: partitions {parts.name if parts else '-'}"
                     f" blocking {spec.blocking}")
    lines.append("# jobs")
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        lines.append(f"{job.name}: executor {job.executor_def.name}")
    lines.append("# sensors")
    for sensor in sorted(defs.sensors or [], key=lambda s: s.name):
        lines.append(f"{sensor.name}: {type(sensor).__name__} interval {sensor.minimum_interval_seconds}s "
                     f"default {sensor.default_status.value} jobs {sorted(t.job_name for t in sensor.targets)} "
                     f"resources {sorted(sensor.required_resource_keys)}")
    lines.append("# schedules")
    for schedule in sorted(defs.schedules or [], key=lambda s: s.name):
        lines.append(f"{schedule.name}: cron {schedule.cron_schedule} job {schedule.job_name} "
                     f"resources {sorted(schedule.required_resource_keys)}")
    lines.append("# resources")
    for name, resource in sorted((defs.resources or {}).items()):
        lines.append(f"{name}: {type(resource).__name__}")
    return "\n".join(lines) + "\n"


def test_definitions_match_the_snapshot(monkeypatch):
    for var in [v for v in os.environ if v.startswith("VIDEOAGENT_")]:
        monkeypatch.delenv(var)  # the defaults: the snapshot must not depend on who runs it
    from videoagent_dagster.definitions import build_defs

    now = describe(build_defs())
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(now)
    assert SNAPSHOT.exists(), "no snapshot yet: run with UPDATE_SNAPSHOTS=1"
    assert now == SNAPSHOT.read_text(), "the definitions changed; if intended, run with UPDATE_SNAPSHOTS=1 and commit the diff"
