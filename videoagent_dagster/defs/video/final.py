"""final_video: the finished MP4, its thumbnail and subtitle sidecar."""


from collections.abc import Iterator
from datetime import datetime, timezone
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path

import dagster as dg

from videoagent_dagster.defs.video.brief import music_for
from videoagent_dagster.defs.video.checks import (
    FINAL_VIDEO_CHECKS,
    STRETCHES,
    as_found,
    final_video_checks,
    for_task,
    look_at,
    look_at_settings,
    media_checks,
)
from videoagent_dagster.defs.video.common import image_markdown
from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.defs.video.reuse import made_from, remember, reusable
from videoagent_dagster.domain.brief import Brief
from videoagent_dagster.domain.keys import task_media_key
from videoagent_dagster.domain.manifests import (
    FinalVideo,
    FirstFrames,
    Narration,
    PastCut,
    ShotClips,
    Storyboard,
)
from videoagent_dagster.media.compose import Composed, compose
from videoagent_dagster.media.picture import thumbnail
from videoagent_dagster.media.probe import probe
from videoagent_dagster.settings import current
from videoagent_dagster.storage.media_store import MediaStore
from videoagent_dagster.tasks.operations import final_video_of


class ComposeConfig(dg.Config):
    """Encoding: x264 speed/quality (a faster preset encodes sooner at a larger size), and the
    H.264 encoder: auto ($VIDEOAGENT_H264_ENCODER, else a working hardware encoder, else libx264),
    libx264, h264_nvenc, h264_qsv, h264_videotoolbox or h264_amf."""

    preset: str = "veryfast"
    crf: int = 21
    encoder: str = "auto"


def past_cuts(media_store: MediaStore, task: str, previous: FinalVideo | None) -> list[PastCut]:
    """The task's history with its current cut (`previous`, its final_video manifest) added, copied
    aside (tasks/{task}/final/history/), for a new cut about to replace it; the history as it is
    when there is no cut yet."""
    if previous is None or not media_store.exists(previous.key):
        return previous.history if previous is not None else []
    stamp = (previous.made_at or "earlier").replace(":", "").replace("-", "").replace("+0000", "Z")
    kept = media_store.copy(previous.key, task_media_key(task, "final", f"history/{stamp}.mp4"))
    return [*previous.history, PastCut(key=kept, uri=media_store.uri(kept), made_at=previous.made_at or "",
                                       duration=previous.duration, size_bytes=previous.size_bytes)]


SUBTITLE_LANGUAGE = {"en": "eng", "zh": "zho", "ja": "jpn"}  # ISO 639-2, as MP4 subtitle tracks name them


