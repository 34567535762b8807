"""Helpers shared by the download request tests."""

from __future__ import annotations

import json
import zipfile
from typing import Any

from django.core.files.storage import storages

from pmd.models import BatchDownloadRequest


def make_bdr(user, posts, **fields) -> BatchDownloadRequest:
    """A pending request for `posts`, made directly (no daily limit, no enqueue)."""
    ids = [post.pk for post in posts]
    fields.setdefault("artwork_count", len(ids))
    return BatchDownloadRequest.objects.create(user=user, post_ids=ids, **fields)


def open_zip(bdr: BatchDownloadRequest) -> zipfile.ZipFile:
    bdr.refresh_from_db()
    assert bdr.file_path, f"bdr {bdr.pk} has no file ({bdr.status}: {bdr.error_message})"
    return zipfile.ZipFile(storages["vault"].path(bdr.file_path))


def read_json(archive: zipfile.ZipFile, name: str) -> Any:
    return json.loads(archive.read(name).decode("utf-8"))
