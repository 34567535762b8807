"""The adapter of django-eventstream (the version pinned in pyproject.toml):
the one module that reaches into its internals. tests/lib/test_eventstream.py
holds it to the installed version, so an upgrade that moves them fails there
first.

What the package leaves to us, and what this adapter does about it:
- each open stream would hold a database connection for its whole life:
  `ConnectionReleasingStorage` closes it after every read;
- its Redis listener stops for good when its connection drops:
  `ResilientRedisListener` (put in its place by `install_resilient_listener`)
  pings, reconnects, and makes every open stream re-read what it missed from
  the event storage;
- its view reads its own query parameters (`es-meta`, a token signed with
  SECRET_KEY that may name any user and channels; `recover`; `channel`; …):
  `event_stream` builds a stream from a channel, a user and an id the caller
  decided, and nothing of the request.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django_eventstream.storage import DjangoModelStorage

logger = logging.getLogger(__name__)

REDIS_PUBSUB_CHANNEL = "events_channel"  # django-eventstream's own name


def release_connection() -> None:
    # Inside a transaction the connection is still in use by the caller.
    if not connection.in_atomic_block:
        connection.close()


class ConnectionReleasingStorage(DjangoModelStorage):
    """Event storage in the database that lets go of the connection after each
    read, so an idle stream holds none (each open stream would otherwise pin
    one for as long as the tab is open)."""

    def get_events(self, channel, last_id, limit=100):
        try:
            return super().get_events(channel, last_id, limit=limit)
        finally:
            release_connection()

    def get_current_id(self, channel):
        try:
            return super().get_current_id(channel)
        finally:
            release_connection()


def current_event_id(channels: list[str]) -> str:
    """The id a stream of `channels` would resume from now."""
    from django_eventstream import get_current_event_id

    return get_current_event_id(channels)


def send(channel: str, event_type: str, data: dict[str, Any]) -> None:
    """Store the event and publish it to every web process (through Redis)."""
    from django_eventstream import send_event

    send_event(channel, event_type, data)


class ResilientRedisListener:
    """Replaces django-eventstream's Redis listener, which stops for good when
    its connection drops. This one pings, reconnects with backoff, and after a
    reconnect wakes every local stream to re-read the storage, so events
    published while it was cut off still arrive."""

    PING_EVERY = 5.0
    PING_TIMEOUT = 3.0

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self.reconnects = 0

    async def start(self) -> None:
        from redis.asyncio import Redis

        delay = 0.2
        first = True
        while True:
            client = Redis(**settings.EVENTSTREAM_REDIS)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(REDIS_PUBSUB_CHANNEL)
                if not first:
                    self.reconnects += 1
                    logger.info("event listener reconnected to Redis")
                    _wake_all_listeners_to_reread()
                first = False
                self.connected.set()
                delay = 0.2
                await self._listen(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - any failure means: reconnect
                logger.warning("event listener lost Redis; reconnecting", exc_info=True)
            finally:
                self.connected.clear()
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except Exception:  # noqa: BLE001
                    pass
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _listen(self, pubsub) -> None:
        loop = asyncio.get_running_loop()
        last_ping = loop.time()
        last_pong = loop.time()
        while True:
            message = await pubsub.get_message(timeout=1.0)
            now = loop.time()
            if message is not None:
                if message["type"] == "message":
                    _dispatch(message["data"])
                elif message["type"] == "pong":
                    last_pong = now
            if now - last_ping >= self.PING_EVERY:
                await asyncio.wait_for(pubsub.ping(), self.PING_TIMEOUT)
                last_ping = now
            if now - last_pong > self.PING_EVERY + self.PING_TIMEOUT:
                raise ConnectionError("no answer to ping from Redis")


def _dispatch(raw: bytes | str) -> None:
    from django_eventstream.event import Event
    from django_eventstream.views import get_listener_manager

    payload = json.loads(raw)
    event = Event(payload["channel"], payload["event_type"], payload["data"], id=payload["pub_id"])
    get_listener_manager().add_to_queues(payload["channel"], event)


def _wake_all_listeners_to_reread() -> None:
    from django_eventstream.views import get_listener_manager

    manager = get_listener_manager()
    with manager.lock:
        listeners = {item for group in manager.listeners_by_channel.values() for item in group}
        for listener in listeners:
            # "overflow" makes the stream re-read the storage from its last id.
            listener.overflow = True
            listener.wake_threadsafe()


def install_resilient_listener() -> None:
    from django_eventstream.views import get_listener_manager

    manager = get_listener_manager()
    if manager.redis_listener is not None and not isinstance(
        manager.redis_listener, ResilientRedisListener
    ):
        manager.redis_listener = ResilientRedisListener()


def event_stream(channel: str, resume_after: int | None, user: Any) -> AsyncGenerator[str]:
    """The body of a stream of `channel` for `user` from `resume_after`
    (None: from now): the package's own, built from these alone."""
    from django_eventstream.eventrequest import EventRequest
    from django_eventstream.views import Listener, stream

    event_request = EventRequest()
    event_request.channels = {channel}
    event_request.channel_last_ids = {} if resume_after is None else {channel: str(resume_after)}
    event_request.is_next = False
    event_request.is_recover = False
    event_request.user = user
    listener = Listener()
    listener.user_id = user.pk
    listener.channels = event_request.channels
    return stream(event_request, listener)


def add_stream_headers(response: HttpResponseBase, request: HttpRequest) -> None:
    """The package's headers of an event stream (no buffering by proxies, …)."""
    from django_eventstream.utils import add_default_headers

    add_default_headers(response, request=request)
