"""script: title, synopsis and scenes with narration, written by the llm resource."""


from dataclasses import asdict

import dagster as dg

from videoagent_dagster.defs.video.common import (
    STEP_RETRY_POLICY,
    prompt_version,
    prompts_folder,
    retried_only_when_transient,
)
from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.domain.brief import Brief
from videoagent_dagster.domain.manifests import Script, StyleProfile, WrittenScript
from videoagent_dagster.domain.plan_rules import PlanRequest, review_script, shot_frames
from videoagent_dagster.domain.prompts import script_prompt
from videoagent_dagster.domain.styles import CATALOGUE
from videoagent_dagster.providers.llm import LLMResource
from videoagent_dagster.providers.spending import Spending
from videoagent_dagster.providers.video import VideoGenResource
from videoagent_dagster.storage.media_store import MediaStore


def writer_inputs(brief: Brief, style: StyleProfile, clip_lengths: tuple[int, ...] | None = None) -> dict:
    """What the offline writer reads (a real LLM reads the prompt); also part of the cache key.
    `clip_lengths`: a video vendor's, when the shots are timed to them (their frames given)."""
    planned = {"frames": shot_frames(brief, clip_lengths)} if clip_lengths else {}
    return {"topic": brief.topic, "language": brief.language, "style": asdict(CATALOGUE[style.name]),
            "duration": brief.options.duration, "fps": brief.options.fps, "shots": brief.options.shots, **planned}


@dg.asset(partitions_def=video_tasks, group_name="video", pool="llm", kinds={"json"},
          retry_policy=STEP_RETRY_POLICY, code_version=prompt_version("script"))
@retried_only_when_transient
def script(context: dg.AssetExecutionContext, video_brief: Brief, style_profile: StyleProfile,
           llm: LLMResource, video_gen: VideoGenResource, media_store: MediaStore) -> WrittenScript:
    """The script, in the brief's language."""
    ask = PlanRequest.of(video_brief, storyboard=False)
    result, call = llm.generate("script", Script, script_prompt(video_brief, style_profile, prompts_folder()),
                                writer_inputs(video_brief, style_profile, video_gen.clip_lengths()),
                                review=lambda s: review_script(s, ask),
                                spend=Spending(media_store, context.partition_key))
    rows = [dg.TableRecord({"scene": i + 1, "title": s.title, "duration_s": s.duration, "narration": s.narration})
            for i, s in enumerate(result.scenes)]
    context.add_output_metadata({
        "title": result.title, "synopsis": result.synopsis, "scenes": len(result.scenes),
        "scene_table": dg.MetadataValue.table(rows, schema=dg.TableSchema(columns=[
            dg.TableColumn("scene", "int"), dg.TableColumn("title"), dg.TableColumn("duration_s", "float"),
            dg.TableColumn("narration")])),
        "provider": f"{call.provider}:{call.model}", "cached": call.cached, "latency_s": call.latency_s,
        "cost_usd": call.cost_usd,
    })
    return WrittenScript(**result.model_dump(), call=call)
