"""first_frames: one still per shot, and a contact sheet of them all."""


import hashlib
from collections.abc import Iterator

import dagster as dg

from videoagent_dagster.defs.video.checks import FIRST_FRAMES_CHECKS, for_task, frame_checks
from videoagent_dagster.defs.video.common import (
    STEP_RETRY_POLICY,
    calls_summary,
    calls_table,
    for_each_shot,
    image_markdown,
    prompt_version,
    prompts_folder,
    retried_only_when_transient,
    sheet_of,
)
from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.domain.keys import shot_name, task_media_key
from videoagent_dagster.domain.manifests import (
    Cast,
    FirstFrames,
    FrameCandidate,
    FrameItem,
    ReferenceSheets,
    Shot,
    Storyboard,
    StyleProfile,
)
from videoagent_dagster.domain.prompts import image_prompt, judge_prompt, with_critique
from videoagent_dagster.providers.images import FrameRequest, ImageGenResource
from videoagent_dagster.providers.spending import Spending
from videoagent_dagster.providers.vision import VisionResource
from videoagent_dagster.storage.media_store import MediaStore


@dg.asset(partitions_def=video_tasks, group_name="video", pool="image", kinds={"png"},
          retry_policy=STEP_RETRY_POLICY, code_version=f"{prompt_version('image')}-{prompt_version('judge')}",
          check_specs=FIRST_FRAMES_CHECKS)
@retried_only_when_transient
def first_frames(context: dg.AssetExecutionContext, storyboard: Storyboard, style_profile: StyleProfile,
                 cast: Cast, reference_sheets: ReferenceSheets, image_gen: ImageGenResource, vision: VisionResource,
                 media_store: MediaStore) -> Iterator:
    """The first frame of every shot, painted by the image_gen providers; a shot showing cast
    members is painted from their reference images, its prompt repeating their descriptions. The
    quality checker (vision) scores each against its shot; one under the threshold is painted again
    with the critique, up to `candidates` frames, and the best is kept."""
    task = context.partition_key
    n = len(storyboard.shots)
    spend = Spending(media_store, task)
    folder = prompts_folder()
    references = reference_sheets.by_member()
    looks = vision.looks()  # (offline: nothing looks, nothing to hash for it)

    def paint(i: int, shot: Shot) -> FrameItem:
        shown = cast.of(shot.cast)
        base = image_prompt(shot, style_profile, storyboard.shots[i - 1] if i else None, folder, shown,
                            cast.members)
        refs = [references[m.id] for m in shown if m.id in references]
        names = {m.id: m.name for m in shown}
        question = judge_prompt(shot, style_profile, shown, folder)
        candidates: list[FrameCandidate] = []
        for k in range(max(1, vision.candidates)):
            # each try after the first hears what the checker found wrong with the ones before
            prompt = with_critique(base, [c.reason for c in candidates])
            request = FrameRequest(
                prompt=prompt, width=storyboard.width, height=storyboard.height, style=style_profile.name,
                palette=tuple(shot.palette), shot_type=shot.shot_type, title=shot.title,
                label=f"SHOT {i + 1:02d} / {n:02d} · {shot.shot_type.replace('_', ' ')}",
                seed=int(hashlib.sha256(f"{i}|{prompt}".encode()).hexdigest()[:8], 16),
                subject=f"{shot.title}. {shot.description}",
                references=tuple(str(media_store.path(r.key)) for r in refs), candidate=k,
            )
            cached, call = image_gen.generate(request, spend=spend, reference_hashes=tuple(r.sha256 for r in refs))
            score, reason, judged_by = vision.judge(
                question, (media_store.path(cached), media_store.sha256(cached) if looks else ""),
                [(names[r.member], media_store.path(r.key), r.sha256) for r in refs], spend=spend)
            candidates.append(FrameCandidate(key=cached, prompt=prompt, score=score, reason=reason, call=call,
                                             judge_call=judged_by))
            if score is None or score >= vision.threshold:
                break
            context.log.warning(f"first frames: shot {i + 1} candidate {k + 1} scored {score}/10: {reason}")
        best = max(candidates, key=lambda c: -1 if c.score is None else c.score)
        key = media_store.copy(best.key, task_media_key(task, "frames", f"{shot_name(i)}.png"))
        return FrameItem(shot=i + 1, key=key, uri=media_store.uri(key), sha256=media_store.sha256(key),
                         width=storyboard.width, height=storyboard.height, prompt=best.prompt, call=best.call,
                         score=best.score, reason=best.reason, candidates=candidates)

    frames = for_each_shot(context, storyboard.shots, paint, max_workers=image_gen.max_concurrency,
                           stage="first frames")
    sheet_key = task_media_key(task, "frames", "contact_sheet.png")
    sheet_of(media_store, sheet_key, [(media_store.path(f.key), f.sha256) for f in frames],
             marks=[_mark(f, vision.threshold) for f in frames])
    # every painting and every look the checker took, the candidates not kept included
    calls = [c.call for f in frames for c in f.candidates]
    looks = [c.judge_call for f in frames for c in f.candidates if c.judge_call is not None]
    yield dg.Output(FirstFrames(frames=frames, contact_sheet=media_store.uri(sheet_key),
                                reference_calls=[r.call for r in reference_sheets.images]), metadata={
        "contact_sheet": image_markdown(media_store.path(sheet_key), "contact sheet", width=800),
        "contact_sheet_file": dg.MetadataValue.path(media_store.uri(sheet_key)),
        "frames": calls_table([f.call for f in frames], [
            {"file": media_store.uri(f.key), "score": "-" if f.score is None else f.score,
             "candidates": len(f.candidates), "reason": f.reason,
             "scores": ", ".join("-" if c.score is None else str(c.score) for c in f.candidates)}
            for f in frames]),
        "judged_by": ", ".join(sorted({f"{c.provider}:{c.model}" for c in looks})) or "not judged",
        "repainted_shots": sum(1 for f in frames if len(f.candidates) > 1),
        **calls_summary(calls + looks),
    })
    yield from for_task(task, frame_checks([f.score for f in frames], vision.threshold))


def _mark(frame: FrameItem, threshold: float) -> tuple[str, bool]:
    """What the contact sheet writes under a frame: its score (and how many were painted), and whether it is low."""
    if frame.score is None:
        return "not judged", False
    tries = f" · {len(frame.candidates)} tries" if len(frame.candidates) > 1 else ""
    return f"{frame.score}/10{tries}", frame.score < threshold
