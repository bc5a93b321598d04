"""Vendors and models misbehaving as they do in production (tests/fakes/vendors.py serves each on
demand), and what the providers do about it: recover by themselves where that is safe, refuse
clearly where it is not, and never cache a bad answer."""

from __future__ import annotations

import json
import time
import wave
from types import SimpleNamespace

import pytest

from videoagent_dagster.domain.brief import validate_brief
from videoagent_dagster.domain.manifests import StoryboardDraft
from videoagent_dagster.domain.plan_rules import PlanRequest, review_storyboard
from videoagent_dagster.domain.prompts import storyboard_prompt
from videoagent_dagster.providers import retry
from videoagent_dagster.providers.chain import ProviderError
from videoagent_dagster.providers.llm import LLMResource
from videoagent_dagster.providers.speech import SpeechRequest, TTSResource
from videoagent_dagster.providers.spending import Spending, spent

from ..measure import decoded_seconds
from .test_vendors import STYLE, clip_request, video, write_script

EN = validate_brief({"topic": "Lighthouses of the north", "options": {"duration": 10, "shots": 3}}, "t-en")
ZH = validate_brief({"topic": "北方的灯塔", "options": {"duration": 10, "shots": 3}}, "t-zh")


def write_board(store, brief, spend=None):
    script, _ = write_script(store, "openai")
    ask = PlanRequest(duration=brief.options.duration, fps=brief.options.fps, language=brief.language, shots=3)
    return LLMResource(chain="openai", max_retries=0, media_store=store).generate(
        "storyboard", StoryboardDraft, storyboard_prompt(brief, STYLE, script, 3), {"brief": brief.task},
        review=lambda d: review_storyboard(d, ask), spend=spend)


def corrections(vendors) -> list[str]:
    """What each re-ask told the model."""
    return [json.loads(body)["messages"][-1]["content"] for body in vendors.calls["openai.chat"]
            if len(json.loads(body)["messages"]) > 2]


# -- models ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["prose", "fence"])
def test_json_wrapped_in_prose_or_a_fence_is_read_without_asking_again(store, vendors, fault):
    vendors.llm_faults += ["", fault]
    board, _ = write_board(store, EN)
    assert len(board.shots) == 3 and vendors.count("openai.chat") == 2  # script + storyboard, no re-ask


def test_durations_a_little_off_are_mended_to_whole_frames(store, vendors):
    vendors.llm_faults += ["", "durations_rounded"]  # 3 x 3.6 s for a 10 s brief
    board, _ = write_board(store, EN)
    frames = [s.duration * 24 for s in board.shots]
    assert all(abs(f - round(f)) < 1e-9 for f in frames) and round(sum(frames)) == 240
    assert vendors.count("openai.chat") == 2


@pytest.mark.parametrize("fault,problem", [
    ("extra_shot", "the storyboard has 4 shots; the brief asks for 3"),
    ("durations_doubled", "the storyboard's 3 shots add up to 20.01 s; the brief asks for 10 s"),
    ("blank_title", "shot 1's title is blank"),
    ("long_narration", "shot 3's narration takes about"),
])
def test_a_plan_that_breaks_the_rules_is_asked_again_naming_the_problem(store, vendors, fault, problem):
    vendors.llm_faults += ["", fault]  # the re-ask is answered well
    board, call = write_board(store, EN)
    assert len(board.shots) == 3 and vendors.count("openai.chat") == 3
    assert problem in corrections(vendors)[0]
    assert call.usage["input_tokens"] == 2400  # both storyboard answers are paid for


def test_narration_in_the_wrong_language_is_asked_again(store, vendors):
    vendors.llm_faults += ["chinese", "english"]  # script in Chinese is fine; the board answers in English
    board, _ = write_board(store, ZH)
    assert "the narration is in English; the brief asks for Chinese" in corrections(vendors)[0]
    assert all("部分" in s.narration for s in board.shots)


def test_a_model_that_keeps_missing_fails_clearly_is_never_cached_and_its_answers_are_paid(store, vendors):
    vendors.llm_faults += ["", "extra_shot", "extra_shot"]
    paid = Spending(store, "t-en")
    with pytest.raises(ProviderError, match=r"openai:gpt-4.1 wrote a storyboard that breaks the plan, even after "
                                            r"one repair: the storyboard has 4 shots; the brief asks for 3"):
        write_board(store, EN, spend=paid)
    # Both failed answers were billed: they count against the budget though nothing came of them.
    assert spent(store, "t-en") == pytest.approx(2 * (1200 * 2e-6 + 800 * 8e-6))
    assert not [k for k in store.list("cache") if k.endswith(".json") and "made" not in k
                and "Vendor shot 4" in store.read_bytes(k).decode()]
    # Nothing bad was cached: asking again asks the model again (and this time it answers well).
    board, call = write_board(store, EN)
    assert len(board.shots) == 3 and not call.cached and vendors.count("openai.chat") == 4


