"""Bulk text edits as pure functions: reading what the client sent, and
what each post's text becomes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmd.edits import EditRefused, PostInvalid, text_edit


def edit(field_name="title", **data):
    return text_edit(data, field_name=field_name)


class TestApply:
    @pytest.mark.parametrize(
        ("data", "before", "after"),
        [
            ({"op": "set", "value": "Sunset"}, "old", "Sunset"),
            ({"op": "prefix", "value": "[WIP] "}, "Castle", "[WIP] Castle"),
            ({"op": "suffix", "value": " 🌅"}, "Castle", "Castle 🌅"),
            ({"op": "replace", "find": "cat", "value": "dog"}, "cat catalog", "dog dogalog"),
            (
                {"op": "replace", "find": "CAT", "value": "dog", "ignore_case": True},
                "Cat cat",
                "dog dog",
            ),
            ({"op": "replace", "find": "CAT", "value": "dog"}, "Cat cat", "Cat cat"),
            # A literal replacement takes \1 as two characters, not a group.
            ({"op": "replace", "find": "a.b", "value": r"\1"}, "a.b axb", r"\1 axb"),
            (
                {"op": "regex", "find": r"(\w+) v(\d+)", "value": r"\1 (version \2)"},
                "Knight v2",
                "Knight (version 2)",
            ),
            (
                {"op": "regex", "find": r"^(?P<n>\d+)", "value": r"#\g<n>", "ignore_case": True},
                "12 frames",
                "#12 frames",
            ),
        ],
    )
    def test_it_edits_as_asked(self, data, before, after):
        assert edit(**data).apply(before) == after

    def test_it_keeps_every_character_it_does_not_touch(self):
        title = "🐉" * 150 + "é" * 149
        assert edit(op="suffix", value="!").apply(title) == title + "!"

    @pytest.mark.parametrize(
        ("data", "before", "reason"),
        [
            ({"op": "set", "value": "   "}, "x", "The title would be empty."),
            ({"op": "regex", "find": ".*", "value": ""}, "x", "The title would be empty."),
            ({"op": "suffix", "value": "!"}, "a" * 300, "would have 301 characters"),
            ({"op": "suffix", "value": "\nsecond"}, "a", "A title is one line"),
            ({"op": "regex", "find": "(a)", "value": r"\2"}, "a", "The replacement cannot"),
        ],
    )
    def test_it_says_why_a_post_cannot_take_the_edit(self, data, before, reason):
        with pytest.raises(PostInvalid, match=reason.replace("(", r"\(")):
            edit(**data).apply(before)

    def test_it_stops_an_expression_that_runs_too_long(self):
        runaway = edit(op="regex", find=r"(a|aa)+$", value="x")
        with pytest.raises(PostInvalid, match="takes too long"):
            runaway.apply("a" * 40 + "!")

    def test_it_gives_up_on_an_expression_once_its_budget_is_spent(self):
        runaway = edit(op="regex", find=r"(a|aa)+$", value="x")
        reasons = []
        for _ in range(200):
            try:
                runaway.apply("a" * 40 + "!")
            except PostInvalid as error:
                reasons.append(str(error))
        # Each try costs at most its per-text budget; once the request's is
        # spent, the rest are refused without running.
        assert "The expression took too long on earlier posts; simplify it." in reasons
        assert runaway.budget.spent < 2

    def test_a_description_may_be_emptied(self):
        assert edit("description", op="set", value="").apply("words") == ""


class TestRead:
    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ("set", "title must be an object"),
            ({"op": "delete"}, "title.op must be one of set, prefix, suffix, replace, regex"),
            ({"op": "set", "value": 5}, "title.value must be text"),
            ({"op": "set", "value": "x" * 301}, "title.value has 301 characters"),
            ({"op": "replace", "value": "x"}, "title.find: say what to find"),
            ({"op": "regex", "find": "(", "value": "x"}, "not a regular expression"),
            ({"op": "regex", "find": "a", "value": "", "ignore_case": "yes"}, "true or false"),
            ({"op": "set", "value": "x", "find": "y"}, "go with replace and regex only"),
            ({"op": "set", "value": "a\x00b"}, "NUL"),
            ({"op": "set", "value": "x", "flags": "g"}, "unknown field 'flags'"),
            ({"op": "regex", "find": "a" * 301, "value": ""}, "at most 300"),
        ],
    )
    def test_it_refuses_an_edit_it_cannot_read(self, data, message):
        with pytest.raises(EditRefused, match=message.replace("(", r"\(")):
            text_edit(data, field_name="title")


@given(
    st.dictionaries(
        st.sampled_from(["op", "value", "find", "ignore_case", "x"]),
        st.one_of(st.text(max_size=40), st.booleans(), st.integers(), st.none()),
    ),
    st.text(max_size=60),
)
@settings(max_examples=300, deadline=None)
def test_it_answers_any_input_with_a_text_or_a_reason(data, title):
    try:
        parsed = text_edit(data, field_name="title")
    except EditRefused as error:
        assert str(error)
        return
    try:
        new = parsed.apply(title)
    except PostInvalid as error:
        assert str(error)
        return
    assert isinstance(new, str) and new.strip() and len(new) <= 300
