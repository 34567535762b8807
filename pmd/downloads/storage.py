"""Where the ZIPs of download requests live in the vault, and how one gets there.

The vault is Django's storage alias `vault` (artwork files and ZIPs): a
local folder (PMD_VAULT_ROOT) or an S3-compatible bucket (PMD_VAULT_URL,
django-storages). A ZIP is written to a file of its own while it is built,
then published so that no reader ever sees a partial one, and only by the
run that holds the request's lease (pmd.downloads.build):

    scratch_file(bdr)          a new file to write the ZIP into
    stage(bdr, path, ...)      the finished file, made ready to publish (outside any lock)
    publish(staged)            make it the request's file (inside the row lock)
    discard(staged)            a run that did not publish takes its file away again
    delete(name)               a published ZIP that has expired

Local folder: the file is written beside its final name
(`bdr/<user sqid>/<request id>.zip`), fsynced, and renamed into place, which
is atomic only within one filesystem (hence beside it); the folder is fsynced after,
so a power cut never leaves an empty "ready" file.

Bucket: the file is written to the worker's scratch folder
(PMD_SCRATCH_DIR), uploaded whole (boto3's managed multipart upload) under a
key of this run's own, `bdr/<user sqid>/<request id>/<run>.zip`, and deleted
from the worker's disk. An object appears only once its upload completes, so
no reader sees a partial one; publishing is pointing the row at the key
under the row lock, and a run that lost its lease deletes its own key.
Once that is committed, the request's own prefix is cleared of what other
runs left there: a ZIP uploaded by a run that died before publishing, and
the parts of an upload whose worker was killed (invisible, but billed until
aborted). Cleanup finds keys through the rows (pmd.downloads.cleanup), never
by listing the bucket; the bucket's lifecycle rules (`manage.py
vault_lifecycle`) catch what no run came back for.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import transaction

from pmd.models import BatchDownloadRequest
from posts.files import is_object_store, object_key, store_client, store_errors, store_problem
from posts.public_ids import user_sqid

logger = logging.getLogger(__name__)

DOWNLOADS_DIR = "bdr"
# bdr/<user sqid>/<request id>/<run>.zip -> its request's prefix "bdr/<sqid>/<id>/"
_RUN_KEY = re.compile(rf"({DOWNLOADS_DIR}/[0-9A-Za-z]+/[0-9a-f-]{{36}}/)[0-9A-Za-z-]+\.zip")
# Temporary files of builds in progress: hidden, and recognisable by cleanup.
TEMP_PREFIX = "."
TEMP_SUFFIX = ".zip.tmp"
# Parts of a multipart upload: 8 MiB each, 2 at a time (16 MiB of buffers
# at most; a 2.7 GB ZIP is about 330 parts, far below S3's 10,000).
UPLOAD_PART_BYTES = 8 * 1024 * 1024
# Owner read-write, group read (nginx's workers), nothing for others.
VAULT_FILE_MODE = 0o640
UPLOAD_CONCURRENCY = 2


def vault() -> Storage:
    return storages["vault"]


@dataclass
class Staged:
    """A finished ZIP on its way into the vault."""

    name: str  # what the request's file_path will be, relative to the vault
    size: int
    path: Path | None = None  # local folder: the temporary file to rename


def zip_name(bdr: BatchDownloadRequest) -> str:
    """Where the ZIP of `bdr` lives in a local vault, relative to it."""
    return f"{DOWNLOADS_DIR}/{user_sqid(bdr.user_id)}/{bdr.pk}.zip"


def run_zip_name(bdr: BatchDownloadRequest, token: datetime) -> str:
    """The key of the ZIP that the run holding lease `token` uploads to a bucket."""
    run = f"{token.strftime('%Y%m%dT%H%M%S%fZ')}-{secrets.token_hex(4)}"
    return f"{DOWNLOADS_DIR}/{user_sqid(bdr.user_id)}/{bdr.pk}/{run}.zip"


def scratch_folder() -> Path:
    return Path(settings.PMD_SCRATCH_DIR)


def scratch_file(bdr: BatchDownloadRequest) -> Path:
    """A new, empty file to write the ZIP of `bdr` into."""
    if is_object_store(vault()):
        folder = scratch_folder()
        folder.mkdir(parents=True, exist_ok=True)
        return _mkstemp(folder, bdr)
    final_path = Path(vault().path(zip_name(bdr)))
    # Same directory as the final name: os.replace is atomic only within one
    # filesystem. Cleanup may remove an empty user folder at any moment, so
    # a vanished folder is made again once.
    for attempt in (1, 2):
        final_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return _mkstemp(final_path.parent, bdr)
        except FileNotFoundError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _mkstemp(folder: Path, bdr: BatchDownloadRequest) -> Path:
    descriptor, temp = tempfile.mkstemp(
        prefix=f"{TEMP_PREFIX}{bdr.pk}.", suffix=TEMP_SUFFIX, dir=folder
    )
    try:
        # mkstemp makes it 0600: nginx's workers, which send published ZIPs
        # (X-Accel-Redirect), read the vault through its group.
        os.fchmod(descriptor, vault_file_mode())
    finally:
        os.close(descriptor)
    return Path(temp)


def vault_file_mode() -> int:
    """The mode of files written to a local vault: the storage's own
    (settings), readable by the vault folder's group (docs/operating.md)."""
    return getattr(vault(), "file_permissions_mode", None) or VAULT_FILE_MODE


