"""video_brief: the validated brief of one task."""


import hashlib
import json
import re

import dagster as dg

from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.domain.brief import (
    MUSIC_NAME,
    Brief,
    BriefError,
    validate_brief,
)
from videoagent_dagster.domain.keys import brief_key, music_key
from videoagent_dagster.domain.task_keys import check_task_key
from videoagent_dagster.storage.media_store import MediaStore
from videoagent_dagster.tasks.budget import BudgetError, reserve


def music_library(media_store: MediaStore) -> list[str]:
    """Track names in the music library: audio files directly under music/ in the media store."""
    return sorted(k.rsplit("/", 1)[-1] for k in media_store.list("music")
                  if re.fullmatch(MUSIC_NAME, k.rsplit("/", 1)[-1]) and k.count("/") == 1)


def music_for(brief: Brief, media_store: MediaStore) -> str | None:
    """The media-store key of the brief's music bed: its named track, or for 'auto' one picked from
    the library by the task name (stable across re-runs); None for no music."""
    if not brief.options.music or not brief.options.include_audio:
        return None
    if brief.options.music != "auto":
        return music_key(brief.options.music)
    tracks = music_library(media_store)
    if not tracks:
        return None
    return music_key(tracks[int(hashlib.sha256(brief.task.encode()).hexdigest(), 16) % len(tracks)])


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
    transition: str | None = None
    subtitles: str | None = None
    music: str | None = None

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
    music = brief.options.music
    if music and music != "auto" and not media_store.exists(music_key(music)):
        tracks = music_library(media_store)
        raise dg.Failure(f"music: {music!r} is not in the music library ({media_store.uri('music')}); "
                         f"it has: {', '.join(tracks) or 'no tracks'} — add the file there or pick one of these")
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
        "subtitles": brief.options.subtitles,
        "transition": brief.options.transition or "(style's)",
        "music": brief.options.music or "none",
        "source": "run config" if from_config else "stored brief",
        **({"style_warning": brief.style_warning} if brief.style_warning else {}),
    })
    return brief
