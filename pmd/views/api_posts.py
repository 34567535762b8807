from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from pmd.api import api_view
from pmd.selectors import posts_newest_first
from pmd.table_state import TableState
from pmd_project.inputs import whole_number
from posts.models import Post


def post_item(post: Post) -> dict:
    """A post as SPEC §6 lists it."""
    return {
        "id": post.pk,
        "public_sqid": post.public_sqid,
        "title": post.title,
        "description": post.description,
        "created_at": post.created_at.isoformat(),
        "width": post.width,
        "height": post.height,
        "frame_count": post.frame_count,
        "file_format": post.file_format,
        "file_bytes": post.file_bytes,
        "art_url": post.art_url,
        "hidden_by_user": post.hidden_by_user,
        "reaction_count": post.reaction_count,
        "comment_count": post.comment_count,
        "view_count": post.view_count,
    }


def _page(request: HttpRequest, **kwargs):
    maximum = settings.PMD_LIST_LIMIT
    limit = whole_number(
        request.GET.get("limit", str(maximum)), name="limit", minimum=1, maximum=maximum
    )
    return posts_newest_first(
        owner=request.user, limit=limit, cursor=request.GET.get("cursor"), **kwargs
    )


@require_GET
@api_view
def posts_list(request: HttpRequest) -> JsonResponse:
    """GET /api/pmd/posts: the caller's artworks, newest first, by cursor."""
    page = _page(request)
    return JsonResponse(
        {
            "items": [post_item(post) for post in page.items],
            "next_cursor": page.next_cursor,
            "total_count": page.total_count,
        }
    )


@require_GET
@api_view
def post_ids(request: HttpRequest) -> JsonResponse:
    """GET /api/pmd/posts/ids: ids of every post matching the table's search
    and filters, 512 at a time, for "Select all"."""
    page = _page(request, state=TableState.from_query(request.GET), fields=("id", "created_at"))
    return JsonResponse(
        {
            "ids": [post.pk for post in page.items],
            "next_cursor": page.next_cursor,
            "total_count": page.total_count,
        }
    )
