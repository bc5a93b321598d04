"""Manifests are stored as JSON beside the media, one file per asset and task."""

from __future__ import annotations

import dagster as dg
from pydantic import BaseModel

from videoagent_dagster.domain.keys import manifest_key
from videoagent_dagster.domain.manifests import MANIFEST_MODELS
from videoagent_dagster.storage.media_store import MediaStore


class ManifestIOManager(dg.IOManager):
    """Readable, inspectable JSON in the media store instead of pickles: a person (or another
    process, on another machine) can open `tasks/{task}/manifests/storyboard.json`."""

    def __init__(self, store: MediaStore):
        self.store = store

    def handle_output(self, context: dg.OutputContext, obj: BaseModel) -> None:
        self.store.write_bytes(manifest_key(context.asset_partition_key, context.asset_key.path[-1]),
                               obj.model_dump_json(indent=1).encode("utf-8"))

    def load_input(self, context: dg.InputContext) -> BaseModel:
        asset = context.asset_key.path[-1]
        key = manifest_key(context.asset_partition_key, asset)
        if not self.store.exists(key):
            raise dg.Failure(f"{asset} has not been materialised for task {context.asset_partition_key}: "
                             f"materialise it first (missing {self.store.uri(key)})")
        return MANIFEST_MODELS[asset].model_validate_json(self.store.read_bytes(key))


@dg.io_manager(required_resource_keys={"media_store"},
               description="Stores each asset's manifest as JSON in the media store.")
def manifest_io_manager(init_context: dg.InitResourceContext) -> ManifestIOManager:
    # Takes the media store as a resource key rather than a nested resource, so both share one
    # configuration.
    return ManifestIOManager(init_context.resources.media_store)