# -- video jobs --------------------------------------------------------------------------------

def test_a_runway_internal_failure_gets_a_new_job_by_itself(store, vendors, frame_key):
    vendors.job_script += [{"fail": "An unexpected error occurred.", "code": "INTERNAL.BAD_OUTPUT.CODE01"}, {}]
    key, call = video(store, "runway").generate(clip_request(store, frame_key))
    assert store.exists(key) and vendors.count("runway.create") == 2
    assert call.usage == {"video_seconds": 5.0, "failed_jobs": 1.0}


def test_a_runway_safety_refusal_is_not_resubmitted_and_says_so(store, vendors, frame_key):
    vendors.job_script.append({"fail": "Prompt flagged by moderation", "code": "SAFETY.INPUT.TEXT"})
    with pytest.raises(ProviderError, match=r"SAFETY.INPUT.TEXT.*not retried: the vendor refused this request"):
        video(store, "runway").generate(clip_request(store, frame_key))
    assert vendors.count("runway.create") == 1


def test_new_jobs_for_internal_failures_are_bounded(store, vendors, frame_key):
    vendors.job_script += [{"fail": "internal", "code": "INTERNAL"}] * 3
    with pytest.raises(ProviderError, match=r"after 3 jobs"):
        video(store, "runway").generate(clip_request(store, frame_key))
    assert vendors.count("runway.create") == 3


def test_a_result_url_that_answers_404_is_asked_for_again(store, vendors, frame_key):
    vendors.job_script.append({"lost": 1})
    key, _ = video(store, "runway").generate(clip_request(store, frame_key))
    assert store.read_bytes(key) == vendors.clip and vendors.count("runway.create") == 1
    assert vendors.count("files") == 2


@pytest.mark.parametrize("chain,create,fault,recovers", [
    ("veo", "veo.create", {"fail": "Internal error encountered.", "veo_code": 13}, True),
    ("veo", "veo.create", {"filtered": "Video generation was blocked by the safety filter."}, False),
    ("veo", "veo.create", {"fail": "Invalid image.", "veo_code": 3}, False),
    ("fal", "fal.create", {"fail": "Generation failed", "fal_type": "internal_server_error"}, True),
    ("fal", "fal.create", {"fail": "Content policy violation", "fal_type": "content_policy_violation"}, False),
])
def test_veo_and_fal_failures(store, vendors, frame_key, chain, create, fault, recovers):
    vendors.job_script += [fault, {}]
    if recovers:
        key, call = video(store, chain).generate(clip_request(store, frame_key))
        assert store.exists(key) and call.usage["failed_jobs"] == 1.0 and vendors.count(create) == 2
    else:
        with pytest.raises(ProviderError, match="not retried: the vendor refused this request"):
            video(store, chain).generate(clip_request(store, frame_key))
        assert vendors.count(create) == 1


@pytest.mark.parametrize("clip,why", [(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 50, "does not decode"),
                                      ("one-second", "lasts 1.00 s; at least 3.00 s was asked")])
def test_a_bad_clip_is_rejected_and_never_cached(store, vendors, frame_key, clip, why):
    from ..fakes.vendors import _mp4

    vendors.job_script.append({"clip": _mp4(1) if clip == "one-second" else clip})
    with pytest.raises(ProviderError, match=why) as failed:
        video(store, "runway").generate(clip_request(store, frame_key))
    assert failed.value.rejected and not [k for k in store.list("cache") if k.endswith(".mp4")]
    # Asked again (as shot_clips' next attempt or a resume does), the vendor is asked again.
    key, _ = video(store, "runway").generate(clip_request(store, frame_key))
    assert store.read_bytes(key) == vendors.clip and vendors.count("runway.create") == 2


# -- speech ------------------------------------------------------------------------------------

def test_openai_wav_with_unknown_sizes_is_measured_from_its_samples(store, vendors):
    vendors.speech_seconds = 1.5
    key, _ = TTSResource(chain="openai", media_store=store).generate(SpeechRequest("Hello there.", "en", None, 3.0))
    assert decoded_seconds(store.path(key)) == pytest.approx(1.5, abs=0.01)
    with wave.open(str(store.path(key))) as w:  # stored with its true sizes
        assert w.getnframes() / w.getframerate() == pytest.approx(1.5, abs=0.01)


