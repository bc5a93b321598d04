"""video_brief: the validated brief of one task."""


import hashlib
import json
import re
from typing import Any

import dagster as dg
from pydantic import Field, create_model
from pydantic.fields import FieldInfo

from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.domain.brief import (
    MUSIC_NAME,
    Brief,
    Revisions,
    BriefError,
    BriefOptions,
    BriefRequest,
    field_type,
    raw_from_flat,
    validate_brief,
)
from videoagent_dagster.domain.keys import brief_key, music_key, revisions_key
from videoagent_dagster.domain.task_keys import check_task_key
from videoagent_dagster.storage.media_store import MediaStore
from videoagent_dagster.tasks.budget import BudgetError
from videoagent_dagster.tasks.operations import TaskExists, prepare_task


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


class _BriefConfig(dg.Config):
    def as_raw_brief(self) -> dict | None:
        return raw_from_flat(self.model_dump()) if self.topic is not None else None


def _config_field(name: str, field: FieldInfo) -> tuple[Any, Any]:
    note = ("REQUIRED for a new task (the partition has no stored brief yet); leave empty to use the "
            "stored brief. " if name == "topic" else "")
    return (field_type(field.annotation) | None,
            Field(None, description=f"{note}{field.description}. Allowed: {field.json_schema_extra['allowed']}"))


# The launchpad config of video_brief: every field of the brief (BriefRequest and its options, flat),
# all optional, so that a run without config (CLI, sensors, schedule) uses the stored brief.
VideoBriefConfig = create_model(
    "VideoBriefConfig", __base__=_BriefConfig,
    __doc__="Leave everything empty to use the brief stored for this task (`briefs/{task}.json`); "
            "fill in a topic (required then) to define the task's brief from the launchpad.",
    **{name: _config_field(name, f) for name, f in BriefRequest.model_fields.items() if name != "options"},
    **{name: _config_field(name, f) for name, f in BriefOptions.model_fields.items()},
)


@dg.asset(partitions_def=video_tasks, group_name="video", kinds={"json"})
def video_brief(context: dg.AssetExecutionContext, config: VideoBriefConfig,  # type: ignore[valid-type]
                media_store: MediaStore) -> Brief:
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
    if from_config:  # the task operations' own path: checked against the budget, stored exclusively
        try:
            prepare_task(raw, media_store, task)
        except BriefError as e:  # content screening's refusal
            raise dg.Failure(description=str(e), metadata={"problems": dg.MetadataValue.json(e.problems)},
                             allow_retries=False) from None
        except (BudgetError, TaskExists) as e:
            raise dg.Failure(description=str(e), allow_retries=False) from None
    if media_store.exists(revisions_key(task)):
        brief = brief.model_copy(update={"revisions": Revisions.model_validate_json(
            media_store.read_bytes(revisions_key(task)))})
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
        "revised_cast": ", ".join(sorted(brief.revisions.cast)) or "none",
        **({"style_warning": brief.style_warning} if brief.style_warning else {}),
    })
    return brief
