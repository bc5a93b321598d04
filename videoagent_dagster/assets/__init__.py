"""One asset per stage of the pipeline; every asset is partitioned by video task."""

from .brief import video_brief
from .clips import shot_clips
from .export import editor_export
from .final import final_video
from .frames import first_frames
from .narration import narration
from .script import script
from .storyboard import storyboard
from .style import style_profile

ALL_ASSETS = [video_brief, style_profile, script, storyboard, first_frames, shot_clips, narration, final_video,
              editor_export]
