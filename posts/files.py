"""Serving files from the vault: streamed in chunks, resumable, handed to nginx,
or, from object storage, redirected to the store.

Django's FileResponse is a synchronous iterator, and under ASGI Django reads a
synchronous iterator whole into memory before sending the first byte
(Django's StreamingHttpResponse.__aiter__). Under ASGI the body here is an
async generator that reads one chunk at a time in a worker thread, so a
2.5 GB ZIP costs a chunk of memory.
Range requests (RFC 9110 §14) let an interrupted download resume.

From an S3-compatible bucket (PMD_VAULT_URL) no web process touches the
bytes: after the caller's access check it answers 302 to a presigned URL
that lives PMD_VAULT_URL_EXPIRE_SECONDS, and the store sends the file, with
Range, resume and the Content-Disposition name (no ZIP crosses a web host). The URL is signed
for the store's address as browsers reach it (PMD_VAULT_PUBLIC_URL, else the
endpoint the processes use). Every call to the store has short timeouts and
one retry (settings.s3_vault_storage), so a store that hangs is a 503 within
seconds, never a request held until the proxy gives up.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from typing import IO, Any
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.files.storage import Storage
from django.core.handlers.asgi import ASGIRequest
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.utils.http import content_disposition_header, http_date, quote_etag

from pmd_project.inputs import BadInput, byte_range

logger = logging.getLogger(__name__)

CHUNK_SIZE = 256 * 1024

STORE_UNAVAILABLE = "The file store is not answering right now. Please try again in a minute."
_MAX_AGE = re.compile(r"max-age=(\d+)")


def is_object_store(storage: Storage) -> bool:
    """Whether `storage` is an S3-compatible bucket (django-storages). A
    process with a local vault never imports boto3 (tens of MB) for it."""
    s3 = sys.modules.get("storages.backends.s3")
    return s3 is not None and isinstance(storage, s3.S3Storage)


def store_errors() -> tuple[type[Exception], ...]:
    """What talking to the object store can raise: refused (403), down (503),
    unreachable, or an upload that failed part-way. All may pass."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError, S3UploadFailedError)


