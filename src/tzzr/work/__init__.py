"""The durable-work core that runs, executions and jobs use: claim under a lease and
finish once (leases), one heartbeat thread per process (heartbeat), retry back-off
(retry), per-item time limits (timelimit), the one way a cell is invoked (invoke) and
the periodic scheduler that runs each named job once per deployment (scheduler)."""
