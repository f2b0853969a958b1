"""Observability: Prometheus metrics, structured logs with request and activity ids,
health and readiness."""
