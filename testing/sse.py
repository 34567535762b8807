"""A real Server-Sent Events client for tests.

HTTP/1.1 over a plain socket, read in a thread: closing it closes the socket
at once (an HTTP library blocked in a read would hold the stream open until
the server's next keep-alive, 20 s later).
"""

from __future__ import annotations

import codecs
import contextlib
import json
import queue
import socket
import threading
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlsplit


@dataclass
class SseEvent:
    event: str
    data: str
    id: str | None
    received_at: float = 0.0  # time.monotonic() when it arrived
    received_wall: float = 0.0  # time.time() when it arrived

    def json(self):
        return json.loads(self.data)


class SseClient:
    def __init__(
        self, url: str, *, cookies: dict[str, str] | None = None, last_event_id: str | None = None
    ) -> None:
        self.url = url
        self.cookies = cookies or {}
        self.last_event_id = last_event_id
        self.events: queue.Queue[SseEvent] = queue.Queue()
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.body = ""
        self.opened = threading.Event()
        self.closed = threading.Event()
        self._stop = threading.Event()
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> SseClient:
        self._thread.start()
        if not self.opened.wait(10):
            raise TimeoutError(f"no stream-open from {self.url} (status {self.status})")
        return self

    def _request(self) -> bytes:
        parts = urlsplit(self.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {parts.netloc}",
            "Accept: text/event-stream",
            "Cache-Control: no-cache",
        ]
        if self.cookies:
            cookie = SimpleCookie()
            for name, value in self.cookies.items():
                cookie[name] = value
            lines.append("Cookie: " + "; ".join(f"{k}={m.value}" for k, m in cookie.items()))
        if self.last_event_id:
            lines.append(f"Last-Event-ID: {self.last_event_id}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _run(self) -> None:
        parts = urlsplit(self.url)
        try:
            self._socket = socket.create_connection((parts.hostname, parts.port), timeout=5)
            self._socket.sendall(self._request())
            self._socket.settimeout(0.2)
            raw = b""
            while b"\r\n\r\n" not in raw:
                raw += self._receive()
            head, _, raw = raw.partition(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            self.status = int(status_line.split()[1])
            for line in header_lines:
                name, _, value = line.partition(":")
                self.headers[name.strip().lower()] = value.strip()
            chunked = self.headers.get("transfer-encoding") == "chunked"
            if self.status != 200:
                length = int(self.headers.get("content-length", "0"))
                while len(raw) < length:
                    raw += self._receive()
                self.body = raw[:length].decode()
                return
            text = ""
            utf8 = codecs.getincrementaldecoder("utf-8")()
            while not self._stop.is_set():
                decoded, raw = _dechunk(raw) if chunked else (raw, b"")
                text += utf8.decode(decoded)
                while "\n\n" in text:
                    block, _, text = text.partition("\n\n")
                    self._emit(block)
                raw += self._receive()
        except (OSError, ValueError, ConnectionError):
            pass  # closed by the test or by the server
        finally:
            self.closed.set()
            self.opened.set()

    def _receive(self) -> bytes:
        while not self._stop.is_set():
            try:
                data = self._socket.recv(65536)
            except TimeoutError:
                continue
            if not data:
                raise ConnectionError("server closed the stream")
            return data
        raise ConnectionError("closed")

    def _emit(self, block: str) -> None:
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            fields[name] = f"{fields[name]}\n{value}" if name in fields else value
        if not fields:
            return
        event = SseEvent(
            fields.get("event", "message"),
            fields.get("data", ""),
            fields.get("id"),
            time.monotonic(),
            time.time(),
        )
        if event.id:
            self.last_event_id = event.id
        if event.event == "stream-open":
            self.opened.set()
        elif event.event != "keep-alive":
            self.events.put(event)

    def next_event(self, timeout: float = 5.0, event: str | None = None) -> SseEvent:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {event or 'event'} within {timeout} s")
            try:
                item = self.events.get(timeout=remaining)
            except queue.Empty:
                raise TimeoutError(f"no {event or 'event'} within {timeout} s") from None
            if event is None or item.event == event:
                return item

    def assert_quiet(self, seconds: float) -> None:
        try:
            item = self.events.get(timeout=seconds)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected event {item}")

    def close(self) -> None:
        self._stop.set()
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
            self._socket.close()
        self.closed.wait(2)


def _dechunk(raw: bytes) -> tuple[bytes, bytes]:
    """Complete chunks of a chunked body as data, and the unparsed rest."""
    data = b""
    while True:
        size_end = raw.find(b"\r\n")
        if size_end == -1:
            return data, raw
        size = int(raw[:size_end].split(b";")[0], 16)
        if size == 0:
            raise ConnectionError("stream ended")
        start = size_end + 2
        if len(raw) < start + size + 2:
            return data, raw
        data += raw[start : start + size]
        raw = raw[start + size + 2 :]
