"""The vendor providers, running their real SDKs against loopback servers that speak each wire format."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace

import pytest
from werkzeug import Response

from videoagent_dagster.domain.brief import validate_brief
from videoagent_dagster.domain.manifests import Script, StoryboardDraft, StyleProfile
from videoagent_dagster.domain.prompts import script_prompt, storyboard_prompt
from videoagent_dagster.media.probe import probe
from videoagent_dagster.media.quality import inspect_clip
from videoagent_dagster.providers.cache import cache_key
from videoagent_dagster.providers.chain import ProviderError
from videoagent_dagster.providers.images import FrameRequest, ImageGenResource
from videoagent_dagster.providers.jobs import JobBook
from videoagent_dagster.providers.llm import LLMResource
from videoagent_dagster.providers.speech import SpeechRequest, TTSResource
from videoagent_dagster.providers.video import ClipRequest, VideoGenResource

from ..media.clips import x264_options


def json_error(status, message, headers=None, code="x"):
    import json
    return Response(json.dumps({"error": {"message": message, "type": "error", "code": code}}), status=status,
                    headers=headers or {}, content_type="application/json")


BRIEF = validate_brief({"topic": "Lighthouses of the north", "options": {"duration": 10}}, "t")
STYLE = StyleProfile(name="documentary", tags=[], visual_style="v", mood="m", palette=["#000000", "#ffffff"],
                     lighting="l", source="user", reasoning="r")


def write_script(store, chain, **kw):
    llm = LLMResource(chain=chain, max_retries=kw.pop("max_retries", 2), timeout_s=kw.pop("timeout_s", 10),
                      media_store=store)
    return llm.generate("script", Script, script_prompt(BRIEF, STYLE), {"topic": BRIEF.topic, **kw})


# -- LLMs ------------------------------------------------------------------------------------

def test_openai_structured_output_usage_and_cost(store, vendors):
    script, call = write_script(store, "openai:gpt-4.1")
    assert script.title == "A vendor-written film" and len(script.scenes) == 2
    assert (call.provider, call.model, call.cached) == ("openai", "gpt-4.1", False)
    assert call.usage == {"input_tokens": 1200, "output_tokens": 800}
    assert call.cost_usd == pytest.approx(1200 * 2e-6 + 800 * 8e-6)
    import json
    sent = json.loads(vendors.calls["openai.chat"][0])
    assert sent["response_format"]["type"] == "json_schema" and sent["response_format"]["json_schema"]["strict"]
    assert sent["response_format"]["json_schema"]["schema"]["additionalProperties"] is False
    # The same request again is served by the cache: no second call.
    _, again = write_script(store, "openai:gpt-4.1")
    assert again.cached and vendors.count("openai.chat") == 1


def test_storyboard_from_anthropic(store, vendors):
    script, _ = write_script(store, "openai")
    llm = LLMResource(chain="anthropic:claude-sonnet-5-5", media_store=store)
    board, call = llm.generate("storyboard", StoryboardDraft, storyboard_prompt(BRIEF, STYLE, script, 3), {})
    assert len(board.shots) == 3 and call.provider == "anthropic"
    assert call.usage == {"input_tokens": 1000, "output_tokens": 700} and call.cost_usd > 0


def test_malformed_json_is_repaired_once_then_fails_clearly(store, vendors):
    vendors.llm_answers.append('{"title": "x", "scenes": [')  # cut off mid-answer
    script, call = write_script(store, "openai")
    assert script.scenes and vendors.count("openai.chat") == 2
    assert call.usage["input_tokens"] == 2400  # both calls are paid for
    import json
    repair = json.loads(vendors.calls["openai.chat"][1])["messages"]
    assert repair[-2]["role"] == "assistant" and "does not match the schema" in repair[-1]["content"]

    vendors.llm_answers += ['{"title": 1}', '{"title": "still wrong"}']
    with pytest.raises(ProviderError, match="does not match the schema, even after one repair"):
        write_script(store, "openai", topic="another")


def test_json_mode_for_compatible_endpoints(store, vendors, monkeypatch):
    monkeypatch.setenv("DEEPSEEK_API_KEY", "ds")
    monkeypatch.setenv("DEEPSEEK_BASE_URL", vendors.env()["OPENAI_BASE_URL"])
    script, call = write_script(store, "deepseek")
    import json
    sent = json.loads(vendors.calls["openai.chat"][0])
    assert sent["response_format"] == {"type": "json_object"} and "JSON schema" in sent["messages"][0]["content"]
    assert call.provider == "deepseek" and call.cost_usd == pytest.approx(1200 * 0.28e-6 + 800 * 0.42e-6)


def test_429_with_retry_after_is_retried_by_the_sdk(store, vendors):
    vendors.fail("openai.chat", json_error(429, "slow down", {"retry-after": "1"}))
    started = time.monotonic()
    script, _ = write_script(store, "openai")
    assert vendors.count("openai.chat") == 2 and time.monotonic() - started >= 0.9


def test_500_then_success(store, vendors):
    vendors.fail("openai.chat", json_error(500, "boom"))
    write_script(store, "openai")
    assert vendors.count("openai.chat") == 2


def test_timeout_is_reported(store, vendors):
    vendors.latency["openai.chat"] = 2.5
    with pytest.raises(ProviderError, match="did not answer within 1 s") as failed:
        write_script(store, "openai", max_retries=0, timeout_s=1)
    assert failed.value.transient  # the step's RetryPolicy may try again later


def test_401_is_not_retried_and_says_what_to_fix(store, vendors):
    vendors.fail("openai.chat", json_error(401, "Incorrect API key provided", code="invalid_api_key"))
    with pytest.raises(ProviderError, match=r"openai rejected the API key \(401\): check OPENAI_API_KEY") as failed:
        write_script(store, "openai")
    assert vendors.count("openai.chat") == 1
    assert not failed.value.transient  # needs a fix: the step is not retried either


def test_openai_answers_are_read_by_the_sdks_parse_helper(store, vendors, monkeypatch):
    """A conforming answer comes back already read into the schema by the SDK
    (chat.completions.parse); the stage's own tolerant reading is for the rest (prose, fences)."""
    from videoagent_dagster.providers import llm

    def not_needed(schema, text):
        raise AssertionError("the SDK's parse helper should have read this answer")

    monkeypatch.setattr(llm, "parse_answer", not_needed)
    script, call = write_script(store, "openai")
    assert script.title == "A vendor-written film" and vendors.count("openai.chat") == 1
    sent = json.loads(vendors.calls["openai.chat"][0])["response_format"]
    assert sent["json_schema"]["name"] == "Script" and set(sent["json_schema"]["schema"]["required"]) == {
        "title", "synopsis", "text", "scenes"}


