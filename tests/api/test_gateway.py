"""The REST API and WebSocket against real processes (tests/api/conftest.py): what a product
calling videoagent sees."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from websockets.sync.client import connect

from tests.services import held
from tests.test_deployment import wait_for
from videoagent_dagster.media.probe import probe
from videoagent_dagster.tasks.links import LinkSigner

from .conftest import TINY

TERMINAL_STATES = ("completed", "failed", "cancelled")
STAGE_ORDER = ["pending", "style_detection", "story_generation", "storyboard_breakdown", "image_generation",
               "video_generation", "composing", "completed"]


def events_until_end(service, key: str, task: str, timeout: float = 180) -> list[dict]:
    url = service.url.replace("http://", "ws://") + f"/api/v1/ws/tasks/{task}"
    out = []
    with connect(url, additional_headers={"Authorization": f"Bearer {key}"}, open_timeout=10) as ws:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(ws.recv(timeout=deadline - time.monotonic()))
            out.append(message)
            if message["event"] in ("task_completed", "task_failed"):
                return out
    raise AssertionError(f"no end event in {timeout} s: {[m['event'] for m in out]}")


def test_create_follow_over_websocket_and_download(service, ana, tmp_path):
    with service.http(ana) as http:
        with held(service.control):  # the shots wait, so the socket is open before the run ends
            created = http.post("/api/v1/tasks", json={"topic": "Tide pools at dawn", "options": TINY,
                                                       "user": "someone-else"})
            assert created.status_code == 201, created.text
            body = created.json()
            task = body["task_id"]
            assert body["status"] == "pending" and body["estimated_cost_usd"] == 0 and body["estimated_duration"] > 0
            assert body["created_at"] and body["webhook_url"] is None
            stored = json.loads((service.storage / "briefs" / f"{task}.json").read_text())
            assert stored["user"] == "ana"  # the key's user, never the body's
            url = service.url.replace("http://", "ws://") + f"/api/v1/ws/tasks/{task}"
            with connect(url, subprotocols=["videoagent", ana], open_timeout=10) as ws:  # as a browser does
                assert ws.subprotocol == "videoagent"
                first = json.loads(ws.recv(timeout=10))
            assert first["event"] == "status_changed" and first["task_id"] == task  # the state first
            assert set(first["data"]) >= {"status", "progress", "current_step", "storyboard", "error"}
            # (narration, spoken beside the frames, is also "video_generation": wait for the clips)
            mid = wait_for(lambda: (st := http.get(f"/api/v1/tasks/{task}").json())["status"] == "video_generation"
                           and "shot clips" in st["current_step"] and st, 120, "shot clips")
            assert 0 < mid["progress"] < 1
            assert mid["storyboard"]["total"] == 3 and mid["started_at"] and mid["elapsed"] > 0
        events = events_until_end(service, ana, task)
    names = [e["event"] for e in events]
    assert names[-1] == "task_completed" and "progress_update" in names or "status_changed" in names[1:]
    seen = [e["data"]["status"] for e in events]
    ranks = [STAGE_ORDER.index(s) for s in seen]
    assert ranks == sorted(ranks), seen  # the stages only go forward
    done = events[-1]["data"]
    assert done["status"] == "completed" and done["progress"] == 1.0 and done["links"]["video"]

    with service.http(ana) as http:
        state = http.get(f"/api/v1/tasks/{task}").json()
        whole = http.get(f"/api/v1/tasks/{task}/video")
        assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
        part = http.get(f"/api/v1/tasks/{task}/video", headers={"Range": "bytes=100-1099"})
        assert part.status_code == 206 and part.content == whole.content[100:1100]
        assert part.headers["content-range"] == f"bytes 100-1099/{len(whole.content)}"
        video = tmp_path / "video.mp4"
        video.write_bytes(whole.content)
        facts, meta = probe(video), http.get(f"/api/v1/tasks/{task}/video/metadata").json()
        assert meta["duration"] == pytest.approx(facts["duration"], abs=0.01)
        assert (meta["width"], meta["height"], meta["codec"]) == (320, 180, facts["video"]["codec"])
        assert meta["fps"] == pytest.approx(facts["video"]["fps"]) and meta["file_size"] == len(whole.content)
        assert meta["has_audio"] is True and meta["audio_codec"] == facts["audio"]["codec"]
        early, late = (http.get(f"/api/v1/tasks/{task}/thumbnail", params={"time": t}) for t in (0.5, 5))
        assert early.status_code == late.status_code == 200 and early.headers["content-type"] == "image/jpeg"
        assert early.content != late.content
        assert http.get(f"/api/v1/tasks/{task}/thumbnail", params={"time": 60}).status_code == 422
        assert "-->" in http.get(f"/api/v1/tasks/{task}/files/subtitles.srt").text
        assert len(http.get(f"/api/v1/tasks/{task}/files/storyboard").json()["shots"]) == 3
        assert http.get(f"/api/v1/tasks/{task}/files/otio").status_code == 200
        assert len(http.get(f"/api/v1/tasks/{task}/frames").json()["frames"]) == 3

    # links in the state open without a key, until they expire or are altered
    link = state["links"]["video"]
    assert httpx.get(link).content == whole.content
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    altered = link.replace(query["sig"][0], query["sig"][0][:-2] + ("AA" if not query["sig"][0].endswith("AA") else "BB"))
    assert httpx.get(altered).status_code == 403
    secret = (service.storage / "secrets" / "link-key").read_text()
    expired = LinkSigner(secret, 60).sign(parts.path, now=time.time() - 3600)
    refused = httpx.get(service.url + expired)
    assert refused.status_code == 403 and "expired" in refused.text
    assert httpx.get(service.url + LinkSigner(secret, 60).sign(parts.path)).status_code == 200


def test_a_bad_brief_is_refused_field_by_field_and_nothing_is_written(service, ana):
    before = sorted((service.storage / "briefs").glob("*.json")) if (service.storage / "briefs").exists() else []
    with service.http(ana) as http:
        bad = http.post("/api/v1/tasks", json={"topic": " ", "options": {"duration": 9000, "resolution": "333p"}})
        assert bad.status_code == 422
        problems = bad.json()["detail"]["problems"]
        assert [p.split(":")[0] for p in problems] == ["topic", "options.duration", "options.resolution"]
        assert "allowed: a number of seconds from 5 to 600" in problems[1]  # the CLI's wording
        garbage = http.post("/api/v1/tasks", content=b"\xff{not json", headers={"Content-Type": "application/json"})
        assert garbage.status_code == 422
        assert http.post("/api/v1/tasks", json=[1, 2]).status_code == 422
        private = http.post("/api/v1/tasks", json={"topic": "x", "webhook_url": "http://169.254.169.254/hook"})
        # (this service allows private webhooks for its own receivers; the refusal is tested in test_gateway_app)
        assert private.status_code in (201, 422)
        if private.status_code == 201:
            http.post(f"/api/v1/tasks/{private.json()['task_id']}/cancel")
    after = sorted((service.storage / "briefs").glob("*.json"))
    assert len(after) == len(before) + (1 if private.status_code == 201 else 0)


def test_keys_see_only_their_own_tasks_and_a_revoked_key_stops(service, ana, finished):
    task = finished["created"]["task_id"]
    ben, admin = service.new_key("ben"), service.new_key("root", "admin")
    with service.http(ben) as http:
        assert http.get(f"/api/v1/tasks/{task}").status_code == 404
        assert http.get(f"/api/v1/tasks/{task}/video").status_code == 404
        assert http.post(f"/api/v1/tasks/{task}/retry").status_code == 404
        assert task not in [t["task_id"] for t in http.get("/api/v1/tasks").json()["tasks"]]
    with service.http(admin) as http:
        assert http.get(f"/api/v1/tasks/{task}").json()["status"] == "completed"
        assert task in [t["task_id"] for t in http.get("/api/v1/tasks", params={"page_size": 100}).json()["tasks"]]
    with service.http(None) as http:
        assert http.get(f"/api/v1/tasks/{task}").status_code == 401
    with service.http("va_nothing_here") as http:
        assert http.get("/api/v1/tasks").status_code == 401
    key_id = ben.split("_")[1]
    service.videoagent("keys", "revoke", key_id)
    with service.http(ben) as http:  # keys are looked up at most once a second
        wait_for(lambda: http.get("/api/v1/tasks").status_code == 401, 3, "the revoked key to stop", interval=0.2)
    assert "ben" in service.videoagent("keys", "list").stdout


def test_idempotency_key_makes_one_task(service):
    key = service.new_key("cara")
    brief = {"topic": "Paper boats", "options": TINY}
    with service.http(key) as http:
        one = http.post("/api/v1/tasks", json=brief, headers={"Idempotency-Key": "order-17"})
        two = http.post("/api/v1/tasks", json=brief, headers={"Idempotency-Key": "order-17"})
        assert one.status_code == two.status_code == 201
        assert one.json()["task_id"] == two.json()["task_id"] and one.json()["run_id"] == two.json()["run_id"]
        other = http.post("/api/v1/tasks", json={**brief, "topic": "Paper planes"}, headers={"Idempotency-Key": "order-17"})
        assert other.status_code == 422 and "Idempotency-Key" in other.text
        page = http.get("/api/v1/tasks").json()
        assert page["total"] == 1
        wait_for(lambda: http.get(f"/api/v1/tasks/{one.json()['task_id']}").json()["status"] in ("completed", "failed"),
                 180, "paper boats")


def test_cancel_and_retry_after_a_failure_redoes_only_what_failed(service, ana):
    calls = service.control / "calls.txt"
    with service.http(ana) as http:
        with held(service.control):
            task = http.post("/api/v1/tasks", json={"topic": "Cancelled kites", "options": TINY}).json()["task_id"]
            wait_for(lambda: http.get(f"/api/v1/tasks/{task}").json()["status"] == "video_generation", 120, "clips")
            cancelled = http.post(f"/api/v1/tasks/{task}/cancel")
            assert cancelled.status_code == 200
            state = wait_for(lambda: (s := http.get(f"/api/v1/tasks/{task}").json())["status"] == "cancelled" and s,
                             60, "cancelled")
        assert http.post(f"/api/v1/tasks/{task}/cancel").status_code == 409
        assert state["progress"] < 1

        (service.control / "fail-shot_002").touch()
        try:
            failing = http.post("/api/v1/tasks", json={"topic": "Fragile glass", "options": TINY}).json()["task_id"]
            events = events_until_end(service, ana, failing)
        finally:
            (service.control / "fail-shot_002").unlink()
        assert events[-1]["event"] == "task_failed"
        failed = http.get(f"/api/v1/tasks/{failing}").json()
        assert failed["status"] == "failed" and failed["error"]["step"] == "shot_clips"
        assert "shot" in failed["error"]["message"]
        assert "error_occurred" in [e["event"] for e in events] or events[0]["data"]["error"]
        before = calls.read_text().splitlines()
        retried = http.post(f"/api/v1/tasks/{failing}/retry")
        assert retried.status_code == 200, retried.text
        assert http.post(f"/api/v1/tasks/{failing}/retry").status_code == 409  # running again
        done = wait_for(lambda: (s := http.get(f"/api/v1/tasks/{failing}").json())["status"] in ("completed", "failed")
                        and s, 180, "the retry")
        assert done["status"] == "completed", done
        assert calls.read_text().splitlines()[len(before):] == ["shot_002"]  # only the failed shot again


def test_list_filters_by_status_and_pages_stably(service, ana, finished):
    with service.http(ana) as http:
        everything = http.get("/api/v1/tasks", params={"page_size": 100}).json()
        assert everything["total"] == len(everything["tasks"]) >= 1
        completed = http.get("/api/v1/tasks", params={"status": "completed", "page_size": 100}).json()
        assert completed["tasks"] and all(t["status"] == "completed" for t in completed["tasks"])
        assert completed["tasks"][0]["links"]["video"]
        pages = [http.get("/api/v1/tasks", params={"page": p, "page_size": 1}).json() for p in
                 range(1, everything["total"] + 1)]
        assert [p["tasks"][0]["task_id"] for p in pages] == [t["task_id"] for t in everything["tasks"]]
        assert http.get("/api/v1/tasks", params={"status": "done"}).status_code == 422
        assert http.get("/api/v1/tasks", params={"page_size": 0}).status_code == 422


def test_health_version_and_openapi(service):
    assert httpx.get(service.url + "/api/v1/health").json()["status"] == "ok"
    ready = httpx.get(service.url + "/api/v1/health/ready").json()
    assert ready["checks"] == {"dagster": "ok", "database": "ok", "media_store": "ok"}
    spec = httpx.get(service.url + "/openapi.json").json()
    assert "/api/v1/tasks" in spec["paths"] and "/api/v1/tasks/{task_id}/video" in spec["paths"]
    assert httpx.get(service.url + "/docs").status_code == 200
    page = httpx.get(service.url + "/")
    assert page.status_code == 200 and "<title>videoagent</title>" in page.text


def test_a_webhook_carries_links_that_download_the_video(service, ana, httpserver, monkeypatch, tmp_path):
    """The webhook sensor's payload for a finished task (§6.4: output{video_url, thumbnail_url,
    metadata}) carries the gateway's signed links when VIDEOAGENT_PUBLIC_URL names it; a receiver
    opens them with no key. The sensor runs as the daemon would run it, on the service's instance."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    from videoagent_dagster.defs.notify.sensors import webhook_on_success
    from videoagent_dagster.storage.media_store import MediaStore

    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    with service.http(ana) as http:
        created = http.post("/api/v1/tasks", json={"topic": "Hooked on herons", "options": TINY,
                                                   "webhook_url": httpserver.url_for("/hook")})
        assert created.status_code == 201, created.text
        task, run_id = created.json()["task_id"], created.json()["run_id"]
        wait_for(lambda: http.get(f"/api/v1/tasks/{task}").json()["status"] in ("completed", "failed"), 180, "herons")
    for name, value in (("VIDEOAGENT_STORAGE", str(service.storage)), ("VIDEOAGENT_PUBLIC_URL", service.url),
                        ("VIDEOAGENT_WEBHOOK_ALLOW_PRIVATE", "1")):
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(service.work / "dagster_home"))) as instance:
        event = instance.all_logs(run_id, of_type={dg.DagsterEventType.RUN_SUCCESS})[0].dagster_event
        webhook_on_success(dg.build_run_status_sensor_context(
            sensor_name="webhook_on_success", dagster_event=event, dagster_instance=instance,
            dagster_run=instance.get_run_by_id(run_id), resources={"media_store": MediaStore(root=str(service.storage))}))
    payload = json.loads(httpserver.log[0][0].get_data())
    output = payload["output"]
    assert output["video_url"].startswith(service.url + f"/api/v1/links/{task}/video?")
    video = tmp_path / "hooked.mp4"
    video.write_bytes(httpx.get(output["video_url"]).content)
    assert probe(video)["duration"] == pytest.approx(output["metadata"]["duration"], abs=0.05)
    assert httpx.get(output["thumbnail_url"]).headers["content-type"] == "image/jpeg"
    assert "-->" in httpx.get(output["subtitles_url"]).text


