"""Quality checks. They run in the same step as their asset and the blocking ones stop a bad
storyboard or video from flowing on. Each check is partitioned like its asset: a result belongs to
the task it checked (the UI shows it under that partition, and one task's results never replace
another's), and names that task in its metadata."""

import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import dagster as dg

from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.domain.brief import Brief
from videoagent_dagster.domain.manifests import Narration, Storyboard
from videoagent_dagster.domain.plan_rules import DURATION_TOLERANCE, PlanRequest, storyboard_problems
from videoagent_dagster.media.audio import TARGET_LUFS
from videoagent_dagster.media.detect import FINAL_BLACK_MIN_S as BLACK_MIN_S
from videoagent_dagster.media.detect import SILENCE_DB, analyse

FROZEN_MIN_S = 1.0
LOUDNESS_TOLERANCE_LU = 1.5
MAX_DRIFT_S = 0.1  # AAC's priming and padding alone account for a few hundredths


def _check(name: str, asset: str, description: str, blocking: bool = False) -> dg.AssetCheckSpec:
    # Partitioned checks are a preview feature of this Dagster release: known, and wanted here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(name, asset=asset, blocking=blocking, description=description,
                                 partitions_def=video_tasks)


STORYBOARD_CHECKS = [
    _check("duration_matches_brief", "storyboard", "The shots add up to the requested duration, within ±10%.",
           blocking=True),
    _check("valid_shots", "storyboard", "As many shots as the brief asks for, none with a blank title, description, "
           "composition or lighting, narration in the brief's language and short enough to be spoken in its shot.",
           blocking=True),
]

FIRST_FRAMES_CHECKS = [
    _check("frames_show_their_shots", "first_frames",
           "The quality checker (a vision model, VIDEOAGENT_VISION) scored every kept frame at least the "
           "threshold (VIDEOAGENT_VISION_THRESHOLD); its lowest score is in the metadata. Frames it did not "
           "judge (offline) are listed as not judged."),
]

FINAL_VIDEO_CHECKS = [
    _check("format_as_requested", "final_video", "Resolution, frame rate and codec (H.264) are as requested.",
           blocking=True),
    _check("duration_matches_brief", "final_video", "The video lasts the requested duration, within ±10%.",
           blocking=True),
    _check("audio_present", "final_video",
           "There is an audio track when the brief asks for audio, none otherwise.", blocking=True),
    _check("decodes_cleanly", "final_video", "Every frame decodes from start to end without an error.",
           blocking=True),
    _check("loudness_in_range", "final_video",
           "Integrated loudness -14 LUFS ±1.5 LU and true peak at most -1 dBTP (when there is audio)."),
    _check("no_black_stretches", "final_video", f"No black stretch of {BLACK_MIN_S:g} s or more."),
    _check("moving_shots_move", "final_video",
           "No frozen stretch (1 s or more) inside a shot whose camera should move."),
    _check("narration_audible", "final_video",
           "No line of narration falls silent: sound where each spoken line should be (at least half of its "
           f"speech above {SILENCE_DB} dBFS), in the final sound and in the voice alone (which music under it "
           "cannot fill)."),
    _check("audio_in_sync", "final_video",
           f"Audio and picture end together (within {MAX_DRIFT_S:g} s), so nothing drifts.", blocking=True),
]


def for_task(task: str, results: Iterable[dg.AssetCheckResult]) -> Iterator[dg.AssetCheckResult]:
    """The results with the task they checked in their metadata (the evaluation's partition comes
    from the step, as the spec is partitioned)."""
    for result in results:
        yield result.with_metadata({"task": dg.MetadataValue.text(task), **result.metadata})


def _within(actual: float, wanted: float) -> bool:
    return abs(actual - wanted) <= DURATION_TOLERANCE * wanted


def storyboard_checks(board: Storyboard, brief: Brief) -> list[dg.AssetCheckResult]:
    """What pydantic cannot see: the shots' own total, their count and the narration rules
    (plan_rules), on the storyboard as it will be made."""
    wanted = brief.options.duration
    total = round(sum(s.duration for s in board.shots), 6)
    bad = storyboard_problems(board.shots, PlanRequest.of(brief, storyboard=True))
    return [
        dg.AssetCheckResult(
            check_name="duration_matches_brief", passed=_within(total, wanted),
            metadata={"total_s": total, "requested_s": wanted,
                      "off_by_pct": round(100 * (total - wanted) / wanted, 2)},
        ),
        dg.AssetCheckResult(check_name="valid_shots", passed=not bad,
                            metadata={"shots": len(board.shots), "problems": "; ".join(bad) or "none"}),
    ]


def frame_checks(scores: list[int | None], threshold: float) -> list[dg.AssetCheckResult]:
    """The lowest score the quality checker gave a kept frame, against the threshold."""
    judged = [s for s in scores if s is not None]
    low = [i + 1 for i, s in enumerate(scores) if s is not None and s < threshold]
    return [dg.AssetCheckResult(
        check_name="frames_show_their_shots", passed=not low,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"lowest_score": min(judged) if judged else "not judged", "threshold": threshold,
                  "judged": len(judged), "not_judged": len(scores) - len(judged),
                  "below_threshold_shots": ", ".join(map(str, low)) or "none"})]


def as_found(found: dict) -> dict:
    """look_at's findings as recorded (JSON) back as look_at gives them: stretches as tuples."""
    return {k: [tuple(x) for x in v] if k in ("black", "frozen", "silent") else v for k, v in found.items()}


