"""Time on a video's frame grid: every duration that becomes frames is rounded here, so clip
lengths, narration offsets, subtitles and the timeline agree exactly."""


def frame_count(seconds: float, fps: float) -> int:
    """Whole frames for a duration: the nearest count, at least one."""
    return max(1, round(seconds * fps))
