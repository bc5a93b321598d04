"""Runway through the runwayml SDK (RUNWAYML_API_SECRET, RUNWAYML_BASE_URL): image-to-video, and
text-to-image with reference images."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from videoagent_dagster.media.frames import fit_image
from videoagent_dagster.providers.chain import register
from videoagent_dagster.providers.errors import VendorError, VendorRefused, VendorTransient
from videoagent_dagster.providers.images import ImageProvider
from videoagent_dagster.providers.jobs import JobState
from videoagent_dagster.providers.retry import call_safely
from videoagent_dagster.providers.vendor_sdk import (
    env_base_url,
    http_client,
    orientation,
    pooled,
    require_env,
)
from videoagent_dagster.providers.video import RemoteVideoProvider, frame_data_uri


def _runway_base(api_key: str, base_url: str | None, timeout: float):
    from runwayml import RunwayML

    return RunwayML(api_key=api_key, base_url=base_url or None, timeout=timeout)


runway_client = pooled(_runway_base)  # the SDK client for these settings


@register("video", "runway", "gen4_turbo")
@dataclass
class RunwayVideo(RemoteVideoProvider):
    """Runway image-to-video through the runwayml SDK (RUNWAYML_API_SECRET, RUNWAYML_BASE_URL)."""

    sdk_modules = ("runwayml", "httpx")

    key_var: str = "RUNWAYML_API_SECRET"
    RATIOS = {"landscape": "1280:720", "portrait": "720:1280", "square": "960:960"}

    def client(self, retries: int):
        return runway_client(require_env(self.key_var, self.name), env_base_url("RUNWAYML_BASE_URL"), retries,
                             self.timeout())

    def prepare(self):
        super().prepare()
        # Each resource is imported on its first use, under a lock every shot's thread waits on.
        self.client(0).image_to_video, self.client(self.retries()).tasks

    def submit(self, request, frame, seconds):
        shape = orientation(request.width, request.height)
        task = self.client(0).image_to_video.create(  # SDK retries off: creates are retried by call_safely
            model=self.model, prompt_image=frame_data_uri(frame), prompt_text=request.prompt[:1000],
            ratio=self.RATIOS[shape], duration=seconds, **({"seed": request.attempt} if request.attempt else {}),
        )
        return task.id

    def cancel(self, job_id):
        # DELETE /v1/tasks/{id}: a running, pending or throttled task is cancelled (and not billed on)
        self.client(self.retries()).tasks.delete(job_id)
        return True

    def poll(self, job_id):
        task = self.client(self.retries()).tasks.retrieve(job_id)
        if task.status == "SUCCEEDED":
            return JobState("succeeded", result=(task.output or [None])[0])
        if task.status in ("FAILED", "CANCELLED"):
            reason = getattr(task, "failure", None) or task.status.lower()
            code = getattr(task, "failure_code", None) or ""
            # Runway's failure codes: INTERNAL.* are its own faults, which its documentation says
            # to retry; SAFETY.* (moderation) and INPUT_PREPROCESSING.* are about the request.
            return JobState("failed", error=f"{reason}{f' ({code})' if code else ''}",
                            retryable=task.status == "FAILED" and code.upper().startswith("INTERNAL"))
        return JobState("running")


@register("image", "runway", "gen4_image")
@dataclass
class RunwayImages(ImageProvider):
    """Runway text-to-image (gen4_image): a frame painted from the reference images of the cast members
    its shot shows (up to three, tagged and named in the prompt as Runway's guide asks: `@tag`), polled
    to its end and cropped to the frame size."""

    sdk_modules = ("runwayml", "httpx")

    RATIOS = {"landscape": "1920:1080", "portrait": "1080:1920", "square": "1024:1024"}
    MAX_REFERENCES = 3

    def client(self, retries: int):
        return runway_client(require_env("RUNWAYML_API_SECRET", self.name), env_base_url("RUNWAYML_BASE_URL"),
                             retries, self.timeout())

    def render(self, request, out):
        refs = [Path(r) for r in request.references[:self.MAX_REFERENCES]]
        tags = [f"ref{i + 1}" for i in range(len(refs))]
        prompt = (f"{' and '.join('@' + t for t in tags)} as in the references. " if refs else "") + request.prompt
        try:
            task = call_safely(lambda: self.client(0).text_to_image.create(  # created once: see retry.py
                model=self.model, prompt_text=prompt[:1000], ratio=self.RATIOS[orientation(request.width,
                                                                                            request.height)],
                **({"reference_images": [{"uri": frame_data_uri(r), "tag": t} for r, t in zip(refs, tags)]}
                   if refs else {})), retries=self.retries())
            deadline = time.monotonic() + float(self.setting("image_deadline_s", 300))
            while True:
                state = self.client(self.retries()).tasks.retrieve(task.id)
                if state.status == "SUCCEEDED":
                    break
                if state.status in ("FAILED", "CANCELLED"):
                    code = getattr(state, "failure_code", None) or ""
                    message = f"{self.name} ended the image task {state.status}: {state.failure or ''} ({code})"
                    raise (VendorTransient if code.upper().startswith("INTERNAL") else VendorRefused)(message)
                if time.monotonic() > deadline:
                    raise VendorTransient(f"{self.name}: the image task {task.id} was still {state.status}")
                time.sleep(float(self.setting("poll_s", 2.0)))
            response = http_client(self.timeout()).get(state.output[0], follow_redirects=True)
            response.raise_for_status()
        except VendorError:
            raise
        except Exception as e:  # noqa: BLE001
            raise self.explain(e, "RUNWAYML_API_SECRET") from e
        fit_image(response.content, out, request.width, request.height)
        return {"images": 1}
