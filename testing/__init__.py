"""What tests and benchmarks share: real processes and services to run the
project against (live: uvicorn; worker: Celery and SMTP; objectstore: moto's
S3 server; sse: a Server-Sent Events client; services: what is required and
how a missing one is reported), the `make chaos` report, and the factories
that make users and posts. `tests/` and `bench/` import from here; nothing
here imports from either."""
