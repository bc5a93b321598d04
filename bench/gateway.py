"""Gateway benchmark: status, lists and WebSockets under load, beside Dagster's GraphQL.

Starts a dagster-webserver (SQLite instance, runs launched at once) and `videoagent serve` in
front of it on loopback; makes one real task and copies its run and event log 99 times (100
finished tasks), starts 5 more that are held mid-way (5 running); then, from a second process,
sends GET /api/v1/tasks/{id} and GET /api/v1/tasks at a fixed rate (open loop: a slow answer does
not slow the sender) while 20 WebSockets stay open on the running tasks. It prints p50/p99 latency
and requests/s, and — measured in the same run — the same status asked straight from Dagster's
GraphQL the way `videoagent status` does (its runs query and the run's whole event log).
Aim: p99 < 50 ms at 200 requests/s.

    .venv/bin/python bench/gateway.py [--rate 200] [--seconds 15] [--sockets 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TINY = {"duration": 5, "resolution": "180p", "shots": 2}
AIM_P99_MS = 50.0


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


# -- the load, in its own process ------------------------------------------------------------------
async def _load(url: str, key: str, finished: list[str], running: list[str], rate: float, seconds: float,
                sockets: int) -> dict:
    import httpx
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {key}"}
    latencies: dict[str, list[float]] = {"status": [], "list": []}
    errors, messages = [], [0]
    stop = asyncio.Event()

    async def socket(task: str) -> None:
        ws_url = url.replace("http://", "ws://") + f"/api/v1/ws/tasks/{task}"
        async with connect(ws_url, additional_headers=headers) as ws:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(ws.recv(), 0.5)
                    messages[0] += 1
                except asyncio.TimeoutError:
                    pass

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10,
                                 limits=httpx.Limits(max_connections=200)) as http:
        watchers = [asyncio.create_task(socket(running[i % len(running)])) for i in range(sockets)]
        await asyncio.sleep(1)
        tasks = finished + running
        pending = []

        async def one(kind: str, path: str) -> None:
            started = time.perf_counter()
            try:
                answer = await http.get(path)
                if answer.status_code != 200:
                    errors.append(f"{path}: {answer.status_code}")
            except httpx.HTTPError as e:
                errors.append(f"{path}: {e!r}")
            latencies[kind].append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        n = 0
        while (elapsed := time.perf_counter() - began) < seconds:
            due = began + n / rate
            if due > time.perf_counter():
                await asyncio.sleep(due - time.perf_counter())
            if random.random() < 0.8:
                pending.append(asyncio.create_task(one("status", f"/api/v1/tasks/{random.choice(tasks)}")))
            else:
                pending.append(asyncio.create_task(one("list", "/api/v1/tasks?page_size=20")))
            n += 1
        await asyncio.gather(*pending)
        wall = time.perf_counter() - began
        stop.set()
        await asyncio.gather(*watchers, return_exceptions=True)
    every = latencies["status"] + latencies["list"]
    return {"sent": n, "wall": wall, "errors": errors[:5], "error_count": len(errors), "ws_messages": messages[0],
            **{f"{k}_{q}": pct(v, p) for k, v in [("all", every), *latencies.items()]
               for q, p in (("p50", 0.5), ("p99", 0.99))}}


def load_main(args: argparse.Namespace) -> int:
    spec = json.loads(Path(args.load).read_text())
    print(json.dumps(asyncio.run(_load(spec["url"], spec["key"], spec["finished"], spec["running"], args.rate,
                                       args.seconds, args.sockets))))
    return 0


# -- the setup and the comparison --------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--sockets", type=int, default=20)
    parser.add_argument("--finished", type=int, default=100)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        return load_main(args)

    sys.path.insert(0, str(ROOT))
    import httpx

    from tests.services import (
        controlled_camera,
        gateway_ready,
        local_services,
        stop_groups,
    )
    from tests.test_deployment import wait_for

    work = Path(tempfile.mkdtemp(prefix="videoagent-bench-gateway-"))
    procs, started = local_services(work, gateway=True, VIDEOAGENT_RATE_LIMIT_PER_MINUTE="1000000",
                                    **controlled_camera(work))
    home, control, url, dagster_url = started["home"], work / "control", started["url"], started["dagster_url"]
    os.environ.update({k: started["env"][k] for k in ("DAGSTER_HOME", "VIDEOAGENT_STORAGE")})
    try:
        wait_for(lambda: gateway_ready(procs, started), 120, "the gateway")
        from videoagent_dagster.api.accounts import Accounts
        from videoagent_dagster.client import VideoagentClient

        accounts = Accounts(f"sqlite:///{home / 'videoagent.db'}")
        _, key = accounts.create_key("bench")
        http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
        print("making one real task …", flush=True)
        first = http.post("/api/v1/tasks", json={"topic": "Benchmarks at dawn", "options": TINY}).json()
        wait_for(lambda: http.get(f"/api/v1/tasks/{first['task_id']}").json()["status"] == "completed", 300, "it")
        finished = [first["task_id"]] + copy_task(home, accounts, first["task_id"], first["run_id"], args.finished - 1)
        print(f"{len(finished)} finished tasks; starting 5 held ones …", flush=True)
        (control / "hold").touch()
        running = [http.post("/api/v1/tasks", json={"topic": f"Held {i}", "options": TINY}).json()["task_id"]
                   for i in range(5)]
        wait_for(lambda: all(http.get(f"/api/v1/tasks/{t}").json()["status"] == "video_generation" for t in running),
                 300, "5 running tasks")
        for t in finished:  # each task's first ask reads its log once; the load measures what follows
            http.get(f"/api/v1/tasks/{t}")
        spec = work / "load.json"
        spec.write_text(json.dumps({"url": url, "key": key, "finished": finished, "running": running}))
        print(f"load: {args.rate:g} requests/s for {args.seconds:g} s (80% GET /tasks/{{id}}, 20% GET /tasks), "
              f"{args.sockets} WebSockets open, from a second process …", flush=True)
        loaded = subprocess.run([sys.executable, __file__, "--load", str(spec), "--rate", str(args.rate),
                                 "--seconds", str(args.seconds), "--sockets", str(args.sockets)],
                                capture_output=True, text=True, timeout=args.seconds * 10 + 60)
        if loaded.returncode:
            raise SystemExit(loaded.stderr[-3000:])
        result = json.loads(loaded.stdout.strip().splitlines()[-1])

        client = VideoagentClient(dagster_url)
        direct = []
        began = time.perf_counter()
        for t in random.choices(finished, k=100):
            started = time.perf_counter()
            client.status(t)
            direct.append((time.perf_counter() - started) * 1000)
        direct_wall = time.perf_counter() - began
        (control / "hold").unlink()
    finally:
        stop_groups(procs)

    achieved = result["sent"] / result["wall"]
    print(f"\ngateway, {args.rate:g}/s asked, {achieved:.0f}/s sent and answered, {result['error_count']} errors "
          f"{result['errors'] or ''}; {result['ws_messages']} WebSocket messages")
    print(f"  all requests   p50 {result['all_p50']:6.1f} ms   p99 {result['all_p99']:6.1f} ms")
    print(f"  GET /tasks/id  p50 {result['status_p50']:6.1f} ms   p99 {result['status_p99']:6.1f} ms")
    print(f"  GET /tasks     p50 {result['list_p50']:6.1f} ms   p99 {result['list_p99']:6.1f} ms")
    print(f"Dagster GraphQL, the same status one at a time (runs query + the run's event log):")
    print(f"  p50 {pct(direct, .5):6.1f} ms   p99 {pct(direct, .99):6.1f} ms   {len(direct) / direct_wall:.0f}/s at most")
    print(f"gateway status p50 / GraphQL status p50: {result['status_p50'] / pct(direct, .5):.2f}")
    met = result["all_p99"] < AIM_P99_MS and achieved >= 0.95 * args.rate and not result["error_count"]
    print(f"aim p99 < {AIM_P99_MS:g} ms at {args.rate:g}/s: {'met' if met else 'MISSED'}")
    return 0


def copy_task(home: Path, accounts, task: str, run_id: str, copies: int) -> list[str]:
    """Copies of a finished task: its run and whole event log under new ids, owned by the same user."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    made = []
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        run = instance.get_run_by_id(run_id)
        records = instance.all_logs(run_id)
        owner = accounts.task(task).user
        for i in range(copies):
            new_task, new_run = f"{task}-copy{i:03d}", str(uuid.uuid4())
            tags = {**run.tags, "dagster/partition": new_task}
            instance.add_run(run._replace(run_id=new_run, tags=tags))
            for record in records:
                instance.store_event(record._replace(run_id=new_run))
            accounts.add_task(new_task, owner, None, "copy")
            made.append(new_task)
    return made


if __name__ == "__main__":
    sys.exit(main())
