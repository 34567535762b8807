"""Live status over Server-Sent Events with django-eventstream.

What the package leaves to us, and where it is done: in
pmd_project.lib.eventstream, the one module that reaches into the package's
internals (5.3.4, read from its source), the database connection let go
after each read, the Redis listener that reconnects, and a stream built from
a channel, a user and an id alone; here, what is the dashboard's own:
- any client may read any channel by default: `UserChannelManager` fixes the
  channel server-side (one per user) and refuses every other;
- events are published only after the database commit, and a Redis outage
  at publish time is logged, never raised into the caller;
- the package reads its own query parameters: `open_stream` opens the
  stream from what `parse_stream_query` accepted, `lastEventId` alone,
  parsed and bounded;
- a stream would outlive its session: `GuardedStream` asks whether the
  session still logs its user in before it forwards anything (events and the
  keep-alive sent every 20 s), and ends the stream when it does not; the
  streams of one session woken by one event share one check, run on one
  thread and connection per process (`SessionChecks`);
- one user could open any number of streams: `StreamSlots` counts them in
  Redis across web processes, each entry expiring unless renewed;
- Redis pub/sub ignores database numbers, so every deployment on one Redis
  server hears every event published there: each channel name carries the
  deployment's prefix (PMD_EVENT_CHANNEL_PREFIX, by default derived from the
  deployment's database and Redis database, settings.deployment_channel_prefix),
  and a listener dispatches an event to its own deployment's streams only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import auth
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, QueryDict, StreamingHttpResponse
from django_eventstream.channelmanager import ChannelManagerBase

from pmd_project.lib import eventstream
from pmd_project.lib.inputs import BadInput
from pmd_project.telemetry.metrics import count_open_stream

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

BDR_UPDATE = "bdr_update"


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


def current_event_id(user_id: int) -> str:
    """The id to resume from, rendered into the page before its data is read,
    so an event between rendering and connecting is replayed, not lost."""
    return eventstream.current_event_id([user_channel(user_id)])


def publish(user_id: int, event_type: str, data: dict[str, Any]) -> None:
    """Send an event to one user's open pages, after the current transaction commits."""

    def send() -> None:
        try:
            eventstream.send(user_channel(user_id), event_type, data)
        except Exception:  # noqa: BLE001 - a live update must never break the work it reports
            logger.warning("could not publish %s to user %s", event_type, user_id, exc_info=True)

    transaction.on_commit(send)


# Opening a stream (GET /api/pmd/bdr/sse)

# All the page sends (templates/pmd/dashboard.html); target_sqid when support
# watches the owner's dashboard.
STREAM_PARAMETERS = frozenset({"lastEventId", "target_sqid"})
# django-eventstream joins "<channel>:<id>" pairs with commas; we issue one.
MAX_EVENT_ID_PARTS = 10
EVENT_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits, within a 64-bit id


def parse_last_event_id(raw: str, channel: str) -> int | None:
    """The event id of `channel` to resume after, from a `Last-Event-ID` header
    or `lastEventId` parameter as django-eventstream writes them
    ("<percent-encoded channel>:<number>", comma-separated): None to start from
    now (empty, or naming only other channels), BadInput (a 400) when malformed."""
    if raw == "":
        return None
    parts = raw.split(",")
    if len(parts) > MAX_EVENT_ID_PARTS:
        raise BadInput("lastEventId names too many channels.")
    found = None
    for part in parts:
        name, colon, number = part.rpartition(":")
        if not colon or not name or not EVENT_NUMBER.fullmatch(number):
            raise BadInput("lastEventId must be an event id this stream sent.")
        if unquote(name) == channel:
            found = int(number)
    return found


