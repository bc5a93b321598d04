"""Scale-out on an existing engine: one small task through dagster-celery's executor, its steps
run by two Celery workers on the machine's Redis."""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from .services import fresh_database, start_group, stop_groups

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BROKER = "redis://127.0.0.1:6379/11"


def redis_ready() -> bool:
    try:
        import redis

        return redis.Redis.from_url(BROKER).ping()
    except Exception:  # noqa: BLE001
        return False


def test_celery_executor_with_two_workers(tmp_path):
    if not redis_ready():
        pytest.fail("Redis is not answering on 127.0.0.1:6379 (.ci/run starts it)")
    with fresh_database("videoagent_celery") as db:
        run_with_workers(tmp_path, db)


def run_with_workers(tmp_path: Path, db: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url:\n      env: DAGSTER_POSTGRES_URL\ntelemetry:\n  enabled: false\n")
    (tmp_path / "celery.yaml").write_text(f"execution:\n  config:\n    broker: {BROKER}\n    backend: {BROKER}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDEOAGENT_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(home), "DAGSTER_POSTGRES_URL": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{db}",
                "VIDEOAGENT_EXECUTOR": "celery", "VIDEOAGENT_CELERY_BROKER": BROKER, "VIDEOAGENT_STORAGE": str(tmp_path / "storage"),
                "PYTHONPATH": str(ROOT), "PATH": f"{BIN}:{os.environ.get('PATH', '')}"})
    workers = [start_group([str(BIN / "dagster-celery"), "worker", "start", "--name", f"w{i}-{db}",
                            "-A", "dagster_celery.app", "-y", str(tmp_path / "celery.yaml"), "--", "--concurrency", "1"],
                           cwd=ROOT, env=env, log=tmp_path / f"w{i}.log")
               for i in (1, 2)]
    script = textwrap.dedent(f"""
        import dagster as dg
        from dagster._core.definitions.reconstruct import ReconstructableRepository
        from videoagent_dagster.storage.media_store import media_store_from_env
        from videoagent_dagster.tasks.operations import create_task
        with dg.DagsterInstance.get() as instance:
            brief = create_task({{"topic": "Celery fields", "options": {{"duration": 5, "resolution": "180p", "shots": 2}}}},
                                media_store_from_env(), instance)
            job = ReconstructableRepository.for_module("videoagent_dagster.definitions", "defs",
                                                       working_directory="{ROOT}").get_reconstructable_job("make_video")
            result = dg.execute_job(job, instance=instance, tags={{"dagster/partition": brief.task}})
            hosts = {{e.message for e in instance.all_logs(result.run_id) if "celery" in (e.message or "").lower()}}
            print("RESULT", result.success, brief.task, len(hosts))
            for e in instance.all_logs(result.run_id):
                if e.dagster_event and e.dagster_event.is_failure:
                    print("FAILURE", e.dagster_event.event_specific_data)
    """)
    try:
        time.sleep(3)
        out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=180)
    finally:
        stop_groups(workers)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")), out.stdout + out.stderr[-3000:])
    assert line.startswith("RESULT True"), out.stdout[-3000:]
    task = line.split()[2]
    assert (tmp_path / "storage" / "tasks" / task / "final" / f"{task}.mp4").stat().st_size > 5000
    worker_logs = "".join((tmp_path / f"w{i}.log").read_text() for i in (1, 2))
    assert worker_logs.count("succeeded") >= 8  # every step ran on a Celery worker
