"""Exact counts beside the table's filters, for the current search.

As the Django admin's facets: each filter's options are counted with every
other filter and the search applied, but not the filter itself, so each
number is what choosing that option would show. One grouped query over the
posts the search matches counts them all, the total and the top hashtags
included, so the search is evaluated once. They are cached under the owner's
posts version (pmd/counts.py), so they are exact whoever wrote
the posts, and are counted afresh whenever the search compares a counter
(which changes without moving that version).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import cast

from django.db import connection

from posts.models import Post

from .selectors import PostQuery, cached_per_query, matching_posts

TOP_HASHTAGS = 8
# What a query's total and facets are cached as, together (pmd.selectors).
TABLE_COUNTS = "table"
VISIBILITY = ("all", "visible", "hidden")


@dataclass(frozen=True)
class Facets:
    # {"all": n, "visible": n, "hidden": n}, with the format filter applied.
    visibility: dict[str, int]
    # {"all": n, "png": n, ...}, with the visibility filter applied.
    formats: dict[str, int]
    # The most used hashtags among the posts that match everything: (tag, n).
    hashtags: list[tuple[str, int]]


def facet_counts(query: PostQuery) -> Facets:
    """The counts beside each filter of `query` (its search must be readable)."""
    return table_counts(query)[2]


def table_counts(query: PostQuery) -> tuple[int, int, Facets]:
    """What the table shows above its rows: how many posts `query` matches,
    how many live posts the owner has, and the facets; one read of the posts
    version for them once they are cached."""
    everything = PostQuery(owner=query.owner)
    live_total, counted = cached_per_query(
        [
            ("count", everything, matching_posts(everything).count),
            (TABLE_COUNTS, query, lambda: _count(query)),
        ]
    )
    # One cached list of mixed results: a count, then the query's total and facets.
    total, facets = cast(tuple[int, Facets], counted)
    return total, cast(int, live_total), facets


def _count(query: PostQuery) -> tuple[int, Facets]:
    """How many posts `query` matches, and its facets. The total is the
    visibility count of the filter chosen (the format's applied)."""
    searched = matching_posts(replace(query, visibility="all", file_format="all"))
    if connection.vendor == "postgresql":
        groups = _grouped_counts(searched)
    else:
        groups = _grouped_counts_in_python(searched)
    return _facets_of(query, groups)


# (hidden, format, hashtag) -> posts; the hashtag None counts every post of
# the (hidden, format) group, tagged or not.
Groups = dict[tuple[bool, str, str | None], int]


def _grouped_counts(searched) -> Groups:
    """One pass over the searched posts: each post once in its (hidden,
    format) group, and once more for each of its hashtags, so the search is
    evaluated once for every count the table shows."""
    rows = searched.order_by().values("hidden_by_user", "hidden_by_mod", "file_format", "hashtags")
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            # The ORM's own SQL, values as parameters; NULL stands for the post itself.
            "SELECT p.hidden_by_user OR p.hidden_by_mod, p.file_format, tag, count(*) "  # noqa: S608
            f"FROM ({sql}) AS p, "
            "unnest(ARRAY[NULL] || string_to_array(lower(p.hashtags), ' ')) AS tag "
            "WHERE tag IS NULL OR tag <> '' GROUP BY 1, 2, 3",
            params,
        )
        return {(hidden, file_format, tag): count for hidden, file_format, tag, count in cursor}


def _grouped_counts_in_python(searched) -> Groups:
    # SQLite has no way to split a string in SQL; its sizes are small.
    groups: Counter[tuple[bool, str, str | None]] = Counter()
    rows = searched.values_list("hidden_by_user", "hidden_by_mod", "file_format", "hashtags")
    for by_user, by_mod, file_format, hashtags in rows:
        hidden = by_user or by_mod
        groups[(hidden, file_format, None)] += 1
        for tag in hashtags.lower().split(" "):
            if tag:
                groups[(hidden, file_format, tag)] += 1
    return dict(groups)


def _facets_of(query: PostQuery, groups: Groups) -> tuple[int, Facets]:
    def shown(hidden: bool, visibility: str) -> bool:
        return visibility == "all" or hidden == (visibility == "hidden")

    def chosen_format(file_format: str, wanted: str) -> bool:
        return wanted == "all" or file_format == wanted

    visibility = dict.fromkeys(VISIBILITY, 0)
    formats = dict.fromkeys(["all", *Post.Format.values], 0)
    hashtags: Counter[str] = Counter()
    for (hidden, file_format, tag), count in groups.items():
        if tag is not None:
            if shown(hidden, query.visibility) and chosen_format(file_format, query.file_format):
                hashtags[tag] += count
            continue
        if chosen_format(file_format, query.file_format):
            for name in visibility:
                if shown(hidden, name):
                    visibility[name] += count
        if shown(hidden, query.visibility):
            formats["all"] += count
            formats[file_format] = formats.get(file_format, 0) + count
    top = sorted(hashtags.items(), key=lambda item: (-item[1], item[0]))[:TOP_HASHTAGS]
    return visibility[query.visibility], Facets(visibility, formats, top)
