"""Writing the ZIP of a download request.

    artworks/<post_sqid>.<ext>   the artwork files, stored as they are
    metadata.json                always
    comments.json                if asked
    reactions.json               if asked

Images are already compressed, so they are stored (ZIP_STORED): deflating them
costs 8x the time for nothing (10.6 s, not 1.3 s, for 256 MiB). Only the JSON
is deflated. Every file is copied through one fixed buffer and the JSON is
written as it is read, so memory stays flat whatever the artworks weigh. The
ZIP is written to a file the caller names (pmd.downloads.storage decides where,
and publishes it so that no reader ever sees half a ZIP). Names inside the ZIP
come from sqids and a fixed list of extensions, never from user text.
"""

from __future__ import annotations

import io
import json
import logging
import time
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.core.exceptions import SuspiciousFileOperation
from django.db.models import Count
from django.utils import timezone

from pmd.downloads import storage
from pmd.downloads.serialize import iso
from posts.models import VISIBLE_COMMENT, Comment, Post, Reaction
from posts.public_ids import post_sqid

if TYPE_CHECKING:
    from pmd.models import BatchDownloadRequest

logger = logging.getLogger(__name__)

# The only extensions a file in the ZIP can have: file_format -> extension.
EXTENSIONS = {"png": "png", "gif": "gif", "webp": "webp", "bmp": "bmp"}
COPY_BUFFER_BYTES = 1024 * 1024
PROGRESS_EVERY_SECONDS = 0.5
# An entry this large gets ZIP64 fields up front: zipfile must know before it
# writes the entry's header, and stays compatible with old readers below it.
ZIP64_ENTRY_BYTES = 1 << 30
# Comments of 128 artworks rarely reach a megabyte; past this estimate the
# comments.json entry is written with ZIP64 fields in case it passes 4 GiB.
ZIP64_JSON_ESTIMATE_BYTES = 1 << 30
# Comments fetched per query for comments.json: few queries for 128 posts,
# and a bounded number of rows in memory however popular a post is.
COMMENTS_PER_QUERY = 5000
ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)


class NothingToBuild(Exception):
    """None of the requested artworks could be read."""

    def __init__(self, missing: list[dict[str, str]]) -> None:
        super().__init__(f"none of {len(missing)} artworks could be read")
        self.missing = missing


class _EntryFailed(Exception):
    """An artwork failed part-way through its copy; the ZIP is rebuilt without it."""

    def __init__(self, post_id: int, reason: str) -> None:
        super().__init__(reason)
        self.post_id = post_id
        self.reason = reason


class _Progress:
    """Calls `report(done)` at most every PROGRESS_EVERY_SECONDS, and at once when asked."""

    def __init__(self, report: Callable[[int], None]) -> None:
        self.report = report
        self.done = 0
        self.last = time.monotonic()

    def tick(self, done: int | None = None) -> None:
        if done is not None:
            self.done = done
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_SECONDS:
            self.report(self.done)
            self.last = now

    def now(self, done: int) -> None:
        self.done = done
        self.report(done)
        self.last = time.monotonic()


@dataclass
class BuildResult:
    size: int
    shipped: list[Post]
    missing: list[dict[str, str]] = field(default_factory=list)


def build_zip(
    bdr: BatchDownloadRequest, *, handle: str, progress: Callable[[int], None], output: Path
) -> BuildResult:
    """Write the ZIP of `bdr` to the file `output` (made anew).

    `handle` is the owner's username; `progress(done)` is called every
    PROGRESS_EVERY_SECONDS or so with the number of requested artworks dealt
    with, also while one long file is copied (when `done` does not move: it
    is the build's heartbeat). Raises NothingToBuild when no artwork could be
    read, OSError when the ZIP itself cannot be written, and the store's
    errors (pmd.downloads.storage.store_errors()) when it does not answer.
    """
    posts = {
        post.pk: post
        for post in Post.objects.filter(
            pk__in=bdr.post_ids, owner_id=bdr.user_id, kind=Post.Kind.ARTWORK
        )
    }
    # Encoding a sqid costs ~50 µs; each is needed several times below.
    sqids = {post_id: post_sqid(post_id) for post_id in bdr.post_ids}
    skipped: dict[int, str] = {}
    while True:
        try:
            return _write(
                bdr, posts, sqids, skipped, handle=handle, progress=progress, output=output
            )
        except _EntryFailed as failure:
            # The broken entry is already in the file and cannot be taken
            # out: start again without it (rare: a disk error mid-read).
            logger.warning("bdr %s: artwork %s failed mid-copy", bdr.pk, failure.post_id)
            skipped[failure.post_id] = failure.reason


