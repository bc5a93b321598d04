"""Running the media tools: the one way this package starts ffmpeg, ffprobe or espeak-ng (errors
as MediaToolError), and ffmpeg command lines whose inputs are named by handle, not counted."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


class MediaToolError(RuntimeError):
    """ffmpeg, ffprobe or espeak-ng failed; the message ends with the tail of its stderr."""


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise MediaToolError(
            f"{name} is not installed or not on PATH; install it (Debian/Ubuntu: "
            f"apt-get install -y ffmpeg espeak-ng fonts-noto-cjk)"
        )
    return path


def run(cmd: list[str], what: str, timeout: float | None = 600, cwd: Path | None = None, *,
        check: bool = True, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run a tool (`cmd[0]` looked up on PATH), its output captured. A non-zero exit raises
    MediaToolError unless `check` is False (then the caller reads returncode and stderr); running
    past `timeout` always raises."""
    exe = require_tool(cmd[0])
    try:
        proc = subprocess.run([exe, *cmd[1:]], check=False, capture_output=True, timeout=timeout, cwd=cwd, input=stdin)
    except subprocess.TimeoutExpired as e:
        raise MediaToolError(f"{what}: {cmd[0]} took longer than {timeout:g} s") from e
    if check and proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-8:]
        raise MediaToolError(f"{what}: {cmd[0]} exited with {proc.returncode}: " + " | ".join(tail))
    return proc


def ffmpeg(args: list[str], what: str, timeout: float | None = 600, cwd: Path | None = None) -> None:
    """ffmpeg quiet but for errors, overwriting its output."""
    run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], what, timeout, cwd)


@dataclass(frozen=True)
class Input:
    """An input of a Command, by handle: `.v` / `.a` are its first video / audio pads in a filter
    graph ("[2:a]"), `.stream("a:0")` its stream for -map ("2:a:0")."""

    index: int

    @property
    def v(self) -> str:
        return f"[{self.index}:v]"

    @property
    def a(self) -> str:
        return f"[{self.index}:a]"

    def stream(self, spec: str) -> str:
        return f"{self.index}:{spec}"


class Command:
    """An ffmpeg command line built input by input: `input()` adds one and returns its handle, so
    filter graphs and -map refer to inputs by handle and no index is ever counted by hand."""

    def __init__(self) -> None:
        self._inputs: list[str] = []
        self._outputs: list[str] = []
        self._count = 0

    def input(self, path: str | Path, *options: str) -> Input:
        """Add `path`, read with `options` (those that go before its -i: -f concat, -stream_loop...)."""
        self._inputs += [*options, "-i", str(path)]
        self._count += 1
        return Input(self._count - 1)

    def output(self, *args: str) -> None:
        """Add output options (maps, filters, codecs; the output file last of all)."""
        self._outputs += args

    @property
    def args(self) -> list[str]:
        return [*self._inputs, *self._outputs]

    def run(self, what: str, timeout: float | None = 600, cwd: Path | None = None) -> None:
        ffmpeg(self.args, what, timeout, cwd)
