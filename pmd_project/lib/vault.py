"""The vault behind one interface: Django's storage alias `vault`, a local
folder (PMD_VAULT_ROOT) or an S3-compatible bucket (PMD_VAULT_URL,
django-storages). `vault()` gives the one for the current settings; callers
ask it what they need (a file to read, a response, a round trip, where to
write, what to delete) and never ask which kind it is, but for a command that
needs a bucket and the one place that publishes differently in each
(pmd.downloads.storage).

From a bucket no web process touches the bytes of a file: after the caller's
access check it answers 302 to a presigned URL that lives
PMD_VAULT_URL_EXPIRE_SECONDS, and the store sends the file, with Range,
resume and the Content-Disposition name. The URL is signed for the store's
address as browsers reach it (PMD_VAULT_PUBLIC_URL, else the endpoint the
processes use). Every call to the store has short timeouts and one retry
(settings.s3_vault_storage), so a store that hangs is a 503 within seconds,
never a request held until the proxy gives up. A process with a local vault
never imports boto3 (tens of MB).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from pmd_project.lib.files import GONE, stream_file_response
from pmd_project.lib.s3 import (
    object_key,
    presign_client,
    store_client,
    store_origin,
    store_problem,
    upload_client,
)

logger = logging.getLogger(__name__)

STORE_UNAVAILABLE = "The file store is not answering right now. Please try again in a minute."
# Parts of a multipart upload: 8 MiB each, 2 at a time (16 MiB of buffers
# at most; a 2.7 GB ZIP is about 330 parts, far below S3's 10,000).
UPLOAD_PART_BYTES = 8 * 1024 * 1024
UPLOAD_CONCURRENCY = 2
# Owner read-write, group read (nginx's workers), nothing for others.
VAULT_FILE_MODE = 0o640
_MAX_AGE = re.compile(r"max-age=(\d+)")


class VaultUnavailable(Exception):
    """The vault did not take or give back a file; the message says why, for staff."""


def vault() -> FolderVault | BucketVault:
    """The vault of the current settings."""
    storage = storages["vault"]
    return BucketVault(storage) if _is_bucket(storage) else FolderVault(storage)


def _is_bucket(storage: Storage) -> bool:
    # Without the module imported, no storage of this process can be a bucket.
    s3 = sys.modules.get("storages.backends.s3")
    return s3 is not None and isinstance(storage, s3.S3Storage)


class FolderVault:
    """The vault in a local folder, which one host owns."""

    in_bucket = False
    # A local folder raises OSError, which every caller handles already.
    errors: tuple[type[Exception], ...] = ()

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def path(self, name: str) -> Path:
        return Path(self.storage.path(name))

    def file_mode(self) -> int:
        """The mode of files written to it: the storage's own (settings),
        readable by the vault folder's group (docs/operating.md)."""
        return getattr(self.storage, "file_permissions_mode", None) or VAULT_FILE_MODE

    def problem(self, error: BaseException) -> str:
        return str(error)

    def open_for_reading(self, name: str) -> tuple[IO[bytes], int]:
        """The file `name`, open for reading from the start, and its size (-1
        when unknown). FileNotFoundError when there is no such file."""
        source = self.storage.open(name, "rb")
        try:
            size = os.fstat(source.fileno()).st_size
        except (OSError, AttributeError):
            size = -1
        return source, size

    def file_response(self, request: HttpRequest, name: str, **options: Any) -> HttpResponseBase:
        """The file `name` as a response (pmd_project.lib.files); Http404 when it is gone."""
        return stream_file_response(request, self.storage, name, **options)

    def round_trip(self, name: str, content: bytes) -> None:
        """Write `content` as `name`, read it back and delete it; VaultUnavailable if that fails."""
        try:
            saved = self.storage.save(name, ContentFile(content))
            try:
                with self.storage.open(saved, "rb") as handle:
                    read = handle.read()
            finally:
                self.storage.delete(saved)
        except OSError as error:
            raise VaultUnavailable(f"the vault folder is not writable ({error.strerror})") from None
        if read != content:
            raise VaultUnavailable("the vault gave back another file than it took")

    def image_origin(self) -> str | None:
        """Where pages load vault images from besides their own origin: nowhere."""
        return None

    def work_folder(self, name: str) -> Path:
        """The folder to write a file in that becomes `name`: beside it, since
        a rename is atomic only within one filesystem."""
        folder = self.path(name).parent
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def delete(self, name: str) -> None:
        """Delete `name`; quiet when it is gone already."""
        self.storage.delete(name)

    def local_folder(self, name: str) -> Path | None:
        """The folder `name` on this host's disk, to sweep."""
        return self.path(name)


