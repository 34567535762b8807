"""Where the ZIPs of download requests live in the vault, and how one gets there.

The vault is Django's storage alias `vault` (artwork files and ZIPs). A ZIP
is written to a file of its own while it is built, then published so that
no reader ever sees a partial one, and only by the run that holds the
request's lease (pmd.downloads.build):

    scratch_file(bdr)   a new file to write the ZIP into
    stage(...)          the finished file, made ready to publish (outside any lock)
    publish(staged)     make it the request's file (inside the row lock)
    discard(staged)     a run that lost its lease takes its file away again
    delete(name)        a published ZIP that has expired

Local folder: the file is written beside its final name
(`bdr/<user sqid>/<request id>.zip`) and renamed into place, which is atomic
within one filesystem (PITFALLS §4).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.core.files.storage import storages

from pmd.models import BatchDownloadRequest
from posts.public_ids import user_sqid

DOWNLOADS_DIR = "bdr"
# Temporary files of builds in progress: hidden, and recognisable by cleanup.
TEMP_PREFIX = "."
TEMP_SUFFIX = ".zip.tmp"


@dataclass
class Staged:
    """A finished ZIP on its way into the vault."""

    path: Path  # the file as written
    name: str  # what the request's file_path will be, relative to the vault
    size: int


def zip_name(bdr: BatchDownloadRequest) -> str:
    """Where the ZIP of `bdr` lives, relative to the vault."""
    return f"{DOWNLOADS_DIR}/{user_sqid(bdr.user_id)}/{bdr.pk}.zip"


def scratch_file(bdr: BatchDownloadRequest) -> Path:
    """A new, empty file to write the ZIP of `bdr` into."""
    final_path = Path(storages["vault"].path(zip_name(bdr)))
    # Same directory as the final name: os.replace is atomic only within one
    # filesystem. Cleanup may remove an empty user folder at any moment, so
    # a vanished folder is made again once.
    for attempt in (1, 2):
        final_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor, temp = tempfile.mkstemp(
                prefix=f"{TEMP_PREFIX}{bdr.pk}.", suffix=TEMP_SUFFIX, dir=final_path.parent
            )
        except FileNotFoundError:
            if attempt == 2:
                raise
            continue
        os.close(descriptor)
        return Path(temp)
    raise AssertionError("unreachable")


def stage(bdr: BatchDownloadRequest, path: Path, *, size: int) -> Staged:
    """The ZIP written to `path`, ready to publish."""
    return Staged(path=path, name=zip_name(bdr), size=size)


def publish(staged: Staged) -> None:
    """Make the staged ZIP the request's file. Called under the request's row
    lock, so at most one run's ZIP becomes the file; it is complete the
    moment it has its name."""
    os.replace(staged.path, storages["vault"].path(staged.name))


def discard(staged: Staged) -> None:
    """Take away a staged ZIP that will not be published."""
    staged.path.unlink(missing_ok=True)


def delete(name: str) -> None:
    """Delete a published ZIP; quiet when it is gone already."""
    storages["vault"].delete(name)
