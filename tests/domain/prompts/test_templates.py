"""The stages' prompts are template files, overridable from a folder, and a template's digest is
its stage's code version: editing one makes exactly the stages it feeds stale."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from videoagent_dagster.domain.brief import validate_brief
from videoagent_dagster.domain.manifests import CastMember, Script, Shot, StyleProfile
from videoagent_dagster.domain.prompts import (
    STAGE_TEMPLATES,
    TEMPLATES,
    PromptTemplateError,
    cast_prompt,
    image_prompt,
    judge_prompt,
    reference_prompt,
    script_prompt,
    storyboard_prompt,
    style_prompt,
    template_version,
    video_prompt,
)
from videoagent_dagster.domain.styles import CATALOGUE

ROOT = Path(__file__).resolve().parents[3]
STYLE = StyleProfile(name="nature", tags=["x"], visual_style="lush natural light", mood="calm",
                     palette=["#112233", "#445566"], lighting="golden hour", source="user", reasoning="r")
SCRIPT = Script(title="T", synopsis="S", text="x", scenes=[{"title": "a", "description": "d", "narration": "n",
                                                              "duration": 5}])
SHOTS = [Shot(scene=0, title=f"s{i}", description=f"A heron {w} in the reeds.", narration="n",
              camera_movement=m, shot_type=t, duration=2.5, composition="rule of thirds", lighting="dawn mist",
              palette=["#102030", "#a0b0c0"], cast=["heron"]) for i, (w, m, t) in
         enumerate([("stands", "static", "establishing"), ("takes off", "tracking", "close_up")])]
HERON = CastMember(id="heron", kind="character", name="The grey heron",
                   description="A tall grey heron with a black crest and a yellow bill.", colours=["#8d99ae"])


@pytest.mark.parametrize("topic,language", [("Herons at dawn", "en"), ("清晨的苍鹭", "zh"), ("夜明けのサギ", "ja")])
def test_every_stage_prompt_is_filled_in_and_says_what_the_design_asks(topic, language):
    brief = validate_brief({"topic": topic, "options": {"duration": 5, "language": language}}, "t")
    prompts = {"style": style_prompt(brief), "script": script_prompt(brief, STYLE),
               "cast": cast_prompt(brief, STYLE, SCRIPT), "storyboard": storyboard_prompt(brief, STYLE, SCRIPT, 2,
                                                                                          cast=[HERON]),
               "reference": reference_prompt(HERON, STYLE),
               "image": image_prompt(SHOTS[1], STYLE, SHOTS[0], cast=[HERON]),
               "video": video_prompt(SHOTS[1], STYLE, SHOTS[0], cast=[HERON]),
               "judge": judge_prompt(SHOTS[1], STYLE, [HERON])}
    assert set(prompts) == set(STAGE_TEMPLATES)
    for name, text in prompts.items():
        assert "$" not in text, (name, text)
    assert all(f"- {s}:" in prompts["style"] for s in CATALOGUE) and f"Topic: {topic}" in prompts["style"]
    assert "title" in prompts["script"] and "synopsis" in prompts["script"] and "close with" in prompts["script"]
    assert "continuity" in prompts["storyboard"] and "Vary the shot types" in prompts["storyboard"]
    # the image vendor hears the shot type, the camera, the palette and what the shot before showed
    image = prompts["image"]
    assert all(w in image for w in ("close up", "tracking", "#102030", "lush natural light",
                                    "previous shot, \u201cs0\u201d, showed The grey heron"))
    assert "tracking shot following the subject" in prompts["video"]  # the vendors' own words for it
    # the cast: asked for with fixed looks; the storyboard hears ids and names only (a revised look
    # does not re-plan the shots); the image and video prompts repeat the look word for word
    assert "characters, places and props" in prompts["cast"] and "word for word" in prompts["cast"]
    assert "- heron: The grey heron (character)" in prompts["storyboard"]
    assert HERON.description not in prompts["storyboard"]
    assert all(HERON.description.rstrip(".") in prompts[k] for k in ("image", "video", "reference", "judge"))
    assert "0 to 10" in prompts["judge"] and "reference image" in prompts["judge"]
    assert "first shot" in image_prompt(SHOTS[0], STYLE, None)


def test_a_folder_of_ones_own_overrides_a_template_and_a_bad_one_says_why(tmp_path):
    brief = validate_brief({"topic": "Herons at dawn", "options": {"duration": 5}}, "t")
    (tmp_path / "storyboard.txt").write_text("Cut $duration seconds of $style_name into $shots shots.\n")
    assert storyboard_prompt(brief, STYLE, SCRIPT, 2, str(tmp_path)) == "Cut 5 seconds of nature into 2 shots.\n"
    assert script_prompt(brief, STYLE, str(tmp_path)) == script_prompt(brief, STYLE)  # the rest: the package's
    (tmp_path / "script.zh.txt").write_text("为 $topic 写 $duration 秒的脚本。")
    zh = validate_brief({"topic": "清晨的苍鹭", "options": {"duration": 5}}, "t")
    assert script_prompt(zh, STYLE, str(tmp_path)) == "为 清晨的苍鹭 写 5 秒的脚本。\n"  # by language
    (tmp_path / "image.txt").write_text("$description in $weather")
    with pytest.raises(PromptTemplateError, match=r"asks for 'weather'.*\$description"):
        image_prompt(SHOTS[0], STYLE, None, str(tmp_path))
    assert template_version("storyboard", str(tmp_path)) != template_version("storyboard")
    assert template_version("video", str(tmp_path)) == template_version("video")
    assert sorted(p.stem for p in TEMPLATES.glob("*.txt")) == sorted(STAGE_TEMPLATES)


STALENESS = """
import json, sys
import dagster as dg
from dagster._core.definitions.data_version import CachingStaleStatusResolver
from dagster._core.instance.ref import InstanceRef
from dagster._core.loader import LoadingContextForTest
from videoagent_dagster.definitions import defs
graph = defs().resolve_asset_graph()
with dg.DagsterInstance.from_ref(InstanceRef.from_dir(sys.argv[1])) as instance:
    resolver = CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance))
    print(json.dumps({k.to_user_string(): resolver.get_status(k, sys.argv[2]).value
                      for k in graph.materializable_asset_keys}))
