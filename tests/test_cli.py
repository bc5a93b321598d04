import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from videoagent_dagster.cli import main
from videoagent_dagster.media.probe import probe

TINY = ["--duration", "6", "--resolution", "180p", "--shots", "3"]


def test_make_prints_progress_and_the_video(workdir):
    # The real console script, as a user runs it.
    out = subprocess.run([sys.executable, "-m", "videoagent_dagster.cli", "make",
                          "A documentary about wildlife in Africa", *TINY, "--out", "wildlife.mp4"],
                         capture_output=True, text=True, cwd=workdir, timeout=300,
                         env={k: v for k, v in os.environ.items() if not k.startswith(("VIDEOAGENT_", "DAGSTER_"))})
    assert out.returncode == 0, out.stderr
    for line in ("▸ first_frames", "first frames 3/3", "shot clips 3/3", "✓ final_video", "3 shots, style documentary",
                 "wall time"):
        assert line in out.stdout, line
    video = workdir / "wildlife.mp4"
    assert str(video) in out.stdout and abs(probe(video)["duration"] - 6) < 0.1
    # The run is on the local instance that `videoagent ui` / `dagster dev` open.
    os.environ["DAGSTER_HOME"] = str(workdir / ".dagster_home")
    try:
        with dg.DagsterInstance.get() as instance:
            runs = instance.get_runs()
            assert len(runs) == 1 and runs[0].is_success and runs[0].job_name == "make_video"
            assert instance.get_dynamic_partitions("video_tasks") == [runs[0].tags["dagster/partition"]]
    finally:
        del os.environ["DAGSTER_HOME"]


def test_bad_brief_exits_2_and_writes_nothing(workdir, capsys):
    assert main(["make", "", "--duration", "2", "--aspect", "4:3"]) == 2
    err = capsys.readouterr().err
    assert "topic: is blank" in err and "options.duration: 2.0" in err and "options.aspect: '4:3'" in err
    assert not (workdir / "storage").exists()


def test_make_with_music_file_soft_subtitles_and_cuts(workdir, capsys):
    track = workdir / "bed.flac"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=2", str(track)],
                   check=True)
    assert main(["make", "Harbour lights at dusk", "--duration", "5", "--resolution", "180p", "--shots", "2",
                 "--transition", "cut", "--subtitles", "soft", "--music", str(track), "--out", "v.mp4",
                 "--quiet"]) == 0
    assert "added bed.flac to the music library" in capsys.readouterr().err
    assert (workdir / "storage" / "music" / "bed.flac").read_bytes() == track.read_bytes()
    facts = probe(workdir / "v.mp4")
    assert facts["audio"]["channels"] == 2 and abs(facts["duration"] - 5) < 0.1
    kinds = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
                            str(workdir / "v.mp4")], capture_output=True, text=True, check=True).stdout.split()
    assert kinds == ["video", "audio", "subtitle"]


def test_bad_composition_options_exit_2_and_copy_nothing(workdir, capsys):
    track = workdir / "bed.flac"
    track.write_bytes(b"x")
    assert main(["make", "Harbour lights", "--transition", "spin", "--subtitles", "loud", "--music", str(track)]) == 2
    err = capsys.readouterr().err
    assert "options.transition: 'spin'" in err and "crossfade" in err and "options.subtitles: 'loud'" in err
    assert not (workdir / "storage").exists()


def test_failure_names_asset_and_shot_then_resume_redoes_only_that(workdir, capsys, flaky_camera):
    flaky_camera.FAIL_SHOTS.add("shot_002")
    assert main(["make", "Trains of the Alps", *TINY]) == 1
    err = capsys.readouterr().err
    assert "shot_clips" in err and "shot 2: " in err and "injected fault" in err
    task = re.search(r"videoagent resume (\S+)", err).group(1)
    flaky_camera.FAIL_SHOTS.clear()
    flaky_camera.CALLS.clear()
    assert main(["resume", task, "--quiet"]) == 0
    assert flaky_camera.CALLS == ["shot_002"]
    printed = capsys.readouterr().out.strip()
    assert Path(printed).exists() and printed.endswith(f"{task}.mp4")
    assert main(["resume", "no-such-task"]) == 2


HEAVY = ("dagster", "dagster_graphql", "gql", "requests", "pandas")