def look_at_settings() -> dict:
    """What look_at's findings depend on besides the file (part of what they are made from)."""
    return {"black_min_s": BLACK_MIN_S, "frozen_min_s": FROZEN_MIN_S, "silence_db": SILENCE_DB}


STRETCHES = (BLACK_MIN_S, FROZEN_MIN_S)  # compose's detect_stretches: what look_at looks for in the picture


def look_at(video: Path, facts: dict, stretches: dict | None = None) -> dict:
    """One decoding pass over the final video for every check below (detect.analyse). `stretches`:
    the black and frozen stretches compose found while encoding (Composed.stretches, found with
    STRETCHES); then the pass only decodes the picture (decodes_cleanly) and analyses the sound."""
    found = analyse(video, black_min_s=BLACK_MIN_S, frozen_min_s=FROZEN_MIN_S, audio=facts["audio"] is not None,
                    picture=stretches is None)
    return found | (stretches or {})


def media_checks(found: dict, facts: dict, board: Storyboard, narration: Narration) -> list[dg.AssetCheckResult]:
    """Checks that look at the pictures and the sound (`found` by look_at), not just the metadata."""
    results = []
    results += _sound_checks(facts, found, narration)
    if facts["audio"] is not None:
        level = found["loudness"]
        ok = abs(level["integrated_lufs"] - TARGET_LUFS) <= LOUDNESS_TOLERANCE_LU and level["true_peak_dbtp"] <= -1.0
        results.append(dg.AssetCheckResult(check_name="loudness_in_range", passed=ok, metadata={
            "integrated_lufs": level["integrated_lufs"], "true_peak_dbtp": level["true_peak_dbtp"],
            "target_lufs": TARGET_LUFS}))
    else:
        results.append(dg.AssetCheckResult(check_name="loudness_in_range", passed=True,
                                           metadata={"audio": "none requested"}))
    black = found["black"]
    results.append(dg.AssetCheckResult(check_name="no_black_stretches", passed=not black,
                                       metadata={"black_stretches": str(black or "none")}))
    frozen, start, bad = found["frozen"], 0.0, []
    for i, shot in enumerate(board.shots):
        end = start + shot.duration
        if shot.camera_movement != "static":
            for a, b in frozen:
                overlap = min(b, end) - max(a, start)
                if overlap >= FROZEN_MIN_S:
                    bad.append(f"shot {i + 1} ({shot.camera_movement}) frozen {max(a, start):.1f}-{min(b, end):.1f} s")
        start = end
    results.append(dg.AssetCheckResult(check_name="moving_shots_move", passed=not bad,
                                       metadata={"problems": "; ".join(bad) or "none"}))
    return results


def _sound_checks(facts: dict, found: dict, narration: Narration) -> list[dg.AssetCheckResult]:
    if facts["audio"] is None:
        return [dg.AssetCheckResult(check_name=name, passed=True, metadata={"audio": "none requested"})
                for name in ("narration_audible", "audio_in_sync")]
    # Silence in the final sound, and in the voice alone (music under a missing line would fill
    # the final sound, not the voice).
    heard = {"final sound": found["silent"]}
    if narration.voice_silences is not None:
        heard["voice"] = narration.voice_silences
    mute = []
    for ln in narration.lines:
        if ln.audio_key and ln.speech_duration > 0:
            a, b = ln.start, ln.start + ln.speech_duration
            for where, silent in heard.items():
                quiet = sum(max(0.0, min(b, q1) - max(a, q0)) for q0, q1 in silent)
                if quiet > 0.5 * (b - a):
                    mute.append(f"shot {ln.shot}: {quiet:.1f} of {b - a:.1f} s silent in the {where}")
                    break
    drift = facts["audio"]["duration"] - facts["video"]["duration"]
    return [
        dg.AssetCheckResult(check_name="narration_audible", passed=not mute,
                            metadata={"problems": "; ".join(mute) or "none",
                                      "listened_to": " and ".join(heard),
                                      "silent_stretches": str(found["silent"] or "none")}),
        dg.AssetCheckResult(check_name="audio_in_sync", passed=abs(drift) <= MAX_DRIFT_S,
                            metadata={"audio_minus_video_s": round(drift, 3),
                                      "audio_s": facts["audio"]["duration"], "video_s": facts["video"]["duration"]}),
    ]


def final_video_checks(found: dict, facts: dict, brief: Brief) -> list[dg.AssetCheckResult]:
    width, height = brief.options.size()
    v, a = facts["video"] or {}, facts["audio"]
    fmt_ok = (v.get("width"), v.get("height")) == (width, height) and v.get("codec") == "h264" and \
        abs(v.get("fps", 0) - brief.options.fps) < 0.01
    errors = found["errors"]
    return [
        dg.AssetCheckResult(
            check_name="format_as_requested", passed=fmt_ok,
            metadata={"size": f"{v.get('width')}x{v.get('height')}", "requested_size": f"{width}x{height}",
                      "fps": v.get("fps"), "requested_fps": brief.options.fps, "codec": str(v.get("codec"))},
        ),
        dg.AssetCheckResult(
            check_name="duration_matches_brief", passed=_within(facts["duration"], brief.options.duration),
            metadata={"duration_s": facts["duration"], "requested_s": brief.options.duration},
        ),
        dg.AssetCheckResult(
            check_name="audio_present", passed=(a is not None) == brief.options.include_audio,
            metadata={"audio_codec": str(a and a["codec"]), "audio_requested": brief.options.include_audio},
        ),
        dg.AssetCheckResult(check_name="decodes_cleanly", passed=not errors,
                            metadata={"decoder_errors": errors[:2000] or "none"}),
    ]
