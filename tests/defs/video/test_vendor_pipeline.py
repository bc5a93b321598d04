"""The whole graph served by vendor providers (their real SDKs against loopback servers)."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from videoagent_dagster.domain.keys import manifest_key
from videoagent_dagster.domain.manifests import FinalVideo, ShotClips, Storyboard
from videoagent_dagster.media.probe import probe

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
    # A refusal (not the vendor's own fault): the run stops at that shot until a person resumes it.
    vendors.job_script += [{}, {"fail": "injected: flagged", "code": "SAFETY.INPUT.IMAGE"}, {}, {}]
    first = materialize(instance, task)
    assert not first.success
    assert vendors.count("runway.create") == 4
    # style, script, cast, storyboard; two reference images, then four frames painted from them
    assert vendors.count("openai.chat") == 4 and vendors.count("openai.images") == 2
    assert vendors.count("openai.edits") == 4

    again = materialize(instance, task, selection="shot_clips*")
    assert again.success and all(check_results(again).values())
    assert vendors.count("runway.create") == 5  # exactly one more video call
    assert vendors.count("openai.images") == 2 and vendors.count("openai.edits") == 4
    assert vendors.count("openai.chat") == 4

    final = FinalVideo.model_validate_json(store.read_bytes(manifest_key(task, "final_video")))
    facts = probe(final.uri)
    assert (facts["video"]["width"], facts["video"]["height"]) == (320, 180) and abs(facts["duration"] - 8) < 0.1
    board = Storyboard.model_validate_json(store.read_bytes(manifest_key(task, "storyboard")))
    assert [c.provider for c in board.calls] == ["openai"] * 4  # style, script, cast, storyboard
    assert [s.title for s in board.shots][:2] == ["Vendor shot 1", "Vendor shot 2"]
    # Cost: 4 LLM calls (style, script, cast, storyboard) + 2 reference images and 4 frames + 4 clips x 5 s
    # + the narration characters.
    llm = 4 * (1200 * 2e-6 + 800 * 8e-6)
    assert final.total_cost_usd == pytest.approx(llm + 6 * 0.063 + 20 * 0.05 + 4 * len("Shot 1.") * 12e-6, rel=1e-3)
    facts_md = again.asset_materializations_for_node("final_video")[0].metadata
    assert facts_md["video_seconds_on_screen"].value == pytest.approx(8, abs=0.1)
    assert facts_md["video_seconds_paid"].value == 20.0  # 4 clips billed 5 s each, for 8 s on screen


def test_a_step_with_only_transient_failures_is_retried(store, instance, vendor_chains, monkeypatch):
    # The stage's RetryPolicy waits 0-40 s before a first retry: a tenth of a second here.
    monkeypatch.setattr(dg.RetryPolicy, "calculate_delay", lambda self, attempt: 0.1)
    vendors = vendor_chains
    monkeypatch.setenv("VIDEOAGENT_MAX_RETRIES", "0")
    task = submit(store, instance, "Harbour cranes at work", duration=5, resolution="180p", shots=2)
    from werkzeug import Response
    vendors.fail("openai.edits", Response('{"error": {"message": "overloaded"}}', status=503,
                                          content_type="application/json"))
    result = materialize(instance, task)
    assert result.success
    assert vendors.count("openai.edits") == 3  # 2 shots + the one that hit a 503, on the step's retry
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert [e.step_key for e in retries] == ["first_frames"]


def test_the_job_speaks_the_narration_while_the_frames_are_painted(store, instance, vendor_chains):
    """make_video as a run worker runs it (the job's threaded executor): narration does not wait for
    first_frames, and the soundtrack and checks come out as with steps in order."""
    from videoagent_dagster.tasks.local_run import run_in_process

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


def test_the_pipeline_recovers_by_itself_from_a_miscounted_plan_and_a_vendor_fault(store, instance, vendor_chains):
    """The model first plans 3 shots for a 2-shot brief (as models miscount), and one Runway job
    ends FAILED with an internal code: both are asked again by the pipeline itself."""
    from videoagent_dagster.providers.spending import spent

    vendors = vendor_chains
    task = submit(store, instance, "Harbour cranes at work", duration=5, resolution="180p", shots=2)
    vendors.llm_faults += ["", "", "", "extra_shot"]  # style, script, cast fine; storyboard miscounted, then right
    vendors.job_script += [{"fail": "An unexpected error occurred.", "code": "INTERNAL.BAD_OUTPUT.CODE01"}]
    result = materialize(instance, task)
    assert result.success and all(check_results(result).values())
    assert vendors.count("openai.chat") == 5 and vendors.count("runway.create") == 3
    board = Storyboard.model_validate_json(store.read_bytes(manifest_key(task, "storyboard")))
    assert len(board.shots) == 2
    clips = result.asset_materializations_for_node("shot_clips")[0].metadata["clips"].value.records
    assert sorted(r.data["attempts"] for r in clips) == [1, 1]
    # What was paid, the miscounted answer included, is on the ledger as it was paid.
    final = FinalVideo.model_validate_json(store.read_bytes(manifest_key(task, "final_video")))
    assert board.calls[3].usage["input_tokens"] == 2400  # the storyboard's call: both answers
    assert spent(store, task) == pytest.approx(final.total_cost_usd, rel=1e-3)


def test_a_failed_run_still_counts_what_it_paid(store, instance, vendor_chains):
    from videoagent_dagster.providers.spending import spent

    vendors = vendor_chains
    task = submit(store, instance, "Harbour cranes at work", duration=5, resolution="180p", shots=2)
    vendors.job_script += [{}, {"fail": "flagged", "code": "SAFETY.OUTPUT.VIDEO"}]
    assert not materialize(instance, task).success
    # 4 LLM calls, 2 reference images and 2 frames, 2 voices and the clip that was made: paid, though
    # no video came of it.
    llm, images, clip = 4 * (1200 * 2e-6 + 800 * 8e-6), 4 * 0.063, 5 * 0.05
    voices = 2 * len("Shot 1.") * 12e-6
    assert spent(store, task) == pytest.approx(llm + images + clip + voices, rel=1e-3)


def test_a_plan_the_model_keeps_missing_fails_clearly_and_resume_asks_again(store, instance, vendor_chains):
    vendors = vendor_chains
    task = submit(store, instance, "Harbour cranes at work", duration=10, resolution="180p", shots=2)
    # (durations far off are no longer the model's to miss: the shots are timed to Runway's clip
    # lengths; a line too long for its shot still is)
    vendors.llm_faults += ["", "", "", "long_narration", "long_narration"]
    first = materialize(instance, task)
    assert not first.success
    failure = next(e for e in first.all_events if e.event_type_value == "STEP_FAILURE")
    assert "shot 2's narration takes about" in str(failure.event_specific_data.error)
    again = materialize(instance, task, selection="storyboard*")  # the model answers well now
    assert again.success and vendors.count("openai.chat") == 6


def test_vendor_speech_that_overruns_its_shot_is_asked_again_faster(store, instance, vendor_chains):
    """OpenAI's voice does not know its time: 4 s of speech for a 2.5 s shot is asked again with
    speed, and every line ends inside its shot (nothing cut mid-word)."""
    from videoagent_dagster.domain.manifests import Narration

    from ...measure import decoded_seconds

    vendors = vendor_chains
    vendors.speech_seconds = 4.0
    task = submit(store, instance, "Harbour cranes at work", duration=5, resolution="180p", shots=2)
    result = materialize(instance, task)
    assert result.success and all(check_results(result).values())
    speeds = [json.loads(b).get("speed") for b in vendors.calls["openai.speech"]]
    assert speeds.count(None) == 2 and all(s and s > 1.6 for s in speeds if s)
    narration = Narration.model_validate_json(store.read_bytes(manifest_key(task, "narration")))
    for line in narration.lines:
        assert decoded_seconds(store.path(line.audio_key)) <= line.end - line.start + 0.05
        assert 2.0 < line.speech_duration <= line.end - line.start


def test_the_style_agent_chooses_from_the_catalogue_and_says_why(store, instance, vendor_chains):
    """With an LLM in the chain the style is the model's choice (a near-miss spelling mended to the
    catalogue's name), with its reasoning and who decided; a model that keeps naming a style the
    catalogue has not is asked again once, then the keywords decide, and the metadata says so."""
    from videoagent_dagster.domain.manifests import StyleProfile

    vendors = vendor_chains
    vendors.llm_faults += ["style_capitalised"]  # "Nature style": mended, not asked again
    task = submit(store, instance, "Wildlife of the northern forest", duration=5, resolution="180p", shots=2)
    result = materialize(instance, task, selection=["video_brief", "style_profile"])
    assert result.success
    profile = StyleProfile.model_validate_json(store.read_bytes(manifest_key(task, "style_profile")))
    assert (profile.name, profile.source, profile.decided_by) == ("nature", "llm", "openai:gpt-4.1")
    assert "wildlife of the northern forest" in profile.reasoning and profile.characteristics == ["outdoors", "calm"]
    assert vendors.count("openai.chat") == 1
    asked = json.loads(vendors.calls["openai.chat"][0])
    prompt = asked["messages"][1]["content"]
    assert "Topic: Wildlife of the northern forest" in prompt and all(s in prompt for s in ("- nature:", "- scifi:"))
    schema = asked["response_format"]["json_schema"]["schema"]
    assert "steampunk" not in json.dumps(schema) and "documentary" in json.dumps(schema)  # the catalogue's names

    vendors.llm_faults += ["style_unknown", "style_unknown"]
    other = submit(store, instance, "Wildlife of the southern plains", duration=5, resolution="180p", shots=2)
    assert materialize(instance, other, selection=["video_brief", "style_profile"]).success
    fallback = StyleProfile.model_validate_json(store.read_bytes(manifest_key(other, "style_profile")))
    from videoagent_dagster.domain.styles import detect_style

    assert fallback.decided_by == "keywords" and fallback.name == detect_style("Wildlife of the southern plains")[0]
    assert "The style agent could not choose" in fallback.reasoning and vendors.count("openai.chat") == 3


def test_one_narrator_speaks_every_line_even_when_the_vendor_fails_on_one(store, instance, vendor_chains,
                                                                         monkeypatch):
    """With `openai,offline` for speech, OpenAI refusing the first line makes the offline voice
    speak it — and then every other line too, not OpenAI's voice for the rest: one narrator a video."""
    from werkzeug import Response

    from videoagent_dagster.domain.manifests import Narration

    vendors = vendor_chains
    monkeypatch.setenv("VIDEOAGENT_TTS", "openai:gpt-4o-mini-tts,offline")
    vendors.fail("openai.speech", Response('{"error": {"message": "input rejected", "type": "invalid_request_error"}}',
                                           status=400, content_type="application/json"))
    task = submit(store, instance, "Harbour cranes at work", duration=5, resolution="180p", shots=2)
    result = materialize(instance, task, selection=["video_brief", "style_profile", "script", "cast", "storyboard",
                                                    "narration"])
    assert result.success
    lines = Narration.model_validate_json(store.read_bytes(manifest_key(task, "narration"))).lines
    assert [ln.call.provider for ln in lines] == ["offline", "offline"]
    assert vendors.count("openai.speech") == 1  # only the first line was asked of OpenAI
    assert result.asset_materializations_for_node("narration")[0].metadata["voice"].value == "offline:espeak-ng"


def test_frames_are_painted_from_the_cast_and_a_revised_member_remakes_only_its_shots(store, instance,
                                                                                      vendor_chains):
    """Each frame is an image edit over the reference images of the cast members its shot shows, its
    prompt repeating their descriptions; revising one member's description makes again only its
    reference, the frames and clips of the shots showing it, and the final cut."""
    from videoagent_dagster.domain.manifests import Cast, FirstFrames, ReferenceSheets
    from videoagent_dagster.tasks.operations import revise_cast

    vendors = vendor_chains
    task = submit(store, instance, "Lighthouses of the north", duration=8, resolution="180p", shots=4)
    assert materialize(instance, task).success

    def manifest(model, asset):
        return model.model_validate_json(store.read_bytes(manifest_key(task, asset)))

    cast, refs = manifest(Cast, "cast"), manifest(ReferenceSheets, "reference_sheets")
    board, frames = manifest(Storyboard, "storyboard"), manifest(FirstFrames, "first_frames")
    assert [m.id for m in cast.members] == ["keeper", "tower"] and sorted(refs.by_member()) == ["keeper", "tower"]
    # the model's storyboard names a member the cast lacks on its last shot: dropped, not painted
    assert [s.cast for s in board.shots] == [["keeper"], ["tower"], ["keeper"], ["tower"]]
    looks = {m.id: m.description.rstrip(".") for m in cast.members}
    ref_bytes = {m: store.read_bytes(r.key) for m, r in refs.by_member().items()}
    assert len(vendors.edit_requests) == 4
    for req in vendors.edit_requests:
        shown = [m for m in looks if looks[m] in req["prompt"]]
        assert len(shown) == 1 and req["images"] == [ref_bytes[shown[0]]] and req["model"] == "gpt-image-1"
    # The keeper says the third shot's line in a voice of their own; the narrator (OpenAI's default
    # voice) says the rest, a place's "line" included.
    from videoagent_dagster.domain.manifests import Narration

    lines = Narration.model_validate_json(store.read_bytes(manifest_key(task, "narration"))).lines
    assert [(ln.speaker, ln.voice) for ln in lines] == [(None, None), (None, None), ("keeper", lines[2].voice),
                                                        (None, None)]
    asked = [json.loads(body)["voice"] for body in vendors.calls["openai.speech"]]
    assert lines[2].voice in asked and lines[2].voice != "alloy" and asked.count("alloy") == 3
    before = {k: vendors.count(k) for k in ("openai.chat", "openai.images", "openai.edits", "runway.create",
                                            "openai.speech")}

    revise_cast(store, task, "keeper", "A young woman in a red raincoat carrying a storm lantern.")
    again = materialize(instance, task)
    assert again.success and all(check_results(again).values())
    made = {k: vendors.count(k) - n for k, n in before.items()}
    # one reference image, the two frames and clips showing the keeper; no writing, no speech
    assert made == {"openai.chat": 0, "openai.images": 1, "openai.edits": 2, "runway.create": 2, "openai.speech": 0}
    assert all("red raincoat" in r["prompt"] for r in vendors.edit_requests[4:])
    after = manifest(FirstFrames, "first_frames")
    assert [f.call.cached for f in after.frames] == [False, True, False, True]
    assert [a.prompt == b.prompt for a, b in zip(frames.frames, after.frames)] == [False, True, False, True]
    revised = manifest(Cast, "cast")
    assert revised.revised == ["keeper"] and "red raincoat" in revised.members[0].description
    assert again.asset_materializations_for_node("video_brief")[0].metadata["revised_cast"].value == "keeper"


def test_a_cast_revision_that_cannot_be_made_says_why_and_writes_nothing(store, instance):
    from videoagent_dagster.domain.keys import revisions_key
    from videoagent_dagster.tasks.operations import RevisionError, revise_cast

    task = submit(store, instance, "Lighthouses of the north", duration=5, resolution="180p", shots=2)
    with pytest.raises(RevisionError, match="has no cast yet"):
        revise_cast(store, task, "keeper", "x")
    assert materialize(instance, task, selection=["video_brief", "style_profile", "script", "cast"]).success
    with pytest.raises(RevisionError, match="no cast member 'nobody'; it has: lighthouses"):
        revise_cast(store, task, "nobody", "x")
    with pytest.raises(RevisionError, match="allowed: 1-600 characters"):
        revise_cast(store, task, "lighthouses", "   ")
    with pytest.raises(RevisionError, match="no task"):
        revise_cast(store, "20260101-none-aaaaaaaaaa", "lighthouses", "x")
    assert not store.exists(revisions_key(task))


@pytest.mark.parametrize("looker", ["openai:gpt-4.1-mini", "anthropic:claude-sonnet-5-5"])
def test_the_quality_checker_looks_and_a_low_frame_is_painted_again_with_its_critique(store, instance, vendor_chains,
                                                                                    monkeypatch, looker):
    """A vision model scores each frame against its shot and the cast's reference images; one under
    the threshold is painted again with the critique in its prompt, the best of up to three kept;
    every score is in the manifest and the check reports the lowest."""
    from videoagent_dagster.domain.manifests import FirstFrames, ReferenceSheets

    vendors = vendor_chains
    monkeypatch.setenv("VIDEOAGENT_VISION", looker)
    monkeypatch.setenv("VIDEOAGENT_SHOT_CONCURRENCY", "1")  # shots one after another: scores in order
    endpoint = "openai.chat" if looker.startswith("openai") else "anthropic.messages"
    task = submit(store, instance, "Lighthouses of the north", duration=5, resolution="180p", shots=2)
    # shot 1: 3 then 9 (kept on the second try); shot 2: 2, 4, 3 (the best of three kept, still low);
    # and a model answering out of range once (asked again: never cached)
    vendors.vision_scores += [3, 9, 2, 4, 3]
    result = materialize(instance, task)
    assert result.success
    frames = FirstFrames.model_validate_json(store.read_bytes(manifest_key(task, "first_frames")))
    assert [[c.score for c in f.candidates] for f in frames.frames] == [[3, 9], [2, 4, 3]]
    assert [f.score for f in frames.frames] == [9, 4]
    assert frames.frames[1].key and frames.frames[1].prompt == frames.frames[1].candidates[1].prompt
    # the second try heard the first one's critique
    assert "A reviewer found the previous attempt lacking: Scored 3: the keeper is missing." in \
        frames.frames[0].candidates[1].prompt
    assert all(c.judge_call.provider == looker.split(":")[0] for f in frames.frames for c in f.candidates)
    # each look carried the frame and the reference image of the member the shot shows, named
    refs = ReferenceSheets.model_validate_json(store.read_bytes(manifest_key(task, "reference_sheets")))
    keeper = store.read_bytes(refs.by_member()["keeper"].key)
    first = vendors.vision_requests[0]
    assert first["labels"] == ["Image: the frame", "Image: reference image of The keeper"]
    assert first["images"][1] == keeper and "yellow oilskin coat" in first["prompt"]
    # five looks at frames, then one at each clip's middle frame (8: kept)
    assert len(vendors.vision_requests) == 7 and vendors.count("openai.edits") == 5
    assert all("middle frame" in r["prompt"] for r in vendors.vision_requests[5:])
    clips = ShotClips.model_validate_json(store.read_bytes(manifest_key(task, "shot_clips")))
    assert [c.score for c in clips.clips] == [8, 8]
    check = {e.check_name: e for e in result.get_asset_check_evaluations()}["frames_show_their_shots"]
    assert not check.passed and check.metadata["lowest_score"].value == 4
    meta = result.asset_materializations_for_node("first_frames")[0].metadata
    assert meta["repainted_shots"].value == 2 and meta["judged_by"].value == looker

    # A re-run judges nothing again: the verdicts are cached with the frames they judged.
    again = materialize(instance, task, selection="first_frames")
    assert again.success and len(vendors.vision_requests) == 7 and vendors.count("openai.edits") == 5


def test_an_answer_out_of_range_is_asked_again_and_a_failing_checker_leaves_frames_not_judged(
        store, instance, vendor_chains, monkeypatch):
    from werkzeug import Response

    from videoagent_dagster.domain.manifests import FirstFrames
    from videoagent_dagster.tasks.operations import create_task

    vendors = vendor_chains
    monkeypatch.setenv("VIDEOAGENT_VISION", "anthropic,offline")
    monkeypatch.setenv("VIDEOAGENT_SHOT_CONCURRENCY", "1")
    monkeypatch.setenv("VIDEOAGENT_MAX_RETRIES", "0")
    task = submit(store, instance, "Lighthouses of the north", duration=5, resolution="180p", shots=2)
    vendors.llm_faults += ["", "", "", "", "score_out_of_range"]  # style, script, cast, storyboard; then a 12/10
    result = materialize(instance, task)
    assert result.success
    frames = FirstFrames.model_validate_json(store.read_bytes(manifest_key(task, "first_frames")))
    assert [f.score for f in frames.frames] == [8, 8]
    assert vendors.count("anthropic.messages") == 5  # a frame asked twice, the other frame, two clips

    # The vision vendor refusing every look: with `offline` after it, the frames are not judged (and
    # say why), never passed as judged; the video is made.
    # (another style: other prompts, so new frames, not the first task's from the cache)
    other = create_task({"topic": "Harbour cranes at work", "style": "vintage",
                         "options": {"duration": 5, "resolution": "180p", "shots": 2}}, store, instance).task
    refusal = Response('{"type": "error", "error": {"type": "invalid_request_error", "message": "image too large"}}',
                       status=400, content_type="application/json")
    vendors.fail("anthropic.messages", *[refusal] * 4)  # both frames and both clips
    result = materialize(instance, other)
    assert result.success
    frames = FirstFrames.model_validate_json(store.read_bytes(manifest_key(other, "first_frames")))
    assert [f.score for f in frames.frames] == [None, None]
    assert all(f.reason.startswith("not judged: ") and "image too large" in f.reason for f in frames.frames)
    check = {e.check_name: e for e in result.get_asset_check_evaluations()}["frames_show_their_shots"]
    assert check.passed and check.metadata["lowest_score"].value == "not judged"
    assert check.metadata["not_judged"].value == 2
    clips = ShotClips.model_validate_json(store.read_bytes(manifest_key(other, "shot_clips")))
    assert [c.score for c in clips.clips] == [None, None]


def test_revising_one_shot_paints_films_and_speaks_only_that_shot_again(store, instance, vendor_chains):
    from videoagent_dagster.tasks.operations import RevisionError, revise_shot

    vendors = vendor_chains
    task = submit(store, instance, "Lighthouses of the north", duration=8, resolution="180p", shots=4)
    assert materialize(instance, task).success
    before = {k: vendors.count(k) for k in ("openai.chat", "openai.images", "openai.edits", "runway.create",
                                            "openai.speech")}
    with pytest.raises(RevisionError, match="the shots would add up to 11 s; the brief asks for 8 s"):
        revise_shot(store, task, 2, {"duration": 5})
    with pytest.raises(RevisionError, match="narration takes about"):
        revise_shot(store, task, 2, {"narration": "And then, at great length, the narrator keeps on talking. " * 4})
    revise_shot(store, task, 2, {"description": "The keeper climbs the spiral stair.", "narration": "Up he goes.",
                                 "camera_movement": "tilt_up"})
    again = materialize(instance, task)
    assert again.success and all(check_results(again).values())
    made = {k: vendors.count(k) - n for k, n in before.items()}
    assert made == {"openai.chat": 0, "openai.images": 0, "openai.edits": 1, "runway.create": 1, "openai.speech": 1}
    board = Storyboard.model_validate_json(store.read_bytes(manifest_key(task, "storyboard")))
    shot = board.shots[1]
    assert (shot.description, shot.narration, shot.camera_movement) == ("The keeper climbs the spiral stair.",
                                                                        "Up he goes.", "tilt_up")
    assert again.asset_materializations_for_node("storyboard")[0].metadata["revised_shots"].value == "2"
    srt = store.path(f"tasks/{task}/final/subtitles.srt").read_text()
    assert "Up he goes." in srt


def test_shots_are_timed_to_the_clip_lengths_the_video_vendor_sells(store, instance, vendor_chains):
    """Runway sells 5 and 10 s clips: 20 s of cuts is three shots of 10, 5 and 5 s, each one clip,
    so the seconds paid for are the seconds on screen (the model's own 6.7 s shots would be billed as
    three 10 s clips); the final video's metadata shows both numbers."""
    from videoagent_dagster.tasks.operations import create_task

    vendors = vendor_chains
    task = create_task({"topic": "Harbour cranes at work", "options": {"duration": 20, "resolution": "180p",
                                                                         "transition": "cut"}}, store, instance).task
    result = materialize(instance, task)
    assert result.success and all(check_results(result).values())
    board = Storyboard.model_validate_json(store.read_bytes(manifest_key(task, "storyboard")))
    assert [s.duration for s in board.shots] == [10.0, 5.0, 5.0]
    assert "Time the shots, in order, to these seconds" in json.loads(vendors.calls["openai.chat"][3])[
        "messages"][1]["content"]
    meta = result.asset_materializations_for_node("final_video")[0].metadata
    assert meta["video_seconds_paid"].value == 20.0 and meta["video_seconds_on_screen"].value == pytest.approx(20)
    assert sorted(json.loads(b)["duration"] for b in vendors.calls["runway.create"]) == [5, 5, 10]


def test_a_clip_whose_middle_frame_scores_low_is_made_again_with_the_critique(store, instance, vendor_chains,
                                                                              monkeypatch):
    vendors = vendor_chains
    monkeypatch.setenv("VIDEOAGENT_VISION", "openai:gpt-4.1-mini")
    monkeypatch.setenv("VIDEOAGENT_SHOT_CONCURRENCY", "1")
    task = submit(store, instance, "Lighthouses of the north", duration=5, resolution="180p", shots=2)
    vendors.vision_scores += [8, 8, 3, 9]  # the two frames; shot 1's clip, then its second take
    # the second take is another picture (the same bytes again would be the same verdict, from the cache)
    import subprocess

    take = subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=256x144:rate=24:d=5", "-c:v",
                           "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags",
                           "frag_keyframe+empty_moov", "-f", "mp4", "-"], capture_output=True, check=True).stdout
    vendors.job_script += [{}, {"clip": take}]
    result = materialize(instance, task)
    assert result.success and all(check_results(result).values())
    clips = ShotClips.model_validate_json(store.read_bytes(manifest_key(task, "shot_clips")))
    assert [c.score for c in clips.clips] == [9, 8]
    assert [a.get("score") for a in clips.clips[0].attempts] == [3, 9]
    assert vendors.count("runway.create") == 3  # one clip made again
    second = json.loads(vendors.calls["runway.create"][1])
    assert "A reviewer found the previous attempt lacking: Scored 3: the keeper is missing." in second["promptText"]
    final = FinalVideo.model_validate_json(store.read_bytes(manifest_key(task, "final_video")))
    looks = 4 * (1200 * 0.4 + 800 * 1.6) / 1e6  # four looks at gpt-4.1-mini prices
    assert final.total_cost_usd > looks


