"""The worker's own /metrics, for a worker on a host with no web process.

Started in the worker's main process (PMD_WORKER_METRICS_LISTEN), it serves
what every process of this host wrote to PROMETHEUS_MULTIPROC_DIR: the builds
and emails of its prefork children. Same bearer token as the web's /metrics.
The queue length is left to the web's /metrics (one reading per deployment).
"""

from __future__ import annotations

import logging
import socket
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from pmd_project.telemetry import metrics

logger = logging.getLogger(__name__)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # a scrape every 15 s is no news


def metrics_app(environ, start_response):
    if environ.get("PATH_INFO") != "/metrics":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found: scrape /metrics\n"]
    if not metrics.authorized(environ.get("HTTP_AUTHORIZATION")):
        start_response(
            "401 Unauthorized",
            [("Content-Type", "text/plain"), ("WWW-Authenticate", 'Bearer realm="metrics"')],
        )
        return [b"A bearer token is required.\n"]
    start_response("200 OK", [("Content-Type", metrics.CONTENT_TYPE)])
    return [metrics.exposition(broker=False)]


def parse_listen(listen: str) -> tuple[str, int]:
    """ "host:port" ("[::1]:9808" for IPv6) as (host, port)."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


def start(listen: str) -> _Server:
    host, port = parse_listen(listen)
    server = make_server(
        host,
        port,
        metrics_app,
        server_class=_Server6 if ":" in host else _Server,
        handler_class=_QuietHandler,
    )
    threading.Thread(target=server.serve_forever, name="pmd-metrics", daemon=True).start()
    if not metrics.MULTIPROCESS_DIR:
        logger.warning(
            "worker metrics on %s count this process only: set PROMETHEUS_MULTIPROC_DIR "
            "so that the builds of its pool processes are counted",
            listen,
        )
    logger.info("worker metrics on http://%s/metrics", listen)
    return server
