"""Saved views: a person's named searches of the table, shown as tabs with
their counts, renamed, reordered and deleted, each theirs alone.

The edges check that sort, filters and page size are values the table has
(pmd.table_state); the rules here own the name, the search, how many a
person may keep, and that nobody reaches another's views (NotFound alike
for a view that does not exist and one that is not theirs).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max

from pmd.errors import Invalid, NotFound
from pmd.models import SavedView
from pmd.search import search_read
from pmd.selectors import PostQuery, cached_per_query, matching_posts

MAX_VIEWS = 20
MAX_NAME = 60


@dataclass(frozen=True)
class ViewSettings:
    """What a view shows: the table's search, filters, sort and page size."""

    search: str = ""
    visibility: str = "all"
    file_format: str = "all"
    license: str = "all"
    sort: str = "uploaded"
    direction: str = "desc"
    size: int = 32


def _name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise Invalid("Give the view a name.")
    if len(name) > MAX_NAME:
        raise Invalid(f"A view's name has at most {MAX_NAME} characters; this one has {len(name)}.")
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") for char in name):
        raise Invalid("A view's name cannot hold control or invisible characters.")
    return name


def _taken(user: User, name: str, but: int | None = None) -> bool:
    views = SavedView.objects.filter(user=user, name__iexact=name)
    return views.exclude(pk=but).exists() if but else views.exists()


def saved_views(*, user: User) -> list[SavedView]:
    return list(SavedView.objects.filter(user=user).order_by("position", "id"))


def saved_view_get(*, user: User, view_id: int) -> SavedView:
    try:
        return SavedView.objects.get(user=user, pk=view_id)
    except SavedView.DoesNotExist:
        raise NotFound("There is no such saved view.") from None


def saved_view_create(*, user: User, name: str, settings: ViewSettings) -> SavedView:
    """A new view at the end of the tabs. Invalid for a name in use, a
    search that cannot be read, or one view too many."""
    name = _name(name)
    if settings.search.strip():
        search_read(settings.search)
    with transaction.atomic():
        # One at a time per person, so two tabs cannot pass the limit together.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        views = SavedView.objects.filter(user=user)
        if views.count() >= MAX_VIEWS:
            raise Invalid(f"You can keep at most {MAX_VIEWS} saved views; delete one first.")
        if _taken(user, name):
            raise Invalid(f"You already have a view called {name!r}.")
        last = views.aggregate(last=Max("position"))["last"]
        return SavedView.objects.create(
            user=user,
            name=name,
            position=0 if last is None else last + 1,
            **settings.__dict__,
        )


def saved_view_rename(*, user: User, view_id: int, name: str) -> SavedView:
    view = saved_view_get(user=user, view_id=view_id)
    name = _name(name)
    if _taken(user, name, but=view.pk):
        raise Invalid(f"You already have a view called {name!r}.")
    view.name = name
    try:
        with transaction.atomic():
            view.save(update_fields=["name"])
    except IntegrityError:
        raise Invalid(f"You already have a view called {name!r}.") from None
    return view


def saved_views_reorder(*, user: User, view_ids: list[int]) -> list[SavedView]:
    """The person's views in the order of `view_ids`, which must name each of
    them exactly once."""
    with transaction.atomic():
        views = {view.pk: view for view in SavedView.objects.select_for_update().filter(user=user)}
        if len(view_ids) != len(set(view_ids)) or set(view_ids) != set(views):
            raise Invalid("List each of your saved views exactly once, in the new order.")
        for position, pk in enumerate(view_ids):
            views[pk].position = position
        SavedView.objects.bulk_update(views.values(), ["position"])
    return [views[pk] for pk in view_ids]


def saved_view_delete(*, user: User, view_id: int) -> None:
    saved_view_get(user=user, view_id=view_id).delete()


def view_query(view: SavedView, owner: User) -> PostQuery:
    return PostQuery(
        owner=owner,
        search=view.search,
        visibility=view.visibility,  # type: ignore[arg-type]
        file_format=view.file_format,
        license=view.license,
        sort=view.sort,
        direction=view.direction,  # type: ignore[arg-type]
        size=view.size,
    )


def saved_view_counts(views: list[SavedView], owner: User) -> list[int | None]:
    """How many posts each view shows now (None for a search that can no
    longer be read), cached with the table's counts: one read of the posts
    version for all of them once cached."""
    readable: list[SavedView] = []
    counts: dict[int, int | None] = {}
    for view in views:
        try:
            if view.search.strip():
                search_read(view.search)
            readable.append(view)
        except Invalid:
            counts[view.pk] = None
    if readable:
        queries = [view_query(view, owner) for view in readable]
        found = cached_per_query([("count", q, matching_posts(q).count) for q in queries])
        counts.update(zip((view.pk for view in readable), found, strict=True))
    return [counts[view.pk] for view in views]
