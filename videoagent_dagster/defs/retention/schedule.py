"""The retention job and its schedule: expired media deleted (locally or in S3), old tasks' partitions
and runs pruned so the instance stays fast as tasks accumulate, what was freed reported as metadata.
Launch it with `dry_run: true` from the launchpad to see the plan without deleting anything."""

import dagster as dg

from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.settings import current
from videoagent_dagster.storage.media_store import MediaStore
from videoagent_dagster.tasks.retention import Retention, apply, plan

IN_PROGRESS = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


class RetentionConfig(dg.Config):
    dry_run: bool = False  # report what would go, delete nothing


def rules() -> Retention:
    s = current()
    return Retention(intermediate_s=s.retain_intermediate_h * 3600, final_s=s.retain_final_days * 86400,
                     cache_s=s.retain_cache_days * 86400)


@dg.op(description="Deletes expired media and forgets expired tasks (their partition and runs too).",
       out=dg.Out(dg.Nothing))
def apply_retention(context: dg.OpExecutionContext, config: RetentionConfig, media_store: MediaStore):
    instance = context.instance
    busy = {r.tags.get("dagster/partition") for r in instance.get_runs(dg.RunsFilter(statuses=IN_PROGRESS))}
    planned = plan(media_store, rules(), busy=busy)
    pruned_runs = 0
    if not config.dry_run:
        apply(media_store, planned)
        known = set(instance.get_dynamic_partitions(video_tasks.name))
        for task in planned.tasks_expired:
            for run in instance.get_runs(dg.RunsFilter(tags={"dagster/partition": task})):
                instance.delete_run(run.run_id)
                pruned_runs += 1
            if task in known:
                instance.delete_dynamic_partition(video_tasks.name, task)
    context.log.info(f"retention{' (dry run)' if config.dry_run else ''}: {len(planned.delete)} files, "
                     f"{planned.freed_bytes / 1e6:.1f} MB; tasks forgotten {len(planned.tasks_expired)}, trimmed "
                     f"{len(planned.tasks_trimmed)}; runs pruned {pruned_runs}; left alone {len(planned.kept)}")
    # what was freed, on the run's output (the UI shows it with the run)
    yield dg.Output(None, metadata={
        "dry_run": config.dry_run, "freed_mb": round(planned.freed_bytes / 1e6, 3), "files": len(planned.delete),
        "tasks_forgotten": len(planned.tasks_expired), "tasks_trimmed": len(planned.tasks_trimmed),
        "runs_pruned": pruned_runs, "left_alone": dg.MetadataValue.json(planned.kept),
        "cache_files": sum(1 for k in planned.delete if k.startswith("cache/"))})


@dg.job(description="Retention: expired media deleted, old tasks forgotten (VIDEOAGENT_RETAIN_*).")
def retention():
    apply_retention()


def retention_schedule_for(settings) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(name="retention_schedule", job=retention, cron_schedule=settings.retention_cron,
                                 default_status=dg.DefaultScheduleStatus.RUNNING,
                                 description="Runs retention daily (VIDEOAGENT_RETENTION_CRON).")


@dg.definitions
def retention_defs() -> dg.Definitions:
    return dg.Definitions(jobs=[retention], schedules=[retention_schedule_for(current())])
