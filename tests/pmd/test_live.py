from __future__ import annotations

import json
import shutil
import subprocess
import time
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pmd.live import (
    BDR_UPDATE,
    StreamSlots,
    current_event_id,
    publish,
    session_logs_in,
    stream_slots,
    user_channel,
)
from posts.public_ids import user_sqid
from testing.factories import make_user
from testing.live import AsgiServer, free_port, session_cookies
from testing.services import missing
from testing.sse import SseClient

pytestmark = pytest.mark.usefixtures("transactional_db")


def _stream(server, user, **kwargs) -> SseClient:
    return SseClient(
        f"{server.url}/api/pmd/bdr/sse", cookies=session_cookies(user), **kwargs
    ).start()


class TestAccess:
    def test_support_follows_the_owners_events_and_others_are_refused(
        self, asgi_server, owner, other
    ):
        support = make_user("sam", is_staff=True)
        support.user_permissions.add(Permission.objects.get(codename="act_for_others"))
        plain_staff = make_user("pat", is_staff=True)
        target = f"{asgi_server.url}/api/pmd/bdr/sse?target_sqid={user_sqid(owner.pk)}"
        watching = SseClient(target, cookies=session_cookies(support)).start()
        refused = SseClient(target, cookies=session_cookies(plain_staff)).start()
        stranger = SseClient(target, cookies=session_cookies(other)).start()
        unknown = SseClient(
            f"{asgi_server.url}/api/pmd/bdr/sse?target_sqid=Zz9Qx7Wv3Ku5Ty1",
            cookies=session_cookies(support),
        ).start()
        try:
            assert watching.status == 200
            for client, status in ((refused, 403), (stranger, 403), (unknown, 404)):
                assert client.status == status
                assert set(json.loads(client.body)) == {"error"}
            publish(owner.pk, BDR_UPDATE, {"id": "a", "status": "ready"})
            assert watching.next_event(event=BDR_UPDATE).json()["id"] == "a"
            # Support's own channel is not what it watches.
            publish(support.pk, BDR_UPDATE, {"id": "theirs"})
            watching.assert_quiet(1.0)
        finally:
            for client in (watching, refused, stranger, unknown):
                client.close()

    def test_anonymous_is_refused_with_json(self, asgi_server):
        client = SseClient(f"{asgi_server.url}/api/pmd/bdr/sse").start()
        assert client.status == 401
        assert client.body == '{"error": "Log in to receive live updates."}'

    def test_a_user_never_receives_another_users_events(self, asgi_server, owner, other):
        mine = _stream(asgi_server, owner)
        theirs = _stream(asgi_server, other)
        # Asking for someone else's channel by name is refused outright.
        by_name = SseClient(
            f"{asgi_server.url}/api/pmd/bdr/sse?channel={user_channel(owner.pk)}",
            cookies=session_cookies(other),
        ).start()
        assert by_name.status == 400
        try:
            publish(owner.pk, BDR_UPDATE, {"id": "a", "status": "ready"})
            assert mine.next_event(event=BDR_UPDATE).json() == {"id": "a", "status": "ready"}
            theirs.assert_quiet(1.0)
            publish(other.pk, BDR_UPDATE, {"id": "b", "status": "failed"})
            assert theirs.next_event(event=BDR_UPDATE).json()["id"] == "b"
            mine.assert_quiet(1.0)
        finally:
            mine.close()
            theirs.close()

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

    # Five users with ten tabs each (the most one user may open). The server
    # pools its connections, at most 20 (DATABASE_POOL_MAX): streams hand
    # theirs back after each read, so 50 streams, more than the pool holds,
    # all open, all get their events, and never open more than the pool.
    allowed = 20 + 2
    users = [owner, *(make_user(f"tabs{number}") for number in range(4))]
    before = server_connections()
    clients = [_stream(asgi_server, user) for user in users for _ in range(10)]
    try:
        # Every stream is past its checks and counted: each holds its place.
        for user in users:
            _wait_for_count(user, 10)
        assert server_connections() - before <= allowed
        for user in users:
            publish(user.pk, BDR_UPDATE, {"n": "to all"})
        # Each stream has read from the database since, and handed back its connection.
        for client in clients:
            assert client.next_event(event=BDR_UPDATE).json() == {"n": "to all"}
        assert server_connections() - before <= allowed
    finally:
        for client in clients:
            client.close()


