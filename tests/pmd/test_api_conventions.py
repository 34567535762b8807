from __future__ import annotations

import pytest

from pmd.api import ApiError, parse_post_ids


class TestParsePostIds:
    def test_it_keeps_order_and_counts_duplicates_once(self):
        assert parse_post_ids([5, 3, 5, 9, 3], limit=128) == [5, 3, 9]

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
        with pytest.raises(ApiError, match=message) as caught:
            parse_post_ids(value, limit=128)
        assert caught.value.status == 400

    def test_it_refuses_more_than_the_limit_after_removing_duplicates(self):
        assert len(parse_post_ids(list(range(1, 129)) + [1, 2], limit=128)) == 128
        with pytest.raises(ApiError, match="At most 128 posts per request; this one has 129"):
            parse_post_ids(list(range(1, 130)), limit=128)
