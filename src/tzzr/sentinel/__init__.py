"""SENTINEL: structured events from every service, alert rules with ntfy delivery,
Prometheus metrics and JSON logs."""
