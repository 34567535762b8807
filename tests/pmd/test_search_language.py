"""The search language read into terms: what each operator means, and that
nothing a person (or an attacker) types escapes as anything but QueryError."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmd.search_language import (
    MAX_LENGTH,
    MAX_TERMS,
    NUMBER_FIELDS,
    QueryError,
    Term,
    parse,
)


def kinds(text: str) -> list[tuple]:
    return [(term.kind, term.value, term.negated) for term in parse(text).terms]


class TestReading:
    def test_it_reads_words_and_phrases(self):
        assert kinds('sunset  "night   sky" -castle') == [
            ("word", "sunset", False),
            ("word", "night sky", False),
            ("word", "castle", True),
        ]

    def test_it_reads_hashtags_as_the_site_keeps_them(self):
        assert kinds("#PixelArt -#wip #ドット絵") == [
            ("hashtag", "pixelart", False),
            ("hashtag", "wip", True),
            ("hashtag", "ドット絵", False),
        ]

    @pytest.mark.parametrize(
        ("text", "field", "op", "value"),
        [
            ("w:16", "width", "=", 16),
            ("W:=16", "width", "=", 16),
            ("width:>=16", "width", ">=", 16),
            ("h:<64", "height", "<", 64),
            ("frames:>1", "frame_count", ">", 1),
            ("colors:<=16", "color_count", "<=", 16),
            ("colours:<=16", "color_count", "<=", 16),
            ("reactions:>10", "reaction_count", ">", 10),
            ("comments:0", "comment_count", "=", 0),
            ("views:>100", "view_count", ">", 100),
        ],
    )
    def test_it_reads_comparisons(self, text, field, op, value):
        (term,) = parse(text).terms
        assert (term.kind, term.field, term.op, term.value) == ("number", field, op, value)

    def test_it_reads_the_other_operators(self):
        terms = parse(
            "size:32x32 size:8×16 format:GIF is:hidden -is:visible license:CC-BY-4.0 "
            "license:none before:2026-01-01 after:2025-06-30 on:2026-02-14"
        ).terms
        assert [(t.kind, t.value, t.op, t.negated) for t in terms] == [
            ("size", (32, 32), "=", False),
            ("size", (8, 16), "=", False),
            ("format", "gif", "=", False),
            ("is", "hidden", "=", False),
            ("is", "visible", "=", True),
            ("license", "CC-BY-4.0", "=", False),
            ("license", None, "=", False),
            ("date", datetime.date(2026, 1, 1), "<", False),
            ("date", datetime.date(2025, 6, 30), ">", False),
            ("date", datetime.date(2026, 2, 14), "=", False),
        ]

    def test_it_reads_a_colon_after_a_number_as_a_word(self):
        assert kinds("12:30 -") == [("word", "12:30", False), ("word", "-", False)]

    def test_it_keeps_where_each_term_was_typed(self):
        text = "  cat   -#wip"
        first, second = parse(text).terms
        assert text[first.start : first.end] == "cat"
        assert text[second.start : second.end] == "-#wip"

    def test_it_reads_an_empty_query_as_no_terms(self):
        assert not parse("   ")
        assert parse("   ").terms == ()


class TestRefusals:
    @pytest.mark.parametrize(
        ("text", "says", "start"),
        [
            ('cat "night sky', "The quote at character 5 is never closed", 4),
            ("foo:bar", "there is no 'foo' operator", 0),
            ("w:>-1", "w: takes a whole number from 0 to 65,535", 0),
            ("w:>²", "w: takes a whole number", 0),
            ("views:" + "9" * 400, "views: takes a whole number", 0),
            ("size:0x99999999999", "size: takes a width and a height from 1 to 65,535", 0),
            ("size:32", "size: takes a width and a height", 0),
            ("on:0000-01-01", "on: takes a date as YYYY-MM-DD", 0),
            ("before:2026-02-30", "before: takes a date", 0),
            ("after:26-1-1", "after: takes a date", 0),
            ("x format:tiff", "format: is one of png, gif, webp, bmp", 2),
            ("is:secret", "is: is hidden or visible", 0),
            ("license:<script>", "license: takes an identifier", 0),
            ("#no-dashes", "A hashtag takes letters, digits and _ only", 0),
            ("w:", "w: needs a value, such as w:>=16", 0),
            ('""', "the quotes hold nothing", 0),
            ('"a"b', "Put a space after the phrase", 0),
            ("a\x00b", "control character (U+0000) at character 2", 1),
            ("a\u202eb", "control character (U+202E) at character 2", 1),
        ],
    )
    def test_it_says_what_it_could_not_read_and_where(self, text, says, start):
        with pytest.raises(QueryError) as caught:
            parse(text)
        assert says in caught.value.message
        assert caught.value.start == start

    def test_it_refuses_too_many_terms(self):
        parse(" ".join(["cat"] * MAX_TERMS))
        with pytest.raises(QueryError, match=f"at most {MAX_TERMS} terms"):
            parse(" ".join(["cat"] * 10_000)[:MAX_LENGTH])

    def test_it_refuses_a_query_too_long(self):
        with pytest.raises(QueryError, match=f"at most {MAX_LENGTH} characters"):
            parse("a" * (MAX_LENGTH + 1))


@given(st.text(max_size=MAX_LENGTH + 10))
@settings(max_examples=400, deadline=None)
def test_it_never_fails_but_with_a_message_that_points_into_the_query(text):
    try:
        query = parse(text)
    except QueryError as error:
        assert error.message.strip()
        assert 0 <= error.start <= error.end <= len(text)
        return
    assert len(query.terms) <= MAX_TERMS
    for term in query.terms:
        assert isinstance(term, Term)
        assert 0 <= term.start < term.end <= len(text)


_OPS = st.sampled_from(["", "=", "<", "<=", ">", ">="])


@given(
    key=st.sampled_from(sorted(NUMBER_FIELDS)),
    op=_OPS,
    number=st.integers(min_value=0, max_value=65_535),
    negated=st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_it_reads_back_every_comparison_it_documents(key, op, number, negated):
    (term,) = parse(f"{'-' if negated else ''}{key}:{op}{number}").terms
    assert term.kind == "number"
    assert term.field == NUMBER_FIELDS[key][0]
    assert term.op == (op or "=")
    assert term.value == number
    assert term.negated is negated
