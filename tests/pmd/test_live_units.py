"""The parts of live streams that need no server: parsing what a client
sends, and sharing session checks (pmd/live.py)."""

from __future__ import annotations

import asyncio
import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.http import QueryDict

from pmd import live
from pmd.live import SessionChecks, parse_last_event_id, parse_stream_query
from pmd_project.inputs import BadInput


def _run(scenario):
    """asyncio.run(scenario()) in a thread of its own: the main thread may be
    inside Playwright's event loop (browser tests of the same session)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, scenario()).result()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", None),
        ("pmd%3Auser-7:12", 12),
        ("pmd:user-7:12", 12),
        ("pmd%3Auser-7:0", 0),
        ("other:3", None),
        ("other:3,pmd%3Auser-7:5", 5),
        ("pmd%3Auser-7:" + "9" * 18, int("9" * 18)),
    ],
)
def test_parse_last_event_id_returns_the_id_of_the_channel(raw, expected):
    assert parse_last_event_id(raw, "pmd:user-7") == expected


@pytest.mark.parametrize(
    "raw",
    ["x", "pmd%3Auser-7:", "pmd%3Auser-7:x", "pmd%3Auser-7:١", ":1", "a:1,", ",", "error",
     "pmd%3Auser-7:" + "9" * 19, "pmd%3Auser-7:-0", "pmd%3Auser-7: 1", ",".join(["a:1"] * 11)],
)  # fmt: skip
def test_parse_last_event_id_refuses_anything_else_with_a_400(raw):
    with pytest.raises(BadInput) as raised:
        parse_last_event_id(raw, "pmd:user-7")
    assert raised.value.status == 400


def test_parse_last_event_id_answers_any_text_with_a_value_or_a_400():
    alphabet = "pmd%3Auser-7:,0123456789²١ \x00\n\ud800é"
    generator = random.Random(11)
    outcomes = {"value": 0, "refused": 0}
    for _ in range(5000):
        raw = "".join(generator.choice(alphabet) for _ in range(generator.randint(0, 30)))
        try:
            result = parse_last_event_id(raw, "pmd:user-7")
        except BadInput as error:
            assert error.status == 400
            outcomes["refused"] += 1
        else:
            assert result is None or (isinstance(result, int) and 0 <= result < 2**63)
            outcomes["value"] += 1
    assert outcomes["value"] and outcomes["refused"]


def test_parse_stream_query_checks_every_id_and_the_header_wins():
    channel = "pmd:user-7"
    assert parse_stream_query(QueryDict(""), None, channel) is None
    assert parse_stream_query(QueryDict("lastEventId=pmd%253Auser-7:4"), None, channel) == 4
    query = QueryDict("lastEventId=pmd%253Auser-7:4&lastEventId=")
    assert parse_stream_query(query, None, channel) == 4
    assert parse_stream_query(query, "pmd%3Auser-7:9", channel) == 9
    with pytest.raises(BadInput):
        parse_stream_query(QueryDict("lastEventId=bad&lastEventId=pmd%253Auser-7:4"), None, channel)
    with pytest.raises(BadInput):
        parse_stream_query(query, "bad", channel)
    with pytest.raises(BadInput, match="es-meta"):
        parse_stream_query(QueryDict("es-meta=x"), None, channel)


class TestSessionChecks:
    def test_one_check_answers_the_streams_of_a_session_woken_together(self, monkeypatch):
        calls = []

        def check(session_key, user_id):
            calls.append((session_key, user_id))
            return True

        monkeypatch.setattr(live, "session_logs_in", check)
        checks = SessionChecks()

        async def scenario():
            together = await asyncio.gather(*(checks.logs_in("s", 1) for _ in range(10)))
            later = await checks.logs_in("s", 1)
            other = await asyncio.gather(checks.logs_in("t", 1), checks.logs_in("s", 2))
            return together, later, other

        together, later, other = _run(scenario)
        assert together == [True] * 10 and later is True and other == [True, True]
        # One for the ten, one for the one who asked after it started, one each for the others.
        assert calls == [("s", 1), ("s", 1), ("t", 1), ("s", 2)]

    def test_a_check_started_before_a_caller_asked_does_not_answer_it(self, monkeypatch):
        answers = iter([True, False])
        started = []

        def check(session_key, user_id):
            started.append(time.monotonic())
            time.sleep(0.05)  # the check is running when the second caller asks
            return next(answers)

        monkeypatch.setattr(live, "session_logs_in", check)
        checks = SessionChecks()

        async def scenario():
            first = asyncio.ensure_future(checks.logs_in("s", 1))
            await asyncio.sleep(checks.GATHER + 0.02)
            second = await checks.logs_in("s", 1)
            return await first, second

        assert _run(scenario) == (True, False)
        assert len(started) == 2
