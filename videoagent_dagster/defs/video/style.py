"""style_profile: the catalogue style this video is made in, and why."""


import dagster as dg

from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.domain.brief import Brief
from videoagent_dagster.domain.manifests import StyleProfile
from videoagent_dagster.domain.styles import CATALOGUE, detect_style


@dg.asset(partitions_def=video_tasks, group_name="video", kinds={"json"})
def style_profile(context: dg.AssetExecutionContext, video_brief: Brief) -> StyleProfile:
    """The user's style, or one detected from the topic's words, with the reasoning."""
    if video_brief.style:
        name, source = video_brief.style, "user"
        reasoning = f"The brief asks for the '{name}' style."
        if video_brief.style_warning:
            reasoning += f" ({video_brief.style_warning}.)"
    else:
        name, reasoning, scores = detect_style(video_brief.topic)
        source = "detected" if scores else "fallback"
    s = CATALOGUE[name]
    profile = StyleProfile(name=name, tags=list(s.tags), visual_style=s.visual_style, mood=s.mood,
                           palette=list(s.palette), lighting=s.lighting, transition=s.transition, source=source, reasoning=reasoning)
    swatches = " ".join(f"`{c}`" for c in s.palette)
    context.add_output_metadata({
        "style": name, "source": source, "reasoning": reasoning, "mood": s.mood, "transition": s.transition,
        "palette": dg.MetadataValue.md(swatches),
    })
    return profile