def test_speech_is_asked_faster_when_the_voice_ignores_its_time(store, vendors):
    vendors.speech_seconds = 4.0
    request = SpeechRequest("A line that runs long.", "en", None, 3.0, speed=1.4)
    key, _ = TTSResource(chain="openai", media_store=store).generate(request)
    assert json.loads(vendors.calls["openai.speech"][-1])["speed"] == 1.4
    assert decoded_seconds(store.path(key)) == pytest.approx(4.0 / 1.4, abs=0.02)


# -- Retry-After as vendors send it ------------------------------------------------------------

class RateLimited(Exception):
    def __init__(self, headers):
        super().__init__("429")
        self.status_code = 429
        self.response = SimpleNamespace(status_code=429, headers=headers)


@pytest.mark.parametrize("headers,low,high", [
    ({"retry-after-ms": "300"}, 0.25, 0.8),  # milliseconds (OpenAI, Anthropic)
    ({"retry-after": "IN-THE-DATE-FORM"}, 0.5, 2.5),  # an HTTP date about a second ahead
    ({"retry-after": "3600"}, 0.35, 1.0),  # far above our cap: the cap wins
    ({"retry-after": "soon"}, 0.0, 0.8),  # unreadable: our own backoff
])
def test_retry_after_in_every_form_is_honoured_up_to_the_cap(headers, low, high):
    import email.utils

    if headers.get("retry-after") == "IN-THE-DATE-FORM":
        headers = {"retry-after": email.utils.formatdate(time.time() + 2, usegmt=True)}  # whole seconds: 1-2 s
    answers = [RateLimited(headers)]

    def create():
        if answers:
            raise answers.pop()
        return "job-1"

    started = time.monotonic()
    assert retry.call_safely(create, retries=1, base_s=0.5, cap_s=0.4 if "3600" in str(headers) else 60) == "job-1"
    assert low <= time.monotonic() - started <= high


@pytest.mark.parametrize("chain,cancel", [("runway", "runway.delete"), ("fal", "fal.cancel")])
def test_cancelling_a_task_stops_its_vendor_jobs(store, vendors, frame_key, chain, cancel):
    """A cancelled task's jobs are stopped at the vendor (Runway task delete, fal queue cancel), so
    nothing goes on billing, and forgotten, so a retry submits anew."""
    import threading

    from videoagent_dagster.tasks.operations import cancel_vendor_jobs

    vendors.job_script.append({"never": True})
    outcome = {}

    def make():
        try:
            outcome["result"] = video(store, chain, deadline_s=8).generate(clip_request(store, frame_key))
        except Exception as e:  # noqa: BLE001 - looked at below
            outcome["error"] = e

    worker = threading.Thread(target=make, daemon=True)
    worker.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not list(store.base.joinpath("jobs").rglob("*.json")):
        time.sleep(0.05)
    handle = json.loads(next(store.base.joinpath("jobs").rglob("*.json")).read_text())
    assert handle["task"] == "t" and not handle.get("done")
    assert cancel_vendor_jobs("other-task", store, chain) == [] and vendors.count(cancel) == 0
    done = cancel_vendor_jobs("t", store, chain)
    assert done == [f"{chain} job cancelled"] and vendors.count(cancel) == 1
    assert all(job.get("cancelled") for job in vendors.jobs.values() if job.get("never"))
    worker.join(30)
    assert not worker.is_alive()
    assert not [p for p in store.base.joinpath("jobs").rglob("*.json")
                if not json.loads(p.read_text()).get("done")]  # nothing left to follow


def test_a_job_its_vendor_cannot_cancel_is_kept_for_a_retry_to_collect(store, vendors, frame_key):
    """Veo has no cancel: the job runs on and is paid for, so its handle stays and a retry collects
    its result instead of paying for another."""
    from videoagent_dagster.tasks.operations import cancel_vendor_jobs

    book = store.base / "jobs" / "ab"
    book.mkdir(parents=True)
    (book / ("ab" + "0" * 62 + ".json")).write_text(json.dumps(
        {"provider": "veo", "model": "veo-3.0-generate-001", "id": "op-1", "task": "t", "seconds": 4}))
    done = cancel_vendor_jobs("t", store, "veo")
    assert done == ["veo job left to finish (the vendor cannot cancel it, or it is done)"]
    assert list(book.glob("*.json"))