"""


def test_editing_a_template_makes_exactly_the_stages_it_feeds_stale(store, instance, workdir, tmp_path):
    """A task made; then the code location loads (a new process, as `dagster dev` reloads it) with a
    storyboard template of one's own: the storyboard is stale, the style and the script are not; with
    the package's templates again (an override folder without that file), nothing is."""
    from tests.defs.video.helpers import materialize, submit

    task = submit(store, instance, "Herons at dawn", duration=5, resolution="180p", shots=2)
    assert materialize(instance, task).success
    home = str(workdir / "dagster_home")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("VIDEOAGENT_PROMPTS")}

    def statuses(**extra):
        out = subprocess.run([sys.executable, "-c", STALENESS, home, task], capture_output=True, text=True,
                             env={**env, **extra}, cwd=ROOT, timeout=120)
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout.strip().splitlines()[-1])

    assert set(statuses().values()) == {"FRESH"}
    (tmp_path / "storyboard.txt").write_text((TEMPLATES / "storyboard.txt").read_text() + "Prefer close-ups.\n")
    now = statuses(VIDEOAGENT_PROMPTS=str(tmp_path))
    assert now["video_brief"] == now["style_profile"] == now["script"] == "FRESH"
    assert now["storyboard"] == "STALE"  # its code version changed
    # What is made from it turns stale once the storyboard is made again and changes (Dagster's data
    # versions), not before: a re-made storyboard that came out the same leaves the rest as it is.
    assert {now[k] for k in ("first_frames", "shot_clips", "narration", "final_video")} == {"FRESH"}
    assert set(statuses(VIDEOAGENT_PROMPTS=str(tmp_path / "empty")).values()) == {"FRESH"}
