"""The image stage: one first frame per shot. Its providers live with their vendors (offline.py,
openai.py, stability.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from videoagent_dagster.domain.manifests import ProviderCall
from videoagent_dagster.media.verify import verify_image
from videoagent_dagster.providers.chain import (
    Provider,
    Spending,
    StageResource,
    Usage,
    serve_request,
    verified,
)


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
    subject: str = ""  # what the shot shows, in the storyboard's words (the offline painter draws it)
    purpose: str = "frame"  # "frame" (a shot's first frame) or "reference" (a cast member's reference image)
    candidate: int = 0  # which try at this frame (the quality checker may ask for another)
    # Reference images of the cast members the shot shows (paths; their bytes are in the cache key),
    # for vendors that paint from input images.
    references: tuple[str, ...] = ()


@dataclass
class ImageProvider(Provider):
    def render(self, request: FrameRequest, out: Path) -> Usage:
        """Write a PNG of request.width x request.height to `out`; return what it used."""
        raise NotImplementedError


class ImageGenResource(StageResource):
    """Paints first frames. `chain` is VIDEOAGENT_IMAGE; shots run `max_concurrency` at a time."""

    @classmethod
    def stage(cls) -> str:
        return "image"

    max_concurrency: int = 4
    poll_s: float = 2.0  # how often a vendor's image task is asked about (Runway's are tasks, not answers)

    def provider_settings(self):
        return {**super().provider_settings(), "poll_s": self.poll_s}

    def generate(self, request: FrameRequest, spend: Spending | None = None,
                 reference_hashes: tuple[str, ...] = ()) -> tuple[str, ProviderCall]:
        """Paint one image. `reference_hashes` are the sha256 of request.references: the cache key
        holds what the references are, not where they lie."""
        return serve_request(self.media_store, "image", self.chain, request, prompt_field="prompt", ext="png",
                             private=("references",), input_hashes=list(reference_hashes),
                             settings=self.provider_settings(),
                             produce=lambda p, out, _key: verified(
                                 p.render(request, out), lambda: verify_image(out, request.width, request.height)),
                             what=f"painting '{request.label}'", spend=spend)
