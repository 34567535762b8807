from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models.functions import Left
from django.urls import reverse
from django.utils import timezone

from .public_ids import post_sqid


def vault_storage():
    # A callable, so the storage (and its location) is looked up at run time
    # and never frozen into a migration.
    return storages["vault"]


# Which posts count, each rule spelled once; PostQuerySet below names them.
# The rows the PMD works on: artwork posts not deleted by their owner.
# Playlists are excluded from the PMD everywhere (the playlist feature is
# deferred); deleted posts live in "Recently deleted" only. Every sort index
# below is partial on exactly this condition, so it stays small and matches
# the PMD's queries.
LIVE_ARTWORK = models.Q(kind="artwork", deleted_by_user=False)
# Neither the owner nor a moderator hid it.
NOT_HIDDEN = models.Q(hidden_by_user=False, hidden_by_mod=False)
# What the public sees on a profile (the partial index post_profile): both
# of the above, as one flat condition (as the index's migration records it).
# (A flat Q's children are (field, value) pairs; django-stubs types them as any node.)
VISIBLE = models.Q(**dict(LIVE_ARTWORK.children), **dict(NOT_HIDDEN.children))  # type: ignore[arg-type]
# Artworks their owner deleted (the partial index post_recently_deleted);
# "Recently deleted" is those deleted within PMD_RESTORE_DAYS.
DELETED_ARTWORK = models.Q(kind="artwork", deleted_by_user=True)

# Sort keys of the PMD table: URL name -> model field. Each one has a partial
# index (owner, field, id) so that any page of any sort is an index-only scan.
SORT_FIELDS = {
    "uploaded": "created_at",
    "title": "title",
    "description": "description_prefix",
    "frames": "frame_count",
    "format": "file_format",
    "size": "file_bytes",
    "width": "width",
    "height": "height",
    "reactions": "reaction_count",
    "comments": "comment_count",
    "views": "view_count",
    "visibility": "hidden_by_user",
    # The identifier the post holds (no join); posts without a licence (all
    # rights reserved) sort together at one end.
    "license": "license_id",
}

# Sort keys of "Recently deleted" alone. The partial index post_recently_deleted
# (owner, deleted_by_user_date, id) below serves them, in both directions.
DELETED_SORT_FIELDS = {"deleted": "deleted_by_user_date"}


# Kept exact by database triggers (migration 0003), never written by Python.
DATABASE_COUNTERS = ("comment_count", "reaction_count")


def _sort_index(key: str, field: str) -> models.Index:
    return models.Index(
        fields=["owner", field, "id"],
        name=f"post_sort_{key}",
        condition=LIVE_ARTWORK,
        # PostgreSQL only (ignored elsewhere): lets the visibility and format
        # filters be answered from the index without visiting the table.
        include=["hidden_by_user", "hidden_by_mod", "file_format"],
    )


def restore_cutoff(now: datetime | None = None) -> datetime:
    """Posts deleted at or after this moment can still be restored."""
    return (now or timezone.now()) - timedelta(days=settings.PMD_RESTORE_DAYS)


class PostQuerySet(models.QuerySet):
    """The predicates of which posts count, for every reader of posts: the
    public profile, the dashboard's table and list, its actions and downloads.
    Each matches the partial index it is named after, so the planner can use it."""

    def live_artworks(self) -> PostQuerySet:
        """Artworks not deleted: the posts the PMD lists and acts on."""
        return self.filter(LIVE_ARTWORK)

    def visible(self) -> PostQuerySet:
        """What the public may see: live artworks that nobody hid."""
        return self.filter(VISIBLE)

    def recently_deleted(self, *, now: datetime | None = None) -> PostQuerySet:
        """Artworks their owner deleted within PMD_RESTORE_DAYS: still restorable."""
        return self.filter(DELETED_ARTWORK, deleted_by_user_date__gte=restore_cutoff(now))

    def not_hidden(self) -> PostQuerySet:
        return self.filter(NOT_HIDDEN)

    def hidden(self) -> PostQuerySet:
        """Hidden by the owner or by a moderator."""
        return self.filter(models.Q(hidden_by_user=True) | models.Q(hidden_by_mod=True))


class License(models.Model):
    """A licence a post may carry, by its SPDX identifier ("CC-BY-4.0").
    No licence on a post means all rights reserved. Posts hold the
    identifier itself, so the API, the table and the ZIP read it from the
    post without a join; it cannot change once posts use it."""

    identifier = models.CharField(
        max_length=64,
        unique=True,
        help_text='The SPDX identifier, such as "CC-BY-4.0"; posts refer to it.',
    )
    name = models.CharField(max_length=200)
    url = models.URLField(max_length=300)

    class Meta:
        ordering = ["identifier"]

    def __str__(self) -> str:
        return self.identifier


