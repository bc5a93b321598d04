"""The video stage: image-to-video, one clip per shot.

Providers live with their vendors: offline.py (ffmpeg camera moves), runway.py (runwayml SDK; its
API also fronts Veo, Kling, Seedance, Wan and Hailuo models by name), veo.py (google-genai, a
long-running operation) and fal.py (fal's queue API). Remote jobs are submitted once — the
create call is retried only where that cannot start a second, billed job — and the job handle is
written to the job book (jobs.py) before polling, so a crashed or retried run resumes polling
the same job. Results are downloaded
at once (vendor URLs expire) and cached as the vendor made them; shot_clips conforms them to the
shot's size, rate and exact frame count as it checks them (one ffmpeg pass).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from videoagent_dagster.domain.manifests import ProviderCall
from videoagent_dagster.media.verify import verify_clip
from videoagent_dagster.providers.chain import (
    REGISTRY,
    Provider,
    ResultRejected,
    Spending,
    StageResource,
    Usage,
    parse_chain,
    serve_request,
    verified,
)
from videoagent_dagster.providers.errors import (
    VendorError,
    VendorJobFailed,
    VendorTransient,
)
from videoagent_dagster.providers.jobs import JobBook, JobState
from videoagent_dagster.providers.retry import call_safely
from videoagent_dagster.providers.vendor_sdk import http_client

DEFAULT_DEADLINE_S = 900.0


def task_of_key(key: str) -> str | None:
    """The task a media key belongs to (`tasks/{task}/…`), so its jobs can be found when it is cancelled."""
    parts = key.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tasks" else None
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
    # The final cut encodes the picture again (a blending transition, burned subtitles): a clip made
    # here (the offline camera) may be encoded for speed. Part of the cache key only when True, so
    # the keys of clips already cached stay as they were.
    reencoded: bool = False


@dataclass
class VideoProvider(Provider):
    # True: animate writes exactly request.frames frames of the request's size and rate. False:
    # the clip is as the vendor made it, and is conformed where it is used.
    exact_clips: ClassVar[bool] = True

    def animate(self, request: ClipRequest, frame: Path, out: Path, book: JobBook) -> Usage:
        """Write an MP4 for the request to `out` (see exact_clips); return what it used."""
        raise NotImplementedError

    def animate_and_inspect(self, request: ClipRequest, frame: Path, out: Path, book: JobBook
                            ) -> tuple[Usage, tuple[list[str], dict] | None]:
        """animate, and what a provider that looks at its clip while making it saw there (as
        quality.inspect_clip reports it); None from one that does not (the clip is inspected after)."""
        return self.animate(request, frame, out, book), None


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

    def cancel(self, job_id: str) -> bool:
        """Stop a job at the vendor so it bills no further; False where the vendor cannot (Veo)."""
        return False

    def prepare(self) -> None:
        import av  # noqa: F401 - for verify_clip

        http_client(self.timeout())  # the downloads'

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
            raise VendorTransient(f"{self.name}: another run is submitting this clip and has not saved its job yet")
        try:
            job = book.load(self.name, self.model)
            if job:  # saved by a run that held the claim between our first look and our claim
                return {**job, "followed": True}
            try:
                job_id = call_safely(lambda: self.submit(request, frame, seconds), retries=self.retries())
            except VendorError:  # typed already (e.g. a missing key)
                raise
            except Exception as e:  # noqa: BLE001
                raise self.explain(e, self.key_var) from e
            job = {"provider": self.name, "model": self.model, "id": job_id, "seconds": seconds,
                   "submitted_at": time.time(), "task": task_of_key(request.frame_key)}
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
                raise VendorTransient(
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
                raise VendorError(f"{self.name} job {job_id} succeeded without a video")
            try:
                self.fetch(state.result, dest)
                return
            except Exception as e:  # noqa: BLE001
                error = e
        detail = str(error).splitlines()[0] if error else f"the job is {state.status} now"
        raise VendorError(f"{self.name} job {job_id}: the result could not be downloaded (the URL may have "
                           f"expired; asked for it {DOWNLOAD_ATTEMPTS} times): {detail}")


def frame_data_uri(frame: Path) -> str:
    """A first frame as vendors take it inline (Runway, fal)."""
    return "data:image/png;base64," + base64.b64encode(frame.read_bytes()).decode("ascii")


class VideoGenResource(StageResource):
    """Animates first frames. `chain` is VIDEOAGENT_VIDEO; shots run `max_concurrency` at a time."""

    @classmethod
    def stage(cls) -> str:
        return "video"

    def clip_lengths(self) -> tuple[int, ...] | None:
        """The clip lengths (seconds) the chain's first vendor sells, for timing shots to them (None:
        clips made to any length, as the offline camera makes them)."""
        return getattr(parse_chain("video", self.chain, self.provider_settings())[0], "durations", None)

    max_concurrency: int = 2
    deadline_s: int = int(DEFAULT_DEADLINE_S)
    poll_s: float = DEFAULT_POLL_S
    qc_attempts: int = 3  # a clip that fails its checks (black, frozen) is made again up to this many times
    job_attempts: int = DEFAULT_JOB_ATTEMPTS  # vendor jobs per clip when the vendor's own faults end them

    def exact_clips(self, provider: str) -> bool:
        """Whether `provider`'s clips come out exactly as requested (else they need conforming)."""
        return REGISTRY["video"][provider].exact_clips

    def generate(self, request: ClipRequest, spend: Spending | None = None) -> tuple[str, ProviderCall]:
        """The clip's cache key and who served it."""
        return self.make(request, spend)[:2]

    def make(self, request: ClipRequest, spend: Spending | None = None
             ) -> tuple[str, ProviderCall, tuple[list[str], dict] | None]:
        """The clip's cache key, who served it, and what its provider saw in it while making it
        (problems, findings: see VideoProvider.animate_and_inspect), when it was made just now by
        one that looks; else None."""
        store = self.media_store
        frame = store.path(request.frame_key)
        if request.reencoded and not all(p.exact_clips for p in parse_chain("video", self.chain)):
            # A vendor's clip is the same either way: its cache key must not change with the final's
            # encoding (a new key would pay for the clip again). The chain's own fallback then makes
            # its clips as for a stream copy.
            request = replace(request, reencoded=False)
        settings = {**self.provider_settings(), "deadline_s": self.deadline_s, "poll_s": self.poll_s,
                    "job_attempts": self.job_attempts}
        looked: dict[str, tuple[list[str], dict]] = {}

        def produce(provider: VideoProvider, out: Path, key: str) -> Usage:
            looked.clear()  # only what the provider that serves saw
            usage, seen = self._animate_checked(provider, request, frame, out, JobBook(store, key))
            if seen is not None:
                looked["seen"] = seen
            return usage

        # The frame's bytes (its sha256) matter, not where it sits.
        key, call = serve_request(store, "video", self.chain, request, prompt_field="prompt", ext="mp4",
                                  private=("frame_key", *(() if request.reencoded else ("reencoded",))),
                                  input_hashes=[request.frame_sha256], settings=settings, produce=produce,
                                  what=f"animating {Path(request.frame_key).name}", spend=spend)
        return key, call, None if call.cached else looked.get("seen")

    @staticmethod
    def _animate_checked(provider: VideoProvider, request: ClipRequest, frame: Path, out: Path,
                         book: JobBook) -> tuple[Usage, tuple[list[str], dict] | None]:
        """The provider's clip, verified before it may be cached (it decodes, lasts what was asked),
        and what the provider saw in it. A rejected clip's job is forgotten too, so the next attempt
        submits a new job instead of fetching the same bad result again."""
        usage, seen = provider.animate_and_inspect(request, frame, out, book)
        try:
            return verified(usage, lambda: verify_clip(out, request.frames / request.fps)), seen
        except ResultRejected:
            book.clear()
            raise
