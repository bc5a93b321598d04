"""shot_clips: each first frame brought to life with its storyboard camera move."""

import hashlib
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
    ReferenceSheets,
    ShotClips,
    Storyboard,
    StyleProfile,
)
from videoagent_dagster.domain.prompts import judge_prompt, video_prompt, with_critique
from videoagent_dagster.media.picture import thumbnail, why_encode
from videoagent_dagster.media.quality import conform_and_inspect, inspect_clip
from videoagent_dagster.media.run import MediaToolError
from videoagent_dagster.providers.cache import evict
from videoagent_dagster.providers.chain import ProviderError
from videoagent_dagster.providers.spending import Spending
from videoagent_dagster.providers.video import ClipRequest, VideoGenResource
from videoagent_dagster.providers.vision import NOT_JUDGED, VisionResource
from videoagent_dagster.storage.media_store import MediaStore


MIDDLE_FRAME_NOTE = "\n(The image is the middle frame of the shot's clip: judge it as the shot's picture midway.)\n"


class ClipQualityError(RuntimeError):
    """A shot's clip failed its checks on every attempt."""


@dg.asset(partitions_def=video_tasks, group_name="video", pool="video", kinds={"mp4"},
          retry_policy=STEP_RETRY_POLICY, code_version=f"{prompt_version('video')}-{prompt_version('judge')}")
@retried_only_when_transient
def shot_clips(context: dg.AssetExecutionContext, video_brief: Brief, style_profile: StyleProfile,
               storyboard: Storyboard, cast: Cast, reference_sheets: ReferenceSheets, first_frames: FirstFrames,
               video_gen: VideoGenResource, vision: VisionResource, media_store: MediaStore) -> ShotClips:
    """One clip per shot, exactly as long as its storyboard shot (in whole frames) plus the overlap
    of the transition into the next shot; checked (black, frozen) and made again when it fails. With
    a vision provider, the quality checker scores each clip's middle frame as it scores first frames:
    under the threshold the clip is made again with the critique, and the best is kept."""
    task = context.partition_key
    fps = storyboard.fps
    spend = Spending(media_store, task)
    reencoded = final_reencodes(video_brief, storyboard)
    folder = prompts_folder()
    references = reference_sheets.by_member()
    looks_at_clips = vision.looks()

    def film(i: int, shot) -> ClipItem:
        frame = first_frames.frames[i]
        attempts: list[dict] = []
        frames = storyboard.clip_frames(i)
        key = task_media_key(task, "clips", f"{shot_name(i)}.mp4")
        # The same vendor clip for the same shot (and the same media code) conforms and inspects the
        # same way: a re-run keeps the clip and verdict made last time instead of decoding it again.
        record_key = task_media_key(task, "clips", f"{shot_name(i)}.inputs.json")
        shown = cast.of(shot.cast)
        base = video_prompt(shot, style_profile, storyboard.shots[i - 1] if i else None, folder, shown, cast.members)
        candidates: list[dict] = []  # clips that passed the technical checks, with the checker's score
        critiques: list[str] = []
        with tempfile.TemporaryDirectory(prefix="videoagent-shot-") as work:
            for attempt in range(max(1, video_gen.qc_attempts)):
                request = ClipRequest(
                    prompt=with_critique(base, critiques), frame_key=frame.key, frame_sha256=frame.sha256,
                    camera_movement=shot.camera_movement, frames=frames, fps=fps, width=storyboard.width,
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
                if problems:
                    context.log.warning(f"shot clips: shot {i + 1} attempt {attempt + 1} failed its checks: "
                                        f"{'; '.join(problems)}")
                    continue
                # The quality checker looks at the clip's middle frame, as at a first frame.
                clip_file = made or media_store.path(cached)
                score, reason, judged_by = judge_middle(clip_file, seen["frames"] / fps, shot, shown, work,
                                                        f"{shot_name(i)}-{attempt + 1}")
                attempts[-1].update({"score": score, "reason": reason,
                                     **({"judged_by": f"{judged_by.provider}:{judged_by.model}"} if judged_by else {})})
                candidates.append({"score": -1 if score is None else score, "attempt": attempt, "cached": cached,
                                   "made": made, "record": record, "digest": digest, "problems": problems,
                                   "seen": seen, "call": call, "judged": judged_by})
                if score is None or score >= vision.threshold:
                    break
                critiques.append(reason)
                context.log.warning(f"shot clips: shot {i + 1} attempt {attempt + 1} scored {score}/10: {reason}")
            if not candidates:
                raise ClipQualityError(f"every attempt failed its checks: {attempts[-1]['verdict']} "
                                       f"({len(attempts)} attempts)")
            best = max(candidates, key=lambda c: c["score"])  # (the first of the best: the earliest made)
            seen, call = best["seen"], best["call"]
            if not best["record"]:
                if best["made"] is None:
                    media_store.copy(best["cached"], key)
                else:
                    with media_store.writing(key) as tmp:
                        shutil.copyfile(best["made"], tmp)
                remember(media_store, record_key, best["digest"], key, problems=best["problems"], seen=seen)
        # What the composer needs to place transitions, as the check's decoding pass saw it; it
        # probes the codec parameters itself only when a stream copy is possible.
        rate = Fraction(seen["fps"]).limit_denominator(1001)
        facts = {"nb_frames": str(seen["frames"]), "r_frame_rate": f"{rate.numerator}/{rate.denominator}"}
        looks = [c["judged"] for c in candidates if c["judged"] is not None]
        return ClipItem(shot=i + 1, key=key, uri=media_store.uri(key), duration=seen["frames"] / fps,
                        fps=fps, width=seen["width"], height=seen["height"], call=call, attempts=attempts,
                        signature=facts, score=None if best["score"] < 0 else best["score"],
                        judge_calls=looks)

    def judge_middle(clip: Path, seconds: float, shot, shown, work: str, name: str):
        """The quality checker's (score, reason, call) for the clip's middle frame (not judged offline)."""
        if not looks_at_clips:
            return None, NOT_JUDGED, None
        still = Path(work) / f"{name}-middle.png"
        thumbnail(clip, still, at=seconds / 2)
        refs = [(m.name, media_store.path(references[m.id].key), references[m.id].sha256)
                for m in shown if m.id in references]
        question = judge_prompt(shot, style_profile, shown, folder) + MIDDLE_FRAME_NOTE
        return vision.judge(question, (still, hashlib.sha256(still.read_bytes()).hexdigest()), refs, spend=spend)

    clips = for_each_shot(context, storyboard.shots, film, max_workers=video_gen.max_concurrency,
                          stage="shot clips")
    calls = [c.call for c in clips]
    context.add_output_metadata({
        "clips": calls_table(calls, [{"camera": s.camera_movement, "duration_s": round(c.duration, 3),
                                      "attempts": len(c.attempts),
                                      "verdicts": " | ".join(a["verdict"] for a in c.attempts),
                                      "score": "-" if c.score is None else c.score}
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
