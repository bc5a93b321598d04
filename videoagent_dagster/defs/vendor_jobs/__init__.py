"""Stopping a task's vendor jobs when its run is cancelled or runs out of time."""