class Post(models.Model):
    class Kind(models.TextChoices):
        ARTWORK = "artwork", "Artwork"
        PLAYLIST = "playlist", "Playlist"

    class Format(models.TextChoices):
        PNG = "png", "PNG"
        GIF = "gif", "GIF"
        WEBP = "webp", "WebP"
        BMP = "bmp", "BMP"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ARTWORK)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    # Sorting by description uses its start: a B-tree entry cannot hold a long
    # text, and nobody tells two posts apart by their 65th character.
    description_prefix = models.GeneratedField(
        expression=Left("description", 64),
        output_field=models.CharField(max_length=64),
        db_persist=True,
    )
    # Space-separated, without "#": searchable with a plain LIKE on every database.
    hashtags = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    frame_count = models.PositiveIntegerField(default=1)
    file_format = models.CharField(max_length=8, choices=Format.choices)
    file_bytes = models.PositiveBigIntegerField()
    art = models.FileField(storage=vault_storage, max_length=255)
    # None: all rights reserved.
    license = models.ForeignKey(
        License,
        to_field="identifier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="posts",
        # One plain index (post_license, below) for PROTECT's check when a
        # licence is deleted: Django's default would add a second, LIKE-only
        # copy that no query uses and every write of a post pays for.
        db_index=False,
    )
    hidden_by_user = models.BooleanField(default=False)
    hidden_by_mod = models.BooleanField(default=False)
    deleted_by_user = models.BooleanField(default=False)
    deleted_by_user_date = models.DateTimeField(null=True, blank=True)
    # Counters kept on the row: sorting by a COUNT() costs
    # seconds at 100k posts, a column with an index well under a millisecond.
    # comment_count counts visible comments only (VISIBLE_COMMENT). Database triggers
    # keep both exact whoever writes comments and reactions (migration 0003);
    # nothing in Python writes them. `manage.py recount` repairs drift.
    reaction_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    view_count = models.PositiveIntegerField(default=0)
    # Distinct colours over all frames (posts.colors), searched as colors:<=16.
    # Counted from the file when a post is made (posts.color_counts); empty
    # until then for posts made before, which `manage.py count_colors` fills.
    color_count = models.PositiveIntegerField(null=True, blank=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        indexes = [
            *(_sort_index(key, field) for key, field in SORT_FIELDS.items()),
            models.Index(
                fields=["owner", "-created_at", "-id"], name="post_profile", condition=VISIBLE
            ),
            # colors: in a search; the other numbers a search compares have
            # their sort index. Titles, descriptions and hashtags have trigram
            # indexes on PostgreSQL (migration 0006).
            models.Index(
                fields=["owner", "color_count", "id"],
                name="post_colors",
                condition=LIVE_ARTWORK,
                include=["hidden_by_user", "hidden_by_mod", "file_format"],
            ),
            models.Index(
                fields=["owner", "deleted_by_user_date", "id"],
                name="post_recently_deleted",
                condition=DELETED_ARTWORK,
            ),
            models.Index(fields=["license"], name="post_license"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(deleted_by_user=False, deleted_by_user_date__isnull=True)
                | models.Q(deleted_by_user=True, deleted_by_user_date__isnull=False),
                name="post_deleted_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, **kwargs) -> None:
        # save() of a post read a moment ago (the admin's change form, any
        # other code) would write back the counts it read then, undoing a
        # comment or reaction that came in since: an update leaves the
        # database's counters alone.
        if (
            not self._state.adding
            and kwargs.get("update_fields") is None
            and not kwargs.get("force_insert")
        ):
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key
                and not field.generated
                and field.name not in DATABASE_COUNTERS
            ]
        super().save(**kwargs)

    @property
    def public_sqid(self) -> str:
        return post_sqid(self.pk)

    @property
    def art_url(self) -> str:
        return reverse("posts:art", args=[self.public_sqid])

    @property
    def is_visible(self) -> bool:
        """Whether the public may see it: PostQuerySet.visible() for one post in hand."""
        return (
            self.kind == self.Kind.ARTWORK
            and not self.hidden_by_user
            and not self.hidden_by_mod
            and not self.deleted_by_user
        )

    @property
    def hashtag_list(self) -> list[str]:
        return self.hashtags.split()


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comments",
        help_text="Empty for an anonymous comment.",
    )
    body = models.TextField()
    created_at = models.DateTimeField()
    hidden_by_mod = models.BooleanField(default=False)
    deleted_by_owner = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["post", "created_at", "id"], name="comment_post_time")]

    def __str__(self) -> str:
        return self.body[:60]

    @property
    def is_visible(self) -> bool:
        return not self.hidden_by_mod and not self.deleted_by_owner


# The comments that count and are exported: a comment a moderator hid or the
# post's owner deleted is no longer the artist's to show or take away.
VISIBLE_COMMENT = models.Q(hidden_by_mod=False, deleted_by_owner=False)


class Reaction(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions"
    )
    emoji = models.CharField(max_length=16)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "user", "emoji"], name="reaction_once"),
        ]

    def __str__(self) -> str:
        return f"{self.emoji} on {self.post_id}"


class OwnerPostsVersion(models.Model):
    """A number that changes whenever any of an owner's posts is inserted,
    deleted or changed in anything but its counters.

    Database triggers bump it (migration 0003), in the writer's own
    transaction, whoever writes: the PMD, the admin, a queryset update() or
    delete(), raw SQL. Cached post counts include it in their key, so a count
    can never outlive a change (pmd/counts.py). Counter updates leave it
    alone: a new comment does not change how many posts a filter matches.
    No foreign key: the row may outlive its user, and a user's deletion
    (whose posts' triggers write here) must never trip over it.
    """

    owner_id = models.BigIntegerField(primary_key=True)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"posts of user {self.owner_id}: version {self.version}"


_SQID_SLOT = "__sqid__"


def art_urls() -> Callable[[str], str]:
    """Post.art_url by public sqid, for a page of posts at the cost of one
    reverse(): per post, reverse() was a third of a 512-post API request and
    a fifth of the 512-row table's rows (bench)."""
    pattern = reverse("posts:art", args=[_SQID_SLOT])
    return lambda sqid: pattern.replace(_SQID_SLOT, sqid)
