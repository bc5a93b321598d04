"""The video_tasks dynamic partitions: one partition per video task."""

import dagster as dg

from videoagent_dagster.domain.keys import TASK_PARTITIONS

video_tasks = dg.DynamicPartitionsDefinition(name=TASK_PARTITIONS)
