"""The videoagent code location: the defs folder (videoagent_dagster/defs), assembled by Dagster's
own loader. Importing this module builds nothing: the definitions are made when Dagster loads
the code location (or build_defs is called)."""

from pathlib import Path

import dagster as dg


def build_defs() -> dg.Definitions:
    """The definitions as the settings are now."""
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)


@dg.definitions
def defs() -> dg.Definitions:
    return build_defs()
