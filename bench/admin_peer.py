"""The peer of the PMD table: Django admin's changelist showing the same posts
with the same columns, sort and page size, served from its own URL in the bench."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from pmd_project.urls import urlpatterns as project_urls
from posts.models import Post

# (the PMD's sort key, the admin column showing the same field)
PEER_COLUMNS = [
    ("visibility", "hidden_by_user"),
    ("title", "title"),
    ("description", "description"),
    ("uploaded", "created_at"),
    ("frames", "frame_count"),
    ("format", "file_format"),
    ("license", "license"),
    ("size", "file_bytes"),
    ("width", "width"),
    ("height", "height"),
    ("reactions", "reaction_count"),
    ("comments", "comment_count"),
    ("views", "view_count"),
]

site = admin.AdminSite(name="peer")


class PeerPostAdmin(admin.ModelAdmin):
    list_display = [column for _, column in PEER_COLUMNS]
    list_per_page = 32
    owner_id: int | None = None

    def get_queryset(self, request):
        # The same rows as the PMD: the owner's live artworks.
        return super().get_queryset(request).filter(owner_id=self.owner_id).live_artworks()


site.register(Post, PeerPostAdmin)

# The peer of the search with its counts (bench/find.py): the same changelist
# filtering by its query string, with the visibility and format filters
# counted (show_facets), as the PMD counts them beside its filters.
facets_site = admin.AdminSite(name="peer_facets")


class FacetsPostAdmin(PeerPostAdmin):
    list_filter = ["hidden_by_user", "hidden_by_mod", "file_format"]
    search_fields = ["title", "description"]
    show_facets = admin.ShowFacets.ALWAYS

    def lookup_allowed(self, lookup, value, request=None):
        # The bench filters every compared column by its query string.
        return True


facets_site.register(Post, FacetsPostAdmin)

urlpatterns = [
    *project_urls,
    path("peer-admin/", site.urls),
    path("peer-facets/", facets_site.urls),
]
