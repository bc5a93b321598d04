"""The REST gateway (FastAPI): the original design's /api/v1 paths and payloads, a WebSocket of
each task's events, API keys, signed links, and the creator page at `/`.

It is a front end like the CLI: tasks are made by the task operations (validate, budget, store
the brief) and launched through Dagster's GraphQL (VideoagentClient); what it says of a task comes
from the event stream the tracker follows; files come from the media store."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import mimetypes
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import (
    Depends,
    FastAPI,
    Header,
    HTTPException,
    Query,
    Request,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from videoagent_dagster.api.accounts import Accounts, Caller
from videoagent_dagster.api.metrics import GatewayMetrics
from videoagent_dagster.api.ratelimit import RateLimiter
from videoagent_dagster.api.tracker import Tracker, message_of
from videoagent_dagster.client import (
    FINISHED,
    ClientError,
    Unreachable,
    VideoagentClient,
)
from videoagent_dagster.defs.notify.delivery import WebhookRefused, check_target
from videoagent_dagster.domain.brief import (
    BriefError,
    ShotRevision,
    brief_json_schema,
    validate_brief,
)
from videoagent_dagster.domain.keys import brief_key, task_media_key
from videoagent_dagster.domain.manifests import MAX_CAST_DESCRIPTION
from videoagent_dagster.domain.screening import ScreeningRefused, screen_brief
from videoagent_dagster.domain.task_keys import new_task_key
from videoagent_dagster.providers.chain import load_plugins
from videoagent_dagster.providers.moderation import ScreeningUnavailable
from videoagent_dagster.providers.spending import spent
from videoagent_dagster.settings import Settings, current, offline_chain
from videoagent_dagster.storage.media_store import MediaStore, media_store_from_env
from videoagent_dagster.tasks.budget import BudgetError, estimate
from videoagent_dagster.tasks.links import (
    FILES,
    LinkSigner,
    UnknownFile,
    link_path,
    link_signer,
    task_links,
)
from videoagent_dagster.tasks.links import (
    file_key as stored_file_key,
)
from videoagent_dagster.tasks.operations import (
    RevisionError,
    TaskExists,
    cancel_vendor_jobs,
    cast_of,
    discard_task,
    final_video_of,
    prepare_task,
    record_refusal,
    revise_cast,
    revise_shot,
)

log = logging.getLogger("videoagent.gateway")
WS_PROTOCOL = "videoagent"
PAGE = Path(__file__).with_name("page.html")
TERMINAL = ("completed", "failed", "cancelled")
STATUSES = ("pending", "style_detection", "story_generation", "storyboard_breakdown", "image_generation",
            "video_generation", "composing", *TERMINAL)


def _version() -> str:
    try:
        return package_metadata.version("videoagent-dagster")
    except package_metadata.PackageNotFoundError:
        return "0"


# -- response shapes (the OpenAPI document at /docs) --------------------------------------------------
class Problems(BaseModel):
    message: str
    problems: list[str] = Field(description="one line per problem: the field, the value, what is allowed")


class ProblemAnswer(BaseModel):
    """Every 422: what was wrong, field by field."""

    detail: Problems


class Storyboard(BaseModel):
    total: int | None = Field(None, description="shots in the storyboard, once it is known")
    completed: int = Field(0, description="shots of the running shot stage done")
    current: int | None = Field(None, description="the shot being made")


class StepError(BaseModel):
    step: str
    message: str


class TaskState(BaseModel):
    task_id: str
    status: str = Field(description="pending, style_detection, story_generation, storyboard_breakdown, "
                                    "image_generation, video_generation, composing, completed, failed, cancelled")
    progress: float = Field(ge=0, le=1)
    current_step: str = Field(description='e.g. "shot clips 3/5"')
    created_at: str
    started_at: str | None
    elapsed: float = Field(description="seconds since the run started")
    estimated_remaining: float | None = Field(description="seconds, a rough guess from the progress so far")
    storyboard: Storyboard
    error: StepError | None
    cost_usd: float = Field(description="what the task's paid calls have cost so far")
    run_id: str | None
    run_status: str | None
    links: dict[str, str] = Field(default_factory=dict, description="signed links to the task's files")


class TaskCreated(BaseModel):
    task_id: str
    status: str
    estimated_duration: float = Field(description="seconds the video will take to make, roughly")
    estimated_cost_usd: float
    created_at: str
    webhook_url: str | None
    run_id: str


class TaskPage(BaseModel):
    tasks: list[TaskState]
    total: int
    page: int
    page_size: int


class Estimated(BaseModel):
    estimated_cost_usd: float
    by_stage: dict[str, float]
    providers: dict[str, str]
    estimated_duration: float
    video_seconds_paid: float = Field(description="seconds of clips the video vendor bills (0: not a paid vendor)")
    video_seconds_on_screen: float


class CastRevision(BaseModel):
    description: str = Field(min_length=1, max_length=MAX_CAST_DESCRIPTION,
                             description="the member's new visual description, repeated in every shot showing it")


class Cut(BaseModel):
    made_at: str
    duration: float
    size_bytes: int
    current: bool = Field(description="the task's video now; the others are the cuts made before it")
    video: str = Field(description="a signed link to the cut")


class CastEntry(BaseModel):
    id: str
    kind: str
    name: str
    description: str
    revised: bool = Field(description="the description is the user's (a revision), not the model's")


class VideoMetadata(BaseModel):
    duration: float
    resolution: str
    width: int
    height: int
    fps: float
    format: str
    codec: str | None
    audio_codec: str | None
    has_audio: bool
    bitrate: int
    file_size: int
    created_at: str | None


def estimated_seconds(duration: float, shots: int, chains: dict[str, str]) -> float:
    """A rough time to make a video: offline work scales with the video's length; a vendor video
    stage adds about a minute per wave of 16 shots (its jobs run side by side)."""
    seconds = 8 + 0.4 * duration
    if not offline_chain(chains["video"]):
        seconds += 60 * math.ceil(shots / 16)
    if not offline_chain(chains["llm"]):
        seconds += 20
    return round(seconds, 1)


@dataclass
class Gateway:
    """Everything a request needs, made once per process."""

    settings: Settings
    store: MediaStore
    accounts: Accounts
    client: VideoagentClient
    tracker: Tracker
    links: LinkSigner
    limiter: RateLimiter

    @classmethod
    def from_settings(cls, settings: Settings | None = None, dagster_url: str | None = None) -> Gateway:
        settings = settings or current()
        load_plugins(settings.plugin_modules())  # providers of one's own price and estimate too
        store = media_store_from_env()
        accounts = Accounts(settings.database_url)
        client = VideoagentClient(dagster_url or settings.url, timeout=30)
        return cls(settings, store, accounts, client, Tracker(client, lambda task: spent(store, task)),
                   link_signer(settings, store),
                   RateLimiter(settings.rate_limit_per_minute, settings.redis_url))


bearer = HTTPBearer(auto_error=False, description="an API key from `videoagent keys create`")


def gw(request: Request) -> Gateway:
    return request.app.state.gateway


async def caller(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
                 ) -> Caller:
    """The API key's caller; 401 without a valid key, 429 over the key's rate. On the event loop: a
    key is read from the database at most once a second (Accounts.caller)."""
    g = gw(request)
    found = None
    if credentials:
        hit, found = g.accounts.cached_caller(credentials.credentials)
        if not hit:  # the database, off the event loop
            found = await asyncio.to_thread(g.accounts.caller, credentials.credentials)
    if found is None:
        raise HTTPException(401, "a valid API key is required: Authorization: Bearer <key>",
                            headers={"WWW-Authenticate": "Bearer"})
    # (a shared count is a Redis round trip: off the event loop)
    wait = await asyncio.to_thread(g.limiter.hit, found.key_id) if g.limiter.shared else g.limiter.hit(found.key_id)
    if wait is not None:
        raise HTTPException(429, f"more than {g.limiter.per_minute} requests a minute with this key; "
                                 f"try again in {math.ceil(wait)} s", headers={"Retry-After": str(math.ceil(wait))})
    return found


Who = Annotated[Caller, Depends(caller)]


def create_app(gateway: Gateway | None = None, *, follow: bool = True) -> FastAPI:
    """The gateway app; `follow` starts the thread that follows Dagster's runs."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        gw = app.state.gateway = gateway or Gateway.from_settings()
        if follow:
            gw.tracker.start()
        try:
            yield
        finally:
            gw.tracker.stop()

    app = FastAPI(title="videoagent", version=_version(), lifespan=lifespan,
                  description="Make narrated, subtitled videos from a topic. Authenticate with "
                              "`Authorization: Bearer <API key>` (`videoagent keys create`).")
    metrics = GatewayMetrics()

    def task_states():
        g = getattr(app.state, "gateway", None)
        for record in g.accounts.tasks(None, limit=1_000_000)[0] if g else []:
            view = g.tracker.views.get(record.task)
            yield (view.state["status"] if view else "unknown"), record.user

    metrics.follow_tasks(task_states)

    @app.middleware("http")
    async def count(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")  # the template, not the task's id: bounded labels
        metrics.requests.labels(request.method, path, str(response.status_code)).inc()
        metrics.latency.labels(path).observe(time.perf_counter() - started)
        return response

    # Scraped on a port of its own (`videoagent serve --metrics-port`), not the public one: the
    # numbers name users.
    app.state.metrics = metrics

    def refused(e: ScreeningRefused) -> HTTPException:
        """A brief content screening refused: counted by category, answered 422 with its problems."""
        for category in e.categories:
            metrics.refusals.labels(category).inc()
        return HTTPException(422, {"message": "the brief was refused by content screening", "problems": e.problems})

    def owned(g: Gateway, who: Caller, task: str) -> float:
        """The task's creation time if the caller may see it; 404 otherwise (also for another's)."""
        record = g.accounts.task(task)
        if record is not None and (who.admin or record.user == who.user):
            return record.created_at
        if record is None and who.admin and g.store.exists(brief_key(task)):  # made by the CLI, intake, …
            return time.time()
        raise HTTPException(404, f"no task {task!r}")

    def state(g: Gateway, task: str, created_at: float, base: str) -> dict[str, Any]:
        view = g.tracker.view(task, created_at)
        out = dict(view.state)
        out["links"] = file_links(g, task, base) if out["status"] == "completed" else {}
        return out

    def file_links(g: Gateway, task: str, base: str) -> dict[str, str]:
        return task_links(g.links, base, task)

    def base_url(request: Request) -> str:
        return (gw(request).settings.public_url or str(request.base_url)).rstrip("/")

    # -- the page and the service's own state ----------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    @app.get("/api/v1/health", tags=["service"])
    def health() -> dict[str, str]:
        """Liveness: the gateway answers."""
        return {"status": "ok", "version": _version()}

    @app.get("/api/v1/health/ready", tags=["service"])
    def ready(request: Request) -> JSONResponse:
        """Readiness: the Dagster webserver, the gateway's database and the media store answer."""
        g, checks = gw(request), {}
        for name, probe in (("dagster", lambda: g.client.runs(limit=1)),
                            ("database", lambda: g.accounts.engine.connect().close()),
                            ("media_store", lambda: g.store.exists("briefs/.ready"))):
            try:
                probe()
                checks[name] = "ok"
            except Exception as e:  # noqa: BLE001 - reported, not raised (the details go to the log)
                log.warning("readiness: %s: %s", name, e)
                checks[name] = f"failing ({type(e).__name__})"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503)

    @app.get("/api/v1/version", tags=["service"])
    def version() -> dict[str, str]:
        return {"version": _version(), "api": "v1"}

    @app.get("/api/v1/schema/brief", tags=["tasks"])
    def schema() -> dict[str, Any]:
        """The JSON schema of the body of POST /api/v1/tasks."""
        return brief_json_schema()

    # -- tasks -------------------------------------------------------------------------------------------
    def brief_of(body: Any, who: Caller) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise HTTPException(422, {"message": "the brief was not accepted",
                                      "problems": [f"brief: expected a JSON object, got {type(body).__name__}"]})
        raw = {k: v for k, v in body.items() if k != "user"}
        options = raw.get("options")
        if isinstance(options, dict) and "voice_type" in options:  # the original design's name for voice
            options = dict(options)
            options.setdefault("voice", options.pop("voice_type"))
            raw["options"] = options
        raw["user"] = who.user  # whose the task is comes from the key, never from the body
        return raw

    def checked(g: Gateway, raw: dict[str, Any], task: str):
        try:
            brief = validate_brief(raw, task)
            screen_brief(brief, g.settings.screening_words)
        except ScreeningRefused as e:
            record_refusal(g.store, e, "REST")
            raise refused(e) from None
        except BriefError as e:
            raise HTTPException(422, {"message": "the brief was not accepted", "problems": e.problems}) from None
        if brief.webhook_url:
            try:
                check_target(brief.webhook_url)
            except WebhookRefused as e:
                raise HTTPException(422, {"message": "the brief was not accepted",
                                          "problems": [f"webhook_url: {e}"]}) from None
        return brief

    async def json_body(request: Request) -> Any:
        try:
            return json.loads(await request.body() or b"null")
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise HTTPException(422, {"message": "the body is not JSON", "problems": ["body: not JSON"]}) from None

    @app.post("/api/v1/tasks/estimate", tags=["tasks"], response_model=Estimated)
    async def estimate_task(request: Request, who: Who) -> dict[str, Any]:
        """What a brief would cost and take, with the configured providers; nothing is made."""
        g, raw = gw(request), brief_of(await json_body(request), who)

        def work() -> dict[str, Any]:  # a DNS look-up (webhook_url) and pricing: off the event loop
            brief = checked(g, raw, "estimate")
            est = estimate(brief)
            return {"estimated_cost_usd": est.total, "by_stage": est.by_stage, "providers": est.providers,
                    "video_seconds_paid": est.video_seconds_paid, "video_seconds_on_screen": est.video_seconds_on_screen,
                    "estimated_duration": estimated_seconds(brief.options.duration, shots_of(brief),
                                                            g.settings.chains())}

        return await asyncio.to_thread(work)

    @app.post("/api/v1/tasks", status_code=201, tags=["tasks"], response_model=TaskCreated,
              responses={402: {"description": "over the user's daily budget"},
                         409: {"description": "the same Idempotency-Key is being used by a request in progress"},
                         422: {"description": "the brief was not accepted: every problem named"},
                         503: {"description": "Dagster could not be reached; nothing was made"}})
    async def create(request: Request, who: Who,
                     idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> Any:
        """Make a video task from a brief (topic, style, options, priority, webhook_url) and start it.
        The same Idempotency-Key with the same body gives back the same task, never a second one."""
        g, raw = gw(request), brief_of(await json_body(request), who)
        return await asyncio.to_thread(create_task, g, who, raw, idempotency_key)

    def create_task(g: Gateway, who: Caller, raw: dict[str, Any], idempotency_key: str | None) -> Any:
        digest = hashlib.sha256(json.dumps(raw, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        if idempotency_key:
            earlier = g.accounts.task_by_idempotency(who.user, idempotency_key)
            if earlier is not None:
                return replay(g, earlier, digest, raw)
        topic = raw.get("topic") if isinstance(raw.get("topic"), str) else ""
        task = new_task_key(topic)
        checked(g, raw, task)
        try:  # the Idempotency-Key is taken first, so two requests with it cannot both make a task
            g.accounts.add_task(task, who.user, idempotency_key, digest)
        except sa.exc.IntegrityError:
            earlier = g.accounts.task_by_idempotency(who.user, idempotency_key or "")
            if earlier is None:
                raise
            return replay(g, earlier, digest, raw)
        brief = None
        try:
            brief = prepare_task(raw, g.store, task)
            run_id = g.client.start(brief)
        except BaseException as e:
            # Nothing half-made stays: the record and, unless its run did start after all (a launch
            # that answered too late), the brief and its budget reservation.
            started = _launched(g, task) if isinstance(e, ClientError) and brief is not None else None
            if started:
                run_id = started
            else:
                if brief is not None:
                    discard_task(brief, g.store)
                g.accounts.forget_task(task)
                if isinstance(e, BudgetError):
                    raise HTTPException(402, str(e)) from None
                if isinstance(e, ScreeningRefused):  # (the moderation vendor's)
                    raise refused(e) from None
                if isinstance(e, ScreeningUnavailable):
                    raise HTTPException(503, str(e)) from None
                if isinstance(e, TaskExists):
                    raise HTTPException(409, str(e)) from None
                if isinstance(e, ClientError):
                    raise HTTPException(503, f"the task could not be started: {e}") from None
                raise
        record = g.accounts.task(task)
        g.tracker.created(task, run_id, record.created_at)
        return created_body(g, brief, run_id, record.created_at)

    def _launched(g: Gateway, task: str) -> str | None:
        try:
            runs = g.client.runs(task, limit=1)
        except ClientError:
            return None
        return runs[0]["runId"] if runs else None

    def shots_of(brief) -> int:
        from videoagent_dagster.domain.plan_rules import plan_shots

        return len(plan_shots(brief.options.duration, brief.options.fps, brief.options.shots))

    def created_body(g: Gateway, brief, run_id: str, created_at: float) -> dict[str, Any]:
        from videoagent_dagster.api.tracker import _iso

        return {"task_id": brief.task, "status": "pending", "run_id": run_id,
                "estimated_duration": estimated_seconds(brief.options.duration, shots_of(brief), g.settings.chains()),
                "estimated_cost_usd": estimate(brief).total, "created_at": _iso(created_at),
                "webhook_url": brief.webhook_url}

    def replay(g: Gateway, earlier, digest: str, raw: dict[str, Any]) -> Any:
        if earlier.body_sha256 != digest:
            raise HTTPException(422, {"message": "this Idempotency-Key was used with another body",
                                      "problems": [f"Idempotency-Key: already made task {earlier.task} "
                                                   "from a different brief; use a new key"]})
        view = g.tracker.view(earlier.task, earlier.created_at)
        if view.run_id is None:
            raise HTTPException(409, f"task {earlier.task} is being made by a request with this Idempotency-Key; "
                                     "ask again in a moment")
        brief = validate_brief(raw, earlier.task)
        return JSONResponse(created_body(g, brief, view.run_id, earlier.created_at), status_code=201)

    @app.get("/api/v1/tasks", tags=["tasks"], response_model=TaskPage)
    def list_tasks(request: Request, who: Who,
                   status: Annotated[str | None, Query(description=", ".join(STATUSES))] = None,
                   page: Annotated[int, Query(ge=1, le=100000)] = 1,
                   page_size: Annotated[int, Query(ge=1, le=100)] = 20) -> Response:
        """The caller's tasks (an admin's: everyone's), newest first."""
        g = gw(request)
        if status is not None and status not in STATUSES:
            raise HTTPException(422, {"message": "unknown status", "problems": [
                f"status: {status!r} is not allowed; allowed: {', '.join(STATUSES)}"]})
        user = None if who.admin else who.user
        base = base_url(request)
        if status is None:
            records, total = g.accounts.tasks(user, offset=(page - 1) * page_size, limit=page_size)
            states = [state(g, r.task, r.created_at, base) for r in records]
        else:
            records, _ = g.accounts.tasks(user, offset=0, limit=1_000_000)
            matching = [s for r in records if (s := state(g, r.task, r.created_at, base))["status"] == status]
            total, states = len(matching), matching[(page - 1) * page_size:page * page_size]
        return JSONResponse({"tasks": states, "total": total, "page": page, "page_size": page_size})

    @app.get("/api/v1/tasks/{task_id}", tags=["tasks"], response_model=TaskState)
    async def get_task(request: Request, task_id: str, who: Who) -> Response:
        # Served from memory (the tracker's view) on the event loop: no thread hop, no validation
        # pass over a state the tracker built (TaskState documents it).
        g = gw(request)
        view = g.tracker.views.get(task_id)
        if view is None:  # the first ask for this task: its log is read once, off the loop
            return JSONResponse(await asyncio.to_thread(lambda: state(g, task_id, owned(g, who, task_id),
                                                                      base_url(request))))
        return JSONResponse(state(g, task_id, owned(g, who, task_id), base_url(request)))

    @app.post("/api/v1/tasks/{task_id}/cancel", tags=["tasks"], response_model=TaskState)
    def cancel(request: Request, task_id: str, who: Who) -> dict[str, Any]:
        """Stop the task's run (409 when it has ended)."""
        g = gw(request)
        created_at = owned(g, who, task_id)
        view = g.tracker.view(task_id, created_at)
        if view.state["status"] in TERMINAL or view.run_status in ("CANCELING",):
            raise HTTPException(409, f"task {task_id} is {view.state['status']}: there is nothing to cancel")
        try:
            g.client.cancel(task_id)
        except Unreachable:
            raise
        except ClientError as e:
            raise HTTPException(409, str(e)) from None
        threading.Thread(target=stop_vendor_jobs, args=(g, task_id), name=f"cancel-{task_id}", daemon=True).start()
        try:
            g.tracker.tick()  # the cancel shows at once (else on the tracker's next look)
        except ClientError:
            pass
        return state(g, task_id, created_at, base_url(request))

    @app.post("/api/v1/tasks/{task_id}/retry", tags=["tasks"], response_model=TaskState)
    def retry(request: Request, task_id: str, who: Who) -> dict[str, Any]:
        """Run a failed or cancelled task again from where it stopped: what succeeded is reused."""
        g = gw(request)
        created_at = owned(g, who, task_id)
        view = g.tracker.view(task_id, created_at)
        if view.state["status"] not in ("failed", "cancelled"):
            raise HTTPException(409, f"task {task_id} is {view.state['status']}: only a failed or cancelled task "
                                     "can be retried")
        try:
            run_id = g.client.retry(task_id)
        except Unreachable:
            raise
        except ClientError as e:
            raise HTTPException(409, str(e)) from None
        g.tracker.relaunched(task_id, run_id)
        return state(g, task_id, created_at, base_url(request))

    @app.get("/api/v1/tasks/{task_id}/history", tags=["tasks"], response_model=list[Cut])
    def history(request: Request, task_id: str, who: Who) -> list[dict[str, Any]]:
        """Every cut the task has made, oldest first, each with a signed link: a revision's new cut
        does not take the earlier ones away."""
        g = gw(request)
        owned(g, who, task_id)
        final = final_video_of(g.store, task_id)
        if final is None:
            return []
        base, signer = base_url(request), g.links
        cuts = [{"made_at": c.made_at, "duration": c.duration, "size_bytes": c.size_bytes, "current": False,
                 "video": base + signer.sign(link_path(task_id, f"cut_{i + 1}"))} for i, c in enumerate(final.history)]
        return cuts + [{"made_at": final.made_at, "duration": final.duration, "size_bytes": final.size_bytes,
                        "current": True, "video": base + signer.sign(link_path(task_id, "video"))}]

    @app.get("/api/v1/tasks/{task_id}/cast", tags=["tasks"], response_model=list[CastEntry])
    def get_cast(request: Request, task_id: str, who: Who) -> list[dict[str, Any]]:
        """The task's cast: who and what recurs, each with the description every shot showing it repeats."""
        g = gw(request)
        owned(g, who, task_id)
        cast = cast_of(g.store, task_id)
        if cast is None:
            raise HTTPException(404, f"task {task_id} has no cast yet")
        return [{**m.model_dump(exclude={"colours"}), "revised": m.id in cast.revised} for m in cast.members]

    def revise_and_rerun(request: Request, task_id: str, who: Caller, revise) -> dict[str, Any]:
        """A revision (409 while the task runs; 422 naming what is wrong), then a new run of the task:
        the cache makes again only what the revision reaches. The previous cut stays downloadable
        until the new one replaces it."""
        g = gw(request)
        created_at = owned(g, who, task_id)
        view = g.tracker.view(task_id, created_at)
        if view.state["status"] not in TERMINAL:
            raise HTTPException(409, f"task {task_id} is {view.state['status']}: revise it when its run has ended")
        try:
            revise(g.store)
        except RevisionError as e:
            raise HTTPException(422, {"message": "the revision was not accepted", "problems": e.problems}) from None
        brief = validate_brief(json.loads(g.store.read_bytes(brief_key(task_id))), task_id)
        try:
            run_id = g.client.start(brief)
        except Unreachable:
            raise
        except ClientError as e:
            raise HTTPException(503, f"the revised task could not be started: {e}") from None
        g.tracker.relaunched(task_id, run_id)
        return state(g, task_id, created_at, base_url(request))

    revision_answers = {409: {"description": "the task is still running"},
                        422: {"model": ProblemAnswer, "description": "the revision was not accepted: why"}}

    @app.patch("/api/v1/tasks/{task_id}/cast/{member}", tags=["tasks"], response_model=TaskState,
               responses=revision_answers)
    def patch_cast(request: Request, task_id: str, member: str, body: CastRevision, who: Who) -> dict[str, Any]:
        """Fix one cast member's description and make the video again: only that member's reference
        image and the shots showing it are made (and paid for) again."""
        return revise_and_rerun(request, task_id, who,
                                lambda store: revise_cast(store, task_id, member, body.description))

    @app.patch("/api/v1/tasks/{task_id}/shots/{number}", tags=["tasks"], response_model=TaskState,
               responses=revision_answers)
    def patch_shot(request: Request, task_id: str, number: int, body: ShotRevision, who: Who) -> dict[str, Any]:
        """Change one shot (1 = the first): description, narration, camera move, duration (the total
        staying within 10% of the brief's); then make the video again, painting, filming and speaking
        only that shot again."""
        return revise_and_rerun(request, task_id, who, lambda store: revise_shot(
            store, task_id, number, body.model_dump(exclude_unset=True)))

    # -- files ---------------------------------------------------------------------------------------
    def file_key(g: Gateway, task: str, name: str) -> str:
        """Where a task's file is in the media store; 404 while it is not there."""
        try:
            key = stored_file_key(g.store, task, name)
        except UnknownFile:
            raise HTTPException(404, f"no file {name!r}; files: {', '.join(FILES)}, frame_N") from None
        if key is None or not g.store.exists(key):
            raise HTTPException(404, f"task {task} has no {name} yet")
        return key

    def serve(g: Gateway, key: str, filename: str) -> Response:
        url = g.store.presigned_url(key, min(g.settings.link_ttl_s, 7 * 86400)) if g.settings.s3_redirect else None
        if url is not None:
            return RedirectResponse(url, status_code=307)
        media_type = mimetypes.guess_type(key)[0] or ("application/json" if key.endswith(".json")
                                                      else "application/octet-stream")
        # FileResponse answers Range requests (206) itself
        return FileResponse(g.store.path(key), media_type=media_type, filename=filename,
                            content_disposition_type="inline")

    def filename_of(task: str, name: str, key: str) -> str:
        return f"{task}-{name}{Path(key).suffix}" if not name.endswith(Path(key).suffix) else f"{task}-{name}"

    @app.get("/api/v1/tasks/{task_id}/video", tags=["files"],
             responses={206: {"description": "a byte range"}, 307: {"description": "to the object store"}})
    def video(request: Request, task_id: str, who: Who) -> Response:
        """The finished video; HTTP Range is honoured (or a redirect to a presigned S3 URL)."""
        g = gw(request)
        owned(g, who, task_id)
        key = file_key(g, task_id, "video")
        return serve(g, key, f"{task_id}.mp4")

    metadata_cache: dict[str, dict[str, Any]] = {}

    @app.get("/api/v1/tasks/{task_id}/video/metadata", tags=["files"], response_model=VideoMetadata)
    def video_metadata(request: Request, task_id: str, who: Who) -> dict[str, Any]:
        """The finished video's facts, read from the file itself (ffprobe)."""
        g = gw(request)
        owned(g, who, task_id)
        key = file_key(g, task_id, "video")
        final = final_video_of(g.store, task_id)
        known = (task_id, final.uri, final.size_bytes)  # a retry that made the video again is a new file
        if metadata_cache.get(task_id, {}).get("_file") != known:
            from videoagent_dagster.media.probe import probe

            facts = probe(g.store.path(key))
            v, a = facts["video"] or {}, facts["audio"]
            metadata_cache[task_id] = {
                "duration": round(facts["duration"], 3), "width": v.get("width", 0), "height": v.get("height", 0),
                "resolution": f"{v.get('width', 0)}x{v.get('height', 0)}", "fps": round(v.get("fps", 0.0), 3),
                "format": "mp4", "codec": v.get("codec"), "audio_codec": a["codec"] if a else None,
                "has_audio": a is not None, "bitrate": facts["bitrate"], "file_size": facts["size_bytes"],
                "created_at": g.tracker.view(task_id).state.get("created_at"), "_file": known}
        return {k: v for k, v in metadata_cache[task_id].items() if k != "_file"}

    @app.get("/api/v1/tasks/{task_id}/thumbnail", tags=["files"])
    def thumbnail(request: Request, task_id: str, who: Who,
                  time_s: Annotated[float | None, Query(alias="time", ge=0, le=600,
                                                        description="seconds into the video")] = None) -> Response:
        """A JPEG of the video: its thumbnail, or the frame at `time` seconds (made once, then kept)."""
        g = gw(request)
        owned(g, who, task_id)
        if time_s is None:
            return serve(g, file_key(g, task_id, "thumbnail"), f"{task_id}-thumbnail.jpg")
        return serve(g, frame_at(g, task_id, time_s), f"{task_id}-{time_s:g}s.jpg")

    def frame_at(g: Gateway, task: str, at: float) -> str:
        from videoagent_dagster.media.picture import thumbnail as take

        final = final_video_of(g.store, task)
        if final is None:
            raise HTTPException(404, f"task {task} has no video yet")
        if at > final.duration:
            raise HTTPException(422, {"message": "time is past the end", "problems": [
                f"time: {at:g} s is past the end of the {final.duration:.2f} s video"]})
        # to a tenth of a second (at most 6,000 kept per video), and the last frame, not past it
        at = min(round(at, 1), max(0.0, final.duration - 1 / final.fps))
        key = task_media_key(task, "final", f"thumbnails/at_{round(at * 1000):07d}ms.jpg")
        if not g.store.exists(key):
            with g.store.writing(key) as tmp:
                take(g.store.path(final.key), tmp, at=at)
        return key

    @app.get("/api/v1/tasks/{task_id}/files/{name}", tags=["files"])
    def task_file(request: Request, task_id: str, name: str, who: Who) -> Response:
        """storyboard (JSON), contact_sheet, subtitles.srt, subtitles.ass, otio, fcp_xml, edl, frame_N."""
        g = gw(request)
        owned(g, who, task_id)
        key = file_key(g, task_id, name)
        return serve(g, key, filename_of(task_id, name, key))

    @app.get("/api/v1/tasks/{task_id}/frames", tags=["files"])
    def frames(request: Request, task_id: str, who: Who) -> dict[str, list[str]]:
        """Signed links to the first frames made so far, in shot order (they appear as they are made)."""
        g = gw(request)
        owned(g, who, task_id)
        base = base_url(request)
        made = sorted(k for k in g.store.list(f"tasks/{task_id}/frames/") if Path(k).name.startswith("shot_")
                      and k.endswith(".png"))
        return {"frames": [base + g.links.sign(link_path(task_id, f"frame_{int(Path(k).stem[5:])}")) for k in made]}

    @app.get("/api/v1/links/{task_id}/{name}", tags=["files"],
             responses={403: {"description": "expired or altered"}})
    def signed_file(request: Request, task_id: str, name: str, expires: str | None = None,
                    sig: str | None = None) -> Response:
        """A handed-out link: opens for whoever holds it until it expires, no key needed."""
        g = gw(request)
        refused = g.links.check(link_path(task_id, name), expires, sig)
        if refused:
            raise HTTPException(403, refused)
        key = file_key(g, task_id, name)
        return serve(g, key, filename_of(task_id, name, key))

    # -- live events ---------------------------------------------------------------------------------
    @app.websocket("/api/v1/ws/tasks/{task_id}")
    async def task_events(websocket: WebSocket, task_id: str) -> None:
        """The task's events as they happen: task_created, status_changed, progress_update,
        error_occurred, task_completed, task_failed; the current state first. Authenticate with
        `Authorization: Bearer <key>`, or from a browser (which cannot set that header) by offering
        the subprotocols `videoagent` and the key: `new WebSocket(url, ["videoagent", key])`. (Not in
        the URL, where proxies and access logs would keep it.)"""
        g: Gateway = websocket.app.state.gateway
        header = websocket.headers.get("authorization", "")
        offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        keys = [p for p in offered if p.startswith("va_")]
        presented = header[7:] if header.lower().startswith("bearer ") else keys[0] if keys else ""
        who = await asyncio.to_thread(g.accounts.caller, presented) if presented else None
        # A browser offers ["videoagent", key]: the connection must name one of what it offered.
        await websocket.accept(subprotocol=WS_PROTOCOL if WS_PROTOCOL in offered else None)
        if who is None:
            await websocket.close(code=4401, reason="a valid API key is required")
            return
        try:
            created_at = await asyncio.to_thread(owned, g, who, task_id)
        except HTTPException:
            await websocket.close(code=4404, reason=f"no task {task_id!r}")
            return
        queue = g.tracker.subscribe(task_id)
        scheme = "https" if websocket.url.scheme == "wss" else "http"
        base = (g.settings.public_url or f"{scheme}://{websocket.url.netloc}").rstrip("/")

        def with_links(message: dict[str, Any]) -> dict[str, Any]:
            if message["data"].get("status") == "completed":  # the finished task's files, as GET gives them
                message = {**message, "data": {**message["data"], "links": file_links(g, task_id, base)}}
            return message

        try:
            view = await asyncio.to_thread(g.tracker.view, task_id, created_at)
            current_state = with_links(message_of("status_changed", task_id, dict(view.state)))["data"]
            await websocket.send_json(message_of("status_changed", task_id, current_state))
            if current_state["status"] == "completed":
                await websocket.send_json(message_of("task_completed", task_id, current_state))
            elif current_state["status"] in ("failed", "cancelled"):
                await websocket.send_json(message_of("task_failed", task_id, current_state))
            closed = asyncio.ensure_future(_drain(websocket))
            while not closed.done():
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    await websocket.send_json(with_links(getter.result()))
                else:
                    getter.cancel()
        except WebSocketDisconnect:
            pass
        finally:
            g.tracker.unsubscribe(task_id, queue)

    def openapi() -> dict[str, Any]:
        """FastAPI's document, with the brief's JSON schema as the body of the calls that take one
        (they read the body themselves, to name every problem in the CLI's words)."""
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            brief = json.loads(json.dumps(brief_json_schema()).replace("#/$defs/", "#/components/schemas/"))
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(brief.pop("$defs", {}))
            schemas["BriefRequest"] = brief
            body = {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BriefRequest"}}}}
            for path in ("/api/v1/tasks", "/api/v1/tasks/estimate"):
                spec["paths"][path]["post"]["requestBody"] = body
            problems = ProblemAnswer.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(problems.pop("$defs", {}))
            schemas["ProblemAnswer"] = problems
            for schemas_name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(schemas_name, None)
            for operations in spec["paths"].values():
                for operation in operations.values():
                    if "422" in operation.get("responses", {}) or "requestBody" in operation:
                        operation.setdefault("responses", {})["422"] = {
                            "description": "not accepted: every problem named",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProblemAnswer"}}}}
            app.openapi_schema = spec
        return app.openapi_schema

    @app.exception_handler(ClientError)
    async def dagster_unavailable(request: Request, exc: ClientError) -> JSONResponse:
        """Dagster's webserver away or failing: the service is unavailable, not the request wrong."""
        return JSONResponse({"detail": f"Dagster could not answer: {exc}"}, 503)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's own parameter checks answer in the same shape as a refused brief."""
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'not allowed')}"
                    for e in exc.errors()]
        return JSONResponse({"detail": {"message": "the request was not accepted", "problems": problems}}, 422)

    app.openapi = openapi
    return app


def stop_vendor_jobs(g: Gateway, task: str, wait_s: float = 120) -> None:
    """A cancelled task's vendor jobs are stopped at once, and again once its run has ended (a
    shot's thread may submit one in the moment before the run stops)."""
    for line in cancel_vendor_jobs(task, g.store, g.settings.video):
        log.info("cancel %s: %s", task, line)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and g.tracker.view(task).run_status not in FINISHED:
        time.sleep(1)
    for line in cancel_vendor_jobs(task, g.store, g.settings.video):
        log.info("cancel %s, its run ended: %s", task, line)


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, text or bytes, until it goes away."""
    try:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
    except (WebSocketDisconnect, RuntimeError):
        return
