from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.http import HttpRequest

from .color_counts import uploaded_color_count
from .models import Comment, License, Post, Reaction
from .public_ids import post_id_from_sqid


class DateHierarchyGuard(admin.ModelAdmin):
    """Django 5.2 reads date_hierarchy's ?created_at__year= with int() and
    catches only ValueError: a year past 2**31 overflows, a year of 9999 has
    no next year, and the admin answers 500 (Django ticket #37357, fixed after
    5.2). Both are answered as the admin answers any wrong filter."""

    def get_changelist_instance(self, request: HttpRequest):
        try:
            return super().get_changelist_instance(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error


@admin.register(License)
class LicenseAdmin(admin.ModelAdmin):
    list_display = ["identifier", "name", "url"]
    search_fields = ["identifier", "name"]

    def get_readonly_fields(self, request: HttpRequest, obj: License | None = None):
        # Posts hold the identifier itself: once saved it names their licence.
        return ["identifier"] if obj else []


@admin.register(Post)
class PostAdmin(DateHierarchyGuard):
    list_display = [
        "title",
        "owner",
        "kind",
        "file_format",
        "created_at",
        "hidden_by_user",
        "hidden_by_mod",
        "deleted_by_user",
        "reaction_count",
        "comment_count",
        "view_count",
    ]
    list_filter = [
        "kind",
        "hidden_by_user",
        "hidden_by_mod",
        "deleted_by_user",
        "file_format",
        "license",
    ]
    search_fields = ["title"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    # The database keeps the counters (posts migration 0003): not for editing.
    readonly_fields = [
        "public_sqid",
        "description_prefix",
        "reaction_count",
        "comment_count",
        "color_count",
    ]
    show_full_result_count = False
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Post | None = None):
        # A post being added has no id yet, so no sqid to show.
        return self.readonly_fields if obj else ["description_prefix", "color_count"]

    def save_model(self, request: HttpRequest, obj: Post, form, change: bool) -> None:
        # A new artwork file: its colours, counted from the upload itself, as
        # posts made elsewhere have them.
        if "art" in form.changed_data:
            obj.color_count = uploaded_color_count(form.cleaned_data["art"])
        super().save_model(request, obj, form, change)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        """Search by title, or by a post's public sqid (as support gets it from a URL)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        post_id = post_id_from_sqid(search_term.strip())
        if post_id is not None:
            results |= queryset.filter(pk=post_id)
        return results, may_have_duplicates


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "post", "author", "created_at", "hidden_by_mod", "deleted_by_owner"]
    list_filter = ["hidden_by_mod", "deleted_by_owner"]
    raw_id_fields = ["post", "author"]
    show_full_result_count = False


@admin.register(Reaction)
class ReactionAdmin(admin.ModelAdmin):
    list_display = ["emoji", "post", "user", "created_at"]
    raw_id_fields = ["post", "user"]
    show_full_result_count = False
