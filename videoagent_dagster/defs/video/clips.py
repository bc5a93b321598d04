"""shot_clips: each first frame brought to life with its storyboard camera move."""

import shutil
import tempfile
from fractions import Fraction
from pathlib import Path

import dagster as dg

from videoagent_dagster.defs.video.common import (
    STEP_RETRY_POLICY,
    calls_summary,
    calls_table,
    for_each_shot,
    prompt_version,
    prompts_folder,
    retried_only_when_transient,
)
from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.defs.video.reuse import made_from, remember, reusable
from videoagent_dagster.domain.brief import Brief
from videoagent_dagster.domain.keys import shot_name, task_media_key
from videoagent_dagster.domain.manifests import (
    Cast,
    ClipItem,
    FirstFrames,
    ShotClips,
    Storyboard,
    StyleProfile,
)
from videoagent_dagster.domain.prompts import video_prompt
from videoagent_dagster.media.picture import why_encode
from videoagent_dagster.media.quality import conform_and_inspect, inspect_clip
from videoagent_dagster.media.run import MediaToolError
from videoagent_dagster.providers.cache import evict
from videoagent_dagster.providers.chain import ProviderError
from videoagent_dagster.providers.spending import Spending
from videoagent_dagster.providers.video import ClipRequest, VideoGenResource
from videoagent_dagster.storage.media_store import MediaStore


class ClipQualityError(RuntimeError):
    """A shot's clip failed its checks on every attempt."""


@dg.asset(partitions_def=video_tasks, group_name="video", pool="video", kinds={"mp4"},
          retry_policy=STEP_RETRY_POLICY, code_version=prompt_version("video"))
