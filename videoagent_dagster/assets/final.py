"""final_video: the finished MP4, its thumbnail and subtitle sidecar."""


from collections.abc import Iterator

import dagster as dg

from ..brief import Brief
from ..budget import record_spend
from ..media.compose import compose, thumbnail
from ..media.ffmpeg import probe
from ..models import FinalVideo, FirstFrames, Narration, ShotClips, Storyboard
from ..partitions import video_tasks
from ..resources.media_store import MediaStore
from .checks import FINAL_VIDEO_CHECKS, final_video_checks, media_checks
from .common import image_markdown, task_key


class ComposeConfig(dg.Config):
    """x264 speed/quality: a faster preset encodes sooner at a larger size."""

    preset: str = "veryfast"
    crf: int = 21


@dg.asset(partitions_def=video_tasks, group_name="video", kinds={"mp4"}, check_specs=FINAL_VIDEO_CHECKS)
def final_video(context: dg.AssetExecutionContext, config: ComposeConfig, video_brief: Brief,
                storyboard: Storyboard, first_frames: FirstFrames, shot_clips: ShotClips, narration: Narration,
                media_store: MediaStore) -> Iterator:
    """Clips joined, narration laid under them, subtitles burned in: H.264/AAC MP4 with faststart."""
    task = context.partition_key
    video_key = task_key(task, "final", f"{task}.mp4")
    with media_store.writing(video_key) as tmp:
        compose([media_store.path(c.key) for c in shot_clips.clips], tmp, fps=storyboard.fps,
                audio=media_store.path(narration.track_key) if narration.track_key else None,
                subtitles_ass=media_store.path(narration.subtitles_ass), preset=config.preset, crf=config.crf)
    video = media_store.path(video_key)
    facts = probe(video)
    thumb_key = task_key(task, "final", "thumbnail.jpg")
    with media_store.writing(thumb_key) as tmp:
        # The middle of the first shot: past any fade-in, on the opening image.
        thumbnail(video, tmp, at=storyboard.shots[0].duration / 2)
    srt_key = media_store.copy(narration.subtitles_srt, task_key(task, "final", "subtitles.srt"))
    calls = [*storyboard.calls, *(f.call for f in first_frames.frames), *(c.call for c in shot_clips.clips),
             *(ln.call for ln in narration.lines if ln.call)]
    record_spend(video_brief, media_store, {c.cache_key: c.made_cost_usd for c in calls})
    v = facts["video"]
    result = FinalVideo(
        key=video_key, uri=media_store.uri(video_key), duration=facts["duration"], width=v["width"],
        height=v["height"], fps=v["fps"], codec=v["codec"], audio_codec=facts["audio"] and facts["audio"]["codec"],
        bitrate=facts["bitrate"], size_bytes=facts["size_bytes"], thumbnail=media_store.uri(thumb_key),
        subtitles=media_store.uri(srt_key), shots=len(storyboard.shots), style=storyboard.style,
        total_cost_usd=round(sum(c.made_cost_usd for c in calls), 4),
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
        "spent_this_run_usd": round(sum(c.cost_usd for c in calls), 4),
    })
    yield from final_video_checks(video, facts, video_brief)
    yield from media_checks(video, facts, storyboard)
