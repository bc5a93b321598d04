"""The image_gen resource: one first frame per shot."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from videoagent_dagster.domain.manifests import ProviderCall
from videoagent_dagster.media.frames import fit_image, render_frame
from videoagent_dagster.media.verify import verify_image
from videoagent_dagster.providers.chain import (
    Provider,
    Spending,
    StageResource,
    Usage,
    register,
    require_env,
    serve_request,
    verified,
)
from videoagent_dagster.providers.retry import call_safely
from videoagent_dagster.providers.vendor_sdk import (
    env_base_url,
    http_client,
    openai_client,
    orientation,
)
from videoagent_dagster.storage.media_store import MediaStore


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
    def render(self, request: FrameRequest, out: Path) -> Usage:
        """Write a PNG of request.width x request.height to `out`; return what it used."""
        raise NotImplementedError


@register("image", "offline", "pillow-storyboard-1")
@dataclass
class OfflinePainter(ImageProvider):
    def render(self, request, out):
        render_frame(out, request.width, request.height, style=request.style, palette=list(request.palette),
                     shot_type=request.shot_type, title=request.title, label=request.label, seed=request.seed)
        return {}


@register("image", "openai", "gpt-image-1")
@dataclass
class OpenAIImages(ImageProvider):
    """OpenAI image generation (base64 results), cropped to the frame size."""

    sdk_modules = ("openai",)

    SIZES = {"landscape": "1536x1024", "portrait": "1024x1536", "square": "1024x1024"}

    def render(self, request, out):
        # SDK retries off: a retried create after a timeout could bill twice (see retry.py).
        client = openai_client(require_env("OPENAI_API_KEY", self.name), env_base_url("OPENAI_BASE_URL"), 0,
                               self.timeout())
        size = self.SIZES[orientation(request.width, request.height)]
        extra = {"response_format": "b64_json"} if self.model.startswith("dall-e") else {}
        if self.model.startswith("dall-e-3"):
            size = {"1536x1024": "1792x1024", "1024x1536": "1024x1792"}.get(size, size)
        try:
            resp = call_safely(lambda: client.images.generate(model=self.model, prompt=request.prompt, size=size, n=1,
                                                              **extra), retries=self.retries())
        except Exception as e:  # noqa: BLE001
            raise self.explain(e, "OPENAI_API_KEY") from e
        b64 = resp.data[0].b64_json if resp.data else None
        if not b64:
            raise RuntimeError(f"{self.name} returned no image data")
        fit_image(base64.b64decode(b64), out, request.width, request.height)
        return {"images": 1}


@register("image", "stability", "core")
@dataclass
class StabilityImages(ImageProvider):
    """Stability AI's Stable Image API over plain HTTP (multipart form in, image bytes out)."""

    sdk_modules = ("httpx",)

    RATIOS = {"landscape": "16:9", "portrait": "9:16", "square": "1:1"}

    def render(self, request, out):
        import httpx

        key = require_env("STABILITY_API_KEY", self.name)
        base = env_base_url("STABILITY_BASE_URL", "https://api.stability.ai").rstrip("/")
        form = {"prompt": request.prompt, "output_format": "png", "seed": str(request.seed % 4294967294),
                "aspect_ratio": self.RATIOS[orientation(request.width, request.height)]}

        def post() -> httpx.Response:
            resp = http_client(self.timeout()).post(f"{base}/v2beta/stable-image/generate/{self.model}", data=form,
                                                    files={"none": ("", b"")},
                                                    headers={"authorization": f"Bearer {key}", "accept": "image/*"})
            resp.raise_for_status()
            return resp

        try:
            resp = call_safely(post, retries=self.retries())
        except httpx.HTTPError as e:
            raise self.explain(e, "STABILITY_API_KEY") from e
        if resp.headers.get("finish-reason", "SUCCESS") == "CONTENT_FILTERED":
            raise RuntimeError(f"{self.name} refused the prompt (content filtered): {request.prompt[:120]}")
        fit_image(resp.content, out, request.width, request.height)
        return {"images": 1}


class ImageGenResource(StageResource):
    """Paints first frames. `chain` is VIDEOAGENT_IMAGE; shots run `max_concurrency` at a time."""

    @classmethod
    def stage(cls) -> str:
        return "image"

    max_concurrency: int = 4

    def generate(self, store: MediaStore, request: FrameRequest,
                 spend: Spending | None = None) -> tuple[str, ProviderCall]:
        return serve_request(store, "image", self.chain, request, prompt_field="prompt", ext="png",
                             settings={"max_retries": self.max_retries, "timeout_s": self.timeout_s},
                             produce=lambda p, out, _key: verified(
                                 p.render(request, out), lambda: verify_image(out, request.width, request.height)),
                             what=f"painting '{request.label}'", spend=spend)
