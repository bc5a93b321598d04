"""Backups (the original design's §10.5.3): the Dagster database (pg_dump's custom format from the
deployment's PostgreSQL; a local SQLite instance's files) and what the media store knows of its
tasks — briefs, revisions, manifests, the budget ledger, the spend book, the intake index — in one
tar.gz. The media itself (frames, clips, videos) stays where it is: in S3 (versioned, or with its
own replication) or on the machine's disk; a restore finds it again through the manifests."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from videoagent_dagster.storage.media_store import MediaStore

FORMAT = 1
# What of the media store a backup holds: every key under these, and the manifests and revisions of tasks.
STORE_PREFIXES = ("briefs", "ledger", "spend", "intake-index", "secrets")
TASK_FILES = re.compile(r"^tasks/[^/]+/(manifests/[^/]+\.json|revisions\.json)$")
SQLITE_DIRS = ("history", "schedules", "storage")


class BackupError(RuntimeError):
    """A backup or restore that could not be made; the message says what to fix."""


def pg_url(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg2://…) as libpq's tools take it (postgresql://…)."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def _run(cmd: list[str], what: str, **kw) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=3600, **kw)
    except FileNotFoundError:
        raise BackupError(f"{what}: {cmd[0]} is not installed (Debian: postgresql-client)") from None
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.decode(errors='replace').strip()[-600:]}")
    return done


def backup(out: Path, store: MediaStore, *, database_url: str | None, dagster_home: Path | None) -> dict:
    """Write the backup to `out` (.tar.gz); returns what it holds."""
    keys = sorted(k for prefix in STORE_PREFIXES for k in store.list(prefix))
    keys += sorted(k for k in store.list("tasks") if TASK_FILES.match(k))
    summary = {"format": FORMAT, "made_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "store": store.root, "store_files": len(keys),
               "tasks": len({k.split("/")[1] for k in keys if k.startswith("tasks/")})}
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    try:
        _write(partial, store, keys, summary, database_url, dagster_home)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, out)  # a backup cut short is never mistaken for one
    return summary


def _write(partial: Path, store: MediaStore, keys: list[str], summary: dict, database_url: str | None,
           dagster_home: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="videoagent-backup-") as tmp, tarfile.open(partial, "w:gz") as tar:
        if database_url:
            dump = Path(tmp) / "dagster.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(dump),
                  pg_url(database_url)], "pg_dump of the Dagster database")
            tar.add(dump, arcname="database/dagster.pgdump")
            summary["database"] = "postgresql"
        elif dagster_home is not None and dagster_home.is_dir():
            for name in SQLITE_DIRS:
                if (dagster_home / name).is_dir():
                    tar.add(dagster_home / name, arcname=f"database/sqlite/{name}")
            summary["database"] = "sqlite"
        else:
            raise BackupError("no Dagster database to back up: set DAGSTER_POSTGRES_URL (or --database) or DAGSTER_HOME")
        for key in keys:
            data = store.read_bytes(key)
            info = tarfile.TarInfo(f"store/{key}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("backup.json")
        body = json.dumps(summary, indent=1).encode()
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))


def restore(archive: Path, store: MediaStore, *, database_url: str | None, dagster_home: Path | None) -> dict:
    """Restore a backup: the database (into `database_url`, an empty or the damaged database; its
    objects are replaced) and the store's files. Returns the backup's summary."""
    if not archive.is_file():
        raise BackupError(f"no backup at {archive}")
    try:
        tar = tarfile.open(archive, "r:gz")
    except (tarfile.TarError, OSError) as e:
        raise BackupError(f"{archive} is not a videoagent backup (not a tar.gz: {e})") from None
    with tar, tempfile.TemporaryDirectory(prefix="videoagent-restore-") as tmp:
        try:
            summary = json.loads(tar.extractfile("backup.json").read())
        except KeyError:
            raise BackupError(f"{archive} is not a videoagent backup (no backup.json)") from None
        if summary.get("format") != FORMAT:
            raise BackupError(f"{archive} is a backup of format {summary.get('format')}; this version reads {FORMAT}")
        members = [m for m in tar.getmembers() if m.isfile()]
        if summary["database"] == "postgresql":
            if not database_url:
                raise BackupError("the backup holds a PostgreSQL database: set DAGSTER_POSTGRES_URL (or --database)")
            tar.extract("database/dagster.pgdump", tmp, filter="data")
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                  "--dbname", pg_url(database_url), str(Path(tmp) / "database/dagster.pgdump")],
                 "pg_restore of the Dagster database")
        else:
            if dagster_home is None:
                raise BackupError("the backup holds a SQLite instance: set DAGSTER_HOME")
            for m in members:
                if m.name.startswith("database/sqlite/"):
                    target = dagster_home / m.name[len("database/sqlite/"):]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(tar.extractfile(m).read())
        for m in members:
            if m.name.startswith("store/"):
                store.write_bytes(m.name[len("store/"):], tar.extractfile(m).read())
    return summary
