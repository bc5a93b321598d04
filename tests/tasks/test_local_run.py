"""The local run loads the code location once for the settings as they are, as a run worker does."""

from videoagent_dagster.tasks.local_run import make_video_job


def test_the_job_is_built_once_per_settings_and_again_when_they_change(monkeypatch, tmp_path):
    monkeypatch.setenv("VIDEOAGENT_STORAGE", str(tmp_path / "one"))
    first = make_video_job()
    assert make_video_job() is first  # Dagster resolves it three times a run: built once
    monkeypatch.setenv("VIDEOAGENT_STORAGE", str(tmp_path / "two"))
    assert make_video_job() is not first  # built again for the new settings
    monkeypatch.setenv("VIDEOAGENT_STORAGE", str(tmp_path / "one"))
    assert make_video_job() is first