def parse_stream_query(query: QueryDict, header: str | None, channel: str) -> int | None:
    """The id to resume after, or BadInput (a 400) for any parameter but
    `lastEventId` and for a malformed id. Every id sent is checked; the header
    wins over the parameter (a browser reconnecting sends the header with the
    page's URL), as in django-eventstream."""
    unknown = sorted(set(query) - STREAM_PARAMETERS)
    if unknown:
        raise BadInput(
            f"Unknown parameter {unknown[0][:40]!r}: this stream takes only lastEventId "
            "(and target_sqid)."
        )
    sent = [raw for raw in query.getlist("lastEventId") if raw]
    if header:
        sent.append(header)
    resume_after = None
    for raw in sent:  # all checked; the last one counts
        resume_after = parse_last_event_id(raw, channel)
    return resume_after


class StreamSlots:
    """Open streams per user, counted in Redis so every web process sees the
    same count. Each stream holds an entry that expires unless renewed (about
    every keep-alive), so the streams of a process that died stop counting
    within TTL seconds. Times come from Redis, so web hosts' clocks need not agree.
    """

    TTL = 60  # three keep-alives
    RENEW_EVERY = 20

    # KEYS[1] the user's set; ARGV: limit, ttl, token. 1 if taken, 0 if full.
    ACQUIRE = """
    local now = tonumber(redis.call('TIME')[1])
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
    if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
    redis.call('EXPIRE', KEYS[1], ARGV[2])
    return 1
    """
    # KEYS[1] the user's set; ARGV: ttl, token.
    RENEW = """
    local now = tonumber(redis.call('TIME')[1])
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
    redis.call('EXPIRE', KEYS[1], ARGV[1])
    return 1
    """

    def __init__(self) -> None:
        self._client = None

    @property
    def client(self):
        if self._client is None:
            import redis

            self._client = redis.Redis(**settings.EVENTSTREAM_REDIS)
        return self._client

    @staticmethod
    def key(user_id: int) -> str:
        return f"pmd:sse-streams:{user_channel(user_id)}"

    def acquire(self, user_id: int) -> StreamSlot | None:
        """A slot for one more stream of `user_id`, or None at the limit."""
        slot = StreamSlot(self, user_id, uuid.uuid4().hex)
        try:
            taken = self.client.eval(
                self.ACQUIRE, 1, self.key(user_id),
                settings.PMD_SSE_MAX_STREAMS_PER_USER, self.TTL, slot.token,
            )  # fmt: skip
        except Exception:  # noqa: BLE001 - without Redis the cap cannot count: let it open
            logger.warning("stream slots unavailable; not counting", exc_info=True)
            return slot
        return slot if taken else None

    def renew(self, slot: StreamSlot) -> None:
        try:
            self.client.eval(self.RENEW, 1, self.key(slot.user_id), self.TTL, slot.token)
        except Exception:  # noqa: BLE001 - the entry expires; the stream goes on
            logger.warning("could not renew a stream slot", exc_info=True)

    def release(self, slot: StreamSlot) -> None:
        try:
            self.client.zrem(self.key(slot.user_id), slot.token)
        except Exception:  # noqa: BLE001 - the entry expires by itself
            logger.warning("could not release a stream slot", exc_info=True)

    def count(self, user_id: int) -> int:
        return self.client.zcard(self.key(user_id))


class StreamSlot:
    def __init__(self, slots: StreamSlots, user_id: int, token: str) -> None:
        self.slots = slots
        self.user_id = user_id
        self.token = token

    def renew(self) -> None:
        self.slots.renew(self)

    def release(self) -> None:
        self.slots.release(self)


stream_slots = StreamSlots()


def session_logs_in(session_key: str, user_id: int) -> bool:
    """Whether the session still logs `user_id` in, decided as Django decides
    it for a request: no once it is deleted (logout) or expired, once the
    password changed (the session's auth hash no longer matches) or the user
    is deactivated, however that was written. Two primary-key reads."""
    probe = HttpRequest()
    probe.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return auth.get_user(probe).pk == user_id


# One thread per web process runs the checks and keeps its database
# connection: a check is then two primary-key reads rather than a new
# connection each time (measured on PostgreSQL: connecting costs several
# times the two reads). One connection per process, not one per stream.
_check_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pmd-session-check")


