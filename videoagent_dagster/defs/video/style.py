"""style_profile: the catalogue style this video is made in, and why — the user's, or the style
agent's (the LLM chain, choosing from the catalogue), or, offline, the keyword detector's."""


import dagster as dg

from videoagent_dagster.defs.video.common import (
    STEP_RETRY_POLICY,
    prompt_version,
    prompts_folder,
    retried_only_when_transient,
)
from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.domain.brief import Brief
from videoagent_dagster.domain.manifests import StyleChoice, StyleProfile
from videoagent_dagster.domain.prompts import style_prompt
from videoagent_dagster.domain.styles import CATALOGUE, detect_style
from videoagent_dagster.providers.chain import ProviderError
from videoagent_dagster.providers.llm import LLMResource
from videoagent_dagster.providers.spending import Spending
from videoagent_dagster.settings import offline_chain
from videoagent_dagster.storage.media_store import MediaStore


@dg.asset(partitions_def=video_tasks, group_name="video", pool="llm", kinds={"json"},
          retry_policy=STEP_RETRY_POLICY, code_version=prompt_version("style"))
@retried_only_when_transient
def style_profile(context: dg.AssetExecutionContext, video_brief: Brief, llm: LLMResource,
                  media_store: MediaStore) -> StyleProfile:
    """The user's style; else the style agent's choice from the catalogue (an LLM in the chain), or
    offline the keyword detector's; with the reasoning and who decided."""
    characteristics: list[str] = []
    call = None
    if video_brief.style:
        name, source, decided_by = video_brief.style, "user", "user"
        reasoning = f"The brief asks for the '{name}' style."
        if video_brief.style_warning:
            reasoning += f" ({video_brief.style_warning}.)"
    elif offline_chain(llm.chain):
        name, reasoning, scores = detect_style(video_brief.topic)
        source, decided_by = ("detected" if scores else "fallback"), "keywords"
    else:
        try:
            choice, call = llm.generate("style", StyleChoice, style_prompt(video_brief, prompts_folder()),
                                        {"topic": video_brief.topic, "language": video_brief.language},
                                        spend=Spending(media_store, context.partition_key))
        except ProviderError as e:
            if e.transient:  # may pass: the step's retry policy asks again
                raise
            # A model that cannot choose (answers off the catalogue even when told) is not worth
            # failing a video for: the keywords choose, and the metadata says why.
            name, reasoning, scores = detect_style(video_brief.topic)
            source, decided_by = ("detected" if scores else "fallback"), "keywords"
            reasoning += f" (The style agent could not choose: {str(e)[:300]})"
            context.log.warning(f"style agent failed, keywords chose {name!r}: {e}")
        else:
            name, reasoning, characteristics = choice.style, choice.reasoning, choice.characteristics
            source, decided_by = ("llm", f"{call.provider}:{call.model}") if call.provider != "offline" else \
                ("detected", "keywords")
    s = CATALOGUE[name]
    profile = StyleProfile(name=name, tags=list(s.tags), visual_style=s.visual_style, mood=s.mood,
                           palette=list(s.palette), lighting=s.lighting, transition=s.transition, source=source,
                           reasoning=reasoning, decided_by=decided_by, characteristics=characteristics, call=call)
    swatches = " ".join(f"`{c}`" for c in s.palette)
    context.add_output_metadata({
        "style": name, "source": source, "decided_by": decided_by, "reasoning": reasoning, "mood": s.mood,
        "transition": s.transition, "palette": dg.MetadataValue.md(swatches),
        **({"characteristics": ", ".join(characteristics)} if characteristics else {}),
        **({"cost_usd": call.cost_usd, "cached": call.cached} if call else {}),
    })
    return profile