def stage(
    bdr: BatchDownloadRequest,
    path: Path,
    *,
    size: int,
    token: datetime,
    heartbeat: Callable[[], None],
) -> Staged:
    """Make the ZIP written to `path` ready to publish. In a bucket, upload
    it under this run's key and delete it from the worker's disk, calling
    `heartbeat()` about every half second meanwhile (the upload of a large
    ZIP takes a while, and the lease must not look dead)."""
    if not is_object_store(vault()):
        _fsync_file(path)
        return Staged(name=zip_name(bdr), size=size, path=path)
    name = run_zip_name(bdr, token)
    try:
        upload(path, name, heartbeat=heartbeat)
    finally:
        path.unlink(missing_ok=True)
    return Staged(name=name, size=size)


def upload(path: Path, name: str, *, heartbeat: Callable[[], None] = lambda: None) -> None:
    """Upload the file `path` to the bucket as `name`: a multipart upload
    whose object appears only once every part is in. The parts are read
    from the file as they go, so memory stays flat."""
    from boto3.s3.transfer import TransferConfig
    from s3transfer.manager import TransferManager

    storage = vault()
    config = TransferConfig(
        multipart_threshold=UPLOAD_PART_BYTES,
        multipart_chunksize=UPLOAD_PART_BYTES,
        max_concurrency=UPLOAD_CONCURRENCY,
        use_threads=True,
    )
    with TransferManager(store_client(storage), config) as manager:
        future = manager.upload(
            str(path),
            storage.bucket_name,
            object_key(storage, name),
            extra_args={"ContentType": "application/zip"},
        )
        # The transfer runs in the manager's threads; this one renews the
        # lease (on its own database connection) until it is done, and keeps
        # the scratch file fresh so the scratch sweep leaves it alone.
        touched = time.monotonic()
        while not future.done():
            heartbeat()
            if time.monotonic() - touched >= 1:
                os.utime(path)
                touched = time.monotonic()
            time.sleep(0.1)
        future.result()


