"""Telemetry: what an operator watches (docs/operating.md, "Operating").

- `logs`: one request id per web request, carried into the Celery tasks it
  queues, on every log line; plain text or JSON lines (LOG_FORMAT).
- `metrics`: Prometheus metrics, shared between the processes of one host
  through PROMETHEUS_MULTIPROC_DIR, served at /metrics to a bearer token.
- `sentry`: errors to Sentry when SENTRY_DSN is set.

Importing this package loads nothing: pmd_project.celery imports parts of it
before Django is set up.
"""
