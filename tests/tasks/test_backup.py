"""Backups: the Dagster database (PostgreSQL, as deployed) and the store's briefs and manifests,
restored into a fresh database: the tasks and their videos are found again."""

from __future__ import annotations

import shutil
import tarfile

import dagster as dg
import pytest

from tests.services import PG, fresh_database
from tests.test_deployment import postgres_ready
from videoagent_dagster.cli import main
from videoagent_dagster.domain.keys import TASK_PARTITIONS, brief_key, manifest_key
from videoagent_dagster.storage.media_store import MediaStore
from videoagent_dagster.tasks.local_run import run_in_process
from videoagent_dagster.tasks.operations import create_task, final_video_of

PG_DAGSTER = PG.replace("postgresql://", "postgresql+psycopg2://")


def postgres_home(home, db: str):
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(
        f"storage:\n  postgres:\n    postgres_url: {PG_DAGSTER}/{db}\ntelemetry:\n  enabled: false\n")


def test_a_backup_restored_into_a_fresh_database_finds_the_tasks_and_their_videos(workdir, monkeypatch, capsys):
    if not shutil.which("pg_dump") or not postgres_ready():
        pytest.fail("PostgreSQL and its client tools are needed (.ci/run starts the server)")
    store = MediaStore(root=str(workdir / "storage"))
    monkeypatch.setenv("VIDEOAGENT_STORAGE", str(workdir / "storage"))
    with fresh_database("videoagent_backup") as db, fresh_database("videoagent_restored") as fresh:
        postgres_home(workdir / "home", db)
        monkeypatch.setenv("DAGSTER_HOME", str(workdir / "home"))
        with dg.DagsterInstance.get() as instance:
            task = create_task({"topic": "Tide pools at dawn", "options": {"duration": 5, "resolution": "180p",
                                                                            "shots": 2}}, store, instance).task
            assert run_in_process(instance, task).success
            video = final_video_of(store, task)
        archive = workdir / "backups" / "nightly.tar.gz"
        assert main(["backup", str(archive), "--database", f"{PG_DAGSTER}/{db}"]) == 0
        assert "backed up: postgresql database" in capsys.readouterr().out
        names = tarfile.open(archive).getnames()
        assert "database/dagster.pgdump" in names and f"store/{brief_key(task)}" in names
        assert f"store/{manifest_key(task, 'final_video')}" in names
        assert not [n for n in names if n.endswith((".mp4", ".png", ".wav"))]  # the media stays in the store

        # Lost: the database (a new, empty one) and the store's briefs and manifests; the media is still there.
        store.delete(brief_key(task))
        for key in [k for k in store.list(f"tasks/{task}/manifests")]:
            store.delete(key)
        assert final_video_of(store, task) is None
        postgres_home(workdir / "home", fresh)
        assert main(["restore", str(archive), "--database", f"{PG_DAGSTER}/{fresh}"]) == 0
        with dg.DagsterInstance.get() as restored:
            assert restored.has_dynamic_partition(TASK_PARTITIONS, task)
            runs = restored.get_runs(dg.RunsFilter(tags={"dagster/partition": task}))
            assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS]
            assert restored.get_latest_materialization_event(dg.AssetKey("final_video")) is not None
        again = final_video_of(store, task)
        assert again == video and store.path(again.key).stat().st_size == video.size_bytes
        assert store.exists(brief_key(task))


def test_a_backup_that_cannot_be_made_or_read_says_why(workdir, capsys):
    assert main(["restore", str(workdir / "none.tar.gz")]) == 1
    assert "no backup at" in capsys.readouterr().err
    (workdir / "junk.tar.gz").write_bytes(b"not a tar")
    assert main(["restore", str(workdir / "junk.tar.gz")]) == 1
    assert "is not a videoagent backup" in capsys.readouterr().err
    assert main(["backup", str(workdir / "b.tar.gz"), "--database", "postgresql://nobody@127.0.0.1:9/none"]) == 1
    assert "pg_dump of the Dagster database failed" in capsys.readouterr().err
    assert not (workdir / "b.tar.gz").exists() and not (workdir / "b.tar.gz.partial").exists()