def _private_redis(port: int, *extra: str) -> subprocess.Popen:
    """A redis-server of this test's own on `port` (extra: its options)."""
    server_binary = shutil.which("redis-server")
    if not server_binary:
        missing("redis-server", "not installed (needed for a private Redis)")
    process = subprocess.Popen(
        [server_binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", *extra],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(50):
        try:
            redis.Redis(port=port).ping()
            return process
        except redis.AuthenticationError:
            return process  # up, and asking who we are
        except redis.ConnectionError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("private redis-server did not start")


def test_live_delivery_comes_back_after_redis_restarts(owner, session_vault, monkeypatch):
    """The web process's Redis listener reconnects by itself, and events
    published while Redis was down arrive once it is back."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"

    def start_redis():
        return _private_redis(port)

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


def test_the_relay_logs_in_as_the_acl_user_of_redis_url(owner, session_vault, monkeypatch):
    """REDIS_URL is read by redis-py for the SSE relay too:
    with the default user switched off, only its ACL user gets events through."""
    port = free_port()
    url = f"redis://pmd-relay:relay-secret@127.0.0.1:{port}/0"
    redis_process = _private_redis(
        port, "--user", "default", "off", "--user", "pmd-relay", "on", ">relay-secret",
        "~*", "&*", "+@all",
    )  # fmt: skip
    server = AsgiServer(REDIS_URL=url, PMD_VAULT_ROOT=str(session_vault)).start()
    client = None
    try:
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port).ping()
        import django_eventstream.eventstream as eventstream

        monkeypatch.setattr(eventstream, "redis_client", redis.Redis.from_url(url))
        client = _stream(server, owner)
        assert client.status == 200
        publish(owner.pk, BDR_UPDATE, {"n": "through the acl user"})
        assert client.next_event(event=BDR_UPDATE).json() == {"n": "through the acl user"}
    finally:
        if client:
            client.close()
        server.stop()
        redis_process.terminate()
        redis_process.wait(10)


# Parameters: only what the page sends; refused before any stream starts.


def _refused(server, query: str, user, **kwargs) -> SseClient:
    client = SseClient(
        f"{server.url}/api/pmd/bdr/sse{query}", cookies=session_cookies(user), **kwargs
    ).start()
    assert client.status == 400, (query, client.status)
    assert client.headers["content-type"] == "application/json"
    assert set(json.loads(client.body)) == {"error"}
    return client


class TestParameters:
    @pytest.mark.parametrize(
        "query",
        [
            "?es-meta=x",
            "?recover=true",
            "?channel=anything",
            "?channels=a,b",
            "?link=next",
            "?lastEventId=1&extra=1",
            "?LastEventId=1",
        ],
    )
    def test_django_eventstreams_own_parameters_are_refused(self, asgi_server, owner, query):
        _refused(asgi_server, query, owner)

    def test_an_es_meta_token_signed_with_the_secret_key_cannot_choose_user_or_channels(
        self, asgi_server, owner, other, settings
    ):
        import jwt

        token = jwt.encode(
            {"user": owner.pk, "channels": [user_channel(owner.pk)], "exp": time.time() + 600},
            settings.SECRET_KEY.encode(),
            algorithm="HS256",
        )
        _refused(asgi_server, f"?es-meta={quote(token)}", other)

    @pytest.mark.parametrize(
        "last_event_id",
        ["abc", "{channel}:abc", "{channel}:", "{channel}:-1", "{channel}:1.5", "{channel}:²",
         "{channel}:" + "9" * 19, "{channel}:" + "1" * 5000, "error", ":5", "{channel}:1,",
         ",".join(["{channel}:1"] * 11)],
    )  # fmt: skip
    def test_a_malformed_last_event_id_is_refused(self, asgi_server, owner, last_event_id):
        channel = quote(user_channel(owner.pk))
        value = last_event_id.format(channel=channel)
        _refused(asgi_server, f"?lastEventId={quote(value)}", owner)

    def test_a_malformed_last_event_id_header_is_refused(self, asgi_server, owner):
        channel = quote(user_channel(owner.pk))
        _refused(asgi_server, "", owner, last_event_id=f"{channel}:abc")

    def test_an_id_for_another_channel_starts_from_now(self, asgi_server, owner):
        # As django-eventstream does: ids of channels not streamed are ignored.
        publish(owner.pk, BDR_UPDATE, {"n": "before"})
        client = SseClient(
            f"{asgi_server.url}/api/pmd/bdr/sse?lastEventId=other-channel:1",
            cookies=session_cookies(owner),
        ).start()
        try:
            assert client.status == 200
            client.assert_quiet(0.5)
            publish(owner.pk, BDR_UPDATE, {"n": "after"})
            assert client.next_event(event=BDR_UPDATE).json() == {"n": "after"}
        finally:
            client.close()


# Streams end with their session: a logged-out tab stops hearing at once.


def _logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _stream_of(server, client: Client) -> SseClient:
    cookie = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
    return SseClient(f"{server.url}/api/pmd/bdr/sse", cookies=cookie).start()


DOWNLOAD = {"id": "d", "status": "ready", "download_url": "/api/pmd/bdr/d/download"}


class TestSessionEnd:
    def test_after_logout_no_event_is_forwarded_and_the_stream_closes(self, asgi_server, owner):
        browser = _logged_in_client(owner)
        stream = _stream_of(asgi_server, browser)
        try:
            publish(owner.pk, BDR_UPDATE, {"n": "while logged in"})
            assert stream.next_event(event=BDR_UPDATE).json() == {"n": "while logged in"}
            assert browser.post("/accounts/logout/").status_code == 302
            publish(owner.pk, BDR_UPDATE, DOWNLOAD)
            assert stream.closed.wait(5), "the stream outlived its session"
            stream.assert_quiet(0.2)
            # And it cannot be opened again with that session.
            assert _stream_of(asgi_server, browser).status == 401
        finally:
            stream.close()

    def test_a_password_change_ends_the_stream(self, asgi_server, owner):
        stream = _stream_of(asgi_server, _logged_in_client(owner))
        try:
            owner.set_password("a-new-password-2026")
            owner.save()
            publish(owner.pk, BDR_UPDATE, DOWNLOAD)
            assert stream.closed.wait(5)
            stream.assert_quiet(0.2)
        finally:
            stream.close()

    def test_deactivating_the_user_ends_the_stream_whoever_writes_it(self, asgi_server, owner):
        stream = _stream_of(asgi_server, _logged_in_client(owner))
        try:
            # A plain UPDATE: no signal, no save().
            get_user_model().objects.filter(pk=owner.pk).update(is_active=False)
            publish(owner.pk, BDR_UPDATE, DOWNLOAD)
            assert stream.closed.wait(5)
            stream.assert_quiet(0.2)
        finally:
            stream.close()

    def test_other_sessions_of_the_user_keep_their_streams(self, asgi_server, owner):
        leaving, staying = _logged_in_client(owner), _logged_in_client(owner)
        gone, kept = _stream_of(asgi_server, leaving), _stream_of(asgi_server, staying)
        try:
            leaving.post("/accounts/logout/")
            publish(owner.pk, BDR_UPDATE, DOWNLOAD)
            assert kept.next_event(event=BDR_UPDATE).json() == DOWNLOAD
            assert gone.closed.wait(5)
            assert not kept.closed.is_set()
        finally:
            gone.close()
            kept.close()

    def test_without_events_the_stream_ends_within_one_keep_alive(self, asgi_server, owner):
        browser = _logged_in_client(owner)
        stream = _stream_of(asgi_server, browser)
        try:
            browser.post("/accounts/logout/")
            started = time.monotonic()
            # django-eventstream sends a keep-alive after 20 s without events.
            assert stream.closed.wait(25), "still open after a keep-alive interval"
            assert time.monotonic() - started < 22
        finally:
            stream.close()


class TestSessionCheck:
    def test_a_check_is_two_primary_key_reads(self, owner):
        client = _logged_in_client(owner)
        key = client.session.session_key
        with CaptureQueriesContext(connection) as queries:
            assert session_logs_in(key, owner.pk) is True
        assert len(queries) == 2
        assert session_logs_in(key, owner.pk + 1) is False
        assert session_logs_in("no-such-session", owner.pk) is False


# At most PMD_SSE_MAX_STREAMS_PER_USER open streams per user.


def _wait_for_count(user, count: int, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while stream_slots.count(user.pk) != count:
        assert time.monotonic() < deadline, stream_slots.count(user.pk)
        time.sleep(0.05)


def _redis_now(slots: StreamSlots) -> int:
    """Redis's clock, in whole seconds, which the places' expiry is counted on."""
    return slots.client.time()[0]


class TestStreamCap:
    def test_the_eleventh_stream_gets_429_and_a_closed_one_frees_its_place(
        self, asgi_server, owner, other
    ):
        streams = [_stream(asgi_server, owner) for _ in range(10)]
        try:
            over = SseClient(
                f"{asgi_server.url}/api/pmd/bdr/sse", cookies=session_cookies(owner)
            ).start()
            assert over.status == 429
            assert over.headers["content-type"] == "application/json"
            assert "at most 10" in json.loads(over.body)["error"]
            # Another user has places of their own.
            theirs = _stream(asgi_server, other)
            assert theirs.status == 200
            theirs.close()
            streams.pop().close()
            _wait_for_count(owner, 9)
            streams.append(_stream(asgi_server, owner))
            assert streams[-1].status == 200
        finally:
            for stream in streams:
                stream.close()
        _wait_for_count(owner, 0)

    def test_streams_count_across_web_processes(self, asgi_server, owner, session_vault):
        second = AsgiServer(PMD_VAULT_ROOT=str(session_vault)).start()
        streams = []
        try:
            streams += [_stream(asgi_server, owner) for _ in range(5)]
            streams += [_stream(second, owner) for _ in range(5)]
            for server in (asgi_server, second):
                refused = SseClient(
                    f"{server.url}/api/pmd/bdr/sse", cookies=session_cookies(owner)
                ).start()
                assert refused.status == 429
        finally:
            for stream in streams:
                stream.close()
            second.stop()

    def test_a_stream_ended_by_its_session_frees_its_place(self, asgi_server, owner):
        browser = _logged_in_client(owner)
        stream = _stream_of(asgi_server, browser)
        _wait_for_count(owner, 1)
        browser.post("/accounts/logout/")
        publish(owner.pk, BDR_UPDATE, DOWNLOAD)
        assert stream.closed.wait(5)
        _wait_for_count(owner, 0)

    def test_places_of_a_process_that_died_expire(self, owner, monkeypatch):
        monkeypatch.setattr(StreamSlots, "TTL", 1)
        slots = StreamSlots()
        held = [slots.acquire(owner.pk) for _ in range(10)]
        assert all(held) and slots.acquire(owner.pk) is None
        # Nobody renews or releases them: a place frees itself within the TTL.
        deadline = time.monotonic() + 5
        while (freed := slots.acquire(owner.pk)) is None:
            assert time.monotonic() < deadline, "no place freed 5 s after a 1 s TTL"
            time.sleep(0.1)
        assert freed.token not in {slot.token for slot in held}

    def test_a_renewed_place_does_not_expire(self, owner, monkeypatch):
        monkeypatch.setattr(StreamSlots, "TTL", 2)
        slots = StreamSlots()
        held = [slots.acquire(owner.pk) for _ in range(10)]
        first_expiry = _redis_now(slots) + 2
        # Renewed all along until Redis's clock is past the places' first expiry.
        deadline = time.monotonic() + 10
        while _redis_now(slots) <= first_expiry:
            assert time.monotonic() < deadline
            for slot in held:
                slot.renew()
            time.sleep(0.2)
        assert slots.acquire(owner.pk) is None
        held[0].release()
        assert slots.acquire(owner.pk) is not None