def _write(
    bdr: BatchDownloadRequest,
    posts: dict[int, Post],
    sqids: dict[int, str],
    skipped: dict[int, str],
    *,
    handle: str,
    progress: Callable[[int], None],
    output: Path,
) -> BuildResult:
    shipped: list[Post] = []
    missing: list[dict[str, str]] = []
    buffer = bytearray(COPY_BUFFER_BYTES)
    reporter = _Progress(progress)
    with (
        open(output, "wb") as raw,
        zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_STORED) as archive,
    ):
        total = len(bdr.post_ids)
        for done, post_id in enumerate(bdr.post_ids, start=1):
            post = posts.get(post_id)
            reason = _unavailable(post, post_id, skipped)
            if reason is None and post is not None:
                reason = _add_artwork(archive, post, sqids[post_id], buffer, reporter)
                if reason is None:
                    shipped.append(post)
            if reason is not None:
                missing.append({"sqid": sqids[post_id], "reason": reason})
            if done == total:
                reporter.now(done)
            else:
                reporter.tick(done)
        if not shipped:
            raise NothingToBuild(missing)
        generated_at = iso(timezone.now())
        _add_json(
            archive,
            "metadata.json",
            _metadata(bdr, generated_at, handle, shipped, sqids, missing),
        )
        if bdr.include_comments:
            _add_comments(archive, generated_at, shipped, sqids, reporter)
        if bdr.include_reactions:
            _add_json(archive, "reactions.json", _reactions(generated_at, shipped, sqids))
    return BuildResult(output.stat().st_size, shipped, missing)


def _unavailable(post: Post | None, post_id: int, skipped: dict[int, str]) -> str | None:
    if post_id in skipped:
        return skipped[post_id]
    if post is None:
        return "This post no longer exists."
    if post.deleted_by_user:
        return "This post was deleted after the download was requested."
    if post.file_format not in EXTENSIONS or not post.art.name:
        return "This post has no artwork file."
    return None


def _add_artwork(
    archive: zipfile.ZipFile, post: Post, sqid: str, buffer: bytearray, reporter: _Progress
) -> str | None:
    """Copy the artwork into the ZIP; a reason when it cannot be read."""
    try:
        # _unavailable has already turned away a post without a file name.
        source, size = storage.open_for_reading(post.art.name or "")
    except FileNotFoundError:
        return "The artwork file is missing."
    except (OSError, SuspiciousFileOperation, ValueError):
        return "The artwork file could not be read."
    view = memoryview(buffer)
    with source:
        if size < 0:
            size = post.file_bytes
        info = _entry(_artwork_name(sqid, post), post.created_at)
        info.file_size = size
        with archive.open(info, "w", force_zip64=size >= ZIP64_ENTRY_BYTES) as entry:
            while True:
                try:
                    count = source.readinto(view)
                except OSError as error:
                    raise _EntryFailed(post.pk, "The artwork file could not be read.") from error
                if not count:
                    break
                entry.write(view[:count])
                reporter.tick()
    return None


def _artwork_name(sqid: str, post: Post) -> str:
    return f"artworks/{sqid}.{EXTENSIONS[post.file_format]}"


