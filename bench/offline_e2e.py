"""Offline end-to-end benchmark: a 30 s 720p video from a topic, on this machine.

Prints wall time per stage and the ratio video seconds / wall seconds (aim: at least 1.0), for a
cold run (empty cache) and, side by side in the same run, a warm re-run of the same task (every
provider call served from the cache, as when re-materialising after a failure).

    .venv/bin/python bench/offline_e2e.py [--duration 30] [--resolution 720p] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def run_once(task: str, instance) -> tuple[float, dict[str, float], bool]:
    from videoagent_dagster.tasks.local_run import run_in_process, step_seconds

    started = time.perf_counter()
    result = run_in_process(instance, task)
    wall = time.perf_counter() - started
    return wall, step_seconds(instance, result.run_id), result.success


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", default="A documentary about wildlife in Africa")
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--resolution", default="720p")
    parser.add_argument("--keep", type=Path, help="keep the storage and instance here instead of a temp dir")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="videoagent-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["VIDEOAGENT_STORAGE"] = str(work / "storage")
    os.environ["DAGSTER_HOME"] = str(work / "dagster_home")
    (work / "dagster_home").mkdir(exist_ok=True)
    (work / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    import dagster as dg

    from videoagent_dagster.media.probe import probe
    from videoagent_dagster.storage.media_store import media_store_from_env
    from videoagent_dagster.tasks.operations import create_task

    store = media_store_from_env()
    with dg.DagsterInstance.get() as instance:
        brief = create_task({"topic": args.topic, "options": {"duration": args.duration,
                                                              "resolution": args.resolution}}, store, instance)
        cold_wall, cold, ok_cold = run_once(brief.task, instance)
        warm_wall, warm, ok_warm = run_once(brief.task, instance)
    if not (ok_cold and ok_warm):
        print("benchmark run failed", file=sys.stderr)
        return 1
    video = store.path(f"tasks/{brief.task}/final/{brief.task}.mp4")
    facts = probe(video)
    seconds = facts["duration"]
    w, h = facts["video"]["width"], facts["video"]["height"]

    print(f"offline end-to-end: {seconds:.1f} s video, {w}x{h} @ {facts['video']['fps']:g} fps, "
          f"{os.cpu_count()} cores")
    print(f"{'stage':<16}{'cold s':>9}{'warm s':>9}")
    for stage in cold:
        print(f"{stage:<16}{cold[stage]:>9.2f}{warm.get(stage, 0):>9.2f}")
    print(f"{'wall (run)':<16}{cold_wall:>9.2f}{warm_wall:>9.2f}")
    print(f"video seconds / wall seconds: cold {seconds / cold_wall:.2f}  warm {seconds / warm_wall:.2f}  "
          f"(aim: cold >= 1.0)")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