@dg.asset(partitions_def=video_tasks, group_name="video", kinds={"mp4"}, check_specs=FINAL_VIDEO_CHECKS)
def final_video(context: dg.AssetExecutionContext, config: ComposeConfig, video_brief: Brief,
                storyboard: Storyboard, first_frames: FirstFrames, shot_clips: ShotClips, narration: Narration,
                media_store: MediaStore) -> Iterator:
    """Clips joined with their transitions, narration (over an optional ducked music bed) laid under
    them, subtitles burned in or as a track: H.264/AAC MP4 with faststart; stream copy when nothing
    needs re-encoding."""
    task = context.partition_key
    video_key = task_media_key(task, "final", f"{task}.mp4")
    opts = video_brief.options
    # The soundtrack is mastered by narration, beside the picture work; an older narration manifest
    # without one gets its track mastered here.
    sound = narration.soundtrack_key or narration.track_key
    music = narration.music if narration.soundtrack_key else music_for(video_brief, media_store) if sound else None
    clips = [media_store.path(c.key) for c in shot_clips.clips]
    how = {
        "fps": storyboard.fps, "width": storyboard.width, "height": storyboard.height, "joins": storyboard.joins(),
        "audio": media_store.path(sound) if sound else None, "master_audio": not narration.soundtrack_key,
        "music": media_store.path(music) if music and not narration.soundtrack_key else None,
        "burn_subtitles": media_store.path(narration.subtitles_ass) if opts.subtitles == "burn" else None,
        "soft_subtitles": media_store.path(narration.subtitles_srt) if opts.subtitles == "soft" else None,
        "subtitle_language": SUBTITLE_LANGUAGE.get(video_brief.language, "und"),
        "encoder": current().h264_encoder if config.encoder == "auto" else config.encoder, "preset": config.preset,
        "crf": config.crf,
    }
    # A re-run with the same clips, sound, subtitles and settings (and the same media code) would
    # make the same bytes: the video made last time is kept, and so is what its checks found in it.
    record_key = task_media_key(task, "final", f"{task}.inputs.json")
    digest = made_from(*clips, {k: v for k, v in how.items() if not isinstance(v, Path)},
                       *(how[k] for k in ("audio", "music", "burn_subtitles", "soft_subtitles")), look_at_settings())
    record = reusable(media_store, record_key, digest, video_key)
    previous = final_video_of(media_store, task)
    made_at = previous.made_at if record and previous is not None and previous.made_at else \
        datetime.now(timezone.utc).isoformat(timespec="seconds")
    history = previous.history if previous is not None else []
    if record:
        video = media_store.path(video_key)
        composed = Composed(**record["composed"])
        facts, found = record["facts"], None
        context.log.info(f"final video: made earlier from the same inputs ({composed.method}), kept")
    else:
        # A new cut of a task that had one (a revision, say): the old one is kept in the task's history,
        # and stays where it is until the new one replaces it (media_store.writing).
        history = past_cuts(media_store, task, previous)
        with media_store.writing(video_key) as tmp:
            composed = compose(clips, tmp, signatures=[c.signature or None for c in shot_clips.clips],
                               detect_stretches=STRETCHES, **how)
        context.log.info(f"final video: {composed.method}" + (f" with {composed.encoder} ({composed.why_encoded})"
                                                              if composed.method == "encode" else ""))
        video = media_store.path(video_key)
        facts = probe(video)
        # The checks' decoding pass runs while the thumbnail is taken (both mostly wait on ffmpeg).
        looking = ThreadPoolExecutor(max_workers=1, thread_name_prefix="final-checks")
        found = looking.submit(look_at, video, facts, composed.stretches)
        looking.shutdown(wait=False)
    thumb_key = task_media_key(task, "final", "thumbnail.jpg")
    with media_store.writing(thumb_key) as tmp:
        # The middle of the first shot: past any fade-in, on the opening image.
        thumbnail(video, tmp, at=storyboard.shots[0].duration / 2)
    srt_key = media_store.copy(narration.subtitles_srt, task_media_key(task, "final", "subtitles.srt"))
    calls = [*storyboard.calls, *first_frames.reference_calls, *first_frames.calls(),
             *(c.call for c in shot_clips.clips), *(j for c in shot_clips.clips for j in c.judge_calls),
             *(ln.call for ln in narration.lines if ln.call)]
    v = facts["video"]
    result = FinalVideo(
        key=video_key, uri=media_store.uri(video_key), duration=facts["duration"], width=v["width"],
        height=v["height"], fps=v["fps"], codec=v["codec"], audio_codec=facts["audio"] and facts["audio"]["codec"],
        bitrate=facts["bitrate"], size_bytes=facts["size_bytes"], thumbnail=media_store.uri(thumb_key),
        subtitles=media_store.uri(srt_key), shots=len(storyboard.shots), style=storyboard.style,
        total_cost_usd=round(sum(c.made_cost_usd for c in calls), 4), made_at=made_at, history=history,
    )
    yield dg.Output(result, metadata={
        "video": dg.MetadataValue.path(result.uri),
        "thumbnail": image_markdown(media_store.path(thumb_key), "thumbnail", width=480),
        "thumbnail_file": dg.MetadataValue.path(result.thumbnail),
        "subtitles": dg.MetadataValue.path(result.subtitles),
        "duration_s": round(result.duration, 3), "size": f"{result.width}x{result.height}", "fps": result.fps,
        "codec": f"{result.codec}/{result.audio_codec or 'no audio'}", "bitrate_kbps": round(result.bitrate / 1000),
        "size_mb": round(result.size_bytes / 1e6, 2), "shots": result.shots, "style": result.style,
        "total_cost_usd": result.total_cost_usd,
        "composed_by": composed.method, "video_encoder": composed.encoder, "reused": bool(record),
        **({"why_encoded": composed.why_encoded} if composed.why_encoded else {}),
        "transitions": ", ".join(sorted({s.transition or "cut" for s in storyboard.shots[:-1]})) or "none",
        "subtitles_mode": opts.subtitles, "music": music or "none",
        "spent_this_run_usd": round(sum(c.cost_usd for c in calls), 4),
        # what the video vendor billed for the clips this video uses, beside what it shows (offline: 0)
        "video_seconds_paid": round(sum(c.call.usage.get("video_seconds", 0.0) for c in shot_clips.clips), 3),
        "video_seconds_on_screen": round(result.duration, 3),
        "earlier_cuts": len(history),
    })
    if found is None:
        seen = as_found(record["found"])
    else:
        seen = found.result()
        # The stretches compose found are kept once, with the rest of the findings.
        remember(media_store, record_key, digest, video_key, composed=asdict(replace(composed, stretches=None)),
                 facts=facts, found=seen)
    yield from for_task(task, [*final_video_checks(seen, facts, video_brief),
                               *media_checks(seen, facts, storyboard, narration)])