def test_runway_paints_the_frames_from_the_cast_reference_images(store, instance, vendor_chains, monkeypatch):
    """With Runway's gen4_image, each frame of a shot showing a cast member is a text-to-image task
    carrying the member's reference image, tagged and named in the prompt."""
    from videoagent_dagster.domain.manifests import ReferenceSheets

    vendors = vendor_chains
    monkeypatch.setenv("VIDEOAGENT_IMAGE", "runway:gen4_image")
    task = submit(store, instance, "Lighthouses of the north", duration=5, resolution="180p", shots=2)
    result = materialize(instance, task)
    assert result.success and all(check_results(result).values())
    refs = ReferenceSheets.model_validate_json(store.read_bytes(manifest_key(task, "reference_sheets")))
    by_member = {m: store.read_bytes(r.key) for m, r in refs.by_member().items()}
    references = [r for r in vendors.runway_images if r.get("referenceImages")]
    assert len(vendors.runway_images) == 4 and len(references) == 2  # two reference images, then two frames
    for r in references:
        assert r["promptText"].startswith("@ref1 as in the references.") and r["model"] == "gen4_image"
        assert r["references"][0] in by_member.values()
    assert {r["references"][0] for r in references} == set(by_member.values())  # each shot its own member
    final = FinalVideo.model_validate_json(store.read_bytes(manifest_key(task, "final_video")))
    assert final.total_cost_usd > 4 * 0.08
