"""ALFRED: declarative flows (a trigger, cell steps, a decision) and their durable
executions; the decision sends an entry to FELDMAN (OK) or to MASON (incident)."""
