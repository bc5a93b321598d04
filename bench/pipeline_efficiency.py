"""How close the pipeline comes to the best possible wall time when vendors are slow.

Runs the whole graph against loopback servers that speak the vendors' wire formats (the real
openai and runwayml SDKs), with set latencies — LLM 2 s a call, image 3 s, video 8 s a shot,
speech 1 s — for 8 shots, and prints measured wall time divided by the critical-path lower
bound: the sum of the stage latencies when every shot of a stage runs in parallel
(script + storyboard + image + video + speech = 2 + 2 + 3 + 8 + 1 = 16 s). Aim: at most 1.15.

    .venv/bin/python bench/pipeline_efficiency.py [--shots 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LATENCY = {"llm": 2.0, "image": 3.0, "video": 8.0, "tts": 1.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=8)
    args = parser.parse_args()

    import logging

    from tests.fakes.vendors import FakeVendors

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per fake vendor request

    fake = FakeVendors().start()
    fake.latency.update({"openai.chat": LATENCY["llm"], "openai.images": LATENCY["image"],
                         "openai.speech": LATENCY["tts"]})
    fake.job_seconds = LATENCY["video"]
    work = Path(tempfile.mkdtemp(prefix="videoagent-bench-"))
    os.environ.update(fake.env())
    os.environ.update({
        "VIDEOAGENT_STORAGE": str(work / "storage"), "DAGSTER_HOME": str(work / "home"),
        "VIDEOAGENT_LLM": "openai:gpt-4.1", "VIDEOAGENT_IMAGE": "openai:gpt-image-1",
        "VIDEOAGENT_VIDEO": "runway:gen4_turbo", "VIDEOAGENT_TTS": "openai:gpt-4o-mini-tts",
        "VIDEOAGENT_VIDEO_POLL_S": "0.1", "VIDEOAGENT_PROVIDER_LIMITS": f"openai={args.shots}/0,runway={args.shots}/0",
    })
    (work / "home").mkdir()
    (work / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    import dagster as dg

    from videoagent_dagster.resources.media_store import media_store_from_env
    from videoagent_dagster.tasks import create_task, run_in_process, step_seconds

    store = media_store_from_env()
    with dg.DagsterInstance.get() as instance:
        brief = create_task({"topic": "Lighthouses of the north",
                             "options": {"duration": 2 * args.shots, "shots": args.shots, "resolution": "180p"}},
                            store, instance)
        started = time.perf_counter()
        result = run_in_process(instance, brief.task)
        wall = time.perf_counter() - started
        stages = step_seconds(instance, result.run_id)
    fake.stop()
    if not result.success:
        print("benchmark run failed", file=sys.stderr)
        return 1
    bound = 2 * LATENCY["llm"] + LATENCY["image"] + LATENCY["video"] + LATENCY["tts"]
    print(f"pipeline efficiency: {args.shots} shots; latencies llm {LATENCY['llm']:g} s/call, image "
          f"{LATENCY['image']:g} s, video {LATENCY['video']:g} s, speech {LATENCY['tts']:g} s per shot")
    for step, seconds in stages.items():
        print(f"  {step:<14}{seconds:>7.2f} s")
    calls = {k: fake.count(k) for k in ("openai.chat", "openai.images", "runway.create", "openai.speech")}
    print(f"  vendor calls: {calls}")
    print(f"wall {wall:.2f} s / critical-path lower bound {bound:.2f} s = {wall / bound:.3f} (aim: <= 1.15)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
