"""Live status over Server-Sent Events with django-eventstream (SPEC §9).

What the package leaves to us (PITFALLS §1), and where it is done here:
- any client may read any channel by default: `UserChannelManager` fixes the
  channel server-side (one per user) and refuses every other;
- each open stream would hold a database connection for its whole life:
  `ConnectionReleasingStorage` closes it after every read, and the view closes
  it after authentication;
- the Redis listener never reconnects after Redis restarts:
  `ResilientRedisListener` pings, reconnects, and makes every open stream
  re-read what it missed from the event storage;
- events are published only after the database commit, and a Redis outage
  at publish time is logged, never raised into the caller.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django_eventstream.channelmanager import ChannelManagerBase
from django_eventstream.storage import DjangoModelStorage

logger = logging.getLogger(__name__)

BDR_UPDATE = "bdr_update"
REDIS_PUBSUB_CHANNEL = "events_channel"  # django-eventstream's own name


def user_channel(user_id: int) -> str:
    return f"{settings.PMD_EVENT_CHANNEL_PREFIX}user-{user_id}"


class UserChannelManager(ChannelManagerBase):
    """One channel per user; a user reads their own and nothing else."""

    def get_channels_for_request(self, request, view_kwargs) -> set[str]:
        # Never from the query string (`?channel=`): the server decides.
        if request.user.is_authenticated:
            return {user_channel(request.user.pk)}
        return set()

    def can_read_channel(self, user, channel: str) -> bool:
        return user is not None and channel == user_channel(user.pk)

    def is_channel_reliable(self, channel: str) -> bool:
        return True


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


def current_event_id(user_id: int) -> str:
    """The id to resume from, rendered into the page before its data is read,
    so an event between rendering and connecting is replayed, not lost."""
    from django_eventstream import get_current_event_id

    return get_current_event_id([user_channel(user_id)])


def publish(user_id: int, event_type: str, data: dict[str, Any]) -> None:
    """Send an event to one user's open pages, after the current transaction commits."""

    def send() -> None:
        from django_eventstream import send_event

        try:
            send_event(user_channel(user_id), event_type, data)
        except Exception:  # noqa: BLE001 - a live update must never break the work it reports
            logger.warning("could not publish %s to user %s", event_type, user_id, exc_info=True)

    transaction.on_commit(send)


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
