"""The one way media runs its tools: errors say what was being done and what the tool said."""

import pytest

from videoagent_dagster.media.run import (
    Command,
    MediaToolError,
    ffmpeg,
    require_tool,
    run,
)


def test_a_failing_tool_raises_with_the_tail_of_its_stderr(tmp_path):
    with pytest.raises(MediaToolError, match=r"reading nothing: ffmpeg exited with \d+: .*missing\.wav"):
        ffmpeg(["-i", str(tmp_path / "missing.wav"), "-f", "null", "-"], "reading nothing")
    proc = run(["ffprobe", "-v", "error", str(tmp_path / "missing.wav")], "probing", check=False)
    assert proc.returncode != 0 and b"missing.wav" in proc.stderr  # unchecked: the caller reads it


def test_a_missing_tool_says_how_to_install_it():
    with pytest.raises(MediaToolError, match="not-a-tool is not installed.*apt-get install"):
        require_tool("not-a-tool")


def test_a_command_names_its_inputs_by_handle(tmp_path):
    cmd = Command()
    tone = cmd.input("sine=frequency=440:duration=0.5", "-f", "lavfi")
    hush = cmd.input("anullsrc=r=48000:cl=mono", "-f", "lavfi")
    assert (tone.index, hush.index, hush.a, tone.v, hush.stream("a:0")) == (0, 1, "[1:a]", "[0:v]", "1:a:0")
    out = tmp_path / "mix.wav"
    cmd.output("-filter_complex", f"{hush.a}atrim=duration=0.5[h];{tone.a}[h]amix=inputs=2[out]", "-map", "[out]",
               str(out))
    assert cmd.args[:4] == ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.5"]
    cmd.run("mixing a tone")
    assert out.stat().st_size > 1000
