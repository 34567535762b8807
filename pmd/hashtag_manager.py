"""The hashtag manager: the owner's hashtags with their post counts, and
rename, merge (a rename onto a hashtag that exists) and remove across every
live artwork, each one audit entry that one Undo reverses.

A rename or remove may touch thousands of posts, more than a batch action's
128: it reads the posts that carry the hashtag (a LIKE narrows them, the
exact match is pmd.hashtags'), writes each its new hashtags in UPDATEs of a
thousand posts, and records every changed post's hashtags before and after,
so the undo (pmd.actions.undo.restore_values) puts back exactly what was there
on the posts nobody changed since.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import ngettext

from pmd.actions.base import ActionCounts
from pmd.actions.registry import LOGGED
from pmd.actions.run import record_action
from pmd.actions.values import write_values
from pmd.errors import Invalid
from pmd.hashtag_merges import MergeSuggestion, merge_suggestions
from pmd.hashtags import BadHashtag, hashtag_key, hashtag_parse
from pmd.selectors import live_artworks

# Posts per UPDATE: one CASE per statement stays a size PostgreSQL plans quickly.
WRITE_BATCH = 1000


def hashtag_counts(*, owner: User) -> Counter[str]:
    """Each hashtag on the owner's live artworks → how many of them carry it.
    One query, reading the one column."""
    counts: Counter[str] = Counter()
    for hashtags in (
        live_artworks(owner=owner).values_list("hashtags", flat=True).iterator(chunk_size=5000)
    ):
        # A post that carries a tag twice counts once.
        counts.update(dict.fromkeys(dict.fromkeys(hashtags.split()), 1))
    return counts


def hashtag_overview(*, owner: User) -> tuple[Counter[str], list[MergeSuggestion]]:
    counts = hashtag_counts(owner=owner)
    return counts, merge_suggestions(counts)


def _parsed(value: object, name: str) -> str:
    try:
        return hashtag_parse(value)
    except BadHashtag as error:
        raise Invalid(f"{name}: {error}") from None


@dataclass(frozen=True)
class HashtagResult:
    affected_count: int
    message: str
    activity_id: int


def _rewrite(
    owner: User,
    hashtag: str,
    to: str | None,
    actor: User | None,
) -> tuple[ActionCounts, int]:
    """Every live artwork of the owner's carrying `hashtag` gets it replaced
    by `to` (kept once if the post has it already), or dropped when `to` is
    None. Returns the counts and the audit entry's id."""
    key = hashtag_key(hashtag)
    posts = (
        live_artworks(owner=owner)
        .filter(hashtags__icontains=hashtag)
        .select_for_update()
        .order_by("id")
        .values_list("id", "hashtags")
    )
    values: dict[int, dict[str, list[str]]] = {}
    for post_id, hashtags in posts:
        words = hashtags.split()
        if not any(hashtag_key(word) == key for word in words):
            continue
        new: dict[str, str] = {}
        for word in words:
            kept = (to if hashtag_key(word) == key else word) or None
            if kept is not None:
                # Merging onto a tag the post has already keeps it once.
                new.setdefault(hashtag_key(kept), kept)
        after = " ".join(new.values())
        if after != hashtags:
            values[post_id] = {"hashtags": [hashtags, after]}
    if not values:
        raise Invalid(f"None of your posts has #{hashtag}.")
    ids = list(values)
    for start in range(0, len(ids), WRITE_BATCH):
        batch = ids[start : start + WRITE_BATCH]
        write_values({post_id: {"hashtags": values[post_id]["hashtags"][1]} for post_id in batch})
    counts = ActionCounts(requested=len(ids), changed_ids=tuple(ids), values=values)
    operation = LOGGED["rename_hashtag" if to is not None else "delete_hashtag"]
    entry = record_action(owner, operation.bind(hashtag), ids, counts, value=to or "", actor=actor)
    return counts, entry.pk


def hashtag_rename(
    *, owner: User, hashtag: object, to: object, actor: User | None = None
) -> HashtagResult:
    """Rename `hashtag` to `to` on every live artwork of the owner's; when
    `to` exists already this merges the two (a post with both keeps one)."""
    old, new = _parsed(hashtag, "hashtag"), _parsed(to, "to")
    if old == new:
        raise Invalid(f"#{old} is already called that; nothing to rename.")
    with transaction.atomic():
        counts, activity_id = _rewrite(owner, old, new, actor)
    message = ngettext(
        "Renamed #%(old)s to #%(new)s on %(count)d post.",
        "Renamed #%(old)s to #%(new)s on %(count)d posts.",
        counts.changed,
    ) % {"old": old, "new": new, "count": counts.changed}
    return HashtagResult(counts.changed, message, activity_id)


def hashtag_remove_everywhere(
    *, owner: User, hashtag: object, actor: User | None = None
) -> HashtagResult:
    """Remove `hashtag` from every live artwork of the owner's."""
    old = _parsed(hashtag, "hashtag")
    with transaction.atomic():
        counts, activity_id = _rewrite(owner, old, None, actor)
    message = ngettext(
        "Removed #%(old)s from %(count)d post.",
        "Removed #%(old)s from %(count)d posts.",
        counts.changed,
    ) % {"old": old, "count": counts.changed}
    return HashtagResult(counts.changed, message, activity_id)