class BucketVault:
    """The vault in an S3-compatible bucket, under the prefix of PMD_VAULT_URL."""

    in_bucket = True

    def __init__(self, storage: Any) -> None:
        self.storage = storage

    @property
    def bucket(self) -> str:
        return self.storage.bucket_name

    @property
    def client(self) -> Any:
        return store_client(self.storage)

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        """What talking to the store can raise: refused (403), down (503),
        unreachable, or an upload that failed part-way. All may pass."""
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        return (BotoCoreError, ClientError, S3UploadFailedError)

    def problem(self, error: BaseException) -> str:
        return store_problem(error)

    def file_mode(self) -> int:
        """The mode of files written on their way to it (in the scratch folder)."""
        return VAULT_FILE_MODE

    def key(self, name: str) -> str:
        """The bucket key of vault name `name` (under the prefix of PMD_VAULT_URL)."""
        return object_key(self.storage, name)

    def open_for_reading(self, name: str) -> tuple[IO[bytes], int]:
        """The object `name`, streamed as it is read (never spooled whole),
        and its size. FileNotFoundError when there is no such object."""
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(name))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(name) from error
            raise
        return answer["Body"], answer["ContentLength"]

    def file_response(
        self,
        request: HttpRequest,
        name: str,
        *,
        content_type: str,
        attachment_name: str | None = None,
        cache_control: str = "private, no-cache",
    ) -> HttpResponse:
        """302 to a short-lived presigned URL of the object; Http404 when it is
        gone, 503 (JSON, Retry-After) when the store does not answer: a store
        that refuses or is down never turns into a 500."""
        from botocore.exceptions import ClientError

        where = {"Bucket": self.bucket, "Key": self.key(name)}
        expire = settings.PMD_VAULT_URL_EXPIRE_SECONDS
        try:
            # One HEAD: a vanished file is a 404 (or the download's 410) here,
            # not an XML error page from the store.
            try:
                self.client.head_object(**where)
            except ClientError as error:
                if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
                    raise
                raise Http404(GONE) from None
            parameters = {
                "ResponseContentType": content_type,
                "ResponseCacheControl": cache_control,
            }
            if attachment_name:
                parameters["ResponseContentDisposition"] = content_disposition_header(
                    True, attachment_name
                )
            # The signature covers the method: a HEAD gets a URL for HEAD.
            head = request.method == "HEAD"
            url = presign_client(self.storage).generate_presigned_url(
                "head_object" if head else "get_object",
                Params={**where, **parameters},
                ExpiresIn=expire,
                HttpMethod="HEAD" if head else "GET",
            )
        except self.errors as error:
            logger.warning("%s answering %s", store_problem(error), name, exc_info=True)
            return JsonResponse(
                {"error": STORE_UNAVAILABLE}, status=503, headers={"Retry-After": "30"}
            )
        response = HttpResponseRedirect(url)
        # A cached redirect must not outlive its URL.
        response["Cache-Control"] = _MAX_AGE.sub(
            lambda match: f"max-age={min(int(match.group(1)), expire // 2)}", cache_control
        )
        return response

    def round_trip(self, name: str, content: bytes) -> None:
        """Put, get and delete one small object with the process's one client."""
        try:
            where = {"Bucket": self.bucket, "Key": self.key(name)}
            client = self.client
            client.put_object(Body=content, **where)
            try:
                read = client.get_object(**where)["Body"].read()
            finally:
                client.delete_object(**where)
        except self.errors as error:
            # Staff read which: no credentials, a timeout, a refusal and its code.
            raise VaultUnavailable(f"the vault's bucket: {store_problem(error)}") from None
        if read != content:
            raise VaultUnavailable("the vault's bucket gave back another object than it took")

    def image_origin(self) -> str | None:
        """Where presigned URLs send the browser (pages allow it as an image source)."""
        return store_origin(self.storage)

    def work_folder(self, name: str) -> Path:
        """The folder to write a file in before it is uploaded: this host's
        scratch folder (PMD_SCRATCH_DIR)."""
        folder = Path(settings.PMD_SCRATCH_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def upload(
        self, path: Path, name: str, *, content_type: str, heartbeat: Callable[[], None]
    ) -> None:
        """Upload the file `path` as `name`: a multipart upload whose object
        appears only once every part is in, the parts read from the file as
        they go (memory stays flat). `heartbeat()` is called about every 0.1 s
        until it is done, and the file is kept fresh (its mtime) meanwhile."""
        from boto3.s3.transfer import TransferConfig
        from s3transfer.manager import TransferManager

        config = TransferConfig(
            multipart_threshold=UPLOAD_PART_BYTES,
            multipart_chunksize=UPLOAD_PART_BYTES,
            max_concurrency=UPLOAD_CONCURRENCY,
            use_threads=True,
        )
        with TransferManager(upload_client(self.storage), config) as manager:
            future = manager.upload(
                str(path), self.bucket, self.key(name), extra_args={"ContentType": content_type}
            )
            touched = time.monotonic()
            while not future.done():
                heartbeat()
                if time.monotonic() - touched >= 1:
                    os.utime(path)
                    touched = time.monotonic()
                time.sleep(0.1)
            future.result()

    def delete(self, name: str) -> None:
        # The process's one client, as every other call here: django-storages'
        # own would load a second S3 model into a worker that only deletes.
        self.client.delete_object(Bucket=self.bucket, Key=self.key(name))

    def clear_prefix(self, prefix: str, *, keep: str | None = None) -> None:
        """Delete everything under `prefix` but the object `keep`, the
        unfinished multipart uploads included (aborted, so their parts go too)."""
        client = self.client
        under = self.key(prefix)
        kept = self.key(keep) if keep else None
        for page in client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=under
        ):
            for unfinished in page.get("Uploads", []):
                client.abort_multipart_upload(
                    Bucket=self.bucket, Key=unfinished["Key"], UploadId=unfinished["UploadId"]
                )
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=under
        ):
            stray = [{"Key": o["Key"]} for o in page.get("Contents", []) if o["Key"] != kept]
            if stray:  # at most 1,000 a page, as DeleteObjects takes
                client.delete_objects(Bucket=self.bucket, Delete={"Objects": stray, "Quiet": True})

    def local_folder(self, name: str) -> Path | None:
        """None: a bucket has no folder on this host (its strays are its lifecycle rules')."""
        return None