def test_revising_a_cast_member_remakes_only_the_shots_showing_it(service, ana):
    calls = service.control / "calls.txt"
    with service.http(ana) as http:
        task = http.post("/api/v1/tasks", json={"topic": "Lighthouses of the north", "style": "vintage",
                                                "options": TINY}).json()["task_id"]
        done = wait_for(lambda: (s := http.get(f"/api/v1/tasks/{task}").json())["status"] in TERMINAL_STATES and s,
                        180, "the task")
        assert done["status"] == "completed", done
        cast = http.get(f"/api/v1/tasks/{task}/cast").json()
        assert [(m["id"], m["revised"]) for m in cast] == [("lighthouses", False), ("north", False)]
        shots = http.get(f"/api/v1/tasks/{task}/files/storyboard").json()["shots"]
        showing = sorted(f"shot_{i + 1:03d}" for i, s in enumerate(shots) if "lighthouses" in s["cast"])
        assert 0 < len(showing) < len(shots)
        # refused, naming why, with nothing written: an unknown member, a blank description
        bad = http.patch(f"/api/v1/tasks/{task}/cast/nobody", json={"description": "x"})
        assert bad.status_code == 422 and "it has: lighthouses, north" in bad.json()["detail"]["problems"][0]
        assert http.patch(f"/api/v1/tasks/{task}/cast/north", json={"description": ""}).status_code == 422
        before = calls.read_text().splitlines()
        revised = http.patch(f"/api/v1/tasks/{task}/cast/lighthouses",
                             json={"description": "A squat red-and-white striped lighthouse on black rocks."})
        assert revised.status_code == 200, revised.text
        again = wait_for(lambda: (s := http.get(f"/api/v1/tasks/{task}").json())["status"] in TERMINAL_STATES
                         and s["started_at"] != done["started_at"] and s, 180, "the revised run")
        assert again["status"] == "completed", again
        assert sorted(calls.read_text().splitlines()[len(before):]) == showing  # only its shots filmed again
        assert [m["revised"] for m in http.get(f"/api/v1/tasks/{task}/cast").json()] == [True, False]
        # The task's history shows both cuts, the first still downloadable beside the new one.
        cuts = http.get(f"/api/v1/tasks/{task}/history").json()
        assert [c["current"] for c in cuts] == [False, True] and cuts[0]["made_at"] <= cuts[1]["made_at"]
        for cut in cuts:
            got = httpx.get(cut["video"], timeout=30)
            assert got.status_code == 200 and got.content[4:8] == b"ftyp" and len(got.content) == cut["size_bytes"]
        assert httpx.get(cuts[0]["video"], timeout=30).content != httpx.get(cuts[1]["video"], timeout=30).content