def _entry(name: str, moment: datetime | None) -> zipfile.ZipInfo:
    moment = max(moment or timezone.now(), ZIP_EPOCH).astimezone(UTC)
    info = zipfile.ZipInfo(name, date_time=moment.timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def _json_entry(name: str) -> zipfile.ZipInfo:
    info = _entry(name, timezone.now())
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _add_json(archive: zipfile.ZipFile, name: str, data: dict[str, Any]) -> None:
    with archive.open(_json_entry(name), "w") as raw, _text(raw) as text:
        json.dump(data, text, ensure_ascii=False, indent=2)
        text.write("\n")


def _text(raw: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(raw, encoding="utf-8", newline="\n", write_through=False)


def _metadata(
    bdr: BatchDownloadRequest,
    generated_at: str | None,
    handle: str,
    shipped: list[Post],
    sqids: dict[int, str],
    missing: list[dict[str, str]],
) -> dict[str, Any]:
    return {
        "generated_at": generated_at,
        "user_handle": handle,
        "artwork_count": len(shipped),
        # Which part of a split download (over 128 posts) this ZIP is; null for one on its own.
        "part": bdr.part_number,
        "parts": bdr.part_count,
        "artworks": [
            {
                "sqid": sqids[post.pk],
                "filename": _artwork_name(sqids[post.pk], post),
                "title": post.title,
                "description": post.description,
                "created_at": iso(post.created_at),
                "width": post.width,
                "height": post.height,
                "frame_count": post.frame_count,
                "file_format": post.file_format,
                "file_bytes": post.file_bytes,
                "hashtags": post.hashtag_list,
                "license": post.license_id,
            }
            for post in shipped
        ],
        "missing": missing,
    }


def _add_comments(
    archive: zipfile.ZipFile,
    generated_at: str | None,
    shipped: list[Post],
    sqids: dict[int, str],
    reporter: _Progress,
) -> None:
    """comments.json, in the order of the request, written as it is read."""
    visible = Comment.objects.filter(VISIBLE_COMMENT)
    counts = dict(
        visible.filter(post_id__in=[post.pk for post in shipped])
        .values("post_id")
        .annotate(count=Count("id"))
        .order_by()
        .values_list("post_id", "count")
    )
    # Bodies are short; this only has to tell "surely small" from "maybe huge".
    estimate = sum(counts.values()) * 4096
    info = _json_entry("comments.json")
    with (
        archive.open(info, "w", force_zip64=estimate >= ZIP64_JSON_ESTIMATE_BYTES) as raw,
        _text(raw) as text,
    ):
        text.write(
            f'{{\n  "generated_at": {json.dumps(generated_at)},\n  "comments_by_artwork": {{'
        )
        index = 0
        for group in _comment_batches(shipped, counts):
            for post, rows in _comments_of(visible, group, counts):
                text.write("," if index else "")
                text.write(f"\n    {json.dumps(sqids[post.pk])}: [")
                _write_comments(text, rows)
                text.write("]")
                index += 1
                reporter.tick()
        text.write("\n  }\n}\n")


def _comment_batches(shipped: list[Post], counts: dict[int, int]) -> Iterator[list[Post]]:
    """Runs of consecutive posts with at most COMMENTS_PER_QUERY comments in
    all (a post with more is a run of its own): one query per run rather than
    one per post, without ever holding more than a run's comments."""
    batch: list[Post] = []
    size = 0
    for post in shipped:
        count = counts.get(post.pk, 0)
        if batch and size + count > COMMENTS_PER_QUERY:
            yield batch
            batch, size = [], 0
        batch.append(post)
        size += count
    if batch:
        yield batch


def _comments_of(
    visible: Any, group: list[Post], counts: dict[int, int]
) -> Iterator[tuple[Post, Iterable[tuple]]]:
    fields = ("id", "author__username", "body", "created_at")
    ids = [post.pk for post in group if counts.get(post.pk)]
    if len(group) == 1 and counts.get(group[0].pk, 0) > COMMENTS_PER_QUERY:
        rows = (
            visible.filter(post_id=group[0].pk)
            .order_by("created_at", "id")
            .values_list(*fields)
            .iterator(chunk_size=2000)
        )
        yield group[0], rows
        return
    by_post: dict[int, list[tuple]] = defaultdict(list)
    if ids:
        query = visible.filter(post_id__in=ids).order_by("post_id", "created_at", "id")
        for post_id, *row in query.values_list("post_id", *fields):
            by_post[post_id].append(tuple(row))
    for post in group:
        yield post, by_post.get(post.pk, ())


def _write_comments(text: io.TextIOWrapper, rows: Iterable[tuple]) -> None:
    index = -1
    for index, (comment_id, author, body, created_at) in enumerate(rows):
        item = {
            "id": comment_id,
            "author_handle": author,
            "body": body,
            "created_at": iso(created_at),
        }
        text.write(("," if index else "") + "\n      " + json.dumps(item, ensure_ascii=False))
    if index >= 0:
        text.write("\n    ")


def _reactions(
    generated_at: str | None, shipped: list[Post], sqids: dict[int, str]
) -> dict[str, Any]:
    by_post: dict[int, dict[str, int]] = {post.pk: {} for post in shipped}
    rows = (
        Reaction.objects.filter(post_id__in=list(by_post))
        .values_list("post_id", "emoji")
        .annotate(count=Count("id"))
        .order_by("post_id", "-count", "emoji")
    )
    for post_id, emoji, count in rows:
        by_post[post_id][emoji] = count
    return {
        "generated_at": generated_at,
        "reactions_by_artwork": {sqids[post.pk]: by_post[post.pk] for post in shipped},
    }
