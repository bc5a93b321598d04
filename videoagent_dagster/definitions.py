"""The one Definitions object of the videoagent code location."""

from __future__ import annotations

import importlib
import os
import threading

import dagster as dg

from .assets import ALL_ASSETS
from .jobs import make_video
from .resources.image_gen import ImageGenResource
from .resources.io_manager import manifest_io_manager
from .resources.llm import LLMResource
from .resources.media_store import DEFAULT_ROOT, MediaStore
from .resources.tts import TTSResource
from .resources.video_gen import VideoGenResource
from .schedules import batch_schedule
from .sensors import intake_sensor, webhook_on_failure, webhook_on_success


def env_or(name: str, default):
    """Read a setting through dg.EnvVar when it is set (so the UI shows where it came from), else a default."""
    if name not in os.environ:
        return default
    return dg.EnvVar.int(name) if isinstance(default, int) else dg.EnvVar(name)


def shot_workers(chain_var: str, offline_default: int):
    """Shots generated at once: VIDEOAGENT_SHOT_CONCURRENCY, else the machine's share for local
    providers, or 16 when a vendor does the work (its own limits then bound the calls)."""
    if "VIDEOAGENT_SHOT_CONCURRENCY" in os.environ:
        return dg.EnvVar.int("VIDEOAGENT_SHOT_CONCURRENCY")
    chain = os.environ.get(chain_var, "offline")
    local = all(p.strip().split(":")[0] in ("", "offline") for p in chain.split(","))
    return offline_default if local else 16


def build_resources() -> dict:
    vendor = {"max_retries": env_or("VIDEOAGENT_MAX_RETRIES", 3), "timeout_s": env_or("VIDEOAGENT_TIMEOUT_S", 120)}
    return {
        "media_store": MediaStore(root=env_or("VIDEOAGENT_STORAGE", DEFAULT_ROOT)),
        "io_manager": manifest_io_manager,
        "llm": LLMResource(chain=env_or("VIDEOAGENT_LLM", "offline"), **vendor),
        "image_gen": ImageGenResource(chain=env_or("VIDEOAGENT_IMAGE", "offline"),
                                      max_concurrency=shot_workers("VIDEOAGENT_IMAGE", 4), **vendor),
        # ffmpeg encodes are CPU-bound: one per core by default.
        "video_gen": VideoGenResource(chain=env_or("VIDEOAGENT_VIDEO", "offline"),
                                      max_concurrency=shot_workers("VIDEOAGENT_VIDEO", os.cpu_count() or 2),
                                      deadline_s=env_or("VIDEOAGENT_VIDEO_DEADLINE_S", 900),
                                      # a float, which dg.EnvVar cannot carry: read here
                                      poll_s=float(os.environ.get("VIDEOAGENT_VIDEO_POLL_S") or 5), **vendor),
        "tts": TTSResource(chain=env_or("VIDEOAGENT_TTS", "offline"),
                           max_concurrency=shot_workers("VIDEOAGENT_TTS", 4), **vendor),
    }


def load_plugins() -> None:
    """VIDEOAGENT_PLUGINS: comma-separated modules imported at load, e.g. to register providers of
    your own with `resources.providers.register`."""
    for module in filter(None, (m.strip() for m in os.environ.get("VIDEOAGENT_PLUGINS", "").split(","))):
        importlib.import_module(module)


def build_defs() -> dg.Definitions:
    """Definitions with resources configured from the environment as it is now."""
    # The executor also runs what the UI materialises outside make_video (a partition's assets from
    # the asset graph, one failed asset): without it that would be a process per step.
    return dg.Definitions(assets=ALL_ASSETS, jobs=[make_video], executor=make_video.executor_def,
                          sensors=[intake_sensor, webhook_on_success, webhook_on_failure],
                          schedules=[batch_schedule],
                          resources=build_resources())


def make_video_job() -> dg.JobDefinition:
    """The make_video job as this code location defines it: what `dg.reconstructable` points at
    when a run is executed here, outside the webserver (`videoagent make`, benchmarks)."""
    return build_defs().resolve_job_def("make_video")


def warm_up_process() -> None:
    """Start, in the background, what a run in this process needs once: the configured vendors'
    SDK imports (a third of a second each) and the H.264 encoder choice (an ffmpeg probe). A run
    worker loads this module before its run starts, so the run's first steps find them done."""
    from .budget import chains_from_env
    from .media.encoders import pick_h264_encoder
    from .resources.providers import warm_up

    for stage, chain in chains_from_env().items():
        warm_up(stage, chain)

    def choose_encoder() -> None:
        try:
            pick_h264_encoder("auto")  # remembered for the process
        except Exception:  # noqa: BLE001 - the run that composes reports it
            pass

    threading.Thread(target=choose_encoder, daemon=True, name="warm-up-encoder").start()


load_plugins()
defs = build_defs()
warm_up_process()
