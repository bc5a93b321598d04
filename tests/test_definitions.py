import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_definitions_load_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code = ("import dagster as dg; from videoagent_dagster.definitions import build_defs; defs = build_defs(); "
                "dg.Definitions.validate_loadable(defs); "
                "job = defs.resolve_job_def('make_video'); print(sorted(n.name for n in job.graph.node_defs))")
        out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    for asset in ("video_brief", "style_profile", "script", "storyboard", "first_frames", "shot_clips",
                  "narration", "final_video"):
        assert asset in out.stdout


def test_every_asset_is_partitioned_by_video_tasks_and_checks_exist():
    from videoagent_dagster.definitions import build_defs

    defs = build_defs()

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {"video_brief", "style_profile", "script", "cast", "storyboard", "reference_sheets",
                    "first_frames", "shot_clips",
                    "narration", "final_video", "editor_export"}
    for key in graph.get_all_asset_keys():
        assert graph.get(key).partitions_def.name == "video_tasks"
    checks = {f"{c.asset_key.to_user_string()}.{c.name}" for c in graph.asset_check_keys}
    assert {"storyboard.duration_matches_brief", "final_video.decodes_cleanly", "final_video.audio_present",
            "final_video.format_as_requested"} <= checks


def test_dg_check_and_list_defs():
    dg_cli = shutil.which("dg", path=str(Path(sys.executable).parent)) or shutil.which("dg")
    assert dg_cli, "dagster-dg-cli is part of the dev extras"
    out = subprocess.run([dg_cli, "check", "defs"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    listed = subprocess.run([dg_cli, "list", "defs", "--json"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert listed.returncode == 0, listed.stderr
    found = json.loads(listed.stdout)
    assert {a["asset_key"] for a in found["assets"]} >= {"video_brief", "final_video", "editor_export"}
    assert {s["name"] for s in found["sensors"]} == {"intake_sensor", "webhook_on_success", "webhook_on_failure",
                                                     "vendor_jobs_on_cancel", "vendor_jobs_on_timeout"}
    assert sorted(s["name"] for s in found["schedules"]) == ["batch_schedule", "retention_schedule"]
    assert sorted(j["name"] for j in found["jobs"]) == ["make_video", "retention"]


def test_what_the_ui_materialises_runs_on_the_same_executor_as_make_video():
    """Assets launched from the asset graph (a partition, one failed asset) run in the implicit asset
    job: it must not fall back to Dagster's default of a process per step."""
    from videoagent_dagster.definitions import build_defs

    defs = build_defs()

    assert defs.resolve_job_def("make_video").executor_def.name == "threaded"
    assert defs.resolve_implicit_global_asset_job_def().executor_def.name == "threaded"
