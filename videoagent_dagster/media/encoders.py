"""Which H.264 encoder to use: a hardware one when this machine has one that works, else libx264."""

from __future__ import annotations

import functools
import glob
import os
import re
import sys

from videoagent_dagster.media.run import MediaToolError, run

SOFTWARE = "libx264"
# Hardware encoders that take ordinary (software) frames, most common first. VAAPI is left out:
# it needs frames uploaded to the GPU (hwupload) and a device path, which this pipeline does not set up.
HARDWARE = ("h264_nvenc", "h264_qsv", "h264_videotoolbox", "h264_amf")


@functools.cache
def listed_encoders() -> frozenset[str]:
    """The H.264 encoders this ffmpeg was built with (listed is not the same as usable)."""
    out = run(["ffmpeg", "-hide_banner", "-encoders"], "listing encoders").stdout.decode(errors="replace")
    return frozenset(re.findall(r"^\s*V\S*\s+(\S+)\s.*\(codec h264\)", out, re.MULTILINE))


@functools.cache
def encoder_failure(name: str) -> str:
    """Why `name` cannot encode here ('' when it can): a listed hardware encoder fails to open
    on a machine without the device or driver, which only a real encode shows."""
    if name not in listed_encoders():
        return f"{name} is not in this ffmpeg build (it has: {', '.join(sorted(listed_encoders())) or 'none'})"
    try:
        proc = run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-f", "lavfi",
                    "-i", "testsrc2=s=256x144:r=25:d=0.4", *encoder_args(name, preset="veryfast", crf=23, fps=25),
                    "-f", "null", "-"], f"test-encoding with {name}", timeout=30, check=False)
    except MediaToolError:  # only a timeout raises when not checking
        return f"{name} did not finish a 10-frame test encode in 30 s"
    if proc.returncode != 0:
        return f"{name} failed a test encode: " + " | ".join(proc.stderr.decode(errors="replace").strip().splitlines()[-2:])
    return ""


def device_missing(name: str) -> str:
    """Why `name` cannot have its device here, seen without starting ffmpeg ('' when it may): on
    Linux NVENC needs the NVIDIA driver's device nodes and QSV/AMF a DRM render node; VideoToolbox
    exists only on macOS. Elsewhere (Windows) only a test encode tells."""
    if name == "h264_videotoolbox" and sys.platform != "darwin":
        return "VideoToolbox is macOS only"
    if sys.platform.startswith("linux"):
        if name == "h264_nvenc" and not os.path.exists("/dev/nvidiactl"):
            return "no NVIDIA device (/dev/nvidiactl)"
        if name in ("h264_qsv", "h264_amf") and not glob.glob("/dev/dri/renderD*"):
            return "no GPU render node (/dev/dri/renderD*)"
    return ""


def pick_h264_encoder(preference: str = "auto") -> str:
    """The encoder to use. `auto` takes the first hardware
    encoder whose device is present and that passes a test encode, else libx264. A named encoder that cannot run is an error."""
    if preference == "auto":
        return next((h for h in HARDWARE if h in listed_encoders() and not device_missing(h)
                     and not encoder_failure(h)), SOFTWARE)
    failure = encoder_failure(preference) if preference != SOFTWARE else ""
    if preference not in (SOFTWARE, *HARDWARE):
        failure = f"{preference} is not a supported H.264 encoder; use auto, {SOFTWARE} or one of {', '.join(HARDWARE)}"
    if failure:
        raise MediaToolError(f"H.264 encoder: {failure}")
    return preference


def encoder_args(name: str, *, preset: str, crf: int, fps: int) -> list[str]:
    """Output options for `name` at about the quality libx264 gives at `crf` with `preset`."""
    gop = ["-g", str(fps * 2)]
    if name == SOFTWARE:
        return ["-c:v", name, "-preset", preset, "-crf", str(crf), *gop]
    if name == "h264_nvenc":
        return ["-c:v", name, "-preset", "p4", "-rc", "vbr", "-cq", str(crf + 2), "-b:v", "0", *gop]
    if name == "h264_qsv":
        return ["-c:v", name, "-preset", "veryfast", "-global_quality", str(crf + 2), *gop]
    if name == "h264_videotoolbox":
        return ["-c:v", name, "-q:v", str(max(1, min(100, 100 - 2 * crf))), *gop]
    if name == "h264_amf":
        return ["-c:v", name, "-quality", "speed", "-rc", "cqp", "-qp_i", str(crf), "-qp_p", str(crf + 2), *gop]
    raise MediaToolError(f"H.264 encoder: no settings for {name}")
