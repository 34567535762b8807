"""Static files in production: collected by the web process itself, once per
version of the code, and served by WhiteNoise without a thread hop.

With hashed names on (PMD_STATIC_MANIFEST, the default with DEBUG off) every
page needs the manifest that `collectstatic` writes, or it is a 500. A
platform that runs only the Procfile has no step that would collect, so the
web process does it before it serves (pmd_project/asgi.py). Several web
processes on one host share STATIC_ROOT: they take turns on an exclusive lock
in it, and a stamp (a digest of every source file's name, size and time)
lets every one after the first skip the work. A read-only STATIC_ROOT,
collected when the image was built, is served as it is.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware

logger = logging.getLogger(__name__)

STAMP = ".pmd-collected"
LOCK = ".pmd-collect.lock"
# What collectstatic leaves out by default.
IGNORED = ["CVS", ".*", "*~"]


def sources_digest() -> str:
    """A digest of the static files collectstatic would copy, and of how."""
    digest = hashlib.sha256(settings.STORAGES["staticfiles"]["BACKEND"].encode())
    entries = []
    for finder in get_finders():
        for path, storage in finder.list(IGNORED):
            status = os.stat(storage.path(path))
            prefix = getattr(storage, "prefix", None) or ""
            entries.append(f"{prefix}/{path}\0{status.st_size}\0{status.st_mtime_ns}")
    for entry in sorted(entries):
        digest.update(entry.encode() + b"\n")
    return digest.hexdigest()


def _stamp(root: Path) -> str:
    try:
        return (root / STAMP).read_text().strip()
    except OSError:
        return ""


def collect_once() -> bool:
    """Collect the static files into STATIC_ROOT unless this code's are
    there already; whether it collected."""
    if not settings.PMD_STATIC_MANIFEST:
        return False
    root = Path(settings.STATIC_ROOT)
    digest = sources_digest()
    if _stamp(root) == digest:
        return False
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = open(root / LOCK, "a")  # noqa: SIM115 - held until collected
    except OSError as error:
        logger.warning(
            "cannot collect static files into %s (%s); serving what it holds", root, error
        )
        return False
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _stamp(root) == digest:  # another web process collected meanwhile
            return False
        call_command("collectstatic", interactive=False, verbosity=0)
        written = root / f"{STAMP}.{os.getpid()}"
        written.write_text(digest + "\n")
        os.replace(written, root / STAMP)
    logger.info("collected the static files into %s", root)
    return True


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, answering with the file's bytes rather than a file
    iterator. Under ASGI, Django reads a synchronous iterator whole anyway,
    on a thread of its own, warning once per process ("must consume
    synchronous iterators"); static files are small, so reading them here
    costs the same memory without the hop or the warning."""

    @staticmethod
    def serve(static_file, request: HttpRequest) -> HttpResponse:
        answer = static_file.get_response(request.method, request.META)
        body = b""
        if answer.file is not None:
            with answer.file as handle:
                body = handle.read()
        response = HttpResponse(body, status=int(answer.status))
        del response["Content-Type"]
        for key, value in answer.headers:
            response[key] = value
        return response
