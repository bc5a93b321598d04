"""Quality checks. They run in the same step as their asset (so they see its partition) and the
blocking ones stop a bad storyboard or video from flowing on."""


from pathlib import Path

import dagster as dg

from ..brief import Brief
from ..media.ffmpeg import decode_errors
from ..models import CAMERA_MOVEMENTS, SHOT_TYPES, Storyboard

DURATION_TOLERANCE = 0.10

STORYBOARD_CHECKS = [
    dg.AssetCheckSpec("duration_matches_brief", asset="storyboard", blocking=True,
                      description="The shots add up to the requested duration, within ±10%."),
    dg.AssetCheckSpec("valid_shots", asset="storyboard", blocking=True,
                      description="Every shot has a known camera move and shot type, a positive duration "
                                  "and a narration line."),
]

FINAL_VIDEO_CHECKS = [
    dg.AssetCheckSpec("format_as_requested", asset="final_video", blocking=True,
                      description="Resolution, frame rate and codec (H.264) are as requested."),
    dg.AssetCheckSpec("duration_matches_brief", asset="final_video", blocking=True,
                      description="The video lasts the requested duration, within ±10%."),
    dg.AssetCheckSpec("audio_present", asset="final_video", blocking=True,
                      description="There is an audio track when the brief asks for audio, none otherwise."),
    dg.AssetCheckSpec("decodes_cleanly", asset="final_video", blocking=True,
                      description="Every frame decodes from start to end without an error."),
]


def _within(actual: float, wanted: float) -> bool:
    return abs(actual - wanted) <= DURATION_TOLERANCE * wanted


def storyboard_checks(board: Storyboard, brief: Brief) -> list[dg.AssetCheckResult]:
    wanted = brief.options.duration
    bad = [
        f"shot {i + 1}: " + ", ".join(p for p in (
            f"camera_movement {s.camera_movement!r}" if s.camera_movement not in CAMERA_MOVEMENTS else "",
            f"shot_type {s.shot_type!r}" if s.shot_type not in SHOT_TYPES else "",
            f"duration {s.duration}" if s.duration <= 0 else "",
        ) if p)
        for i, s in enumerate(board.shots)
        if s.camera_movement not in CAMERA_MOVEMENTS or s.shot_type not in SHOT_TYPES or s.duration <= 0
    ]
    return [
        dg.AssetCheckResult(
            check_name="duration_matches_brief", passed=_within(board.total_duration, wanted),
            metadata={"total_s": board.total_duration, "requested_s": wanted,
                      "off_by_pct": round(100 * (board.total_duration - wanted) / wanted, 2)},
        ),
        dg.AssetCheckResult(check_name="valid_shots", passed=not bad,
                            metadata={"shots": len(board.shots), "problems": "; ".join(bad) or "none"}),
    ]


def final_video_checks(video: Path, facts: dict, brief: Brief) -> list[dg.AssetCheckResult]:
    width, height = brief.options.size()
    v, a = facts["video"] or {}, facts["audio"]
    fmt_ok = (v.get("width"), v.get("height")) == (width, height) and v.get("codec") == "h264" and \
        abs(v.get("fps", 0) - brief.options.fps) < 0.01
    errors = decode_errors(video)
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
