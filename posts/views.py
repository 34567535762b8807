from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.files.storage import storages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from pmd_project.lib.vault import vault

from .public_ids import user_sqid
from .selectors import post_for_art, profile_page, user_by_sqid
from .stills import NoStill, first_frame_png

ART_CONTENT_TYPES = {
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
}


# HEAD too: monitors and link checkers ask the front page with it.
@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("posts:profile", user_sqid=user_sqid(request.user.pk))


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for where a page names no icon (a
    JSON answer, a file): the site's icon under its hashed static name."""
    response = redirect(static("favicon.svg"))
    # Not permanent: the hashed name changes with the icon.
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
def profile(request: HttpRequest, user_sqid: str) -> HttpResponse:
    owner = user_by_sqid(sqid=user_sqid)
    page = profile_page(owner=owner, page_number=request.GET.get("page"))
    return render(
        request,
        "posts/profile.html",
        {"owner": owner, "page": page, "is_owner": request.user.pk == owner.pk},
    )


@require_http_methods(["GET", "HEAD"])
def art(request: HttpRequest, post_sqid: str) -> HttpResponseBase:
    post = post_for_art(sqid=post_sqid, viewer=request.user)
    if not post.art.name:
        raise Http404("This artwork has no file.")
    return vault().file_response(
        request,
        post.art.name,
        content_type=ART_CONTENT_TYPES[post.file_format],
        # Private: a post hidden later must not linger in shared caches.
        cache_control="private, max-age=300",
    )


@require_http_methods(["GET", "HEAD"])
def art_still(request: HttpRequest, post_sqid: str) -> HttpResponse:
    """The artwork's first frame as a PNG, to whoever may see the artwork."""
    post = post_for_art(sqid=post_sqid, viewer=request.user)
    if not post.art.name:
        raise Http404("No such artwork.")
    try:
        with storages["vault"].open(post.art.name, "rb") as file:
            png = first_frame_png(file)
    except (OSError, NoStill):
        raise Http404("No such artwork.") from None
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response