def open_for_reading(name: str) -> tuple[IO[bytes], int]:
    """The vault file `name`, open for reading from the start, and its size.
    FileNotFoundError when there is no such file. A bucket's object is
    streamed as it is read, never spooled whole."""
    storage = vault()
    if not is_object_store(storage):
        source = storage.open(name, "rb")
        try:
            size = os.fstat(source.fileno()).st_size
        except (OSError, AttributeError):
            size = -1
        return source, size
    from botocore.exceptions import ClientError

    try:
        answer = store_client(storage).get_object(
            Bucket=storage.bucket_name, Key=object_key(storage, name)
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise FileNotFoundError(name) from error
        raise
    return answer["Body"], answer["ContentLength"]


def publish(staged: Staged) -> None:
    """Make the staged ZIP the request's file. Called under the request's row
    lock, so at most one run's ZIP becomes the file. In a bucket the row
    pointing at the key is the publishing; after the commit, what other runs
    of the request left under its prefix goes (outside the lock, and a store
    that fails then costs nothing but a log line)."""
    if staged.path is None:
        prefix = _RUN_KEY.fullmatch(staged.name)
        if prefix is not None:
            transaction.on_commit(
                partial(_clear_after_publish, prefix.group(1), staged.name), robust=True
            )
        return
    final_path = Path(vault().path(staged.name))
    os.replace(staged.path, final_path)
    _fsync_folder(final_path.parent)


def discard(staged: Staged) -> None:
    """Take away a staged ZIP that will not be published."""
    if staged.path is not None:
        staged.path.unlink(missing_ok=True)
        return
    try:
        delete(staged.name)
    except store_errors():
        # Nothing points at it: the bucket's lifecycle rule for bdr/ (docs/operating.md)
        # removes it in time.
        logger.warning("could not delete the unpublished %s", staged.name, exc_info=True)


def delete(name: str) -> None:
    """Delete a vault file; quiet when it is gone already."""
    vault().delete(name)


def delete_download(name: str) -> None:
    """Delete the published ZIP `name` of an expired request; quiet when it
    is gone already. In a bucket, also what other runs of the same request
    left under its own prefix (a run that died between its upload and its
    publish): the row knows the prefix, no folder is listed."""
    storage = vault()
    run_prefix = _RUN_KEY.fullmatch(name)
    if not is_object_store(storage) or run_prefix is None:
        storage.delete(name)
        return
    clear_request_prefix(run_prefix.group(1))


def clear_request_prefix(prefix: str, *, keep: str | None = None) -> None:
    """Delete everything under one request's prefix (`bdr/<sqid>/<id>/`) but
    the object `keep`: ZIPs of runs that never published, and the uploads
    that killed workers left unfinished (aborted, so their parts go too).
    The prefix is the request's own: no other request's keys are listed."""
    storage = vault()
    client = store_client(storage)
    bucket = storage.bucket_name
    under = object_key(storage, prefix)
    kept = object_key(storage, keep) if keep else None
    for page in client.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, Prefix=under
    ):
        for unfinished in page.get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=bucket, Key=unfinished["Key"], UploadId=unfinished["UploadId"]
            )
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=under):
        stray = [{"Key": item["Key"]} for item in page.get("Contents", []) if item["Key"] != kept]
        if stray:  # at most 1,000 a page, as DeleteObjects takes
            client.delete_objects(Bucket=bucket, Delete={"Objects": stray, "Quiet": True})


def _clear_after_publish(prefix: str, published: str) -> None:
    try:
        clear_request_prefix(prefix, keep=published)
    except store_errors() as error:
        # The published ZIP is in place; the rest waits for expiry or the lifecycle rules.
        logger.warning("could not clear %s after publishing: %s", prefix, store_problem(error))


def sweep_scratch(*, older_than_seconds: float) -> int:
    """Delete this worker's scratch files of builds that crashed (older than
    `older_than_seconds`, so a build in progress keeps its own); how many."""
    folder = scratch_folder()
    if not folder.is_dir():
        return 0
    before = time.time() - older_than_seconds
    deleted = 0
    for entry in folder.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        try:
            if entry.stat().st_mtime < before:
                entry.unlink()
                deleted += 1
        except FileNotFoundError:
            continue
    return deleted


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    # The rename is durable once the folder's entry is on disk.
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