@retried_only_when_transient
def shot_clips(context: dg.AssetExecutionContext, video_brief: Brief, style_profile: StyleProfile,
               storyboard: Storyboard, cast: Cast, first_frames: FirstFrames, video_gen: VideoGenResource,
               media_store: MediaStore) -> ShotClips:
    """One clip per shot, exactly as long as its storyboard shot (in whole frames) plus the overlap
    of the transition into the next shot; checked (black, frozen) and made again when it fails."""
    task = context.partition_key
    fps = storyboard.fps
    spend = Spending(media_store, task)
    reencoded = final_reencodes(video_brief, storyboard)
    folder = prompts_folder()

    def film(i: int, shot) -> ClipItem:
        frame = first_frames.frames[i]
        attempts: list[dict] = []
        frames = storyboard.clip_frames(i)
        key = task_media_key(task, "clips", f"{shot_name(i)}.mp4")
        # The same vendor clip for the same shot (and the same media code) conforms and inspects the
        # same way: a re-run keeps the clip and verdict made last time instead of decoding it again.
        record_key = task_media_key(task, "clips", f"{shot_name(i)}.inputs.json")
        with tempfile.TemporaryDirectory(prefix="videoagent-shot-") as work:
            for attempt in range(max(1, video_gen.qc_attempts)):
                request = ClipRequest(
                    prompt=video_prompt(shot, style_profile, storyboard.shots[i - 1] if i else None, folder,
                                        cast.of(shot.cast), cast.members),
                    frame_key=frame.key, frame_sha256=frame.sha256, camera_movement=shot.camera_movement,
                    frames=frames, fps=fps, width=storyboard.width,
                    height=storyboard.height, attempt=attempt, reencoded=reencoded,
                )
                try:
                    cached, call, looked = video_gen.make(request, spend=spend)
                except ProviderError as e:
                    if not e.rejected:
                        raise
                    # Every provider's clip failed verification (undecodable, too short): nothing was
                    # cached; a new attempt asks again.
                    attempts.append({"attempt": attempt + 1, "provider": "-", "cached": False,
                                     "verdict": f"rejected: {str(e)[-300:]}"})
                    context.log.warning(f"shot clips: shot {i + 1} attempt {attempt + 1}: {e}")
                    continue
                made, exact = None, video_gen.exact_clips(call.provider)
                digest = made_from(media_store.path(cached), {"camera": shot.camera_movement, "frames": frames,
                                                              "fps": fps, "width": storyboard.width,
                                                              "height": storyboard.height, "exact": exact})
                record = reusable(media_store, record_key, digest, key)
                try:
                    if record:
                        problems, seen = record["problems"], record["seen"]
                    elif looked is not None:  # seen by the camera as it made the clip, in the same ffmpeg pass
                        problems, seen = looked
                    elif exact:
                        problems, seen = inspect_clip(media_store.path(cached), shot.camera_movement, frames / fps)
                    else:  # as the vendor made it: conformed to the shot and checked in one pass
                        made = Path(work) / f"attempt-{attempt + 1}.mp4"
                        problems, seen = conform_and_inspect(media_store.path(cached), made, shot.camera_movement,
                                                             frames=frames, fps=fps, width=storyboard.width,
                                                             height=storyboard.height)
                except MediaToolError as e:
                    # It probed well but does not decode to the end: out of the cache, a failed attempt.
                    evict(media_store, call.cache_key, "mp4")
                    problems, seen = [f"does not decode: {str(e)[-200:]}"], {}
                attempts.append({"attempt": attempt + 1, "provider": f"{call.provider}:{call.model}",
                                 "cached": call.cached, "verdict": "; ".join(problems) or "ok",
                                 **({"failed_vendor_jobs": int(call.usage["failed_jobs"])}
                                    if call.usage.get("failed_jobs") else {})})
                if not problems:
                    break
                context.log.warning(f"shot clips: shot {i + 1} attempt {attempt + 1} failed its checks: "
                                    f"{'; '.join(problems)}")
            else:
                raise ClipQualityError(f"every attempt failed its checks: {attempts[-1]['verdict']} "
                                       f"({len(attempts)} attempts)")
            if not record:
                if made is None:
                    media_store.copy(cached, key)
                else:
                    with media_store.writing(key) as tmp:
                        shutil.copyfile(made, tmp)
                remember(media_store, record_key, digest, key, problems=problems, seen=seen)
        # What the composer needs to place transitions, as the check's decoding pass saw it; it
        # probes the codec parameters itself only when a stream copy is possible.
        rate = Fraction(seen["fps"]).limit_denominator(1001)
        facts = {"nb_frames": str(seen["frames"]), "r_frame_rate": f"{rate.numerator}/{rate.denominator}"}
        return ClipItem(shot=i + 1, key=key, uri=media_store.uri(key), duration=seen["frames"] / fps,
                        fps=fps, width=seen["width"], height=seen["height"], call=call, attempts=attempts,
                        signature=facts)

    clips = for_each_shot(context, storyboard.shots, film, max_workers=video_gen.max_concurrency,
                          stage="shot clips")
    calls = [c.call for c in clips]
    context.add_output_metadata({
        "clips": calls_table(calls, [{"camera": s.camera_movement, "duration_s": round(c.duration, 3),
                                      "attempts": len(c.attempts),
                                      "verdicts": " | ".join(a["verdict"] for a in c.attempts)}
                                     for s, c in zip(storyboard.shots, clips)]),
        "regenerated_shots": sum(1 for c in clips if len(c.attempts) > 1),
        "total_duration_s": round(sum(c.duration for c in clips), 3),
        **calls_summary(calls),
    })
    return ShotClips(clips=clips)


def final_reencodes(brief: Brief, storyboard: Storyboard) -> bool:
    """Whether final_video will encode the picture whatever its clips are: compose's own rule
    (picture.why_encode) on the storyboard's joins and the brief's subtitles. (Music changes only
    the sound; the picture is still copied.)"""
    # Only whether subtitles are burned in matters to the rule, not where the file is.
    burned = Path("subtitles.ass") if brief.options.subtitles == "burn" else None
    return bool(why_encode(storyboard.joins(), burned))