def _session_logs_in_on_kept_connection(session_key: str, user_id: int) -> bool:
    try:
        return session_logs_in(session_key, user_id)
    except DatabaseError:
        # The kept connection may have died with the server: once more, afresh.
        with contextlib.suppress(DatabaseError):
            connection.close()
        return session_logs_in(session_key, user_id)


class SessionChecks:
    """`session_logs_in` for the streams of this process, shared.

    The tabs of one browser share a session, and one event wakes all their
    streams at once: the first to ask waits GATHER seconds for the others,
    then one check answers them all. A check answers only those who asked
    before it started, so none is answered by a check older than its event.
    """

    GATHER = 0.01

    def __init__(self) -> None:
        self._gathering: dict[tuple[str, int], asyncio.Future[bool]] = {}
        self._running: set[asyncio.Task] = set()  # the loop keeps only weak references

    async def logs_in(self, session_key: str, user_id: int) -> bool:
        key = (session_key, user_id)
        answer = self._gathering.get(key)
        if answer is None:
            answer = asyncio.get_running_loop().create_future()
            self._gathering[key] = answer
            task = asyncio.ensure_future(self._check(key, answer))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        # Shielded: one caller going away must not cancel the others' answer.
        return await asyncio.shield(answer)

    async def _check(self, key: tuple[str, int], answer: asyncio.Future[bool]) -> None:
        await asyncio.sleep(self.GATHER)
        del self._gathering[key]  # later callers get a check of their own
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                _check_thread, _session_logs_in_on_kept_connection, *key
            )
        except Exception:  # noqa: BLE001 - cannot tell: end the stream, the page reconnects
            logger.warning("could not check a stream's session", exc_info=True)
            result = False
        answer.set_result(result)


session_checks = SessionChecks()


class GuardedStream:
    """The body of one stream: django-eventstream's, ended as soon as its
    session no longer logs its user in, renewing and finally giving back the
    stream's slot. Django calls `close` when the response ends, however it ends."""

    def __init__(
        self, events: AsyncGenerator[str], *, session_key: str, user_id: int, slot: StreamSlot
    ) -> None:
        self.events = events
        self.session_key = session_key
        self.user_id = user_id
        self.slot = slot

    def __aiter__(self) -> AsyncIterator[str]:
        return count_open_stream(self._forward())

    async def _forward(self) -> AsyncGenerator[str]:
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        first = True
        try:
            async for chunk in self.events:
                # The first chunk (stream-open, replay) follows the
                # authentication of this very request; every later one waits
                # for a check started after it arrived.
                if not first and not await session_checks.logs_in(self.session_key, self.user_id):
                    logger.info("stream of user %s ended: session gone", self.user_id)
                    return
                first = False
                yield chunk
                if loop.time() - renewed >= StreamSlots.RENEW_EVERY:
                    renewed = loop.time()
                    await sync_to_async(self.slot.renew, thread_sensitive=False)()
        finally:
            await self.events.aclose()

    def close(self) -> None:
        self.slot.release()


def open_stream(
    request: HttpRequest, owner: User, resume_after: int | None, slot: StreamSlot
) -> StreamingHttpResponse:
    """The response streaming `owner`'s events from `resume_after` (None:
    from now) to the caller: the owner, or support allowed to act for them
    (pmd.access.api_owner decided). The channel, the user and the id come
    from the server; nothing else of the request reaches django-eventstream.
    The stream lasts while the caller's own session logs them in."""
    assert request.user.is_authenticated and request.session.session_key is not None
    channel = user_channel(owner.pk)
    body = GuardedStream(
        # The package checks the channel is the user's own (UserChannelManager).
        eventstream.event_stream(channel, resume_after, owner),
        session_key=request.session.session_key,
        user_id=request.user.pk,
        slot=slot,
    )
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    eventstream.add_stream_headers(response, request)
    return response
