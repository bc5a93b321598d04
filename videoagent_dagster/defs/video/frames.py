"""first_frames: one still per shot, and a contact sheet of them all."""


import hashlib

import dagster as dg

from videoagent_dagster.defs.video.common import (
    STEP_RETRY_POLICY,
    calls_summary,
    calls_table,
    for_each_shot,
    image_markdown,
    prompt_version,
    prompts_folder,
    retried_only_when_transient,
)
from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.domain.keys import shot_name, task_media_key
from videoagent_dagster.domain.manifests import (
    Cast,
    FirstFrames,
    FrameItem,
    ReferenceSheets,
    Shot,
    Storyboard,
    StyleProfile,
)
from videoagent_dagster.domain.prompts import image_prompt
from videoagent_dagster.media.frames import contact_sheet
from videoagent_dagster.providers.images import FrameRequest, ImageGenResource
from videoagent_dagster.providers.spending import Spending
from videoagent_dagster.storage.media_store import MediaStore


@dg.asset(partitions_def=video_tasks, group_name="video", pool="image", kinds={"png"},
          retry_policy=STEP_RETRY_POLICY, code_version=prompt_version("image"))
@retried_only_when_transient
def first_frames(context: dg.AssetExecutionContext, storyboard: Storyboard, style_profile: StyleProfile,
                 cast: Cast, reference_sheets: ReferenceSheets, image_gen: ImageGenResource,
                 media_store: MediaStore) -> FirstFrames:
    """The first frame of every shot, painted by the image_gen providers; a shot showing cast
    members is painted from their reference images, its prompt repeating their descriptions."""
    task = context.partition_key
    n = len(storyboard.shots)
    spend = Spending(media_store, task)
    folder = prompts_folder()
    references = reference_sheets.by_member()

    def paint(i: int, shot: Shot) -> FrameItem:
        shown = cast.of(shot.cast)
        prompt = image_prompt(shot, style_profile, storyboard.shots[i - 1] if i else None, folder, shown)
        refs = [references[m.id] for m in shown if m.id in references]
        request = FrameRequest(
            prompt=prompt, width=storyboard.width, height=storyboard.height, style=style_profile.name,
            palette=tuple(shot.palette), shot_type=shot.shot_type, title=shot.title,
            label=f"SHOT {i + 1:02d} / {n:02d} · {shot.shot_type.replace('_', ' ')}",
            seed=int(hashlib.sha256(f"{i}|{prompt}".encode()).hexdigest()[:8], 16),
            subject=f"{shot.title}. {shot.description}",
            references=tuple(str(media_store.path(r.key)) for r in refs),
        )
        cached, call = image_gen.generate(request, spend=spend, reference_hashes=tuple(r.sha256 for r in refs))
        key = media_store.copy(cached, task_media_key(task, "frames", f"{shot_name(i)}.png"))
        return FrameItem(shot=i + 1, key=key, uri=media_store.uri(key), sha256=media_store.sha256(key),
                         width=storyboard.width, height=storyboard.height, prompt=prompt, call=call)

    frames = for_each_shot(context, storyboard.shots, paint, max_workers=image_gen.max_concurrency,
                           stage="first frames")
    sheet_key = task_media_key(task, "frames", "contact_sheet.png")
    with media_store.writing(sheet_key) as tmp:
        contact_sheet([media_store.path(f.key) for f in frames], tmp)
    calls = [f.call for f in frames]
    context.add_output_metadata({
        "contact_sheet": image_markdown(media_store.path(sheet_key), "contact sheet", width=800),
        "contact_sheet_file": dg.MetadataValue.path(media_store.uri(sheet_key)),
        "frames": calls_table(calls, [{"file": media_store.uri(f.key)} for f in frames]),
        **calls_summary(calls),
    })
    return FirstFrames(frames=frames, contact_sheet=media_store.uri(sheet_key),
                       reference_calls=[r.call for r in reference_sheets.images])