def test_the_remote_commands_import_nothing_heavy():
    """`videoagent status|list|submit|cancel|retry` and the client are plain GraphQL over httpx: they
    start without importing Dagster, its GraphQL client or pandas (seconds of startup otherwise)."""
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    script = f"""
import contextlib, io, json, sys
import videoagent_dagster.client
from videoagent_dagster.cli import main
codes = []
for argv in (["status", "--help"], ["status", "t"], ["list"], ["submit", "Sea otters", "--duration", "5"],
             ["cancel", "t"], ["retry", "t"]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            codes.append(main([*argv, "--url", {dead!r}]))
        except SystemExit as e:  # --help
            codes.append(e.code)
print(json.dumps({{"codes": codes, "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDEOAGENT_", "DAGSTER_"))}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["codes"] == [0, 2, 2, 2, 2, 2]  # every command ran (and found no webserver)
    assert seen["heavy"] == []


def test_ui_runs_dagster_dev_quietly_on_the_instance_in_dagster_home(workdir, monkeypatch):
    import tomllib

    from videoagent_dagster.cli import LOCATION, dev_command, ensure_dagster_home

    # The instance's config is written into DAGSTER_HOME, whatever dagster.yaml the folder has.
    (workdir / "dagster.yaml").write_text("run_storage: {}\n")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = ensure_dagster_home()
    assert home == (workdir / ".dagster_home").resolve()
    config = (home / "dagster.yaml").read_text()
    assert "run_storage" not in config and "python_log_level: INFO" in config
    argv = dev_command("/bin/dagster", 3001, home)
    assert argv[:2] == ["/bin/dagster", "dev"] and argv[argv.index("-p") + 1] == "3001"
    assert argv[argv.index("--log-level") + 1] == "warning"
    assert argv[argv.index("--code-server-log-level") + 1] == "warning"
    workspace = Path(argv[argv.index("-w") + 1])
    assert workspace.parent == home and f"location_name: {LOCATION}" in workspace.read_text()
    # ...the name the project gives its code location (else Dagster warns of the mismatch).
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert project["tool"]["dg"]["project"]["code_location_name"] == LOCATION


def test_ui_prints_a_runs_progress_and_nothing_routine(workdir):
    """`videoagent ui` as a user runs it: no warnings about its own setup, no line per sensor tick
    or daemon loop, no DEBUG event log of the runs; a run's progress lines do show."""
    from videoagent_dagster.client import VideoagentClient

    from .services import start_group, stop_groups
    from .test_deployment import free_port, wait_for

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDEOAGENT_", "DAGSTER_"))}
    env["PYTHONPATH"] = str(Path(__file__).parents[1])
    log = workdir / "ui.log"
    proc = start_group([str(Path(sys.executable).parent / "videoagent"), "ui", "--port", str(port)],
                       cwd=workdir, env=env, log=log)
    try:
        client = VideoagentClient(f"http://127.0.0.1:{port}")

        def up():
            assert proc.poll() is None, log.read_text()
            try:
                return client._repository()
            except Exception:  # noqa: BLE001 - not up yet
                return None

        assert wait_for(up, 120, "videoagent ui", interval=0.5)["repositoryLocationName"] == "videoagent"
        task, _ = client.submit({"topic": "Owls at night", "options": {"duration": 5, "resolution": "180p",
                                                                         "shots": 2}})
        wait_for(lambda: client.status(task).status in ("completed", "failed"), 120, "the run")
        assert client.status(task).status == "completed"
        time.sleep(6)  # at least one more tick of every sensor
        # what it printed while it ran (stopping it, Dagster's processes may say they are stopping)
        lines = log.read_text().splitlines()
    finally:
        stop_groups([proc])
    assert lines[0].startswith(f"videoagent: Dagster UI on http://127.0.0.1:{port}"), lines
    rest = lines[1:]
    assert any("shot clips 2/2" in line for line in rest), rest
    assert all(" - INFO - make_video - " in line for line in rest), "\n".join(rest)


def test_a_url_that_is_not_the_dagster_webserver_says_so(httpserver, capsys):
    httpserver.expect_request("/graphql", method="POST").respond_with_data("<html>nginx</html>", status=404)
    url = httpserver.url_for("/").rstrip("/")
    assert main(["status", "some-task", "--url", url]) == 1
    err = capsys.readouterr().err
    assert err == f"videoagent: {url} answered HTTP 404, not GraphQL: is --url (or $VIDEOAGENT_URL) the Dagster webserver?\n"
