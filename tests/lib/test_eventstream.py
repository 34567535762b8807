"""The adapter of django-eventstream (pmd_project/lib/eventstream.py), held to
the installed version, the one pyproject.toml pins: what it reaches into is
there and behaves as the adapter uses it. An upgrade that moves the
package's internals fails here first."""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import re
import tomllib
import uuid

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import RequestFactory
from django_eventstream.views import Listener, RedisListener, get_listener_manager

from pmd.live import user_channel
from pmd_project.lib import eventstream
from testing.live import ROOT
from testing.services import require_redis


def test_the_installed_version_is_the_pinned_one():
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    [pinned] = [pin.split("==")[1] for pin in pins if pin.startswith("django-eventstream==")]
    assert importlib.metadata.version("django-eventstream") == pinned


class _Registered:
    """Listeners of the package's manager, as its stream registers them,
    for the length of a test."""

    def __init__(self, *channels: str) -> None:
        self.listeners = []
        for channel in channels:
            listener = Listener()
            listener.channels = {channel}
            listener.assign_loop()
            self.listeners.append(listener)

    def __enter__(self):
        manager = get_listener_manager()
        with manager.lock:
            for listener in self.listeners:
                for channel in listener.channels:
                    manager.listeners_by_channel.setdefault(channel, set()).add(listener)
        return self.listeners

    def __exit__(self, *exc) -> None:
        for listener in self.listeners:
            get_listener_manager().remove_listener(listener)


def _channel() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


class TestTheRedisListener:
    def test_install_puts_the_resilient_one_in_place_of_the_packages_once(self, monkeypatch):
        manager = get_listener_manager()
        monkeypatch.setattr(manager, "redis_listener", RedisListener())
        eventstream.install_resilient_listener()
        installed = manager.redis_listener
        assert isinstance(installed, eventstream.ResilientRedisListener)
        eventstream.install_resilient_listener()
        assert manager.redis_listener is installed

    def test_a_message_reaches_the_listeners_of_its_channel_only(self):
        mine, theirs = _channel(), _channel()

        async def scenario():
            with _Registered(mine, theirs) as (listening, other):
                payload = {"channel": mine, "event_type": "bdr_update", "data": {"n": 1}}
                eventstream._dispatch(json.dumps({**payload, "pub_id": 7}))
                await asyncio.wait_for(listening.aevent.wait(), 5)
                [event] = listening.channel_items[mine]
                assert (event.channel, event.type, event.data, event.id) == (
                    mine,
                    "bdr_update",
                    {"n": 1},
                    7,
                )
                assert other.channel_items == {}
                assert not other.aevent.is_set()

        asyncio.run(scenario())

    def test_after_a_reconnect_every_stream_rereads_the_storage(self):
        async def scenario():
            with _Registered(_channel(), _channel()) as listeners:
                eventstream._wake_all_listeners_to_reread()
                for listener in listeners:
                    await asyncio.wait_for(listener.aevent.wait(), 5)
                    assert listener.overflow is True

        asyncio.run(scenario())

    def test_it_carries_what_is_published_on_the_packages_redis_channel(self):
        require_redis()
        channel = _channel()

        async def scenario():
            listener = eventstream.ResilientRedisListener()
            running = asyncio.ensure_future(listener.start())
            try:
                await asyncio.wait_for(listener.connected.wait(), 10)
                with _Registered(channel) as (listening,):
                    message = {"channel": channel, "event_type": "e", "data": {}, "pub_id": 3}
                    publisher = redis.Redis(**settings.EVENTSTREAM_REDIS)
                    publisher.publish(eventstream.REDIS_PUBSUB_CHANNEL, json.dumps(message))
                    await asyncio.wait_for(listening.aevent.wait(), 10)
                    assert [event.id for event in listening.channel_items[channel]] == [3]
            finally:
                running.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await running

        asyncio.run(scenario())


class TestTheStorage:
    def test_it_lets_go_of_the_connection_after_each_read(self, transactional_db):
        storage = eventstream.ConnectionReleasingStorage()
        channel = _channel()
        first = storage.append_event(channel, "e", {"n": 1})
        storage.append_event(channel, "e", {"n": 2})
        connection.ensure_connection()
        assert [event.data for event in storage.get_events(channel, first.id)] == [{"n": 2}]
        assert connection.connection is None
        connection.ensure_connection()
        assert storage.get_current_id(channel) == first.id + 1
        assert connection.connection is None

    def test_inside_a_transaction_it_keeps_it(self, db):
        storage = eventstream.ConnectionReleasingStorage()
        channel = _channel()
        storage.append_event(channel, "e", {})
        storage.get_events(channel, 0)
        assert connection.connection is not None


# The stream reads the database from a worker thread (sync_to_async); the
# tests' in-memory SQLite database cannot be shared with it, and a stream
# closed while that thread waits never finishes. The stream itself runs on
# SQLite in `make run` (a file database), and on PostgreSQL here.
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="the in-memory SQLite test database is not shared with the stream's thread",
)
class TestTheStream:
    def test_it_opens_then_replays_what_came_after_its_id_and_only_that(
        self, transactional_db, owner
    ):
        channel = user_channel(owner.pk)
        storage = eventstream.ConnectionReleasingStorage()
        # As the package's send_event stores them: encoded.
        seen = storage.append_event(channel, "bdr_update", json.dumps({"n": "seen"}))
        storage.append_event(channel, "bdr_update", json.dumps({"n": "missed"}))

        async def first_chunk() -> str:
            body = eventstream.event_stream(channel, seen.id, owner)
            try:
                return await asyncio.wait_for(body.__anext__(), 10)
            finally:
                await body.aclose()

        chunk = asyncio.run(first_chunk())
        assert "event: stream-open" in chunk
        assert '"n": "missed"' in chunk
        assert '"n": "seen"' not in chunk
        assert re.search(rf"id: {re.escape(channel)}(%3A|:){seen.id + 1}", chunk), chunk

    def test_from_now_it_opens_with_nothing_replayed(self, transactional_db, owner):
        channel = user_channel(owner.pk)
        eventstream.ConnectionReleasingStorage().append_event(channel, "bdr_update", "{}")

        async def first_chunk() -> str:
            body = eventstream.event_stream(channel, None, owner)
            try:
                return await asyncio.wait_for(body.__anext__(), 10)
            finally:
                await body.aclose()

        chunk = asyncio.run(first_chunk())
        assert "event: stream-open" in chunk
        assert "bdr_update" not in chunk

    def test_its_headers_keep_proxies_from_buffering_or_caching_it(self):
        response = StreamingHttpResponse(iter(()), content_type="text/event-stream")
        eventstream.add_stream_headers(response, RequestFactory().get("/api/pmd/bdr/sse"))
        assert response["Cache-Control"] == "no-cache"
        assert response["X-Accel-Buffering"] == "no"
