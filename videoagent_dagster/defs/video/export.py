"""editor_export: the cut as a timeline an editor can open (OpenTimelineIO, FCP XML, CMX EDL)."""

import tempfile
from pathlib import Path

import dagster as dg

from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.domain.keys import shot_name, task_media_key
from videoagent_dagster.domain.manifests import (
    EditorExport,
    Narration,
    ShotClips,
    Storyboard,
)
from videoagent_dagster.domain.timing import frame_count
from videoagent_dagster.media.subtitles import cues_for_lines
from videoagent_dagster.media.timeline import (
    TimelineClip,
    build_timeline,
    write_exports,
)
from videoagent_dagster.storage.media_store import MediaStore


@dg.asset(partitions_def=video_tasks, group_name="video", kinds={"otio"})
def editor_export(context: dg.AssetExecutionContext, storyboard: Storyboard, shot_clips: ShotClips,
                  narration: Narration, media_store: MediaStore) -> EditorExport:
    """The shot clips and narration lines on a timeline, with subtitles as markers, written as
    .otio, Final Cut Pro XML (Premiere, Resolve) and CMX 3600 EDL, referencing the task's media."""
    task, fps = context.partition_key, storyboard.fps
    shots = [TimelineClip(shot_name(i), media_store.uri(c.key), frame_count(s.duration, fps), storyboard.overlap(i))
             for i, (s, c) in enumerate(zip(storyboard.shots, shot_clips.clips))]
    voice = [TimelineClip(f"narration_{shot_name(i)}", media_store.uri(ln.audio_key), shots[i].frames)
             if ln.audio_key else None for i, ln in enumerate(narration.lines)]
    cues = [(round(c.start * fps), round((c.end - c.start) * fps), c.text) for c in cues_for_lines(
        [(ln.text, ln.start, ln.speech_duration) for ln in narration.lines], storyboard.width, storyboard.height)]
    joins = storyboard.joins()
    timeline = build_timeline(task, fps, shots, voice, cues, joins)
    keys = {}
    with tempfile.TemporaryDirectory(prefix="videoagent-otio-") as tmp:
        for kind, path in write_exports(timeline, Path(tmp) / task).items():
            keys[kind] = task_media_key(task, "final", path.name)
            with media_store.writing(keys[kind]) as out:
                out.write_bytes(path.read_bytes())
    context.add_output_metadata({kind: dg.MetadataValue.path(media_store.uri(k)) for kind, k in keys.items()} |
                                {"clips": len(shots), "markers": len(cues),
                                 "transitions": sum(1 for kind, frames in joins if kind != "cut" and frames)})
    return EditorExport(otio=media_store.uri(keys["otio"]), fcp_xml=media_store.uri(keys["fcp_xml"]),
                        edl=media_store.uri(keys["edl"]), otio_key=keys["otio"], fcp_xml_key=keys["fcp_xml"],
                        edl_key=keys["edl"])
