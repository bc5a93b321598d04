"""storyboard: the ordered shots, with their timing quantised to whole frames."""


from collections.abc import Iterator

import dagster as dg

from videoagent_dagster.defs.video.checks import (
    STORYBOARD_CHECKS,
    for_task,
    storyboard_checks,
)
from videoagent_dagster.defs.video.common import (
    STEP_RETRY_POLICY,
    prompt_version,
    prompts_folder,
    retried_only_when_transient,
)
from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.defs.video.script import writer_inputs
from videoagent_dagster.domain.brief import Brief
from videoagent_dagster.domain.manifests import (
    Cast,
    Storyboard,
    StoryboardDraft,
    StyleProfile,
    WrittenScript,
)
from videoagent_dagster.domain.plan_rules import (
    TRANSITION_SECONDS,
    PlanRequest,
    review_storyboard,
    revise_shots,
)
from videoagent_dagster.domain.prompts import storyboard_prompt
from videoagent_dagster.domain.timing import frame_count
from videoagent_dagster.providers.llm import LLMResource
from videoagent_dagster.providers.spending import Spending
from videoagent_dagster.providers.video import VideoGenResource
from videoagent_dagster.storage.media_store import MediaStore



@dg.asset(partitions_def=video_tasks, group_name="video", pool="llm", kinds={"json"}, check_specs=STORYBOARD_CHECKS,
          retry_policy=STEP_RETRY_POLICY, code_version=prompt_version("storyboard"))
@retried_only_when_transient
def storyboard(context: dg.AssetExecutionContext, video_brief: Brief, style_profile: StyleProfile, script: WrittenScript,
               cast: Cast, llm: LLMResource, video_gen: VideoGenResource, media_store: MediaStore) -> Iterator:
    """Shots: description, narration, camera move, shot type, duration, composition, lighting,
    palette, and the cast members each shows."""
    opts = video_brief.options
    # Timed to the clip lengths the video vendor sells (its paid seconds near the seconds on screen)
    clip_lengths = video_gen.clip_lengths()
    ask = PlanRequest.of(video_brief, storyboard=True, clip_lengths=clip_lengths)
    known = {m.id for m in cast.members}
    characters = {m.id for m in cast.members if m.kind == "character"}

    def review(d: StoryboardDraft):
        # A cast id the cast does not have is dropped (safe: the shot is painted from its words), and
        # a speaker who is not one of its characters gives the line back to the narrator.
        kept = d.model_copy(update={"shots": [s.model_copy(update={
            "cast": [c for c in dict.fromkeys(s.cast) if c in known],
            "speaker": s.speaker if s.speaker in characters else None}) for s in d.shots]})
        return review_storyboard(kept, ask)

    # Reviewed against the plan's rules before it is cached: the shot count asked for, durations
    # in whole frames adding up to the request, narration that fits its shot, in the brief's language.
    # The cast is given by id, kind and name only: a revised description does not re-plan the shots.
    names = [m.model_dump(include={"id", "kind", "name"}) for m in cast.members]
    draft, call = llm.generate("storyboard", StoryboardDraft,
                               storyboard_prompt(video_brief, style_profile, script, ask.shots, prompts_folder(),
                                                 cast.members, ask.frames),
                               {**writer_inputs(video_brief, style_profile, clip_lengths),
                                "script": script.model_dump(exclude={"call"}), "cast": names},
                               review=review, spend=Spending(media_store, context.partition_key))
    # A user's revisions of single shots win (checked when they were made: tasks.operations.revise_shot).
    revised = revise_shots(draft.shots, video_brief.revisions.shots)
    # Whole frames per shot, so clip lengths, narration offsets and subtitles agree exactly.
    frames = [frame_count(s.duration, opts.fps) for s in revised]
    # The brief's transition wins, then the shot's own choice, then the style's; the last shot has none.
    transitions = [opts.transition or s.transition or style_profile.transition for s in revised[:-1]] + ["cut"]
    shots = [s.model_copy(update={"duration": f / opts.fps, "transition": t})
             for s, f, t in zip(revised, frames, transitions)]
    # A transition overlaps two shots; the outgoing clip runs that much longer so the cut lands on time.
    overlaps = [0 if t == "cut" else min(round(TRANSITION_SECONDS * opts.fps), frames[i] // 2, frames[i + 1] // 2)
                for i, t in enumerate(transitions[:-1])]
    width, height = opts.size()
    board = Storyboard(shots=shots, total_duration=round(sum(s.duration for s in shots), 6), width=width,
                       height=height, fps=opts.fps, style=style_profile.name,
                       calls=[c for c in (style_profile.call, script.call, cast.call, call) if c is not None],
                       overlaps=overlaps)
    rows = [dg.TableRecord({"shot": i + 1, "type": s.shot_type, "camera": s.camera_movement,
                            "duration_s": round(s.duration, 3), "transition": s.transition, "title": s.title,
                            "narration": s.narration, "cast": ", ".join(s.cast)})
            for i, s in enumerate(shots)]
    yield dg.Output(board, metadata={
        "shots": len(shots), "total_duration_s": board.total_duration, "size": f"{width}x{height}",
        "fps": opts.fps,
        "storyboard": dg.MetadataValue.table(rows, schema=dg.TableSchema(columns=[
            dg.TableColumn("shot", "int"), dg.TableColumn("type"), dg.TableColumn("camera"),
            dg.TableColumn("duration_s", "float"), dg.TableColumn("transition"), dg.TableColumn("title"),
            dg.TableColumn("narration"), dg.TableColumn("cast")])),
        "provider": f"{call.provider}:{call.model}", "cached": call.cached, "cost_usd": call.cost_usd,
        "revised_shots": ", ".join(map(str, sorted(video_brief.revisions.shots))) or "none",
    })
    yield from for_task(context.partition_key, storyboard_checks(board, video_brief))
