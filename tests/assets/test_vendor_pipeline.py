"""The whole graph served by vendor providers (their real SDKs against loopback servers)."""

from __future__ import annotations

import dagster as dg
import pytest

from videoagent_dagster.media.ffmpeg import probe
from videoagent_dagster.models import FinalVideo, Storyboard
from videoagent_dagster.resources.io_manager import manifest_key

from .helpers import check_results, materialize, submit


@pytest.fixture
def vendor_chains(monkeypatch, vendors):
    for var, chain in {"VIDEOAGENT_LLM": "openai:gpt-4.1", "VIDEOAGENT_IMAGE": "openai:gpt-image-1",
                       "VIDEOAGENT_VIDEO": "runway:gen4_turbo", "VIDEOAGENT_TTS": "openai:gpt-4o-mini-tts"}.items():
        monkeypatch.setenv(var, chain)
    monkeypatch.setenv("VIDEOAGENT_VIDEO_POLL_S", "0.05")
    return vendors


def test_vendor_pipeline_then_one_clip_fails_and_only_it_is_redone(store, instance, vendor_chains):
    vendors = vendor_chains
    task = submit(store, instance, "Lighthouses of the north", duration=8, resolution="180p", shots=4)
    vendors.job_script += [{}, {"fail": "injected: bad output"}, {}, {}]
    first = materialize(instance, task)
    assert not first.success
    assert vendors.count("runway.create") == 4
    assert vendors.count("openai.chat") == 2 and vendors.count("openai.images") == 4

    again = materialize(instance, task, selection="shot_clips*")
    assert again.success and all(check_results(again).values())
    assert vendors.count("runway.create") == 5  # exactly one more video call
    assert vendors.count("openai.images") == 4 and vendors.count("openai.chat") == 2

    final = FinalVideo.model_validate_json(store.read_bytes(manifest_key(task, "final_video")))
    facts = probe(final.uri)
    assert (facts["video"]["width"], facts["video"]["height"]) == (320, 180) and abs(facts["duration"] - 8) < 0.1
    board = Storyboard.model_validate_json(store.read_bytes(manifest_key(task, "storyboard")))
    assert [c.provider for c in board.calls] == ["openai", "openai"]
    assert [s.title for s in board.shots][:2] == ["Vendor shot 1", "Vendor shot 2"]
    # Cost: 2 LLM calls + 4 images + 4 clips x 5 s + the narration characters.
    llm = 2 * (1200 * 2e-6 + 800 * 8e-6)
    assert final.total_cost_usd == pytest.approx(llm + 4 * 0.063 + 20 * 0.05 + 4 * len("Shot 1.") * 12e-6, rel=1e-3)


def test_a_step_with_only_transient_failures_is_retried(store, instance, vendor_chains, monkeypatch):
    import videoagent_dagster.assets.common as common

    monkeypatch.setattr(common, "STEP_RETRY_BASE_S", 0.1)
    vendors = vendor_chains
    monkeypatch.setenv("VIDEOAGENT_MAX_RETRIES", "0")
    task = submit(store, instance, "Harbour cranes at work", duration=5, resolution="180p", shots=2)
    from werkzeug import Response
    vendors.fail("openai.images", Response('{"error": {"message": "overloaded"}}', status=503,
                                           content_type="application/json"))
    result = materialize(instance, task)
    assert result.success
    assert vendors.count("openai.images") == 3  # 2 shots + the one that hit a 503, on the step's retry
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert [e.step_key for e in retries] == ["first_frames"]


def test_the_job_speaks_the_narration_while_the_frames_are_painted(store, instance, vendor_chains):
    """make_video as a run worker runs it (the job's threaded executor): narration does not wait for
    first_frames, and the soundtrack and checks come out as with steps in order."""
    from videoagent_dagster.tasks import run_in_process

    vendors = vendor_chains
    vendors.latency.update({"openai.images": 1.5, "openai.speech": 0.2})
    task = submit(store, instance, "Harbour cranes at work", duration=5, resolution="180p", shots=2)
    result = run_in_process(instance, task)
    assert result.success
    times: dict[tuple[str, str], float] = {}
    for e in instance.all_logs(result.run_id):
        if e.dagster_event and e.dagster_event.event_type_value in ("STEP_START", "STEP_SUCCESS"):
            times[(e.step_key, e.dagster_event.event_type_value)] = e.timestamp
    # narration started before the frames were done, and finished before them.
    assert times[("narration", "STEP_START")] < times[("first_frames", "STEP_SUCCESS")]
    assert times[("narration", "STEP_SUCCESS")] < times[("first_frames", "STEP_SUCCESS")]
    checks = {e.asset_check_key.name: e.passed for e in
              (r.event_log_entry.dagster_event.event_specific_data for r in instance.get_records_for_run(
                  result.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records)}
    assert checks and all(checks.values()), checks
