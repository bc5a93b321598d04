"""Throughput at scale: how close one deployment comes to what the video vendor's capacity allows.

10 tasks of 8 shots are submitted at once (over GraphQL, as `videoagent submit` does) to a
deployment started on loopback as tests/test_deployment.py starts it — PostgreSQL, a code server,
the webserver, the daemon with deploy/dagster.yaml's queued run coordinator and pools — against
loopback vendors (tests/fakes/vendors.py: the real openai and runwayml SDKs) with set latencies and
a Runway that runs at most 4 jobs at once (the others wait at the vendor, as Runway throttles).

It prints the wall time; the vendor-capacity bound — every clip job's latency over the 4 slots
(total clip jobs x clip latency / 4) plus the longest chain of the rest (the LLM calls, the
reference images and frames before the first clip, the final cut after the last); their ratio;
how busy the vendor's slots were while there was clip work; and the peak memory of the whole
process tree. Aim: wall / bound <= 1.10 with the slots >= 90 % busy.

    .venv/bin/python bench/throughput.py [--tasks 10] [--shots 8] [--clip-s 8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LATENCY = {"llm": 1.0, "image": 1.5, "tts": 0.5}
SLOTS = 4  # Runway's concurrency for the account


def tree_rss_mb(pids: list[int]) -> float:
    """Resident memory of these processes and all their descendants, in MB."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,rss="], capture_output=True, text=True).stdout.split("\n")
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for line in out:
        if line.strip():
            pid, ppid, kb = map(int, line.split())
            children.setdefault(ppid, []).append(pid)
            rss[pid] = kb
    seen, todo = set(), list(pids)
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo += children.get(p, [])
    return sum(rss.get(p, 0) for p in seen) / 1024


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", type=int, default=10)
    p.add_argument("--shots", type=int, default=8)
    p.add_argument("--clip-s", type=float, default=8.0, help="seconds a clip job takes once it has a slot")
    args = p.parse_args()

    import logging

    from werkzeug import Request

    from tests.fakes.vendors import FakeVendors, _json
    from tests.services import fresh_database, start_group, stop_groups
    from tests.test_deployment import BIN, PG_DAGSTER, free_port, postgres_ready, wait_for
    from videoagent_dagster.client import VideoagentClient

    if not postgres_ready():
        print("PostgreSQL is not answering on 127.0.0.1:5432", file=sys.stderr)
        return 1
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    class ThrottledRunway(FakeVendors):
        """Runway's queue: a job runs once one of SLOTS is free, for clip_s seconds."""

        def __init__(self):
            super().__init__()
            self.busy: list[tuple[float, float]] = []  # (start, end) of each job's slot

        def _new_job(self, seconds: float = 5) -> str:
            job_id = super()._new_job(seconds)
            with self.lock:
                now = time.monotonic()
                ends = sorted(e for _, e in self.busy if e > now)
                start = now if len(ends) < SLOTS else ends[len(ends) - SLOTS]
                self.busy.append((start, start + args.clip_s))
                self.jobs[job_id]["ready_at"] = start + args.clip_s
            return job_id

        def _job_state(self, job_id: str):
            with self.lock:
                ready = self.jobs[job_id].get("ready_at")
            if ready is not None and time.monotonic() < ready:
                with self.lock:
                    self.jobs[job_id]["polls"] += 1
                return "RUNNING", None, None
            with self.lock:
                self.jobs[job_id]["after"] = 0  # ready: succeed on this poll
            return super()._job_state(job_id)

    fake = ThrottledRunway().start()
    fake.latency.update({"openai.chat": LATENCY["llm"], "openai.images": LATENCY["image"],
                         "openai.edits": LATENCY["image"], "openai.speech": LATENCY["tts"]})
    assert _json and Request  # (the fake's helpers, imported with it)

    work = Path(tempfile.mkdtemp(prefix="videoagent-throughput-"))
    with fresh_database("videoagent_bench") as db:
        home = work / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text((ROOT / "deploy" / "dagster.yaml").read_text())
        grpc_port, web_port = free_port(), free_port()
        (work / "workspace.yaml").write_text(
            f"load_from:\n  - grpc_server:\n      host: 127.0.0.1\n      port: {grpc_port}\n"
            f"      location_name: videoagent\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDEOAGENT_", "DAGSTER_"))}
        env.update(fake.env())
        env.update({
            "DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_URL": f"{PG_DAGSTER}/{db}", "PYTHONPATH": str(ROOT),
            "VIDEOAGENT_STORAGE": str(work / "storage"), "VIDEOAGENT_INTAKE": str(work / "intake"),
            "VIDEOAGENT_LLM": "openai:gpt-4.1", "VIDEOAGENT_IMAGE": "openai:gpt-image-1",
            "VIDEOAGENT_VIDEO": "runway:gen4_turbo", "VIDEOAGENT_TTS": "openai:gpt-4o-mini-tts",
            "VIDEOAGENT_VIDEO_POLL_S": "0.25", "VIDEOAGENT_DAILY_BUDGET_USD": "10000",
            # our side does not limit Runway: the vendor's own queue does (as an account's would)
            "VIDEOAGENT_PROVIDER_LIMITS": "openai=0/0,runway=0/0",
        })
        logs = work / "logs"
        logs.mkdir()
        procs = [start_group(cmd, cwd=ROOT, env=env, log=logs / f"{name}.log") for name, cmd in (
            ("code-server", [str(BIN / "dagster"), "code-server", "start", "-m", "videoagent_dagster.definitions",
                             "-h", "127.0.0.1", "-p", str(grpc_port)]),
            ("webserver", [str(BIN / "dagster-webserver"), "-w", str(work / "workspace.yaml"), "-h", "127.0.0.1",
                           "-p", str(web_port)]),
            ("daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(work / "workspace.yaml")]))]
        peak = [0.0]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], tree_rss_mb([p.pid for p in procs]))
                stop.wait(0.5)

        try:
            client = VideoagentClient(f"http://127.0.0.1:{web_port}")

            def ready():
                try:
                    client._repository()  # noqa: SLF001 - the code location is loaded
                    return True
                except Exception:  # noqa: BLE001 - not yet
                    return False

            wait_for(ready, 180, "the deployment", interval=0.5)
            threading.Thread(target=sample, daemon=True).start()
            started = time.monotonic()
            # each task in its own style: other prompts, so other frames and clips (the same brief ten
            # times would be one video made once and served from the cache nine times)
            from videoagent_dagster.domain.styles import STYLE_NAMES

            tasks = [client.submit({"topic": f"Harbour life, part {i + 1}", "user": f"user{i % 5}",
                                    "style": STYLE_NAMES[i % len(STYLE_NAMES)],
                                    "options": {"duration": args.shots * 2.5, "resolution": "180p",
                                                "shots": args.shots, "transition": "cut"}}).task
                     for i in range(args.tasks)]
            states = {}

            def done():
                for t in tasks:
                    if states.get(t) not in ("completed", "failed"):
                        states[t] = client.status(t).status
                return all(s in ("completed", "failed") for s in states.values()) and len(states) == len(tasks)

            wait_for(done, 3600, "every task", interval=1.0)
            wall = time.monotonic() - started
        finally:
            stop.set()
            stop_groups(procs)
            fake.stop()
    failed = [t for t, s in states.items() if s != "completed"]
    jobs = len(fake.busy)
    first = min(s for s, _ in fake.busy)
    last = max(e for _, e in fake.busy)
    # the rest's longest chain: 4 LLM calls (style, script, cast, storyboard), a reference image and a
    # frame before the first clip; the final cut after the last (measured: the last clip's end to the end)
    before = 4 * LATENCY["llm"] + 2 * LATENCY["image"]
    after = max(0.0, (started + wall) - last)
    bound = jobs * args.clip_s / SLOTS + before + after
    busy = sum(e - s for s, e in fake.busy) / (SLOTS * (last - first))
    print(json.dumps({"tasks": args.tasks, "shots": args.shots, "failed": failed, "clip_jobs": jobs}))
    print(f"throughput: {args.tasks} tasks x {args.shots} shots, {jobs} clip jobs of {args.clip_s:g} s on {SLOTS} "
          f"vendor slots; LLM {LATENCY['llm']:g} s, image {LATENCY['image']:g} s, speech {LATENCY['tts']:g} s")
    print(f"wall {wall:.1f} s; vendor-capacity bound {bound:.1f} s (clips {jobs * args.clip_s / SLOTS:.1f} + "
          f"before the first clip {before:.1f} + after the last {after:.1f}); wall / bound {wall / bound:.3f} "
          f"(aim <= 1.10: {'met' if wall / bound <= 1.10 else 'MISSED'})")
    print(f"vendor slots busy {busy:.1%} from the first clip to the last (aim >= 90%: "
          f"{'met' if busy >= 0.9 else 'MISSED'}); first clip at {first - started:.1f} s; "
          f"peak memory of the process tree {peak[0]:.0f} MB; {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
