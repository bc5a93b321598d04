"""The video_gen resource: image-to-video, one clip per shot.

Providers: `offline` (ffmpeg camera moves), `runway` (runwayml SDK; its API also fronts Veo,
Kling, Seedance, Wan and Hailuo models by name), `veo` (google-genai, a long-running operation)
and `fal` (fal's queue API). Remote jobs are submitted once — the create call is retried only
where that cannot start a second, billed job — and the job handle is written to the media store
before polling, so a crashed or retried run resumes polling the same job. Results are downloaded
at once (vendor URLs expire) and cached as the vendor made them; shot_clips conforms them to the
shot's size, rate and exact frame count as it checks them (one ffmpeg pass).
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from videoagent_dagster.domain.keys import job_key
from videoagent_dagster.domain.manifests import ProviderCall
from videoagent_dagster.media.motion import animate
from videoagent_dagster.media.verify import verify_clip
from videoagent_dagster.providers.chain import (
    REGISTRY,
    Provider,
    ResultRejected,
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
    orientation,
    runway_client,
)
from videoagent_dagster.storage.media_store import MediaStore

DEFAULT_DEADLINE_S = 900.0
DEFAULT_POLL_S = 5.0


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
    attempt: int = 0  # > 0 when an earlier result failed quality control: a new seed, a new cache key


@dataclass
class JobBook:
    """Where a remote job's handle is kept between submitting and downloading: `jobs/{cache key}.json`."""

    store: MediaStore
    key: str

    @property
    def media_key(self) -> str:
        return job_key(self.key)

    def load(self, provider: str, model: str) -> dict[str, Any] | None:
        if not self.store.exists(self.media_key):
            return None
        job = json.loads(self.store.read_bytes(self.media_key))
        return job if (job.get("provider"), job.get("model")) == (provider, model) else None

    def save(self, job: dict[str, Any]) -> None:
        self.store.write_bytes(self.media_key, json.dumps(job).encode())

    def clear(self) -> None:
        self.store.delete(self.media_key)

    @property
    def claim_key(self) -> str:
        return job_key(self.key, "claim")

    def claim(self, stale_after_s: float = 600) -> bool:
        """The right to submit this job, taken atomically, so two runs of one shot never both pay
        (MediaStore.claim: a holder that died before saving a handle loses it after `stale_after_s`)."""
        token = self.store.claim(self.claim_key, stale_after_s)
        if token:
            self._token = token
        return token is not None

    def release(self) -> None:
        self.store.release(self.claim_key, getattr(self, "_token", None))


@dataclass
class VideoProvider(Provider):
    # True: animate writes exactly request.frames frames of the request's size and rate. False:
    # the clip is as the vendor made it, and is conformed where it is used.
    exact_clips: ClassVar[bool] = True

    def animate(self, request: ClipRequest, frame: Path, out: Path, book: JobBook) -> Usage:
        """Write an MP4 for the request to `out` (see exact_clips); return what it used."""
        raise NotImplementedError


@register("video", "offline", "ffmpeg-camera-1")
@dataclass
class OfflineCamera(VideoProvider):
    preset: str = "veryfast"

    def animate(self, request, frame, out, book=None):
        animate(frame, out, move=request.camera_movement, frames=request.frames, fps=request.fps,
                width=request.width, height=request.height, preset=self.preset)
        return {}


@dataclass
class JobState:
    status: str  # "running", "succeeded" or "failed"
    result: str | bytes | None = None  # a download URL, or the video's bytes
    error: str = ""
    # For a failed job: the vendor's own fault (an internal error, worth a new job) rather than a
    # refusal of the request (safety, content policy, bad input), which a new job would repeat.
    retryable: bool = False


