"""The REST gateway: the original design's /api/v1 in front of Dagster, with API keys, signed
links, WebSocket progress and a page for creators. A front end like the CLI: it calls the task
operations and reads Dagster over GraphQL, never the assets' internals."""
