"""The client-input parsers (pmd_project.lib.inputs, sqids, cursors): examples,
and properties over generated input: a value or BadInput with a 4xx (a
cursor: Invalid, which the edge answers with a 400), never another exception."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmd.errors import Invalid
from pmd.selectors import decode_cursor
from pmd_project.lib import inputs
from pmd_project.lib.inputs import BadInput
from posts.public_ids import post_id_from_sqid, post_sqid, user_id_from_sqid, user_sqid

FAST = settings(max_examples=200, deadline=None, database=None)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=20,
)


def value_or_bad_input(parse, *args, statuses=(400,), **kwargs):
    try:
        return parse(*args, **kwargs)
    except BadInput as refused:
        assert refused.status in statuses
        assert refused.message
        return refused


class TestDigits:
    @pytest.mark.parametrize(
        ("text", "value"),
        [("0", 0), ("512", 512), ("007", 7), ("9" * 19, int("9" * 19))],
    )
    def test_it_reads_ascii_digits(self, text, value):
        assert inputs.digits(text) == value

    @pytest.mark.parametrize(
        "text",
        ["", "²", "١٢", "１", " 1", "1 ", "+1", "-1", "1_0", "1.5", "1e3", "9" * 20, "9" * 5000],
    )
    def test_it_refuses_anything_else(self, text):
        assert inputs.digits(text) is None

    @FAST
    @given(st.text())
    def test_it_gives_a_small_number_or_none(self, text):
        value = inputs.digits(text)
        assert value is None or (text.isascii() and text.isdigit() and value < 10**19)


class TestWholeNumber:
    def test_it_names_the_parameter_and_its_range(self):
        with pytest.raises(BadInput, match=r"^limit must be a whole number from 1 to 512\.$"):
            inputs.whole_number("513", name="limit", minimum=1, maximum=512)
        assert inputs.whole_number("512", name="limit", minimum=1, maximum=512) == 512

    @FAST
    @given(st.text())
    def test_it_gives_a_number_in_range_or_400(self, text):
        value = value_or_bad_input(inputs.whole_number, text, name="n", minimum=1, maximum=512)
        assert isinstance(value, BadInput) or 1 <= value <= 512


class TestSearchText:
    def test_it_drops_what_postgresql_refuses_and_collapses_spaces(self):
        assert inputs.search_text("  frog\x00 \x1f toad\n", max_length=100) == "frog toad"
        assert inputs.search_text("\x00", max_length=100) == ""
        assert inputs.search_text("a" * 500, max_length=100) == "a" * 100

    @FAST
    @given(st.text())
    def test_it_gives_text_without_control_characters(self, text):
        words = inputs.search_text(text, max_length=100)
        assert len(words) <= 100
        assert not any(ord(char) < 32 or ord(char) == 127 for char in words)
        assert words == words.strip()


class TestJsonObject:
    @pytest.mark.parametrize(
        ("body", "message", "status"),
        [
            (b"", "must be a JSON object", 400),
            (b"[1]", "must be a JSON object", 400),
            (b"{", "must be JSON", 400),
            (b"\xff\xfe", "must be JSON", 400),
            (b"[" * 40_000, "nested too deeply", 400),
            (b"{" + b" " * (64 * 1024) + b"}", "too large", 413),
            (b'{"n": ' + b"9" * 5000 + b"}", "must be JSON", 400),
        ],
    )
    def test_it_refuses_what_is_not_a_small_json_object(self, body, message, status):
        with pytest.raises(BadInput, match=message) as refused:
            inputs.json_object(body)
        assert refused.value.status == status

    @FAST
    @given(st.binary(max_size=200) | JSON_VALUES.map(lambda value: json.dumps(value).encode()))
    def test_it_gives_a_dict_or_a_4xx(self, body):
        data = value_or_bad_input(inputs.json_object, body, statuses=(400, 413))
        assert isinstance(data, dict | BadInput)

    @settings(max_examples=30, deadline=None, database=None)
    @given(st.integers(min_value=1, max_value=60_000), st.sampled_from("[{"))
    def test_any_nesting_under_the_cap_is_a_value_or_400(self, depth, bracket):
        body = (bracket + ('"a":' if bracket == "{" else "")) * depth
        value_or_bad_input(inputs.json_object, body.encode()[: inputs.MAX_BODY_BYTES])


class TestPostIds:
    def test_it_keeps_order_and_counts_duplicates_once(self):
        assert inputs.post_ids([5, 3, 5, 9, 3], limit=128) == [5, 3, 9]

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (None, "must be a list"),
            ("1,2", "must be a list"),
            ([], "at least one"),
            (["1"], "'1' is not one"),
            ([1.0], "1.0 is not one"),
            ([True], "True is not one"),
            ([-4], "-4 is not one"),
            ([0], "0 is not one"),
            ([2**63], "is not one"),
            ([None], "None is not one"),
        ],
    )
    def test_it_refuses_what_is_not_a_list_of_ids(self, value, message):
        with pytest.raises(BadInput, match=message) as caught:
            inputs.post_ids(value, limit=128)
        assert caught.value.status == 400

    def test_it_refuses_more_than_the_limit_after_removing_duplicates(self):
        assert len(inputs.post_ids(list(range(1, 129)) + [1, 2], limit=128)) == 128
        with pytest.raises(BadInput, match="At most 128 posts per request; this one has 129"):
            inputs.post_ids(list(range(1, 130)), limit=128)

    def test_it_quotes_a_deeply_nested_value_briefly(self):
        deep: list = []
        for _ in range(900):
            deep = [deep]
        with pytest.raises(BadInput) as caught:
            inputs.post_ids([deep], limit=128)
        assert len(caught.value.message) < 200

    @FAST
    @given(JSON_VALUES)
    def test_it_gives_distinct_ids_or_400(self, value):
        ids = value_or_bad_input(inputs.post_ids, value, limit=128)
        if not isinstance(ids, BadInput):
            assert 0 < len(ids) <= 128 and len(set(ids)) == len(ids)
            assert all(type(post_id) is int and 0 < post_id < 2**63 for post_id in ids)

    @FAST
    @given(JSON_VALUES)
    def test_a_flag_is_a_bool_or_400(self, value):
        parsed = value_or_bad_input(inputs.flag, value, name="send_email")
        assert isinstance(parsed, bool | BadInput)


class TestByteRange:
    SIZE = 1000

    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            ("bytes=0-", (0, 999)),
            ("bytes=10-19", (10, 19)),
            ("bytes=10-5000", (10, 999)),
            ("bytes=-5", (995, 999)),
            ("bytes=-5000", (0, 999)),
            (f"bytes=-{'9' * 5000}", (0, 999)),
            (f"bytes=5-{'9' * 5000}", (5, 999)),
            ("bytes=abc", None),
            ("bytes=-", None),
            ("bytes=1-2,5-6", None),
            ("bytes=١-", None),
            ("items=1-2", None),
        ],
    )
    def test_it_reads_one_range_or_ignores_the_header(self, header, expected):
        assert inputs.byte_range(header, self.SIZE) == expected

    @pytest.mark.parametrize(
        "header", ["bytes=1000-", "bytes=-0", "bytes=20-10", f"bytes={'9' * 5000}-"]
    )
    def test_it_refuses_a_range_outside_the_file(self, header):
        with pytest.raises(BadInput) as refused:
            inputs.byte_range(header, self.SIZE)
        assert refused.value.status == 416

    @FAST
    @given(
        st.text() | st.from_regex(r"bytes=[0-9]{0,25}-[0-9]{0,25}", fullmatch=True),
        st.integers(min_value=1, max_value=2**40),
    )
    def test_it_gives_bytes_inside_the_file_none_or_416(self, header, size):
        parsed = value_or_bad_input(inputs.byte_range, header, size, statuses=(416,))
        if isinstance(parsed, tuple):
            first, last = parsed
            assert 0 <= first <= last < size


class TestSqids:
    @pytest.mark.parametrize("sqid", ["Zz9Qx7Wv3Ku5Ty1", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"])
    def test_a_sqid_beyond_any_id_is_not_found(self, sqid):
        assert user_id_from_sqid(sqid) is None
        assert post_id_from_sqid(sqid) is None

    @FAST
    @given(st.text(max_size=40))
    def test_any_text_is_an_id_or_not_found(self, text):
        for decode, encode in ((user_id_from_sqid, user_sqid), (post_id_from_sqid, post_sqid)):
            number = decode(text)
            assert number is None or (0 < number < 2**63 and encode(number) == text)

    @FAST
    @given(st.integers(min_value=1, max_value=2**63 - 1))
    def test_every_id_round_trips(self, number):
        assert user_id_from_sqid(user_sqid(number)) == number
        assert post_id_from_sqid(post_sqid(number)) == number


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


class TestCursor:
    def test_it_reads_its_own_cursors_in_utc(self):
        moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
        assert decode_cursor(_cursor([moment.isoformat(), 7])) == (moment.astimezone(UTC), 7)

    @pytest.mark.parametrize(
        "moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-01-01T00:00:00"]
    )
    def test_it_refuses_a_date_that_has_no_utc_value(self, moment):
        with pytest.raises(Invalid, match="The cursor is not valid"):
            decode_cursor(_cursor([moment, 5]))

    @FAST
    @given(
        st.text()
        | JSON_VALUES.map(_cursor)
        | st.tuples(
            st.datetimes(timezones=st.timezones() | st.just(timezone(timedelta(hours=23)))).map(
                datetime.isoformat
            ),
            st.integers(),
        ).map(lambda pair: _cursor(list(pair)))
    )
    def test_any_text_is_a_position_or_400(self, cursor):
        try:
            position = decode_cursor(cursor)
        except Invalid as refused:
            assert refused.message
            return
        created_at, post_id = position
        assert created_at.utcoffset() == timedelta(0)
        assert 0 < post_id < 2**63
