"""Helpers of the telemetry tests: reading a scrape, making an ASGI request."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def sample(text: str, name: str, **labels: str) -> float:
    """The value of sample `name` with (at least) `labels`, 0 when absent
    (a labelled series appears only once it has counted something)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                total += found.value
    return total


def has_series(text: str, name: str) -> bool:
    return any(
        found.name == name
        for family in text_string_to_metric_families(text)
        for found in family.samples
    )


def asgi_scope(path: str, *headers: tuple[bytes, bytes], client: str = "127.0.0.1") -> dict:
    """An HTTP GET of `path` to 127.0.0.1, as uvicorn hands it to the application."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": (client, 50000),
        "server": ("127.0.0.1", 8000),
    }


async def asgi_get(application, scope: dict) -> dict:
    """The response's start message (status, headers); the body is read and dropped."""
    from asgiref.testing import ApplicationCommunicator

    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(10)
    await communicator.receive_output(10)
    return start
