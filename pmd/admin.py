from __future__ import annotations

from collections import Counter

from django.contrib import admin, messages
from django.db import connections
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.db.models.lookups import Regex
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from posts.admin import DateHierarchyGuard
from posts.public_ids import post_id_from_sqid, post_sqid, user_sqid

from .downloads import emails, service
from .errors import DomainError
from .models import ActivityEntry, BatchDownloadRequest
from .templatetags.pmd_format import time_tag

Status = BatchDownloadRequest.Status


def time_column(field: str):
    """A list column reading "3 hours ago" as the site does, exact on hover."""
    return admin.display(description=field.removesuffix("_at"), ordering=field)(
        lambda self, obj: time_tag(getattr(obj, field))
    )


@admin.register(BatchDownloadRequest)
class BatchDownloadRequestAdmin(DateHierarchyGuard):
    """Download requests for support staff. Statuses change only
    through the actions, which use the same services as the site."""

    list_display = [
        "id",
        "user",
        "requested_by",
        "status",
        "artwork_count",
        "part",
        "size",
        "created",
        "expires",
    ]
    list_filter = ["status", "created_at", "expires_at"]
    date_hierarchy = "created_at"
    search_fields = ["user__username", "user__email", "=id"]
    list_select_related = ["user", "requested_by"]
    raw_id_fields = ["user", "retry_of"]
    show_full_result_count = False
    ordering = ["-created_at"]
    readonly_fields = [
        "id",
        "user",
        "requested_by",
        "user_dashboard",
        "post_ids",
        "include_comments",
        "include_reactions",
        "send_email",
        "part_number",
        "part_count",
        "status",
        "error_message",
        "file_path",
        "file_size_bytes",
        "artwork_count",
        "progress",
        "retry_of",
        "created_at",
        "started_at",
        "completed_at",
        "expires_at",
    ]
    fieldsets = [
        (
            "Request",
            {
                "fields": [
                    "id",
                    "user",
                    "requested_by",
                    "user_dashboard",
                    "post_ids",
                    ("include_comments", "include_reactions", "send_email"),
                    ("part_number", "part_count"),
                    "retry_of",
                    "created_at",
                ]
            },
        ),
        (
            "Build",
            {
                "fields": [
                    "status",
                    "error_message",
                    ("artwork_count", "progress"),
                    ("file_path", "file_size_bytes"),
                    ("started_at", "completed_at", "expires_at"),
                ]
            },
        ),
    ]
    actions = ["retry_failed", "expire_now", "resend_email"]
    created = time_column("created_at")
    expires = time_column("expires_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Requests are made by their owners, under the daily limit.
        return False

    @admin.display(description="size", ordering="file_size_bytes")
    def size(self, bdr: BatchDownloadRequest) -> str:
        return filesizeformat(bdr.file_size_bytes) if bdr.file_size_bytes is not None else "—"

    @admin.display(description="part", ordering="part_number")
    def part(self, bdr: BatchDownloadRequest) -> str:
        """Which part of a split download ("2 of 5"); "—" for one on its own."""
        return f"{bdr.part_number} of {bdr.part_count}" if bdr.part_number else "—"

    @admin.display(description="user's PMD")
    def user_dashboard(self, bdr: BatchDownloadRequest) -> str:
        url = reverse("pmd:dashboard", args=[user_sqid(bdr.user_id)])
        return format_html('<a href="{}?bdr={}">{}</a>', url, bdr.pk, f"{url}?bdr={bdr.pk}")

    @admin.action(description="Retry selected failed requests", permissions=["change"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet) -> None:
        retried = 0
        refused: list[str] = []
        for bdr in queryset.filter(status=Status.FAILED):
            try:
                service.download_request_retry(bdr=bdr)
            except DomainError as error:
                refused.append(f"{bdr.pk}: {error.message}")
            else:
                retried += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d failed request retried.",
                "%(count)d failed requests retried.",
                retried,
            )
            % {"count": retried},
            messages.SUCCESS if retried else messages.WARNING,
        )
        if refused:
            self.message_user(request, "Not retried: " + "; ".join(refused), messages.WARNING)

    @admin.action(
        description="Expire selected ready requests now (deletes the file)", permissions=["change"]
    )
    def expire_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        expired = sum(
            service.download_request_expire(bdr=bdr) for bdr in queryset.filter(status=Status.READY)
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d request expired and its file deleted.",
                "%(count)d requests expired and their files deleted.",
                expired,
            )
            % {"count": expired},
            messages.SUCCESS if expired else messages.WARNING,
        )

    @admin.action(description="Resend the ready / failed email", permissions=["change"])
    def resend_email(self, request: HttpRequest, queryset: QuerySet) -> None:
        # Sent here rather than queued, so the message says what happened;
        # only while it still holds (pmd.downloads.emails.email_skip_reason).
        sent = 0
        skipped: Counter[str] = Counter()
        for pk, status in queryset.values_list("pk", "status"):
            kind = "failed" if status == Status.FAILED else "ready"
            outcome = emails.send_download_email(pk, kind, raise_errors=False)
            if outcome == emails.SENT:
                sent += 1
            else:
                skipped[outcome] += 1
        self.message_user(
            request,
            ngettext("%(count)d email sent.", "%(count)d emails sent.", sent) % {"count": sent},
            messages.SUCCESS if sent else messages.WARNING,
        )
        if skipped:
            reasons = "; ".join(f"{reason} ({count})" for reason, count in skipped.most_common())
            self.message_user(request, f"{skipped.total()} not sent: {reasons}.", messages.WARNING)


