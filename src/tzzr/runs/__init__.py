"""Cell runs: submitted over HTTP, queued on huey, executed by workers under a lease."""
