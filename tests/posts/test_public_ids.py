from __future__ import annotations

from posts.public_ids import (
    _user_coder,
    post_id_from_sqid,
    post_sqid,
    user_id_from_sqid,
    user_sqid,
)


def test_it_round_trips_ids():
    for number in (1, 2, 99, 123456789, 2**62):
        assert user_id_from_sqid(user_sqid(number)) == number
        assert post_id_from_sqid(post_sqid(number)) == number


def test_it_gives_users_and_posts_different_sqids():
    assert user_sqid(42) != post_sqid(42)


def test_it_rejects_non_canonical_and_garbage_sqids():
    # "kkG" decodes to 60, but 60's one public spelling is another string.
    sqids = _user_coder()
    assert sqids.decode("kkG") == [60]
    assert user_sqid(60) != "kkG"
    assert user_id_from_sqid("kkG") is None
    assert user_id_from_sqid(user_sqid(60)) == 60
    for bad in ("", "!!!", "a" * 40, "0", "ab cd", "../etc"):
        assert user_id_from_sqid(bad) is None
        assert post_id_from_sqid(bad) is None
