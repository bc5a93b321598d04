"""Stability AI: the Stable Image API over plain HTTP (multipart form in, image bytes out)."""

from __future__ import annotations

from dataclasses import dataclass

from videoagent_dagster.media.frames import fit_image
from videoagent_dagster.providers.chain import register
from videoagent_dagster.providers.errors import VendorRefused
from videoagent_dagster.providers.images import ImageProvider
from videoagent_dagster.providers.retry import call_safely
from videoagent_dagster.providers.vendor_sdk import (
    env_base_url,
    http_client,
    orientation,
    require_env,
)


@register("image", "stability", "core")
@dataclass
class StabilityImages(ImageProvider):
    """Stability AI's Stable Image API over plain HTTP (multipart form in, image bytes out)."""

    sdk_modules = ("httpx",)

    RATIOS = {"landscape": "16:9", "portrait": "9:16", "square": "1:1"}

    def prepare(self):
        http_client(self.timeout())

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
            raise VendorRefused(f"{self.name} refused the prompt (content filtered): {request.prompt[:120]}")
        fit_image(resp.content, out, request.width, request.height)
        return {"images": 1}
