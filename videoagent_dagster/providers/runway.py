"""Runway image-to-video through the runwayml SDK (RUNWAYML_API_SECRET, RUNWAYML_BASE_URL)."""

from __future__ import annotations

from dataclasses import dataclass

from videoagent_dagster.providers.chain import register
from videoagent_dagster.providers.jobs import JobState
from videoagent_dagster.providers.vendor_sdk import (
    env_base_url,
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
