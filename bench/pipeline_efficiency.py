"""How close the pipeline comes to the best possible wall time when vendors are slow.

Runs the whole graph against loopback servers that speak the vendors' wire formats (the real
openai and runwayml SDKs), with set latencies — LLM 2 s a call, image 3 s, video 8 s a shot,
speech 1 s — for 8 shots, and prints measured wall time divided by the critical-path lower
bound: the longest path through the asset graph weighted by the vendor latency each step waits
on when every shot (or cast member) of a stage runs in parallel: style + script + cast +
reference images + frames + video = 2 + 2 + 2 + 3 + 3 + 8 = 20 s (the storyboard, 2 s, is written
while the reference images are painted, and speech runs beside the pictures). Aim: at most 1.15.
The run uses the make_video job's own executor (threaded by default), as a run worker would.

Each run is a fresh process that loads the code location and then runs, as a run worker does;
the loopback vendors stay in the parent process, as real vendors are elsewhere. It takes the median
of --runs runs (the machine is noisy). It also times the orchestration alone — the same graph of assets, partitioned the same way, run
the same way, with steps that do nothing — so what Dagster itself costs on this machine is seen
beside what our steps add: wall - bound - orchestration is our own work on the critical path
(probing, conforming, checking, composing, writing manifests). Aim: at most 1 s.

    .venv/bin/python bench/pipeline_efficiency.py [--shots 8] [--runs 3]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LATENCY = {"llm": 2.0, "image": 3.0, "video": 8.0, "tts": 1.0}
STEP_LATENCY = {"style_profile": "llm", "script": "llm", "cast": "llm", "storyboard": "llm",
                "reference_sheets": "image", "first_frames": "image", "shot_clips": "video", "narration": "tts"}
AIM_RATIO = 1.15
AIM_OWN_S = 1.0  # our own work on the critical path: wall - bound - orchestration


def noop_twins_job():
    """make_video's graph (same asset names, dependencies and partitions) with steps that do nothing
    (built once a process, as make_video_job is)."""
    return _noop_twins_job()


@functools.cache
def _noop_twins_job():
    import dagster as dg

    from videoagent_dagster.defs.video import ALL_ASSETS
    from videoagent_dagster.defs.video.executor import threaded_executor
    from videoagent_dagster.defs.video.partitions import video_tasks

    def twin(name: str, deps: list[str]):
        def nothing(**inputs):
            return 0
        return dg.asset(name=name, ins={d: dg.AssetIn(d) for d in deps}, partitions_def=video_tasks)(nothing)

    twins = [twin(k.to_user_string(), [d.to_user_string() for d in a.asset_deps[k]])
             for a in ALL_ASSETS if isinstance(a, dg.AssetsDefinition) for k in a.keys]
    return dg.Definitions(assets=twins, jobs=[dg.define_asset_job("noop_twins", executor_def=threaded_executor)]
                          ).resolve_job_def("noop_twins")


def critical_path_seconds() -> float:
    """The longest path through make_video's asset graph, each step weighted by the vendor latency it waits on."""
    import dagster as dg

    from videoagent_dagster.defs.video import ALL_ASSETS

    deps = {k.to_user_string(): [d.to_user_string() for d in a.asset_deps[k]]
            for a in ALL_ASSETS if isinstance(a, dg.AssetsDefinition) for k in a.keys}
    done: dict[str, float] = {}

    def finish(step: str) -> float:
        if step not in done:
            wait = LATENCY[STEP_LATENCY[step]] if step in STEP_LATENCY else 0.0
            done[step] = wait + max((finish(d) for d in deps[step]), default=0.0)
        return done[step]

    return max(finish(step) for step in deps)