def test_missing_key_names_the_variable(store, vendors, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(ProviderError, match="ANTHROPIC_API_KEY is not set"):
        write_script(store, "anthropic")


def test_fallback_chain_records_who_served(store, vendors):
    vendors.fail("openai.chat", json_error(401, "bad key"))
    script, call = write_script(store, "openai,anthropic,offline", language="en", style={}, duration=10)
    assert call.provider == "anthropic" and vendors.count("anthropic.messages") == 1


# -- images and speech -----------------------------------------------------------------------

FRAME = FrameRequest(prompt="a lighthouse at dusk", width=320, height=180, style="nature",
                     palette=("#000000", "#ffffff"), shot_type="wide", title="t", label="l", seed=7)


@pytest.mark.parametrize("chain,endpoint", [("openai:gpt-image-1", "openai.images"), ("stability", "stability.generate")])
def test_images_are_fitted_to_the_frame(store, vendors, chain, endpoint):
    key, call = ImageGenResource(chain=chain, media_store=store).generate(FRAME)
    from PIL import Image
    assert Image.open(store.path(key)).size == (320, 180)
    assert call.usage == {"images": 1} and call.cost_usd > 0 and vendors.count(endpoint) == 1


def test_image_create_retried_after_500_but_not_after_a_timeout(store, vendors):
    vendors.fail("openai.images", json_error(500, "try again"))
    ImageGenResource(chain="openai", media_store=store).generate(FRAME)
    assert vendors.count("openai.images") == 2
    vendors.latency["openai.images"] = 2.5
    with pytest.raises(ProviderError, match="did not answer within 1 s"):
        ImageGenResource(chain="openai", timeout_s=1, media_store=store).generate(FrameRequest(**{**FRAME.__dict__, "seed": 8}))
    assert vendors.count("openai.images") == 3  # one timed-out create, never re-sent: it may have been billed


def test_image_content_refusal(store, vendors):
    vendors.fail("stability.generate", Response('{"errors": ["Your request was flagged by our content moderation '
                                                'system"], "name": "content_moderation"}', status=403,
                                                content_type="application/json"))
    with pytest.raises(ProviderError, match=r"stability refused access \(403\).*content moderation"):
        ImageGenResource(chain="stability", media_store=store).generate(FRAME)


def test_openai_speech(store, vendors):
    key, call = TTSResource(chain="openai", media_store=store).generate(SpeechRequest("Hello there.", "en", None, 3.0))
    assert probe(store.path(key))["audio"]["codec"].startswith("pcm") and call.usage == {"characters": 12}


# -- video jobs ------------------------------------------------------------------------------

def clip_request(store, frame_key, frames=72):
    return ClipRequest(prompt="waves", frame_key=frame_key, frame_sha256=store.sha256(frame_key),
                       camera_movement="pan_right", frames=frames, fps=24, width=320, height=180)


def video(store, chain, **kw):
    return VideoGenResource(chain=chain, poll_s=0.05, deadline_s=kw.pop("deadline_s", 20), media_store=store, **kw)


@pytest.mark.parametrize("chain,create", [("runway", "runway.create"), ("veo", "veo.create"), ("fal", "fal.create")])
def test_video_job_submit_poll_download(store, vendors, frame_key, chain, create):
    key, call = video(store, chain).generate(clip_request(store, frame_key))
    # Cached as the vendor made it (of a length it offers: Veo 4 s, the others 5 s); shot_clips conforms it.
    assert store.read_bytes(key) in (vendors.clip, *vendors._clips.values())
    assert not video(store, chain).exact_clips(chain) and video(store, "offline").exact_clips("offline")
    assert vendors.count(create) == 1 and call.usage["video_seconds"] in (4.0, 5.0) and call.cost_usd > 0
    handles = [json.loads(p.read_text()) for p in store.base.joinpath("jobs").rglob("*.json")]
    assert [h["done"] for h in handles] == [True]  # kept, marked done: a waiting run reuses the job


def test_failed_video_job_reports_the_vendors_reason(store, vendors, frame_key):
    vendors.job_script.append({"fail": "The output did not pass moderation", "code": "SAFETY.OUTPUT.VIDEO"})
    with pytest.raises(ProviderError, match=r"runway job .* failed: The output did not pass moderation"):
        video(store, "runway").generate(clip_request(store, frame_key))
    assert not any(store.base.joinpath("jobs").rglob("*.json"))


def test_deadline_keeps_the_job_and_a_retry_resumes_it_without_paying_again(store, vendors, frame_key):
    vendors.job_script.append({"never": True})
    request = clip_request(store, frame_key)
    with pytest.raises(ProviderError, match="did not finish within 1 s; its handle is kept"):
        video(store, "runway", deadline_s=1).generate(request)
    assert len(list(store.base.joinpath("jobs").rglob("*.json"))) == 1
    # The vendor finishes the job later; the retry polls the same job instead of creating another.
    job_id = next(iter(vendors.jobs))
    vendors.jobs[job_id]["never"] = False
    key, _ = video(store, "runway").generate(request)
    assert vendors.count("runway.create") == 1 and store.exists(key)


def test_timed_out_create_is_not_resent(store, vendors, frame_key):
    vendors.latency["runway.create"] = 2.5
    with pytest.raises(ProviderError, match="did not answer within 1 s"):
        video(store, "runway", timeout_s=1).generate(clip_request(store, frame_key))
    assert vendors.count("runway.create") == 1


def test_rate_limited_create_is_retried(store, vendors, frame_key):
    vendors.fail("fal.create", json_error(429, "busy", {"retry-after": "0.2"}))
    video(store, "fal").generate(clip_request(store, frame_key))
    assert vendors.count("fal.create") == 2


def test_expired_download_url_is_refreshed_once(store, vendors, frame_key):
    vendors.job_script.append({"expired": 1})
    key, _ = video(store, "runway").generate(clip_request(store, frame_key))
    assert store.exists(key) and vendors.count("runway.create") == 1

    vendors.job_script.append({"expired": 5})
    with pytest.raises(ProviderError, match="could not be downloaded .the URL may have expired"):
        video(store, "runway").generate(clip_request(store, frame_key, frames=48))


def test_two_runs_of_one_shot_submit_one_job(store, vendors, frame_key):
    from concurrent.futures import ThreadPoolExecutor

    vendors.latency["runway.create"] = 0.5  # both arrive while the first create is in flight
    request = clip_request(store, frame_key)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: video(store, "runway").generate(request), range(2)))
    assert vendors.count("runway.create") == 1
    assert results[0][0] == results[1][0]
    assert sorted(call.cost_usd > 0 for _, call in results) == [False, True]  # paid once


