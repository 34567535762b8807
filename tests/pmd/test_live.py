from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import redis
from django.db import connection

from pmd.live import BDR_UPDATE, current_event_id, publish, user_channel
from tests.live import AsgiServer, free_port, session_cookies
from tests.services import missing
from tests.sse import SseClient

pytestmark = pytest.mark.usefixtures("transactional_db")


def _stream(server, user, **kwargs) -> SseClient:
    return SseClient(
        f"{server.url}/api/pmd/bdr/sse", cookies=session_cookies(user), **kwargs
    ).start()


class TestAccess:
    def test_anonymous_is_refused_with_json(self, asgi_server):
        client = SseClient(f"{asgi_server.url}/api/pmd/bdr/sse").start()
        assert client.status == 401
        assert client.body == '{"error": "Log in to receive live updates."}'

    def test_a_user_never_receives_another_users_events(self, asgi_server, owner, other):
        mine = _stream(asgi_server, owner)
        # Asking for someone else's channel by name changes nothing.
        theirs_by_name = SseClient(
            f"{asgi_server.url}/api/pmd/bdr/sse?channel={user_channel(owner.pk)}",
            cookies=session_cookies(other),
        ).start()
        try:
            publish(owner.pk, BDR_UPDATE, {"id": "a", "status": "ready"})
            assert mine.next_event(event=BDR_UPDATE).json() == {"id": "a", "status": "ready"}
            theirs_by_name.assert_quiet(1.0)
            publish(other.pk, BDR_UPDATE, {"id": "b", "status": "failed"})
            assert theirs_by_name.next_event(event=BDR_UPDATE).json()["id"] == "b"
            mine.assert_quiet(1.0)
        finally:
            mine.close()
            theirs_by_name.close()

    def test_the_stream_is_not_buffered_by_proxies(self, asgi_server, owner):
        import httpx

        client = httpx.Client(cookies=session_cookies(owner), timeout=5)
        with client, client.stream("GET", f"{asgi_server.url}/api/pmd/bdr/sse") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["x-accel-buffering"] == "no"
            assert "no-cache" in response.headers["cache-control"]
            assert "content-encoding" not in response.headers


class TestDelivery:
    def test_an_event_published_elsewhere_reaches_the_stream_through_redis(
        self, asgi_server, owner
    ):
        client = _stream(asgi_server, owner)
        try:
            started = time.monotonic()
            publish(owner.pk, BDR_UPDATE, {"id": "x", "status": "processing", "progress": 3})
            event = client.next_event(event=BDR_UPDATE)
            assert time.monotonic() - started < 2
            assert event.json()["progress"] == 3
            assert event.id and event.id.startswith(user_channel(owner.pk).replace(":", "%3A"))
        finally:
            client.close()

    def test_reconnecting_with_last_event_id_replays_what_was_missed(self, asgi_server, owner):
        client = _stream(asgi_server, owner)
        publish(owner.pk, BDR_UPDATE, {"n": 1})
        first = client.next_event(event=BDR_UPDATE)
        client.close()
        publish(owner.pk, BDR_UPDATE, {"n": 2})
        publish(owner.pk, BDR_UPDATE, {"n": 3})
        again = _stream(asgi_server, owner, last_event_id=first.id)
        try:
            assert [again.next_event(event=BDR_UPDATE).json()["n"] for _ in range(2)] == [2, 3]
        finally:
            again.close()

    def test_the_id_rendered_into_a_page_replays_events_sent_before_connecting(
        self, asgi_server, owner
    ):
        publish(owner.pk, BDR_UPDATE, {"n": "old"})
        rendered = current_event_id(owner.pk)
        publish(owner.pk, BDR_UPDATE, {"n": "between render and connect"})
        client = SseClient(
            f"{asgi_server.url}/api/pmd/bdr/sse?lastEventId={rendered}",
            cookies=session_cookies(owner),
        ).start()
        try:
            assert client.next_event(event=BDR_UPDATE).json() == {"n": "between render and connect"}
        finally:
            client.close()


@pytest.mark.postgresql_only
def test_open_streams_hold_no_database_connection(asgi_server, owner):
    def server_connections() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            return cursor.fetchone()[0]

    before = server_connections()
    clients = [_stream(asgi_server, owner) for _ in range(50)]
    try:
        time.sleep(0.5)
        assert server_connections() - before <= 2
        publish(owner.pk, BDR_UPDATE, {"n": "to all"})
        for client in clients:
            assert client.next_event(event=BDR_UPDATE).json() == {"n": "to all"}
        time.sleep(0.3)
        assert server_connections() - before <= 2
    finally:
        for client in clients:
            client.close()


def test_live_delivery_comes_back_after_redis_restarts(owner, session_vault, monkeypatch):
    """The web process's Redis listener reconnects by itself, and events
    published while Redis was down arrive once it is back."""
    server_binary = shutil.which("redis-server")
    if not server_binary:
        missing("redis-server", "not installed (needed to restart a private Redis)")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"

    def start_redis():
        process = subprocess.Popen(
            [server_binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(50):
            try:
                redis.Redis.from_url(url).ping()
                return process
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("private redis-server did not start")

    redis_process = start_redis()
    server = AsgiServer(REDIS_URL=url, PMD_VAULT_ROOT=str(session_vault)).start()
    publisher = redis.Redis.from_url(url)
    client = None
    try:
        client = _stream(server, owner)
        import django_eventstream.eventstream as eventstream

        # This process publishes to the private Redis too.
        monkeypatch.setattr(eventstream, "redis_client", publisher)
        publish(owner.pk, BDR_UPDATE, {"n": "before"})
        assert client.next_event(event=BDR_UPDATE).json() == {"n": "before"}

        redis_process.terminate()
        redis_process.wait(10)
        redis_process = start_redis()
        time.sleep(0.3)
        # Published while the web process's listener is still reconnecting.
        publish(owner.pk, BDR_UPDATE, {"n": "after restart"})
        assert client.next_event(timeout=15, event=BDR_UPDATE).json() == {"n": "after restart"}
        publish(owner.pk, BDR_UPDATE, {"n": "live again"})
        assert client.next_event(timeout=5, event=BDR_UPDATE).json() == {"n": "live again"}
    finally:
        if client:
            client.close()
        server.stop()
        redis_process.terminate()
        redis_process.wait(10)
