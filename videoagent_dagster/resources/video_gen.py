"""The video_gen resource: image-to-video, one clip per shot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from ..media.motion import animate
from ..models import ProviderCall
from .media_store import MediaStore
from .providers import Provider, register, serve_request


@dataclass(frozen=True)
class ClipRequest:
    prompt: str
    frame_key: str
    frame_sha256: str
    camera_movement: str
    frames: int
    fps: int
    width: int
    height: int


@dataclass
class VideoProvider(Provider):
    def animate(self, request: ClipRequest, frame: Path, out: Path) -> float:
        """Write an MP4 of request.frames frames at request.fps to `out`; return its cost in USD."""
        raise NotImplementedError


@register("video", "offline", "ffmpeg-camera-1")
@dataclass
class OfflineCamera(VideoProvider):
    preset: str = "veryfast"

    def animate(self, request, frame, out):
        animate(frame, out, move=request.camera_movement, frames=request.frames, fps=request.fps,
                width=request.width, height=request.height, preset=self.preset)
        return 0.0


class VideoGenResource(dg.ConfigurableResource):
    """Animates first frames. `chain` is VIDEOAGENT_VIDEO; shots run `max_concurrency` at a time."""

    chain: str = "offline"
    max_concurrency: int = 2

    def generate(self, store: MediaStore, request: ClipRequest) -> tuple[str, ProviderCall]:
        frame = store.path(request.frame_key)
        # The frame's bytes (its sha256) matter, not where it sits.
        return serve_request(store, "video", self.chain, request, prompt_field="prompt", ext="mp4",
                             private=("frame_key",), input_hashes=[request.frame_sha256],
                             produce=lambda p, out: p.animate(request, frame, out),
                             what=f"animating {Path(request.frame_key).name}")