def test_claims_are_exclusive_on_s3(s3, tmp_path):
    from videoagent_dagster.storage.media_store import MediaStore

    store = MediaStore(root="s3://videos/x", cache_dir=str(tmp_path))
    assert store.create_exclusive("jobs/a.claim", b"1") and not store.create_exclusive("jobs/a.claim", b"2")
    book = JobBook(store, "ab" * 32)
    assert book.claim() and not book.claim()
    book.release()
    assert book.claim()


def test_a_clip_the_final_encodes_again_is_made_faster_under_its_own_key(store, frame_key):
    camera = video(store, "offline")
    kept_key, kept, _ = camera.make(clip_request(store, frame_key, frames=24))
    fast_key, fast, looked = camera.make(replace(clip_request(store, frame_key, frames=24), reencoded=True))
    assert fast.cache_key != kept.cache_key and not fast.cached
    # A clip for a stream-copied final has the key it had before the field existed: nothing cached is made again.
    before = {k: v for k, v in asdict(clip_request(store, frame_key, frames=24)).items()
              if k not in ("prompt", "frame_key", "reencoded")}
    assert kept.cache_key == cache_key("video", "offline", "ffmpeg-camera-1", "waves", before, [store.sha256(frame_key)])
    assert b"cabac=1" in x264_options(store.path(kept_key)) and b"cabac=0" in x264_options(store.path(fast_key))
    # The clip was looked at as it was made: what a separate look at the cached file finds.
    problems, seen = looked
    again = inspect_clip(store.path(fast_key), "pan_right", 1.0)
    assert problems == again[0] == [] and seen["frames"] == again[1]["frames"] == 24
    # Served from the cache: nothing was looked at just now.
    assert camera.make(replace(clip_request(store, frame_key, frames=24), reencoded=True))[1:] == (
        fast.model_copy(update={"cached": True, "latency_s": 0.0}), None)


def test_a_vendor_clip_keeps_its_cache_key_whatever_the_final_does(store, vendors, frame_key):
    key, call = video(store, "runway,offline").generate(clip_request(store, frame_key))
    again, call_again = video(store, "runway,offline").generate(replace(clip_request(store, frame_key), reencoded=True))
    assert (again, call_again.cache_key) == (key, call.cache_key) and call_again.cached
    assert vendors.count("runway.create") == 1
