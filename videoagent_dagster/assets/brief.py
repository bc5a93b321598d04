"""video_brief: the validated brief of one task."""


import json

import dagster as dg

from ..brief import Brief, BriefError, validate_brief
from ..budget import BudgetError, reserve
from ..partitions import check_task_key, video_tasks
from ..resources.media_store import MediaStore


def brief_key(task: str) -> str:
    return f"briefs/{task}.json"


class VideoBriefConfig(dg.Config):
    """Leave everything empty to use the brief stored for this task (`briefs/{task}.json`);
    fill in a topic to (re)define the task's brief from the launchpad."""

    topic: str | None = None
    style: str | None = None
    user: str | None = None
    priority: str | None = None
    webhook_url: str | None = None
    duration: float | None = None
    aspect: str | None = None
    resolution: str | None = None
    fps: int | None = None
    language: str | None = None
    include_audio: bool | None = None
    voice: str | None = None
    shots: int | None = None

    def as_raw_brief(self) -> dict | None:
        if self.topic is None:
            return None
        top = ("topic", "style", "user", "priority", "webhook_url")
        options = {k: v for k, v in self.model_dump().items() if k not in top and v is not None}
        return {**{k: getattr(self, k) for k in top if getattr(self, k) is not None}, "options": options}


@dg.asset(partitions_def=video_tasks, group_name="video", kinds={"json"})
def video_brief(context: dg.AssetExecutionContext, config: VideoBriefConfig, media_store: MediaStore) -> Brief:
    """The brief: topic, style (or none), options and language, validated."""
    task = check_task_key(context.partition_key)
    raw = config.as_raw_brief()
    from_config = raw is not None
    if raw is None:
        if not media_store.exists(brief_key(task)):
            raise dg.Failure(
                f"No brief for task {task}: launch video_brief with a topic in its config, or submit the task "
                f"with `videoagent make` (expected {media_store.uri(brief_key(task))})"
            )
        raw = json.loads(media_store.read_bytes(brief_key(task)))
    try:
        brief = validate_brief(raw, task)
    except BriefError as e:
        raise dg.Failure(description=str(e), metadata={"problems": dg.MetadataValue.json(e.problems)}) from None
    if from_config:  # checked against the budget and stored only once valid
        try:
            reserve(brief, media_store)
        except BudgetError as e:
            raise dg.Failure(description=str(e)) from None
        media_store.write_bytes(brief_key(task), json.dumps(raw, ensure_ascii=False, indent=1).encode("utf-8"))
    if brief.style_warning:
        context.log.warning(brief.style_warning)
    w, h = brief.options.size()
    context.add_output_metadata({
        "topic": brief.topic,
        "style": brief.style or "(detect)",
        "language": brief.language,
        "duration_s": brief.options.duration,
        "format": f"{w}x{h} {brief.options.aspect} @ {brief.options.fps} fps",
        "audio": brief.options.include_audio,
        "source": "run config" if from_config else "stored brief",
        **({"style_warning": brief.style_warning} if brief.style_warning else {}),
    })
    return brief
