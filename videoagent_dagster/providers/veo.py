"""Google Veo through google-genai, as a long-running operation."""

from __future__ import annotations

from dataclasses import dataclass

from videoagent_dagster.providers.chain import register
from videoagent_dagster.providers.errors import ProviderConfigError
from videoagent_dagster.providers.jobs import JobState
from videoagent_dagster.providers.vendor_sdk import env_base_url, require_env, shared
from videoagent_dagster.providers.video import RemoteVideoProvider


@shared
def _veo_client(api_key: str, base_url: str | None, attempts: int, timeout: float):
    from google import genai
    from google.genai import types

    options = types.HttpOptions(timeout=int(timeout * 1000), retry_options=types.HttpRetryOptions(attempts=attempts))
    if base_url:
        options.base_url = base_url
    # Kept for the process: the SDK closes a client when it is collected, and one costs tens of ms to build.
    return genai.Client(vertexai=True, api_key=api_key, http_options=options)



@register("video", "veo", "veo-3.0-generate-001")
@dataclass
class VeoVideo(RemoteVideoProvider):
    """Google Veo through google-genai, as a long-running operation (GOOGLE_API_KEY; Vertex AI
    express mode, the mode google-genai 3.x supports for video; GOOGLE_VERTEX_BASE_URL to redirect)."""

    key_var: str = "GOOGLE_API_KEY"
    durations: tuple[int, ...] = (4, 6, 8)
    sdk_modules = ("google.genai", "httpx")

    def client(self, attempts: int):
        return _veo_client(require_env(self.key_var, self.name), env_base_url("GOOGLE_VERTEX_BASE_URL"),
                           max(1, attempts), self.timeout())

    def prepare(self):
        super().prepare()
        self.client(1).models, self.client(1 + self.retries()).operations  # built on first use

    def submit(self, request, frame, seconds):
        from google.genai import types

        aspect = "9:16" if request.height > request.width else "16:9"
        client = self.client(1)  # one attempt: creates are retried by call_safely
        operation = client.models.generate_videos(
            model=self.model,
            source=types.GenerateVideosSource(prompt=request.prompt,
                                              image=types.Image(image_bytes=frame.read_bytes(),
                                                                mime_type="image/png")),
            config=types.GenerateVideosConfig(number_of_videos=1, duration_seconds=seconds, aspect_ratio=aspect),
        )
        return operation.name

    def poll(self, job_id):
        from google.genai import types

        client = self.client(1 + self.retries())
        op = client.operations.get(types.GenerateVideosOperation(name=job_id))
        if not op.done:
            return JobState("running")
        if op.error:
            # google.rpc codes: 13 INTERNAL, 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED are the service's own.
            code = op.error.get("code")
            return JobState("failed", error=f"{op.error.get('message', op.error)} (code {code})",
                            retryable=code in (4, 13, 14))
        videos = (op.response.generated_videos if op.response else None) or []
        if not videos:
            filtered = op.response and op.response.rai_media_filtered_reasons
            return JobState("failed", error=f"no video returned{f': {filtered}' if filtered else ''}"
                                            f"{' (refused by its safety filter)' if filtered else ''}",
                            retryable=not filtered)
        video = videos[0].video
        if video.video_bytes:
            return JobState("succeeded", result=video.video_bytes)
        return JobState("succeeded", result=video.uri)

    def fetch(self, url, dest):
        if url.startswith("gs://"):
            raise ProviderConfigError(f"{self.name} put the video in Cloud Storage ({url}); this provider needs the bytes "
                               "returned inline (no output_gcs_uri)")
        super().fetch(url, dest)