def orchestration_seconds(instance) -> float:
    """Wall seconds of one run of the do-nothing twin graph (the first in its process, as the real
    run is)."""
    import dagster as dg

    from videoagent_dagster.defs.video.partitions import video_tasks

    instance.add_dynamic_partitions(video_tasks.name, ["noop"])
    noop_twins_job()  # built before the clock, as the real run's code location is
    started = time.perf_counter()
    result = dg.execute_job(dg.reconstructable(noop_twins_job), instance, tags={"dagster/partition": "noop"},
                            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})
    if not result.success:
        raise RuntimeError("the do-nothing graph failed")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3, help="runs to take the median of (the machine is noisy)")
    parser.add_argument("--one-run", choices=("pipeline", "floor"), help=argparse.SUPPRESS)  # in a run's own process
    args = parser.parse_args()
    if args.one_run:
        print(json.dumps(run_once(args.shots, args.one_run)))
        return 0

    import logging

    from tests.fakes.vendors import FakeVendors

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per fake vendor request

    fake = FakeVendors().start()
    fake.latency.update({"openai.chat": LATENCY["llm"], "openai.images": LATENCY["image"],
                         "openai.edits": LATENCY["image"],  # (frames of shots showing the cast: image edits)
                         "openai.speech": LATENCY["tts"]})
    fake.job_seconds = LATENCY["video"]
    os.environ.update(fake.env())
    os.environ.update({
        "VIDEOAGENT_LLM": "openai:gpt-4.1", "VIDEOAGENT_IMAGE": "openai:gpt-image-1",
        "VIDEOAGENT_VIDEO": "runway:gen4_turbo", "VIDEOAGENT_TTS": "openai:gpt-4o-mini-tts",
        "VIDEOAGENT_VIDEO_POLL_S": "0.1",
        # Every shot of a stage at once, as the bound assumes — images and speech together, as they
        # run side by side and share OpenAI.
        "VIDEOAGENT_PROVIDER_LIMITS": f"openai={2 * args.shots}/0,runway={args.shots}/0",
    })
    bound = critical_path_seconds()
    print(f"pipeline efficiency: {args.shots} shots; latencies llm {LATENCY['llm']:g} s/call, image "
          f"{LATENCY['image']:g} s, video {LATENCY['video']:g} s, speech {LATENCY['tts']:g} s per shot; "
          f"{args.runs} run(s), each on a fresh store and instance")
    print(f"before: {load()}", flush=True)
    walls, floors, owns = [], [], []
    for n in range(args.runs):
        work = Path(tempfile.mkdtemp(prefix="videoagent-bench-"))
        os.environ.update({"VIDEOAGENT_STORAGE": str(work / "storage"), "DAGSTER_HOME": str(work / "home")})
        (work / "home").mkdir()
        (work / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        before = {k: fake.count(k) for k in VENDOR_CALLS}
        # Each run in a fresh process, as a run worker makes a video: it loads the code location,
        # then runs; the loopback vendors stay in this process, as real vendors are elsewhere.
        results = {}
        for kind in ("pipeline", "floor"):
            child = subprocess.run([sys.executable, __file__, "--one-run", kind, "--shots", str(args.shots)],
                                   check=False, capture_output=True, text=True)
            if child.returncode != 0 or not child.stdout.strip():
                print(f"benchmark run failed:\n{child.stderr[-3000:]}", file=sys.stderr)
                fake.stop()
                return 1
            results[kind] = json.loads(child.stdout.strip().splitlines()[-1])
        wall, stages, ok = results["pipeline"]
        floor = results["floor"][0]
        if not ok:
            print("benchmark run failed", file=sys.stderr)
            fake.stop()
            return 1
        walls.append(wall)
        floors.append(floor)
        owns.append(wall - bound - floor)
        print(f"run {n + 1}: " + ", ".join(f"{step} {seconds:.2f}" for step, seconds in stages.items()))
        # Where a step's own work is: its seconds beyond the vendor latency it waits on (its steps'
        # share of the run's orchestration included).
        print("  beyond the vendor latency: " + ", ".join(
            f"{step} +{stages[step] - LATENCY[kind]:.2f}" for step, kind in STEP_LATENCY.items() if step in stages))
        print(f"  vendor calls: {({k: fake.count(k) - before[k] for k in VENDOR_CALLS})}")
        print(f"  wall {wall:.2f} s / critical-path lower bound {bound:.2f} s = {wall / bound:.3f}; "
              f"orchestration alone {floor:.2f} s; own work {owns[-1]:.2f} s; {load()}", flush=True)
    fake.stop()
    wall, floor, own = statistics.median(walls), statistics.median(floors), statistics.median(owns)
    print(f"median wall {wall:.2f} s / critical-path lower bound {bound:.2f} s = {wall / bound:.3f} "
          f"(aim: <= {AIM_RATIO:g}: {'met' if wall / bound <= AIM_RATIO else 'MISSED'})")
    print(f"orchestration alone (the same graph, run the same way, steps that do nothing): {floor:.2f} s; "
          f"bound + that = {bound + floor:.2f} s = {(bound + floor) / bound:.3f}")
    print(f"{'':<8}{'wall':>8}{'bound':>8}{'orch.':>8}{'own':>8}   own = wall - bound - orchestration (median of "
          f"the runs' own)")
    print(f"{'median':<8}{wall:>8.2f}{bound:>8.2f}{floor:>8.2f}{own:>8.2f}   aim: own <= {AIM_OWN_S:g} s "
          f"({'met' if own <= AIM_OWN_S else 'MISSED'})")
    print(f"after: {load()}")
    return 0


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


VENDOR_CALLS = ("openai.chat", "openai.images", "openai.edits", "runway.create", "openai.speech")



def run_once(shots: int, kind: str) -> tuple[float, dict[str, float], bool]:
    """In this fresh process, on the store and instance the environment names: make one task
    (`pipeline`) or run the do-nothing twin graph (`floor`). (wall seconds, seconds per step, success)."""
    import dagster as dg

    from videoagent_dagster.storage.media_store import media_store_from_env
    from videoagent_dagster.tasks.local_run import make_video_job, run_in_process, step_seconds
    from videoagent_dagster.tasks.operations import create_task

    with dg.DagsterInstance.get() as instance:
        if kind == "floor":
            return orchestration_seconds(instance), {}, True
        make_video_job()  # the code location, loaded before the clock starts, as a run worker has it
        brief = create_task({"topic": "Lighthouses of the north",
                             "options": {"duration": 2 * shots, "shots": shots, "resolution": "180p"}},
                            media_store_from_env(), instance)
        started = time.perf_counter()
        result = run_in_process(instance, brief.task)
        wall = time.perf_counter() - started
        return wall, step_seconds(instance, result.run_id), result.success


if __name__ == "__main__":
    sys.exit(main())
