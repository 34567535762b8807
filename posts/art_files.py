"""Deleting artwork files from the vault (a folder or a bucket) once the
posts that held them are gone for good.

Only after the deleting transaction commits: a rollback must find its files
still there. A file another post still names (copies made by hand, imports)
is kept. A store that cannot be reached costs an orphaned file, logged,
never the delete itself: the rows are what the owner sees.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

from posts.models import Post, vault_storage

logger = logging.getLogger(__name__)


def delete_art_files(names: Iterable[str]) -> int:
    """Delete each named file no post names any more; the number deleted."""
    wanted = {name for name in names if name}
    if not wanted:
        return 0
    still_used = set(Post.objects.filter(art__in=wanted).values_list("art", flat=True))
    storage = vault_storage()
    deleted = 0
    for name in sorted(wanted - still_used):
        try:
            storage.delete(name)
        except Exception:  # noqa: BLE001 - a folder or any bucket client: all mean "still there"
            logger.warning("could not delete artwork file %s", name, exc_info=True)
        else:
            deleted += 1
    return deleted


def delete_art_files_after_commit(names: Iterable[str]) -> None:
    names = list(names)
    if names:
        transaction.on_commit(lambda: delete_art_files(names), robust=True)
