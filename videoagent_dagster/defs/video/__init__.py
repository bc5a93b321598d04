"""One asset per stage of the pipeline; every asset is partitioned by video task."""

from videoagent_dagster.defs.video.brief import video_brief
from videoagent_dagster.defs.video.cast import cast, reference_sheets
from videoagent_dagster.defs.video.clips import shot_clips
from videoagent_dagster.defs.video.export import editor_export
from videoagent_dagster.defs.video.final import final_video
from videoagent_dagster.defs.video.frames import first_frames
from videoagent_dagster.defs.video.narration import narration
from videoagent_dagster.defs.video.script import script
from videoagent_dagster.defs.video.storyboard import storyboard
from videoagent_dagster.defs.video.style import style_profile

ALL_ASSETS = [video_brief, style_profile, script, cast, storyboard, reference_sheets, first_frames, shot_clips, narration, final_video,
              editor_export]
