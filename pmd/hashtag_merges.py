"""Hashtags that are probably one tag spelt two ways, suggested for merging
in the hashtag manager: the same but for accents (#pokemon, #pokémon), or one
letter apart (#pixelart, #pixleart, #pixelarts).

Tags differing only in case are one tag already (matching casefolds them),
so they never appear here. The rarer spelling is suggested to merge into
the more used one; the owner decides.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

# Below this, one letter apart is another word (#cat, #car, #bat).
MIN_LENGTH_FOR_TYPOS = 5


@dataclass(frozen=True)
class MergeSuggestion:
    hashtag: str
    into: str
    reason: str


def _without_accents(tag: str) -> str:
    decomposed = unicodedata.normalize("NFKD", tag.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _one_letter_keys(tag: str) -> set[str]:
    """The tag with each letter left out in turn, and the tag itself: two
    tags share a key exactly when one letter changed, was added or was
    dropped (or two neighbours swapped), without comparing every pair."""
    return {tag, *(tag[:index] + tag[index + 1 :] for index in range(len(tag)))}


def merge_suggestions(counts: Mapping[str, int]) -> list[MergeSuggestion]:
    """Suggestions over `counts` (hashtag → posts using it), the most used
    target first. Each hashtag is suggested once, into the most used of its
    near-duplicates."""
    best: dict[str, tuple[str, str]] = {}

    def consider(group: list[str], reason: str) -> None:
        if len(group) < 2:
            return
        target = max(group, key=lambda tag: (counts[tag], tag))
        for tag in group:
            if tag == target:
                continue
            current = best.get(tag)
            if current is None or counts[target] > counts[current[0]]:
                best[tag] = (target, reason)

    by_letters: dict[str, list[str]] = defaultdict(list)
    for tag in counts:
        by_letters[_without_accents(tag)].append(tag)
    for group in by_letters.values():
        consider(group, "accents")

    by_key: dict[str, list[str]] = defaultdict(list)
    for tag in counts:
        if len(tag) >= MIN_LENGTH_FOR_TYPOS:
            for key in _one_letter_keys(_without_accents(tag)):
                by_key[key].append(tag)
    for group in by_key.values():
        consider(sorted(set(group)), "one letter apart")

    # A tag suggested into another that is itself suggested elsewhere
    # follows the chain to its end, so no suggestion points at a tag that
    # the same list proposes to merge away.
    suggestions = []
    for tag, (target, reason) in best.items():
        seen = {tag}
        while target in best and target not in seen:
            seen.add(target)
            target = best[target][0]
        if target != tag:
            suggestions.append(MergeSuggestion(tag, target, reason))
    suggestions.sort(key=lambda s: (-counts[s.into], s.into, -counts[s.hashtag], s.hashtag))
    return suggestions
