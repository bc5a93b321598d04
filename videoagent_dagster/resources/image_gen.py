"""The image_gen resource: one first frame per shot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from ..media.frames import render_frame
from ..models import ProviderCall
from .media_store import MediaStore
from .providers import Provider, register, serve_request


@dataclass(frozen=True)
class FrameRequest:
    prompt: str
    width: int
    height: int
    style: str
    palette: tuple[str, ...]
    shot_type: str
    title: str
    label: str
    seed: int


@dataclass
class ImageProvider(Provider):
    def render(self, request: FrameRequest, out: Path) -> float:
        """Write a PNG of request.width x request.height to `out`; return its cost in USD."""
        raise NotImplementedError


@register("image", "offline", "pillow-storyboard-1")
@dataclass
class OfflinePainter(ImageProvider):
    def render(self, request, out):
        render_frame(out, request.width, request.height, style=request.style, palette=list(request.palette),
                     shot_type=request.shot_type, title=request.title, label=request.label, seed=request.seed)
        return 0.0


class ImageGenResource(dg.ConfigurableResource):
    """Paints first frames. `chain` is VIDEOAGENT_IMAGE; shots run `max_concurrency` at a time."""

    chain: str = "offline"
    max_concurrency: int = 4

    def generate(self, store: MediaStore, request: FrameRequest) -> tuple[str, ProviderCall]:
        return serve_request(store, "image", self.chain, request, prompt_field="prompt", ext="png",
                             produce=lambda p, out: p.render(request, out), what=f"painting '{request.label}'")
