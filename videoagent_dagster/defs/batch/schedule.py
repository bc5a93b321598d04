"""The batch schedule: a CSV manifest of briefs, turned into tasks on a timetable.

VIDEOAGENT_BATCH_MANIFEST names the CSV (a path, or s3://bucket/key); VIDEOAGENT_BATCH_CRON the
timetable (default hourly). Columns: the brief's fields — topic (required), style, user, priority,
webhook_url and each option by its name (duration, aspect, resolution, …) — blank cells take the
defaults. Each tick submits the rows not yet submitted:
a row's identity is the manifest's location and the row's content, so editing a row makes a new
task and re-reading an unchanged manifest makes none. A row already taken whose task has no run
yet (a tick whose run requests never became runs) is asked for again under the same run key."""

import hashlib
import io
import json
import os
from pathlib import PurePosixPath

import dagster as dg

from videoagent_dagster.defs.video.jobs import MAKE_VIDEO
from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.domain.brief import (
    OPTION_FIELDS,
    TOP_FIELDS,
    BriefError,
    raw_brief_from_text,
)
from videoagent_dagster.settings import Settings, current
from videoagent_dagster.storage.media_store import MediaStore
from videoagent_dagster.tasks.budget import BudgetError
from videoagent_dagster.tasks.operations import submit_once, task_run_tags

PARTITION_TAG = "dagster/partition"  # the tag Dagster gives a partition's runs
# Every field of the brief is a column (options by their own name); only topic is required.
COLUMNS = tuple(f for f in TOP_FIELDS if f != "options") + OPTION_FIELDS


def read_manifest(location: str) -> tuple[str, bytes]:
    """(a URI for it, its bytes), from a local path or s3://bucket/key."""
    if location.startswith("s3://"):
        bucket, _, key = location[5:].partition("/")
        folder, name = str(PurePosixPath(key).parent), PurePosixPath(key).name
        store = MediaStore(root=f"s3://{bucket}/{folder}" if folder != "." else f"s3://{bucket}")
        return location, store.read_bytes(name)
    with open(location, "rb") as f:
        return os.path.abspath(location), f.read()


def rows_to_briefs(data: bytes) -> list[tuple[int, dict]]:
    """CSV rows as raw briefs (with their 1-based line numbers); pandas does the CSV parsing."""
    import pandas as pd

    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    unknown = set(frame.columns) - set(COLUMNS)
    if unknown or "topic" not in frame.columns:
        raise BriefError([f"manifest columns: {', '.join(sorted(unknown)) or 'topic missing'}; allowed: "
                          f"{', '.join(COLUMNS)} (topic required)"])
    briefs = []
    for i, row in enumerate(frame.to_dict("records"), start=2):
        cells = {k: v.strip() for k, v in row.items() if isinstance(v, str) and v.strip()}
        briefs.append((i, raw_brief_from_text(cells)))
    return briefs


def batch_schedule_for(settings: Settings) -> dg.ScheduleDefinition:
    """The schedule on the settings' timetable; running by default when a manifest is named."""

    @dg.schedule(job_name=MAKE_VIDEO, cron_schedule=settings.batch_cron, name="batch_schedule",
                 default_status=dg.DefaultScheduleStatus.RUNNING if settings.batch_manifest
                 else dg.DefaultScheduleStatus.STOPPED,
                 description="Submits the rows of the CSV manifest at VIDEOAGENT_BATCH_MANIFEST not yet submitted.")
    def batch_schedule(context: dg.ScheduleEvaluationContext, media_store: MediaStore):
        return submit_manifest(context, media_store, current().batch_manifest)

    return batch_schedule


@dg.definitions
def batch() -> dg.Definitions:
    return dg.Definitions(schedules=[batch_schedule_for(current())])


def submit_manifest(context: dg.ScheduleEvaluationContext, media_store: MediaStore, location: str | None):
    if not location:
        return dg.SkipReason("VIDEOAGENT_BATCH_MANIFEST is not set")
    try:
        uri, data = read_manifest(location)
        rows = rows_to_briefs(data)
    except (OSError, BriefError) as e:
        return dg.SkipReason(f"cannot read the manifest {location}: {e}")
    rows_asked: list[tuple[dg.RunRequest, bool]] = []  # (its run request, whether the row is new), in order
    for line, raw in rows:
        identity = hashlib.sha256(f"{uri}\0{json.dumps(raw, sort_keys=True)}".encode()).hexdigest()
        try:
            brief, new = submit_once(media_store, identity, raw, source=f"{uri}:{line}")
        except (BriefError, BudgetError, ValueError) as e:
            context.log.warning(f"{uri} line {line} not submitted: {e}")
            continue
        rows_asked.append((dg.RunRequest(run_key=f"batch:{identity[:32]}", partition_key=brief.task,
                                         tags={**task_run_tags(brief), "videoagent/batch": f"{uri}:{line}"[-200:]}), new))
    # A row taken by an earlier tick is asked for again while its task has no run: that tick's run
    # requests may never have become runs (the daemon died first). Its task and budget were settled
    # then (submit_once); the run key is the same. A schedule's run keys only dedupe within a tick,
    # so once a run exists the row must not be asked for again — one look-up of runs for the tick.
    earlier = [r.partition_key for r, new in rows_asked if not new]
    launched = {rec.dagster_run.tags.get(PARTITION_TAG) for rec in context.instance.get_run_records(
        dg.RunsFilter(tags={PARTITION_TAG: earlier}))} if earlier else set()
    requests = [r for r, new in rows_asked if new or r.partition_key not in launched]
    if requests:  # schedules cannot return partition requests: add them here, before the runs are requested
        context.instance.add_dynamic_partitions(video_tasks.name, [r.partition_key for r in requests])
    return requests or dg.SkipReason(f"no new rows in {uri}")
