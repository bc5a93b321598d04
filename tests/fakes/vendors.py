"""One loopback HTTP server that speaks the wire formats of the vendors we call: OpenAI (chat
completions, images, speech), Anthropic (messages), Stability (stable-image), Runway (image to
video + tasks), Google Veo (Vertex predictLongRunning + fetchPredictOperation) and fal (queue).

Tests run the real SDKs against it. Faults are scripted per endpoint (`fail`), latency can be
set per endpoint (`latency`), and every request is counted (`calls`).

It misbehaves the way the vendors and their models do, on demand:
- LLM answers (`llm_faults`, one per call, in order): "prose" (JSON inside chatter), "fence" (a
  Markdown code fence), "extra_shot" / "missing_shot" (miscounted shots), "durations_rounded"
  (every duration 8% long: mendable), "durations_doubled" (far off), "english" / "chinese"
  (narration in another language than asked), "blank_title", "long_narration".
- Video jobs (`job_script`, one per created job): {"fail": reason, "code": Runway failureCode
  (default INTERNAL.BAD_OUTPUT.CODE01, which Runway says to retry; SAFETY.* is a refusal),
  "veo_code": google.rpc code, "filtered": Veo's RAI filter, "fal_type": fal error_type},
  {"expired": n} (signed URL answers 403 n times, then a fresh one is handed out), {"lost": n}
  (the URL answers 404 n times, then the same URL works), {"clip": bytes} (what is delivered).
- OpenAI speech streams WAV with both size fields 0xFFFFFFFF, as the real API does, lasting
  `speech_seconds` divided by the request's `speed`."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import threading
import time
import uuid
import wave
from collections import defaultdict

from PIL import Image
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


def _png(width=64, height=36, colour=(40, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, format="PNG")
    return buf.getvalue()


def _wav(seconds=0.8, rate=24000) -> bytes:
    import math

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = bytearray()
        for i in range(int(seconds * rate)):
            v = int(8000 * math.sin(2 * math.pi * 220 * i / rate))
            frames += v.to_bytes(2, "little", signed=True)
        w.writeframes(bytes(frames))
    return buf.getvalue()


def _mp4(seconds: int = 2) -> bytes:
    out = subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size=256x144:rate=24:d={seconds}",
                          "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags",
                          "frag_keyframe+empty_moov", "-f", "mp4", "-"], capture_output=True, check=True)
    return out.stdout


def _json(body, status=200, headers=None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


class FakeVendors:
    def __init__(self):
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.calls: dict[str, list] = defaultdict(list)
        self.faults: dict[str, list[Response | str]] = defaultdict(list)
        self.latency: dict[str, float] = {}
        self.llm_answers: list[str] = []  # scripted LLM message contents, used before the generated ones
        self.llm_faults: list[str] = []  # misbehaviours of the next generated answers (see the module doc)
        self.edit_requests: list[dict] = []  # image edits as received: {"prompt", "images": [bytes], "model"}
        self.vision_scores: list[int] = []  # scores the vision model gives, in order (then 8)
        self.vision_requests: list[dict] = []  # {"prompt", "labels": [str], "images": [bytes]} as received
        self.runway_images: list[dict] = []  # text_to_image bodies as received (references decoded)
        self.moderation_flags: list[dict] = []  # categories the next moderation answers flag (then: nothing)
        self.speech_seconds = 0.8
        self.lost: dict[str, int] = {}  # file name → 404s left
        self.jobs: dict[str, dict] = {}
        self.job_script: list[dict] = []  # per created video job, in order: {"polls": n, "fail": msg, ...}
        self.job_seconds: float | None = None  # when set, a job finishes this long after it was created
        self.lock = threading.Lock()
        self._clips: dict[int, bytes] = {}
        self.clip = _mp4(5)  # vendors deliver the length asked for (5 s here), not the shot's
        self.png = _png()
        self.wav = _wav()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeVendors:
        self.server.start()
        self.server.expect_request(re.compile(r".*")).respond_with_handler(self._route)
        return self

    def stop(self) -> None:
        self.server.clear()
        if self.server.is_running():
            self.server.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def env(self) -> dict[str, str]:
        """The variables the SDKs (and our providers) read to find these fakes."""
        return {
            "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": f"{self.url}/openai/v1",
            "ANTHROPIC_API_KEY": "ak-test", "ANTHROPIC_BASE_URL": f"{self.url}/anthropic",
            "STABILITY_API_KEY": "st-test", "STABILITY_BASE_URL": f"{self.url}/stability",
            "RUNWAYML_API_SECRET": "rw-test", "RUNWAYML_BASE_URL": f"{self.url}/runway",
            "GOOGLE_API_KEY": "g-test", "GOOGLE_VERTEX_BASE_URL": f"{self.url}/veo/",
            "FAL_KEY": "fal-test", "FAL_QUEUE_URL": f"{self.url}/fal",
        }

    # -- scripting ---------------------------------------------------------------------------
    def fail(self, endpoint: str, *responses: Response | str) -> None:
        """Answer the next requests to `endpoint` with these responses ('timeout' = never in time)."""
        self.faults[endpoint].extend(responses)

    def count(self, endpoint: str) -> int:
        return len(self.calls[endpoint])

    # -- routing -----------------------------------------------------------------------------
    ROUTES = [
        ("openai.chat", "POST", r"^/openai/v1/chat/completions$"),
        ("openai.images", "POST", r"^/openai/v1/images/generations$"),
        ("openai.edits", "POST", r"^/openai/v1/images/edits$"),
        ("openai.speech", "POST", r"^/openai/v1/audio/speech$"),
        ("openai.moderations", "POST", r"^/openai/v1/moderations$"),
        ("anthropic.messages", "POST", r"^/anthropic/v1/messages$"),
        ("stability.generate", "POST", r"^/stability/v2beta/stable-image/generate/\w+$"),
        ("runway.create", "POST", r"^/runway/v1/image_to_video$"),
        ("runway.image", "POST", r"^/runway/v1/text_to_image$"),
        ("runway.task", "GET", r"^/runway/v1/tasks/(?P<id>[\w-]+)$"),
        ("runway.delete", "DELETE", r"^/runway/v1/tasks/(?P<id>[\w-]+)$"),
        ("veo.create", "POST", r"^/veo/v1beta1/publishers/google/models/(?P<model>[\w.-]+):predictLongRunning$"),
        ("veo.poll", "POST", r"^/veo/v1beta1/(?:projects/[^/]+/locations/[^/]+/)?publishers/google/models/(?P<model>[\w.-]+):fetchPredictOperation$"),
        ("fal.status", "GET", r"^/fal/queue/(?P<id>[\w-]+)/status$"),
        ("fal.result", "GET", r"^/fal/queue/(?P<id>[\w-]+)/result$"),
        ("fal.cancel", "PUT", r"^/fal/queue/(?P<id>[\w-]+)/cancel$"),
        ("fal.create", "POST", r"^/fal/(?P<app>.+)$"),
        ("files", "GET", r"^/files/(?P<name>[\w.-]+)$"),
    ]

    def _route(self, request: Request) -> Response:
        for name, method, pattern in self.ROUTES:
            m = re.match(pattern, request.path)
            if m and request.method == method:
                with self.lock:
                    self.calls[name].append(request.get_data())
                    fault = self.faults[name].pop(0) if self.faults[name] else None
                if name in self.latency:
                    time.sleep(self.latency[name])
                if fault == "timeout":
                    time.sleep(5)
                    return _json({"error": {"message": "too late"}}, 504)
                if fault is not None:
                    return fault
                return getattr(self, "_" + name.replace(".", "_"))(request, **m.groupdict())
        return _json({"error": {"message": f"no fake for {request.method} {request.path}"}}, 404)

    # -- LLMs --------------------------------------------------------------------------------
    def _document(self, prompt: str, schema_name: str) -> str:
        """An answer written from what the prompt says (duration, shots, language), misbehaving as
        the next of `llm_faults` says."""
        if self.llm_answers:
            return self.llm_answers.pop(0)
        with self.lock:
            fault = self.llm_faults.pop(0) if self.llm_faults else ""
        text = self._valid_document(prompt, schema_name, fault)
        if fault == "prose":
            return f"Sure! Here is the {schema_name} you asked for:\n\n{text}\n\nLet me know if you want changes."
        if fault == "fence":
            return f"```json\n{text}\n```"
        return text

    def _valid_document(self, prompt: str, schema_name: str, fault: str) -> str:
        if schema_name == "StyleChoice":
            # As a model answers the style agent: a catalogue name, or (faults) one spelt its own way,
            # or one the catalogue does not have.
            topic = re.search(r"Topic: (.*)", prompt).group(1).lower()
            style = "nature" if any(w in topic for w in ("wildlife", "forest", "animal")) else "cinematic"
            style = {"style_capitalised": style.capitalize() + " style", "style_unknown": "steampunk"}.get(fault, style)
            return json.dumps({"style": style, "reasoning": f"The topic '{topic}' calls for {style} pictures.",
                               "characteristics": ["outdoors", "calm"]})
        if schema_name == "FrameVerdict":
            with self.lock:
                score = self.vision_scores.pop(0) if self.vision_scores else 8
            if fault == "score_out_of_range":
                score = 12
            reason = "The subject and the style match." if score >= 6 else f"Scored {score}: the keeper is missing."
            return json.dumps({"score": score, "reason": reason})
        if schema_name == "CastDraft":
            # As a casting answer reads: members with ids, one repeated when asked to misbehave.
            members = [{"id": "keeper", "kind": "character", "name": "The keeper",
                        "description": "A weathered man in a yellow oilskin coat and a blue cap.",
                        "colours": ["#f2c14e", "#1d3557"]},
                       {"id": "tower", "kind": "place", "name": "The tower",
                        "description": "A white stone lighthouse with a red lantern room on a granite point.",
                        "colours": ["#ffffff", "#c1121f"]}]
            if fault == "repeated_cast_id":
                members[1]["id"] = "keeper"
            return json.dumps({"members": members})
        duration = float(re.search(r"(\d+(?:\.\d+)?)-second", prompt).group(1))
        chinese = "Simplified Chinese" in prompt or "中文" in prompt or re.search(r"[\u4e00-\u9fff]{4}", prompt)
        if fault == "english":
            chinese = False
        elif fault == "chinese":
            chinese = True
        line = (lambda i: f"这是故事的第{i + 1}部分。") if chinese else (lambda i: f"Shot {i + 1}.")
        if schema_name == "Script":
            half = round(duration / 2, 3)
            scenes = [{"title": f"Part {i + 1}", "description": "A view of the topic.", "narration":
                       line(i) if chinese else f"Here is part {i + 1} of the story.", "duration": half,
                       "visual_notes": "wide", "audio_notes": "calm"} for i in range(2)]
            if fault == "durations_doubled":
                for s in scenes:
                    s["duration"] *= 2
            return json.dumps({"title": "A vendor-written film", "synopsis": "Two parts.",
                               "text": " ".join(s["narration"] for s in scenes), "scenes": scenes})
        asked = int(re.search(r"into (\d+) shots", prompt).group(1))
        shots = asked + {"extra_shot": 1, "missing_shot": -1}.get(fault, 0)
        # A model that miscounts shots keeps each shot's length: its durations no longer add up.
        each = duration / asked * {"durations_rounded": 1.08, "durations_doubled": 2.0}.get(fault, 1.0)
        moves = ["pan_right", "zoom_in", "tilt_up", "static", "dolly", "tracking"]
        cast = re.findall(r"^- ([a-z0-9_-]+): ", prompt, flags=re.MULTILINE)
        board = [{
            "scene": min(i * 2 // shots, 1), "title": f"Vendor shot {i + 1}", "description": "A vivid scene.",
            "narration": line(i), "camera_movement": moves[i % len(moves)], "shot_type": "wide",
            "duration": round(each, 2), "composition": "centred", "lighting": "soft",
            "palette": ["#102030", "#405060", "#a0b0c0"],
            # each shot shows the cast member listed i-th (of the cast the prompt lists), the last one also a stranger
            "cast": ([cast[i % len(cast)]] if cast else []) + (["stranger"] if i == shots - 1 else []),
            # the third shot's line is said by the character it shows, the last by a place (not a character)
            "speaker": cast[0] if cast and i == 2 else cast[-1] if cast and i == shots - 1 else None}
            for i in range(shots)]
        if fault == "blank_title":
            board[0]["title"] = " "
        if fault == "long_narration":
            board[-1]["narration"] = "And then, at great length, the narrator keeps on talking. " * 6
        return json.dumps({"shots": board})

    def _seen(self, parts: list[dict], image_of) -> str:
        """A user turn with images (vision): recorded; its text is the prompt."""
        texts = [p["text"] for p in parts if p["type"] == "text"]
        images = [image_of(p) for p in parts if p["type"] in ("image_url", "image")]
        for data in images:
            Image.open(io.BytesIO(data)).verify()  # as the vendor refuses what is not an image
        with self.lock:
            self.vision_requests.append({"prompt": texts[0], "labels": texts[1:], "images": images})
        return texts[0]

    def _openai_chat(self, request: Request) -> Response:
        body = request.get_json()
        fmt = body.get("response_format", {})
        prompt = body["messages"][1]["content"]
        if isinstance(prompt, list):
            prompt = self._seen(prompt, lambda p: base64.b64decode(p["image_url"]["url"].split(",", 1)[1]))
            body["messages"][1]["content"] = prompt
        name = fmt.get("json_schema", {}).get("name") or (
            "FrameVerdict" if "quality checker" in prompt else "CastDraft" if "casting director" in prompt
            else "Script" if "script of" in prompt
            else "StyleChoice" if "visual style" in prompt else "StoryboardDraft")
        content = self._document(body["messages"][1]["content"], name)
        return _json({"id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
                      "model": body["model"], "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                                                           "message": {"role": "assistant", "content": content,
                                                                       "refusal": None}}],
                      "usage": {"prompt_tokens": 1200, "completion_tokens": 800, "total_tokens": 2000}})

    def _anthropic_messages(self, request: Request) -> Response:
        body = request.get_json()
        schema = body["output_config"]["format"]["schema"]
        properties = schema.get("properties", {})
        name = "Script" if "scenes" in properties else "StyleChoice" if "characteristics" in properties \
            else "CastDraft" if "members" in properties else "FrameVerdict" if "score" in properties \
            else "StoryboardDraft"
        prompt = body["messages"][0]["content"]
        if isinstance(prompt, list):
            prompt = self._seen(prompt, lambda p: base64.b64decode(p["source"]["data"]))
        content = self._document(prompt, name)
        return _json({"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
                      "content": [{"type": "text", "text": content}], "stop_reason": "end_turn",
                      "stop_sequence": None, "usage": {"input_tokens": 1000, "output_tokens": 700}})

    # -- images and speech -------------------------------------------------------------------
    def _openai_images(self, request: Request) -> Response:
        """A new picture each time, as a model paints (the same bytes twice would be one image)."""
        with self.lock:
            n = self.count("openai.images") + self.count("openai.edits")
        png = _png(colour=(40 + n * 37 % 200, 120, 200 - n * 23 % 180))
        return _json({"created": int(time.time()), "data": [{"b64_json": base64.b64encode(png).decode()}]})

    def _openai_edits(self, request: Request) -> Response:
        """Image edits (multipart: the prompt, and up to 16 input images as image[])."""
        images = request.files.getlist("image[]") or request.files.getlist("image")
        if not images or not request.form.get("prompt"):
            return _json({"error": {"message": "image and prompt are required", "type": "invalid_request_error"}},
                         400)
        received = [f.read() for f in images]
        for data in received:
            Image.open(io.BytesIO(data)).verify()  # as the vendor refuses what is not an image
        with self.lock:
            self.edit_requests.append({"prompt": request.form["prompt"], "images": received,
                                       "model": request.form.get("model")})
        return self._openai_images(request)

    def _openai_moderations(self, request: Request) -> Response:
        """One result per input, as OpenAI's moderation endpoint answers (every category named)."""
        body = request.get_json()
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        names = ("harassment", "hate", "illicit", "self-harm", "sexual", "sexual/minors", "violence",
                 "violence/graphic")
        results = []
        for _ in inputs:
            with self.lock:
                flags = self.moderation_flags.pop(0) if self.moderation_flags else {}
            results.append({"flagged": any(flags.values()), "categories": {n: bool(flags.get(n)) for n in names},
                            "category_scores": {n: 0.9 if flags.get(n) else 0.01 for n in names},
                            "category_applied_input_types": {n: ["text"] for n in names}})
        return _json({"id": "modr-1", "model": body.get("model", "omni-moderation-latest"), "results": results})

    def _openai_speech(self, request: Request) -> Response:
        """WAV as OpenAI streams it: RIFF and data sizes unknown (0xFFFFFFFF)."""
        speed = float(request.get_json().get("speed", 1.0))
        wav = _wav(self.speech_seconds / speed)
        streamed = wav[:4] + b"\xff\xff\xff\xff" + wav[8:40] + b"\xff\xff\xff\xff" + wav[44:]
        return Response(streamed, content_type="audio/wav")

    def _stability_generate(self, request: Request) -> Response:
        assert request.headers["authorization"].startswith("Bearer ") and request.form["prompt"]
        return Response(self.png, content_type="image/png", headers={"finish-reason": "SUCCESS"})

    # -- video jobs --------------------------------------------------------------------------
    def _new_job(self, seconds: float = 5) -> str:
        with self.lock:
            script = self.job_script.pop(0) if self.job_script else {}
            job_id = str(uuid.uuid4())
            self.jobs[job_id] = {"polls": 0, "created": time.monotonic(), "id": job_id, **script}
            if "clip" not in script and int(seconds) != 5:  # vendors deliver the length asked for
                if int(seconds) not in self._clips:
                    self._clips[int(seconds)] = _mp4(int(seconds))
                self.jobs[job_id]["clip"] = self._clips[int(seconds)]
        return job_id

    def _job_state(self, job_id: str) -> tuple[str, str | None, str | None]:
        """(status, video URL, failure) after one more poll."""
        with self.lock:
            job = self.jobs[job_id]
            job["polls"] += 1
            if job.get("cancelled"):
                return "CANCELLED", None, "cancelled"
            if job.get("never"):
                return "RUNNING", None, None
            if self.job_seconds is not None:
                if time.monotonic() - job["created"] < self.job_seconds:
                    return "RUNNING", None, None
            elif job["polls"] < job.get("after", 2):
                return "RUNNING", None, None
            if job.get("fail"):
                return "FAILED", None, job["fail"]
            expired = job.get("expired", 0)
            if expired:
                job["expired"] = expired - 1
                return "SUCCEEDED", f"{self.url}/files/expired-{job['polls']}.mp4", None
            name = f"image-{job_id[:8]}.png" if job.get("image") else f"clip-{job_id[:8]}.mp4"
            if job.get("lost") and name not in self.lost:
                self.lost[name] = job["lost"]
            return "SUCCEEDED", f"{self.url}/files/{name}", None

    def _runway_create(self, request: Request) -> Response:
        body = request.get_json()
        assert body["promptImage"].startswith("data:image/png;base64,") and request.headers["X-Runway-Version"]
        return _json({"id": self._new_job(body.get("duration", 5)),
                      "estimatedCost": {"credits": body.get("duration", 5) * 5}})

    def _runway_image(self, request: Request) -> Response:
        """text_to_image: a task whose output is a PNG; references are data URIs, each with a tag the
        prompt names as @tag (Runway refuses a reference it cannot read)."""
        body = request.get_json()
        refs = body.get("referenceImages") or []
        for ref in refs:
            if not ref["uri"].startswith("data:image/") or f"@{ref['tag']}" not in body["promptText"]:
                return _json({"error": "referenceImages: each needs an image and its @tag in promptText"}, 400)
        with self.lock:
            self.runway_images.append({**body, "references": [base64.b64decode(r["uri"].split(",", 1)[1])
                                                              for r in refs]})
        job_id = self._new_job()
        with self.lock:
            self.jobs[job_id]["image"] = True
        return _json({"id": job_id})

    def _runway_task(self, request: Request, id: str) -> Response:
        status, url, failure = self._job_state(id)
        base = {"id": id, "createdAt": "2026-11-28T00:00:00Z"}
        if status == "CANCELLED":
            return _json({**base, "status": "CANCELLED"})
        if status == "RUNNING":
            return _json({**base, "status": "RUNNING", "progress": 0.5, "estimatedCost": {"credits": 25}})
        if status == "FAILED":
            code = self.jobs[id].get("code", "INTERNAL.BAD_OUTPUT.CODE01")
            return _json({**base, "status": "FAILED", "failure": failure, "failureCode": code,
                          "cost": {"credits": 0}})  # failed tasks are refunded
        return _json({**base, "status": "SUCCEEDED", "output": [url], "cost": {"credits": 25}})

    def _runway_delete(self, request: Request, id: str) -> Response:
        # Runway: DELETE cancels a running, pending or throttled task (204); it is then CANCELLED
        if id not in self.jobs:
            return _json({"error": "Task not found"}, 404)
        self.jobs[id]["cancelled"] = True
        return Response(status=204)

    def _fal_cancel(self, request: Request, id: str) -> Response:
        # fal's queue: 202 CANCELLATION_REQUESTED for a queued or running request, 400 once it is done
        job = self.jobs.get(id)
        if job is None:
            return _json({"detail": "Request not found"}, 404)
        if "result" in job:
            return _json({"status": "ALREADY_COMPLETED"}, 400)
        job["cancelled"] = True
        return _json({"status": "CANCELLATION_REQUESTED"}, 202)

    def _veo_create(self, request: Request, model: str) -> Response:
        body = request.get_json()
        assert body["instances"][0]["image"]["bytesBase64Encoded"]
        return _json({"name": f"projects/p/locations/us-central1/publishers/google/models/{model}/operations/"
                              f"{self._new_job(body.get('parameters', {}).get('durationSeconds', 5))}"})

    def _veo_poll(self, request: Request, model: str) -> Response:
        name = request.get_json()["operationName"]
        status, url, failure = self._job_state(name.rsplit("/", 1)[1])
        if status == "RUNNING":
            return _json({"name": name})
        job = self.jobs[name.rsplit("/", 1)[1]]
        if status == "FAILED":
            return _json({"name": name, "done": True, "error": {"code": job.get("veo_code", 13), "message": failure}})
        if job.get("filtered"):
            return _json({"name": name, "done": True, "response": {
                "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
                "raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [job["filtered"]]}})
        return _json({"name": name, "done": True, "response": {
            "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
            "videos": [{"bytesBase64Encoded": base64.b64encode(job.get("clip", self.clip)).decode(),
                        "mimeType": "video/mp4"}]}})

    def _fal_create(self, request: Request, app: str) -> Response:
        assert request.headers["authorization"] == "Key fal-test"
        job_id = self._new_job(int(request.get_json().get("duration", 5)))
        q = f"{self.url}/fal/queue/{job_id}"
        return _json({"request_id": job_id, "status_url": f"{q}/status", "response_url": f"{q}/result",
                      "cancel_url": f"{q}/cancel"})

    def _fal_status(self, request: Request, id: str) -> Response:
        status, url, failure = self._job_state(id)
        if status == "RUNNING":
            return _json({"status": "IN_PROGRESS", "logs": None})
        self.jobs[id]["result"] = (url, failure)
        done = {"status": "COMPLETED", "logs": None, "metrics": {}}
        kind = self.jobs[id].get("fal_type", "internal_server_error")
        return _json({**done, "error": failure, "error_type": kind} if failure else done)

    def _fal_result(self, request: Request, id: str) -> Response:
        url, _ = self.jobs[id]["result"]
        return _json({"video": {"url": url, "content_type": "video/mp4"}})

    def _files(self, request: Request, name: str) -> Response:
        if name.startswith("expired"):
            return _json({"error": {"message": "Request has expired"}}, 403)
        with self.lock:
            if self.lost.get(name):
                self.lost[name] -= 1
                return Response("Not Found", status=404, content_type="text/plain")
            clip = next((j["clip"] for j in self.jobs.values() if "clip" in j and name == f"clip-{j['id'][:8]}.mp4"),
                        self.clip)
        if name.startswith("image-"):
            return Response(_png(200, 112, (int(name[6:8], 16), 90, 160)), content_type="image/png")
        return Response(clip, content_type="video/mp4")
