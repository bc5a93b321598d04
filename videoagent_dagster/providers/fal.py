"""Open video models hosted on fal, through its queue API (FAL_KEY; FAL_QUEUE_URL to redirect)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from videoagent_dagster.providers.chain import register
from videoagent_dagster.providers.jobs import JobState
from videoagent_dagster.providers.retry import call_safely
from videoagent_dagster.providers.vendor_sdk import (
    env_base_url,
    http_client,
    require_env,
)
from videoagent_dagster.providers.video import RemoteVideoProvider, frame_data_uri


@register("video", "fal", "fal-ai/kling-video/v2.1/standard/image-to-video")
@dataclass
class FalVideo(RemoteVideoProvider):
    """Open video models hosted on fal, through its queue API (FAL_KEY; FAL_QUEUE_URL to redirect).

    Plain HTTP rather than fal-client: fal-client retries a submit after transport errors,
    timeouts included, with no way to turn that off — which can start and bill a second job."""

    key_var: str = "FAL_KEY"
    sdk_modules = ("httpx",)

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Key {require_env(self.key_var, self.name)}"}

    def _base(self) -> str:
        return env_base_url("FAL_QUEUE_URL", "https://queue.fal.run").rstrip("/")

    def submit(self, request, frame, seconds):
        resp = http_client(self.timeout()).post(f"{self._base()}/{self.model}", headers=self._headers(),
                                                json={"prompt": request.prompt[:2000], "image_url": frame_data_uri(frame),
                                                      "duration": str(seconds)})
        resp.raise_for_status()
        body = resp.json()
        return json.dumps({"id": body["request_id"], "status_url": body["status_url"],
                           "response_url": body["response_url"], "cancel_url": body.get("cancel_url")})

    def cancel(self, job_id):
        # fal's queue: PUT …/requests/{id}/cancel (202 CANCELLATION_REQUESTED; 400 when already done)
        job = json.loads(job_id)
        url = job.get("cancel_url") or job["status_url"].rsplit("/", 1)[0] + "/cancel"
        if not url.startswith(self._base() + "/"):  # the key goes only to fal's own queue host
            raise ValueError(f"fal job handle points outside {self._base()}: {url}")
        resp = http_client(self.timeout()).put(url, headers=self._headers())
        if resp.status_code not in (200, 202, 400):
            resp.raise_for_status()
        return resp.status_code != 400

    def poll(self, job_id):
        import httpx

        job = json.loads(job_id)
        for url in (job["status_url"], job["response_url"]):
            if not url.startswith(self._base() + "/"):  # the key goes only to fal's own queue host
                raise ValueError(f"fal job handle points outside {self._base()}: {url}")

        def get(url: str, params: dict | None = None) -> httpx.Response:
            def once() -> httpx.Response:
                r = http_client(self.timeout()).get(url, headers=self._headers(), params=params)
                r.raise_for_status()
                return r
            return call_safely(once, retries=self.retries())  # GETs are safe to repeat

        status = get(job["status_url"], {"logs": "0"}).json()
        if status.get("status") != "COMPLETED":
            return JobState("running")
        if status.get("error"):
            kind = str(status.get("error_type", "error"))
            # fal's error types for the request itself (content policy, bad input) are not retried.
            refused = any(w in kind.lower() for w in ("policy", "validation", "input", "content", "safety"))
            return JobState("failed", error=f"{status['error']} ({kind})", retryable=not refused)
        try:
            result = get(job["response_url"]).json()
        except httpx.HTTPStatusError as e:
            return JobState("failed", error=f"result {e.response.status_code}: {e.response.text[:300]}")
        url = (result.get("video") or {}).get("url")
        return JobState("succeeded", result=url) if url else JobState("failed", error=f"no video in {result}")
