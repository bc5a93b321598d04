"""The edit as an OpenTimelineIO timeline, written as .otio, Final Cut Pro XML and CMX 3600 EDL,
so the cut can be finished in DaVinci Resolve, Premiere or Final Cut."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio


@dataclass(frozen=True)
class TimelineClip:
    name: str
    url: str  # where the media is: a file path or URL the editor can open
    frames: int  # on the timeline
    handle: int = 0  # frames of media past the cut, which a transition into the next clip uses


def _ref(url: str, frames: int, fps: int) -> otio.schema.ExternalReference:
    target = Path(url).resolve().as_uri() if "://" not in url else url
    return otio.schema.ExternalReference(
        target_url=target, available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, fps),
                                                                    otio.opentime.RationalTime(frames, fps)))


def build_timeline(name: str, fps: int, shots: list[TimelineClip], voice: list[TimelineClip | None],
                   subtitles: list[tuple[int, int, str]] | None = None,
                   joins: list[tuple[str, int]] | None = None) -> otio.schema.Timeline:
    """One video track of the shot clips with their transitions (joins[i]: how shot i gives way to
    the next, and for how many frames), one audio track of each shot's narration (a gap where a
    shot has none), and subtitle cues as markers (start frame, frames, text).

    A transition starts at the cut and runs into the next shot, using the outgoing clip's handle,
    as the composer plays it."""
    timeline = otio.schema.Timeline(name=name, global_start_time=otio.opentime.RationalTime(0, fps))
    video = otio.schema.Track(name="Shots", kind=otio.schema.TrackKind.Video)
    audio = otio.schema.Track(name="Narration", kind=otio.schema.TrackKind.Audio)
    joins = joins or []
    for i, (shot, line) in enumerate(zip(shots, voice)):
        span = otio.opentime.TimeRange(otio.opentime.RationalTime(0, fps), otio.opentime.RationalTime(shot.frames, fps))
        video.append(otio.schema.Clip(name=shot.name, media_reference=_ref(shot.url, shot.frames + shot.handle, fps),
                                      source_range=span))
        kind, frames = joins[i] if i < len(joins) else ("cut", 0)
        if kind != "cut" and frames > 0:
            video.append(otio.schema.Transition(
                name=kind, in_offset=otio.opentime.RationalTime(0, fps),
                out_offset=otio.opentime.RationalTime(frames, fps),
                # Editors know the dissolve by name; other kinds travel as custom, named transitions.
                transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve if kind == "crossfade"
                else otio.schema.TransitionTypes.Custom))
        if line is None:
            audio.append(otio.schema.Gap(source_range=span))
        else:
            audio.append(otio.schema.Clip(name=line.name, media_reference=_ref(line.url, line.frames, fps),
                                          source_range=span))
    for start, frames, text in subtitles or []:
        video.markers.append(otio.schema.Marker(name=text, marked_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(start, fps), otio.opentime.RationalTime(max(1, frames), fps))))
    timeline.tracks.append(video)
    timeline.tracks.append(audio)
    return timeline


def write_exports(timeline: otio.schema.Timeline, stem: Path) -> dict[str, Path]:
    """stem.otio, stem.xml (Final Cut Pro 7 XML: Premiere, Resolve) and stem.edl (CMX 3600: the
    picture track only, which is what EDL carries; it knows every transition as a dissolve)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = {"otio": stem.with_suffix(".otio"), "fcp_xml": stem.with_suffix(".xml"), "edl": stem.with_suffix(".edl")}
    otio.adapters.write_to_file(timeline, str(out["otio"]))
    otio.adapters.write_to_file(timeline, str(out["fcp_xml"]), adapter_name="fcp_xml")
    picture = otio.schema.Timeline(name=timeline.name, global_start_time=timeline.global_start_time)
    picture.tracks.append(timeline.video_tracks()[0].clone())
    for marker in list(picture.tracks[0].markers):
        picture.tracks[0].markers.remove(marker)
    otio.adapters.write_to_file(picture, str(out["edl"]), adapter_name="cmx_3600")
    return out