class VendorJobFailed(RuntimeError):
    """The vendor ran the job and it failed (its terminal state). `transient` when the vendor says
    the fault was its own (a new job may succeed); a refusal is not."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


DEFAULT_JOB_ATTEMPTS = 3  # jobs submitted for one clip when the vendor's own faults end them
DOWNLOAD_ATTEMPTS = 3  # a result URL that fails is refreshed from the job's record this many times
DOWNLOAD_PAUSE_S = 0.5


@dataclass
class RemoteVideoProvider(VideoProvider):
    """Submit, persist the handle, poll to a deadline, download."""

    exact_clips: ClassVar[bool] = False

    key_var: str = ""
    durations: tuple[int, ...] = (5, 10)  # clip lengths the vendor offers, in seconds

    def submit(self, request: ClipRequest, frame: Path, seconds: int) -> str:
        raise NotImplementedError

    def poll(self, job_id: str) -> JobState:
        raise NotImplementedError

    def fetch(self, url: str, dest: Path) -> None:
        """Download a result URL (with the vendor's auth where it needs it)."""
        with http_client(self.timeout()).stream("GET", url, follow_redirects=True) as resp:
            resp.raise_for_status()
            with dest.open("wb") as f:
                for chunk in resp.iter_bytes(1 << 20):
                    f.write(chunk)

    def seconds_for(self, request: ClipRequest) -> int:
        wanted = request.frames / request.fps
        return next((d for d in sorted(self.durations) if d >= wanted - 1e-6), max(self.durations))

    def animate(self, request, frame, out, book):
        seconds = self.seconds_for(request)
        job = book.load(self.name, self.model)
        if job and job.get("done"):
            try:  # an earlier job for this very request: fetch its result again (free)
                self._fetch_result(job, request, out, book)
                return {}
            except Exception:  # noqa: BLE001 - gone at the vendor: make it anew
                book.clear()
                job = None
        failed: list[str] = []
        attempts = max(1, int(self.setting("job_attempts", DEFAULT_JOB_ATTEMPTS)))
        while True:
            if job is None:
                job = self._submit_once(request, frame, seconds, book)
            try:
                self._fetch_result(job, request, out, book)
                break
            except VendorJobFailed as e:
                # The vendor's own fault (e.g. Runway's INTERNAL.BAD_OUTPUT): a new job may well
                # succeed. A refusal would be refused again: it stops here and says so.
                failed.append(f"{job['id']}: {e}")
                if not e.transient or len(failed) >= attempts:
                    if len(failed) > 1:
                        raise VendorJobFailed(f"{e} (after {len(failed)} jobs: {'; '.join(failed[:-1])})",
                                              transient=e.transient) from e
                    raise
                job = None
        # The handle stays, marked done: a run that was waiting on this job (or finds it later) takes
        # the result from the same job — fetching it again costs nothing — instead of submitting anew.
        paid_here = not (job.get("done") or job.get("followed"))
        book.save({**{k: v for k, v in job.items() if k != "followed"}, "done": True})
        usage: Usage = {"video_seconds": float(job["seconds"])} if paid_here else {}
        if failed:
            usage["failed_jobs"] = float(len(failed))  # unbilled by the vendors we know; shown per shot
        return usage

    def _fetch_result(self, job: dict[str, Any], request: ClipRequest, out: Path, book: JobBook) -> None:
        state = self._wait(job["id"], book)
        self._download(job["id"], state, out)

    def _submit_once(self, request: ClipRequest, frame: Path, seconds: int, book: JobBook) -> dict[str, Any]:
        if not book.claim():
            # Another run of this shot is submitting right now: follow its job instead of paying again.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                job = book.load(self.name, self.model)
                if job:
                    return {**job, "followed": True}  # the other run pays for it
                time.sleep(0.2)
            raise RuntimeError(f"{self.name}: another run is submitting this clip and has not saved its job yet")
        try:
            job = book.load(self.name, self.model)
            if job:  # saved by a run that held the claim between our first look and our claim
                return {**job, "followed": True}
            try:
                job_id = call_safely(lambda: self.submit(request, frame, seconds), retries=self.retries())
            except (VendorJobFailed, ValueError):
                raise
            except Exception as e:  # noqa: BLE001
                raise self.explain(e, self.key_var) from e
            job = {"provider": self.name, "model": self.model, "id": job_id, "seconds": seconds,
                   "submitted_at": time.time()}
            book.save(job)  # before polling: a retried run resumes this job instead of paying again
            return job
        finally:
            book.release()

    def _wait(self, job_id: str, book: JobBook) -> JobState:
        deadline = time.monotonic() + float(self.setting("deadline_s", DEFAULT_DEADLINE_S))
        interval = float(self.setting("poll_s", DEFAULT_POLL_S))
        while True:
            try:
                state = self.poll(job_id)
            except Exception as e:  # noqa: BLE001
                raise self.explain(e, self.key_var) from e
            if state.status == "succeeded":
                return state
            if state.status == "failed":
                book.clear()  # the vendor's job is over; a retry should submit a new one
                why = "" if state.retryable else "; not retried: the vendor refused this request, and would refuse it again"
                raise VendorJobFailed(f"{self.name} job {job_id} failed: {state.error or 'no reason given'}{why}",
                                      transient=state.retryable)
            if time.monotonic() + interval > deadline:
                raise TimeoutError(
                    f"{self.name} job {job_id} did not finish within {self.setting('deadline_s', DEFAULT_DEADLINE_S):g}"
                    " s; its handle is kept, so retrying resumes polling this job instead of paying for a new one"
                )
            time.sleep(interval)

    def _download(self, job_id: str, state: JobState, dest: Path) -> None:
        """Save the job's video. A result URL that fails (expired: 403; not there yet or lost: 404;
        a 5xx) is asked for again from the job's record — a fresh signed URL, or the same one a
        moment later — before the clip is given up."""
        error: Exception | None = None
        for attempt in range(DOWNLOAD_ATTEMPTS):
            if attempt:
                time.sleep(DOWNLOAD_PAUSE_S * attempt)
                try:
                    state = self.poll(job_id)
                except Exception as e:  # noqa: BLE001 - the record itself is unreachable: try again
                    error = e
                    continue
                if state.status != "succeeded":
                    break
            if isinstance(state.result, bytes):
                dest.write_bytes(state.result)
                return
            if not state.result:
                raise RuntimeError(f"{self.name} job {job_id} succeeded without a video")
            try:
                self.fetch(state.result, dest)
                return
            except Exception as e:  # noqa: BLE001
                error = e
        detail = str(error).splitlines()[0] if error else f"the job is {state.status} now"
        raise RuntimeError(f"{self.name} job {job_id}: the result could not be downloaded (the URL may have "
                           f"expired; asked for it {DOWNLOAD_ATTEMPTS} times): {detail}")


@lru_cache(maxsize=8)
def _veo_client(api_key: str, base_url: str | None, attempts: int, timeout: float):
    from google import genai
    from google.genai import types

    options = types.HttpOptions(timeout=int(timeout * 1000), retry_options=types.HttpRetryOptions(attempts=attempts))
    if base_url:
        options.base_url = base_url
    # Kept for the process: the SDK closes a client when it is collected, and one costs tens of ms to build.
    return genai.Client(vertexai=True, api_key=api_key, http_options=options)


def _data_uri(frame: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(frame.read_bytes()).decode("ascii")


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

    def submit(self, request, frame, seconds):
        shape = orientation(request.width, request.height)
        task = self.client(0).image_to_video.create(  # SDK retries off: creates are retried by call_safely
            model=self.model, prompt_image=_data_uri(frame), prompt_text=request.prompt[:1000],
            ratio=self.RATIOS[shape], duration=seconds, **({"seed": request.attempt} if request.attempt else {}),
        )
        return task.id

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
            raise RuntimeError(f"{self.name} put the video in Cloud Storage ({url}); this provider needs the bytes "
                               "returned inline (no output_gcs_uri)")
        super().fetch(url, dest)


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
                                                json={"prompt": request.prompt[:2000], "image_url": _data_uri(frame),
                                                      "duration": str(seconds)})
        resp.raise_for_status()
        body = resp.json()
        return json.dumps({"id": body["request_id"], "status_url": body["status_url"],
                           "response_url": body["response_url"]})

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


class VideoGenResource(StageResource):
    """Animates first frames. `chain` is VIDEOAGENT_VIDEO; shots run `max_concurrency` at a time."""

    @classmethod
    def stage(cls) -> str:
        return "video"

    max_concurrency: int = 2
    deadline_s: int = int(DEFAULT_DEADLINE_S)
    poll_s: float = DEFAULT_POLL_S
    qc_attempts: int = 3  # a clip that fails its checks (black, frozen) is made again up to this many times
    job_attempts: int = DEFAULT_JOB_ATTEMPTS  # vendor jobs per clip when the vendor's own faults end them

    def exact_clips(self, provider: str) -> bool:
        """Whether `provider`'s clips come out exactly as requested (else they need conforming)."""
        return REGISTRY["video"][provider].exact_clips

    def generate(self, store: MediaStore, request: ClipRequest,
                 spend: Spending | None = None) -> tuple[str, ProviderCall]:
        frame = store.path(request.frame_key)
        settings = {"max_retries": self.max_retries, "timeout_s": self.timeout_s, "deadline_s": self.deadline_s,
                    "poll_s": self.poll_s, "job_attempts": self.job_attempts}
        # The frame's bytes (its sha256) matter, not where it sits.
        return serve_request(store, "video", self.chain, request, prompt_field="prompt", ext="mp4",
                             private=("frame_key",), input_hashes=[request.frame_sha256], settings=settings,
                             produce=lambda p, out, key: self._animate_checked(p, request, frame, out,
                                                                              JobBook(store, key)),
                             what=f"animating {Path(request.frame_key).name}", spend=spend)

    @staticmethod
    def _animate_checked(provider: VideoProvider, request: ClipRequest, frame: Path, out: Path,
                         book: JobBook) -> Usage:
        """The provider's clip, verified before it may be cached (it decodes, lasts what was asked).
        A rejected clip's job is forgotten too, so the next attempt submits a new job instead of
        fetching the same bad result again."""
        usage = provider.animate(request, frame, out, book)
        try:
            return verified(usage, lambda: verify_clip(out, request.frames / request.fps))
        except ResultRejected:
            book.clear()
            raise
