"""A file of a local storage as a response: streamed in chunks, resumable, or
handed to nginx. (A bucket's file is a redirect to the store instead:
pmd_project.lib.vault.)

Django's FileResponse is a synchronous iterator, and under ASGI Django reads a
synchronous iterator whole into memory before sending the first byte. Under
ASGI the body here is an async generator that reads one chunk at a time in a
worker thread, so a 2.5 GB ZIP costs a chunk of memory. Range requests
(RFC 9110 §14) let an interrupted download resume.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import IO

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.files.storage import Storage
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header, http_date, quote_etag

from pmd_project.lib.inputs import BadInput, byte_range

CHUNK_SIZE = 256 * 1024
GONE = "This file is no longer available."


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


def stream_file_response(
    request: HttpRequest,
    storage: Storage,
    name: str,
    *,
    content_type: str,
    attachment_name: str | None = None,
    cache_control: str = "private, no-cache",
) -> HttpResponseBase:
    """The file `name` of the local `storage` as a response; Http404 when it is gone."""
    try:
        size = storage.size(name)
        modified = storage.get_modified_time(name)
    except (FileNotFoundError, OSError):
        raise Http404(GONE) from None
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
        response: HttpResponseBase = HttpResponse(
            status=status, content_type=content_type, headers=headers
        )
        response["Content-Length"] = str(length)
        return response

    try:
        handle = storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404(GONE) from None
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
