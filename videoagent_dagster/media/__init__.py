"""Pure functions over media files, testable without Dagster: callers pass every value (no
settings are read here). run starts the tools; probe and detect look at files; picture, audio and
compose make the final cut; subtitles, frames, motion, speech, timeline, encoders, quality and
verify each do what their docstring says."""
