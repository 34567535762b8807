"""Near-duplicate hashtags suggested for merging."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pmd.hashtag_merges import MergeSuggestion, merge_suggestions


def pairs(counts):
    return {(s.hashtag, s.into, s.reason) for s in merge_suggestions(counts)}


class TestMergeSuggestions:
    def test_it_suggests_the_same_tag_without_accents(self):
        assert pairs({"pokémon": 10, "pokemon": 3, "sunset": 4}) == {
            ("pokemon", "pokémon", "accents")
        }

    def test_it_suggests_tags_one_letter_apart_into_the_most_used(self):
        assert pairs({"pixelart": 50, "pixleart": 2, "pixelarts": 1, "pixelar": 1}) == {
            ("pixleart", "pixelart", "one letter apart"),
            ("pixelarts", "pixelart", "one letter apart"),
            ("pixelar", "pixelart", "one letter apart"),
        }

    def test_it_leaves_short_words_that_differ_by_a_letter(self):
        assert pairs({"cat": 5, "car": 3, "bat": 1}) == set()

    def test_it_suggests_nothing_for_tags_far_apart(self):
        assert pairs({"pixelart": 5, "dotart": 5, "sprite": 2}) == set()

    def test_no_suggestion_points_at_a_tag_merged_away(self):
        counts = {"dragons": 9, "dragon": 4, "dragn": 1}
        suggestions = merge_suggestions(counts)
        merged_away = {s.hashtag for s in suggestions}
        assert all(s.into not in merged_away for s in suggestions)
        assert {s.hashtag for s in suggestions} == {"dragon", "dragn"}


@given(st.dictionaries(st.text(min_size=1, max_size=12), st.integers(1, 100), max_size=40))
@settings(max_examples=200, deadline=None)
def test_each_tag_is_suggested_at_most_once_into_another_known_tag(counts):
    suggestions = merge_suggestions(counts)
    assert all(isinstance(s, MergeSuggestion) for s in suggestions)
    assert len({s.hashtag for s in suggestions}) == len(suggestions)
    for s in suggestions:
        assert s.hashtag != s.into
        assert s.hashtag in counts and s.into in counts
        # Always into a tag used at least as often: the rarer spelling goes.
        assert counts[s.into] >= counts[s.hashtag]
