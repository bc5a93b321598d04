"""cast and reference_sheets: who and what recurs, each with one fixed description and one
reference image, so that every shot shows them the same way."""


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
    sheet_of,
)
from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.defs.video.script import writer_inputs
from videoagent_dagster.domain.brief import Brief
from videoagent_dagster.domain.keys import task_media_key
from videoagent_dagster.domain.manifests import (
    Cast,
    CastDraft,
    CastMember,
    ReferenceImage,
    ReferenceSheets,
    StyleProfile,
    WrittenScript,
)
from videoagent_dagster.domain.prompts import cast_prompt, reference_prompt
from videoagent_dagster.providers.images import FrameRequest, ImageGenResource
from videoagent_dagster.providers.llm import LLMResource
from videoagent_dagster.providers.spending import Spending
from videoagent_dagster.storage.media_store import MediaStore

REFERENCE_SIZE = 768  # square: a reference shows the member whole, whatever the video's shape


def review_cast(draft: CastDraft) -> tuple[CastDraft, list[str]]:
    """Ids must be unique: every shot names members by id."""
    seen, repeated = set(), []
    for m in draft.members:
        if m.id in seen:
            repeated.append(m.id)
        seen.add(m.id)
    return draft, [f"cast ids must be unique; repeated: {', '.join(sorted(set(repeated)))}"] if repeated else []


@dg.asset(partitions_def=video_tasks, group_name="video", pool="llm", kinds={"json"},
          retry_policy=STEP_RETRY_POLICY, code_version=prompt_version("cast"))
@retried_only_when_transient
def cast(context: dg.AssetExecutionContext, video_brief: Brief, style_profile: StyleProfile, script: WrittenScript,
         llm: LLMResource, media_store: MediaStore) -> Cast:
    """The characters, places and props that recur, each with a fixed visual description (a
    user's revised description wins)."""
    draft, call = llm.generate("cast", CastDraft, cast_prompt(video_brief, style_profile, script, prompts_folder()),
                               {**writer_inputs(video_brief, style_profile),
                                "script": script.model_dump(exclude={"call"})},
                               review=review_cast, spend=Spending(media_store, context.partition_key))
    revised = video_brief.revisions.cast
    unknown = sorted(set(revised) - {m.id for m in draft.members})
    if unknown:
        context.log.warning(f"revisions name cast members this cast does not have: {', '.join(unknown)}")
    members = [m.model_copy(update={"description": revised[m.id]}) if m.id in revised else m for m in draft.members]
    result = Cast(members=members, revised=[m.id for m in members if m.id in revised], call=call)
    context.add_output_metadata({
        "members": len(members),
        "cast": dg.MetadataValue.table(
            [dg.TableRecord({"id": m.id, "kind": m.kind, "name": m.name, "description": m.description,
                             "revised": m.id in revised}) for m in members],
            schema=dg.TableSchema(columns=[dg.TableColumn("id"), dg.TableColumn("kind"), dg.TableColumn("name"),
                                           dg.TableColumn("description"), dg.TableColumn("revised", "bool")])),
        "provider": f"{call.provider}:{call.model}", "cached": call.cached, "cost_usd": call.cost_usd,
    })
    return result


def reference_request(member: CastMember, style: StyleProfile) -> FrameRequest:
    prompt = reference_prompt(member, style, prompts_folder())
    return FrameRequest(prompt=prompt, width=REFERENCE_SIZE, height=REFERENCE_SIZE, style=style.name,
                        palette=tuple(member.colours), shot_type="close_up", title=member.name, label=member.kind,
                        seed=int(hashlib.sha256(f"{member.id}|{prompt}".encode()).hexdigest()[:8], 16),
                        subject=member.description, purpose="reference")


@dg.asset(partitions_def=video_tasks, group_name="video", pool="image", kinds={"png"},
          retry_policy=STEP_RETRY_POLICY, code_version=prompt_version("reference"))
@retried_only_when_transient
def reference_sheets(context: dg.AssetExecutionContext, cast: Cast, style_profile: StyleProfile,
                     image_gen: ImageGenResource, media_store: MediaStore) -> ReferenceSheets:
    """One reference image per cast member, painted by the image_gen providers; the frames of the
    shots showing a member are painted from it."""
    task = context.partition_key
    spend = Spending(media_store, task)

    def paint(_i: int, member: CastMember) -> ReferenceImage:
        request = reference_request(member, style_profile)
        cached, call = image_gen.generate(request, spend=spend)
        key = media_store.copy(cached, task_media_key(task, "references", f"{member.id}.png"))
        return ReferenceImage(member=member.id, key=key, uri=media_store.uri(key), sha256=media_store.sha256(key),
                              prompt=request.prompt, call=call)

    images = for_each_shot(context, cast.members, paint, max_workers=image_gen.max_concurrency,
                           stage="reference sheets", item="cast member") if cast.members else []
    metadata: dict = {"references": len(images)}
    sheet = None
    if images:
        sheet_key = task_media_key(task, "references", "contact_sheet.png")
        sheet_of(media_store, sheet_key, [(media_store.path(r.key), r.sha256) for r in images], thumb_width=240)
        sheet = media_store.uri(sheet_key)
        calls = [r.call for r in images]
        metadata.update({
            "contact_sheet": image_markdown(media_store.path(sheet_key), "reference sheets", width=720),
            "images": calls_table(calls, [{"member": r.member, "file": r.uri} for r in images]),
            **calls_summary(calls),
        })
    context.add_output_metadata(metadata)
    return ReferenceSheets(images=images, contact_sheet=sheet)