def store_problem(error: BaseException) -> str:
    """What went wrong talking to the store, for a log line or staff: a few
    words and the store's error code, never a URL or a key."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        CredentialRetrievalError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(error, NoCredentialsError | PartialCredentialsError | CredentialRetrievalError):
        return "no credentials for the object store could be found"
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError):
        return "the object store did not answer in time"
    if isinstance(error, EndpointConnectionError):
        return "the object store could not be reached"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "?")
        return f"the object store refused the request ({code})"
    return f"the object store failed ({type(error).__name__})"


_clients: dict[tuple, Any] = {}
_origins: dict[tuple, str | None] = {}
_clients_lock = threading.Lock()


def _store_key(storage: Any) -> tuple:
    return (
        storage.bucket_name,
        storage.endpoint_url,
        storage.region_name,
        storage.access_key,
        settings.PMD_VAULT_PUBLIC_URL,
    )


def store_client(storage: Any) -> Any:
    """One boto3 S3 client per store for the whole process. django-storages
    makes one per thread, and under ASGI every request runs on a thread of
    its own: a client per request costs milliseconds and megabytes. boto3's
    clients are thread-safe (its resources are not)."""
    key = _store_key(storage)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = storage.connection.meta.client
    return client


def _new_client(storage: Any, *, endpoint_url: str | None, unsigned: bool = False) -> Any:
    """A client of `storage`'s bucket at `endpoint_url`, configured as
    django-storages configures its own (timeouts and retries included)."""
    import boto3

    config = storage.client_config
    if unsigned:
        from botocore import UNSIGNED
        from botocore.config import Config

        config = config.merge(Config(signature_version=UNSIGNED))
    session = boto3.Session(
        aws_access_key_id=storage.access_key,
        aws_secret_access_key=storage.secret_key,
        aws_session_token=storage.security_token,
    )
    return session.client(
        "s3",
        region_name=storage.region_name,
        endpoint_url=endpoint_url or None,
        use_ssl=storage.use_ssl,
        verify=storage.verify,
        config=config,
    )


def presign_client(storage: Any) -> Any:
    """The client that signs the URLs browsers are sent to: for the store's
    address as browsers reach it (PMD_VAULT_PUBLIC_URL: a public endpoint,
    where the processes use a private one), else the store's own. Signing
    is local: nothing is sent to that address."""
    public = settings.PMD_VAULT_PUBLIC_URL
    if not public:
        return store_client(storage)
    key = ("presign", *_store_key(storage))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _new_client(storage, endpoint_url=public)
    return client


def store_origin(storage: Any) -> str | None:
    """Where the presigned URLs send the browser (scheme://host[:port]), in
    whichever addressing style boto3 uses for the bucket there: pages allow
    it as an image source (pmd_project.security). Worked out once per
    process from the settings alone, by an unsigned client: it needs no
    credentials and sends nothing, so a store whose credentials cannot be
    found leaves every page as it is. None (logged) when it cannot be."""
    key = _store_key(storage)
    with _clients_lock:
        if key in _origins:
            return _origins[key]
        try:
            client = _new_client(
                storage,
                endpoint_url=settings.PMD_VAULT_PUBLIC_URL or storage.endpoint_url,
                unsigned=True,
            )
            example = client.generate_presigned_url(
                "get_object",
                Params={"Bucket": storage.bucket_name, "Key": object_key(storage, "x")},
            )
        except Exception:  # noqa: BLE001 - a page must not fail for its image source
            logger.exception("cannot work out the object store's address for the CSP")
            origin = None
        else:
            parts = urlsplit(example)
            origin = f"{parts.scheme}://{parts.netloc}"
        _origins[key] = origin
    return origin


def object_key(storage: Any, name: str) -> str:
    """The bucket key of vault name `name` (under the prefix of PMD_VAULT_URL)."""
    from storages.utils import clean_name, safe_join

    return safe_join(storage.location, clean_name(name))


def _sync_chunks(handle: IO[bytes], remaining: int) -> Iterator[bytes]:
    with handle:
        while remaining > 0:
            chunk = handle.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


async def _async_chunks(handle: IO[bytes], remaining: int) -> AsyncIterator[bytes]:
    read = sync_to_async(handle.read, thread_sensitive=False)
    try:
        while remaining > 0:
            chunk = await read(min(CHUNK_SIZE, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
    finally:
        await sync_to_async(handle.close, thread_sensitive=False)()


def storage_file_response(
    request: HttpRequest,
    storage: Storage,
    name: str,
    *,
    content_type: str,
    attachment_name: str | None = None,
    cache_control: str = "private, no-cache",
) -> HttpResponse:
    """The file `name` of `storage` as a response; Http404 when it is gone."""
    if is_object_store(storage):
        return _presigned_redirect(
            request,
            storage,
            name,
            content_type=content_type,
            attachment_name=attachment_name,
            cache_control=cache_control,
        )
    try:
        size = storage.size(name)
        modified = storage.get_modified_time(name)
    except (FileNotFoundError, OSError):
        raise Http404("This file is no longer available.") from None
    etag = quote_etag(f"{int(modified.timestamp())}-{size}")

    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": http_date(modified.timestamp()),
        "Cache-Control": cache_control,
    }
    if attachment_name:
        headers["Content-Disposition"] = content_disposition_header(True, attachment_name)

    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304, headers=headers)

    accel_prefix = settings.PMD_X_ACCEL_REDIRECT_PREFIX
    if accel_prefix:
        # nginx sends the file itself (sendfile, Range) from an `internal`
        # location; the view has already checked who may have it.
        headers["X-Accel-Redirect"] = accel_prefix.rstrip("/") + "/" + name
        del headers["Accept-Ranges"]  # nginx passes ours on and adds its own
        return HttpResponse(content_type=content_type, headers=headers)

    first, last, status = 0, size - 1, 200
    range_header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if range_header and size and (not if_range or if_range == etag):
        try:
            parsed = byte_range(range_header, size)
        except BadInput:
            return HttpResponse(status=416, headers={"Content-Range": f"bytes */{size}", **headers})
        if parsed is not None:
            first, last = parsed
            status = 206
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"

    length = last - first + 1 if size else 0
    if request.method == "HEAD":
        response = HttpResponse(status=status, content_type=content_type, headers=headers)
        response["Content-Length"] = str(length)
        return response

    try:
        handle = storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404("This file is no longer available.") from None
    if first:
        handle.seek(first)
    body = (
        _async_chunks(handle, length)
        if isinstance(request, ASGIRequest)
        else _sync_chunks(handle, length)
    )
    response = StreamingHttpResponse(
        body, status=status, content_type=content_type, headers=headers
    )
    response["Content-Length"] = str(length)
    return response


def _presigned_redirect(
    request: HttpRequest,
    storage: Any,
    name: str,
    *,
    content_type: str,
    attachment_name: str | None,
    cache_control: str,
) -> HttpResponse:
    """302 to a short-lived presigned URL of the object; Http404 when it is
    gone, 503 (JSON, Retry-After) when the store does not answer: a store
    that refuses or is down never turns into a 500."""
    from botocore.exceptions import ClientError

    client = store_client(storage)
    where = {"Bucket": storage.bucket_name, "Key": object_key(storage, name)}
    expire = settings.PMD_VAULT_URL_EXPIRE_SECONDS
    try:
        # One HEAD: a vanished file is a 404 (or the download's 410) here,
        # not an XML error page from the store.
        try:
            client.head_object(**where)
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
                raise
            raise Http404("This file is no longer available.") from None
        parameters = {"ResponseContentType": content_type, "ResponseCacheControl": cache_control}
        if attachment_name:
            parameters["ResponseContentDisposition"] = content_disposition_header(
                True, attachment_name
            )
        # The signature covers the method: a HEAD gets a URL for HEAD.
        head = request.method == "HEAD"
        url = presign_client(storage).generate_presigned_url(
            "head_object" if head else "get_object",
            Params={**where, **parameters},
            ExpiresIn=expire,
            HttpMethod="HEAD" if head else "GET",
        )
    except store_errors() as error:
        logger.warning("%s answering %s", store_problem(error), name, exc_info=True)
        return JsonResponse({"error": STORE_UNAVAILABLE}, status=503, headers={"Retry-After": "30"})
    response = HttpResponseRedirect(url)
    # A cached redirect must not outlive its URL.
    response["Cache-Control"] = _MAX_AGE.sub(
        lambda match: f"max-age={min(int(match.group(1)), expire // 2)}", cache_control
    )
    return response
