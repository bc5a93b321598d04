"""The videoagent code location: the defs folder (videoagent_dagster/defs), assembled by Dagster's
own loader. Importing this module builds nothing: the definitions are made when Dagster loads
the code location (or build_defs is called)."""

from pathlib import Path

import dagster as dg


def build_defs() -> dg.Definitions:
    """The definitions as the settings are now."""
    package = Path(__file__).parent
    if not (package.parent / "pyproject.toml").is_file():
        # Dagster finds the defs folder through pyproject.toml's [tool.dg], next to the package.
        raise RuntimeError(f"{package} has no pyproject.toml beside it: install videoagent from its checkout "
                           "with `pip install -e .` (or run from the checkout) so its definitions can load")
    return dg.load_from_defs_folder(path_within_project=package)


@dg.definitions
def defs() -> dg.Definitions:
    return build_defs()
