"""Jobs: one asset job that makes a whole video for a task."""

import dagster as dg

from .assets import ALL_ASSETS

make_video = dg.define_asset_job(
    "make_video",
    selection=dg.AssetSelection.assets(*ALL_ASSETS),
    description="Make one video: brief → style → script → storyboard → frames → clips + narration → final cut.",
)
