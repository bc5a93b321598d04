"""Every resource of the code location, built from the settings when the definitions load."""

from __future__ import annotations

import importlib
import os
import threading

import dagster as dg

from videoagent_dagster.providers.chain import load_plugins
from videoagent_dagster.providers.images import ImageGenResource
from videoagent_dagster.providers.llm import LLMResource
from videoagent_dagster.providers.speech import TTSResource
from videoagent_dagster.providers.video import VideoGenResource
from videoagent_dagster.providers.vision import VisionResource
from videoagent_dagster.settings import Settings, current
from videoagent_dagster.storage.io_manager import manifest_io_manager
from videoagent_dagster.storage.media_store import MediaStore


def _from_env(settings: Settings, field: str):
    """A setting through dg.EnvVar when it is set in the environment (so the UI shows where it came
    from), else its value. The settings object has validated it either way."""
    if not settings.set_in_environment(field):
        return getattr(settings, field)
    value = getattr(settings, field)
    return dg.EnvVar.int(settings.variable(field)) if isinstance(value, int) else dg.EnvVar(settings.variable(field))


def build_resources(settings: Settings | None = None) -> dict:
    s = settings or current()
    vendor = {"max_retries": _from_env(s, "max_retries"), "timeout_s": _from_env(s, "timeout_s")}
    media_store = MediaStore(root=_from_env(s, "storage"), endpoint_url=s.s3_endpoint_url())
    # The stage resources keep their cache (and the video job book) in the media store: a resource
    # dependency, so Dagster hands every stage the run's one store.
    vendor["media_store"] = media_store
    return {
        "media_store": media_store,
        "intake_store": MediaStore(root=_from_env(s, "intake"), endpoint_url=s.s3_endpoint_url()),
        "io_manager": manifest_io_manager,
        "llm": LLMResource(chain=_from_env(s, "llm"), **vendor),
        "image_gen": ImageGenResource(chain=_from_env(s, "image"), max_concurrency=s.shot_workers("image", 4),
                                      poll_s=s.video_poll_s, **vendor),
        # ffmpeg encodes are CPU-bound: one per core by default.
        "video_gen": VideoGenResource(chain=_from_env(s, "video"),
                                      max_concurrency=s.shot_workers("video", os.cpu_count() or 2),
                                      deadline_s=_from_env(s, "video_deadline_s"), poll_s=s.video_poll_s, **vendor),
        "tts": TTSResource(chain=_from_env(s, "tts"), max_concurrency=s.shot_workers("tts", 4), **vendor),
        "vision": VisionResource(chain=_from_env(s, "vision"), threshold=s.vision_threshold,
                                 candidates=s.vision_candidates, **vendor),
    }


def warm_up_process(settings: Settings) -> None:
    """Start, in the background, what every run of this process would otherwise do first: the
    H.264 encoder choice (an ffmpeg probe) and the import of the configured chains' vendor SDKs
    (a third of a second each, and up to a second while a run's first steps compete for the
    interpreter). A run worker loads the definitions before its run starts, so its first vendor
    call and its final cut find them done. (The SDK clients are built by each stage resource's
    setup, with its own settings, in the processes that run steps only.)"""
    from videoagent_dagster.media.encoders import pick_h264_encoder
    from videoagent_dagster.providers.chain import sdk_modules

    def warm() -> None:
        try:
            pick_h264_encoder(settings.h264_encoder)  # remembered for the process
        except Exception:  # noqa: BLE001 - the run that composes reports it
            pass
        for stage, chain in settings.chains().items():
            for module in sdk_modules(stage, chain):
                try:
                    importlib.import_module(module)
                except Exception:  # noqa: BLE001 - a missing SDK is reported, with the fix, at the first call
                    pass

    threading.Thread(target=warm, daemon=True, name="warm-up-process").start()


@dg.definitions
def resources() -> dg.Definitions:
    settings = current()
    load_plugins(settings.plugin_modules())
    warm_up_process(settings)
    return dg.Definitions(resources=build_resources(settings))