def entries_touching_post(queryset: QuerySet[ActivityEntry], post_id: int) -> QuerySet:
    """The audit entries whose post_ids hold `post_id`.

    PostgreSQL answers with jsonb containment; databases without JSON
    `contains` (SQLite) match the JSON text instead.
    """
    if connections[queryset.db].features.supports_json_field_contains:
        return queryset.filter(post_ids__contains=[post_id])
    return entries_touching_post_by_text(queryset, post_id)


def entries_touching_post_by_text(queryset: QuerySet[ActivityEntry], post_id: int) -> QuerySet:
    # post_ids is a JSON list of integers, so a number bounded by non-digits
    # is exactly one element: 12 does not match 123 or 412.
    return queryset.filter(Regex(Cast("post_ids", TextField()), rf"[^0-9]{int(post_id)}[^0-9]"))


@admin.register(ActivityEntry)
class ActivityEntryAdmin(DateHierarchyGuard):
    """The batch action audit trail, for support ("where did my posts go?").
    Read-only: an audit trail that staff could edit would prove nothing."""

    list_display = ["created", "user", "actor", "action", "hashtag", "count", "requested_count"]
    list_filter = [
        "action",
        ("user", admin.RelatedOnlyFieldListFilter),
        ("actor", admin.RelatedOnlyFieldListFilter),
        "created_at",
    ]
    search_fields = ["user__username", "actor__username"]
    search_help_text = "Username (owner or support), or a post's sqid (from its URL)."
    list_select_related = ["user", "actor"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = [
        "user",
        "actor",
        "action",
        "hashtag",
        "count",
        "requested_count",
        "undo_of",
        "created_at",
        "posts",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # names only, no groups
    created = time_column("created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ActivityEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ActivityEntry | None = None) -> bool:
        return False

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        post_id = post_id_from_sqid(search_term.strip())
        if post_id is not None:
            results |= entries_touching_post(queryset, post_id)
        return results, may_have_duplicates

    @admin.display(description="requested")
    def requested_count(self, entry: ActivityEntry) -> int:
        return len(entry.post_ids)

    @admin.display(description="posts (sqid → admin page)")
    def posts(self, entry: ActivityEntry) -> str:
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:posts_post_change", args=[post_id]), post_sqid(post_id))
                for post_id in entry.post_ids
            ),
        )
