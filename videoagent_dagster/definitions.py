"""The one Definitions object of the videoagent code location."""

from __future__ import annotations

import os

import dagster as dg

from .assets import ALL_ASSETS
from .resources.image_gen import ImageGenResource
from .resources.io_manager import manifest_io_manager
from .resources.llm import LLMResource
from .resources.media_store import DEFAULT_ROOT, MediaStore
from .resources.tts import TTSResource
from .resources.video_gen import VideoGenResource


def env_or(name: str, default):
    """Read a setting through dg.EnvVar when it is set (so the UI shows where it came from), else a default."""
    if name not in os.environ:
        return default
    return dg.EnvVar.int(name) if isinstance(default, int) else dg.EnvVar(name)


def build_resources() -> dict:
    store = MediaStore(root=env_or("VIDEOAGENT_STORAGE", DEFAULT_ROOT))
    shots = "VIDEOAGENT_SHOT_CONCURRENCY"
    return {
        "media_store": store,
        "io_manager": manifest_io_manager,
        "llm": LLMResource(chain=env_or("VIDEOAGENT_LLM", "offline")),
        "image_gen": ImageGenResource(chain=env_or("VIDEOAGENT_IMAGE", "offline"),
                                      max_concurrency=env_or(shots, 4)),
        # ffmpeg encodes are CPU-bound: one per core by default.
        "video_gen": VideoGenResource(chain=env_or("VIDEOAGENT_VIDEO", "offline"),
                                      max_concurrency=env_or(shots, os.cpu_count() or 2)),
        "tts": TTSResource(chain=env_or("VIDEOAGENT_TTS", "offline"), max_concurrency=env_or(shots, 4)),
    }


make_video = dg.define_asset_job(
    "make_video",
    selection=dg.AssetSelection.assets(*ALL_ASSETS),
    description="Make one video: brief → style → script → storyboard → frames → clips + narration → final cut.",
)

def build_defs() -> dg.Definitions:
    """Definitions with resources configured from the environment as it is now."""
    return dg.Definitions(assets=ALL_ASSETS, jobs=[make_video], resources=build_resources())


defs = build_defs()
