"""GET /api/pmd/hashtags, POST /api/pmd/hashtags/rename and
/api/pmd/hashtags/remove: the hashtag manager (pmd.hashtag_manager). A rename
or remove is undone with POST /api/pmd/action/undo and its activity_id."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Router
from pydantic import Field

from pmd.access import actor_of, owner_of
from pmd.hashtag_manager import hashtag_overview, hashtag_remove_everywhere, hashtag_rename
from pmd.views.api_conventions import Count, Request, Strict, errors

router = Router()

HashtagText = Annotated[
    str, Field(description='A hashtag, with or without "#"; matched without regard to case.')
]


class HashtagCount(Strict):
    hashtag: str
    count: Count


class Suggestion(Strict):
    hashtag: str
    into: Annotated[str, Field(description="The more used spelling to merge it into.")]
    reason: Literal["accents", "one letter apart"]


class HashtagList(Strict):
    items: Annotated[list[HashtagCount], Field(description="Most used first, then A to Z.")]
    suggestions: Annotated[
        list[Suggestion], Field(description="Probable duplicates, suggested for merging.")
    ]


class RenameRequest(Request):
    hashtag: HashtagText
    to: Annotated[str, Field(description="The new name; merges when it exists already.")]


class RemoveRequest(Request):
    hashtag: HashtagText


class HashtagResult(Strict):
    affected_count: Count
    message: str
    activity_id: Annotated[
        int, Field(ge=1, description="The audit entry: POST /api/pmd/action/undo takes it.")
    ]


@router.get("", response={200: HashtagList, **errors(400, 401, 403, 404)}, url_name="api-hashtags")
def hashtags_list(request: HttpRequest) -> HashtagList:
    """The caller's hashtags over their live artworks, each with its post count."""
    counts, suggestions = hashtag_overview(owner=owner_of(request))
    items = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return HashtagList(
        items=[HashtagCount(hashtag=tag, count=count) for tag, count in items],
        suggestions=[Suggestion(**asdict(suggestion)) for suggestion in suggestions],
    )


@router.post(
    "/rename",
    response={200: HashtagResult, **errors(400, 401, 403, 404, 413)},
    url_name="api-hashtags-rename",
)
def hashtags_rename(request: HttpRequest, body: RenameRequest) -> HashtagResult:
    """Rename a hashtag on all the caller's posts (a merge when `to` exists)."""
    result = hashtag_rename(
        owner=owner_of(request), hashtag=body.hashtag, to=body.to, actor=actor_of(request)
    )
    return HashtagResult(**asdict(result))


@router.post(
    "/remove",
    response={200: HashtagResult, **errors(400, 401, 403, 404, 413)},
    url_name="api-hashtags-remove",
)
def hashtags_remove(request: HttpRequest, body: RemoveRequest) -> HashtagResult:
    """Remove a hashtag from all the caller's posts."""
    result = hashtag_remove_everywhere(
        owner=owner_of(request), hashtag=body.hashtag, actor=actor_of(request)
    )
    return HashtagResult(**asdict(result))
