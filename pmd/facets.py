"""Exact counts beside the table's filters, for the current search.

As the Django admin's facets: each filter's options are counted with every
other filter and the search applied, but not the filter itself, so each
number is what choosing that option would show. The visibility and format
counts are one aggregate query; the top hashtags one grouped query over the
posts that match everything. Both are cached under the owner's posts version
(pmd/counts.py) with the table's totals, so they are exact whoever wrote
the posts, and are counted afresh whenever the search compares a counter
(which changes without moving that version).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import cast

from django.db import connection
from django.db.models import Count, Q

from posts.models import NOT_HIDDEN, Post

from .selectors import PostQuery, cached_per_query, matching_posts

TOP_HASHTAGS = 8
HIDDEN = Q(hidden_by_user=True) | Q(hidden_by_mod=True)
VISIBILITY = {"all": Q(), "visible": Q(NOT_HIDDEN), "hidden": HIDDEN}


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
            ("table", query, lambda: _count(query)),
        ]
    )
    # One cached list of mixed results: a count, then the query's total and facets.
    total, facets = cast(tuple[int, Facets], counted)
    return total, cast(int, live_total), facets


def _count(query: PostQuery) -> tuple[int, Facets]:
    """How many posts `query` matches, and its facets: the total is the
    visibility count of the filter chosen (the format's applied), so one
    pass over the searched posts counts both."""
    searched = matching_posts(replace(query, visibility="all", file_format="all"))
    format_q = Q(file_format=query.file_format) if query.file_format != "all" else Q()
    visibility_q = VISIBILITY[query.visibility]
    aggregates = {
        f"v_{name}": Count("pk", filter=condition & format_q)
        for name, condition in VISIBILITY.items()
    }
    aggregates["f_all"] = Count("pk", filter=visibility_q)
    for value in Post.Format.values:
        aggregates[f"f_{value}"] = Count("pk", filter=Q(file_format=value) & visibility_q)
    counts = searched.aggregate(**aggregates)
    facets = Facets(
        visibility={name: counts[f"v_{name}"] for name in VISIBILITY},
        formats={"all": counts["f_all"], **{v: counts[f"f_{v}"] for v in Post.Format.values}},
        hashtags=_top_hashtags(matching_posts(query)),
    )
    return counts[f"v_{query.visibility}"], facets


def _top_hashtags(posts) -> list[tuple[str, int]]:
    tagged = posts.exclude(hashtags="").order_by().values("hashtags")
    if connection.vendor != "postgresql":
        # SQLite has no way to split a string in SQL; its sizes are small.
        texts = tagged.values_list("hashtags", flat=True)
        counter = Counter(tag.lower() for text in texts for tag in text.split())
        return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:TOP_HASHTAGS]
    sql, params = tagged.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tag, count(*) FROM ("  # noqa: S608 - the ORM's own SQL, values as parameters
            f"{sql}) AS p, unnest(string_to_array(lower(p.hashtags), ' ')) AS tag "
            "WHERE tag <> '' GROUP BY tag ORDER BY count(*) DESC, tag LIMIT %s",
            [*params, TOP_HASHTAGS],
        )
        return [(tag, count) for tag, count in cursor.fetchall()]
