"""Everything about batch download requests, in one place.

    service.py    ask for one (daily limit), retry a failed one, expire one
    selectors.py  the day's allowance, the newest requests, one by id, the
                  table order a split download follows
    serialize.py  the BDR item of the JSON API, the status shown, the file name
    build.py      a worker's run: claim with a lease, build, publish or fail
    zipbuild.py   writing the ZIP itself (layout, JSON, ZIP64, flat memory)
    storage.py    where ZIPs live in the vault and how one is published
    cleanup.py    expiry and sweeps (daily), recovery of stuck requests
    queue.py      enqueueing builds and emails after commit
    events.py     announcing every change after commit (live status)
    emails.py     the "ready" and "failed" emails

The Celery tasks that run them are pmd/tasks.py (beat's rows and queued
messages name them `pmd.tasks.*`). What the web side uses is importable from
here; workers and tests import the modules themselves.
"""

from __future__ import annotations

from pmd.downloads.selectors import (
    FILE_GONE,
    download_panel_context,
    download_request_of,
    download_requests_recent,
    downloadable_file,
    requests_left_today,
    table_positions,
)
from pmd.downloads.serialize import attachment_name, bdr_item, display_status, iso
from pmd.downloads.service import (
    download_request_create,
    download_request_created_message,
    download_request_expire,
    download_request_retry,
)
from pmd.errors import DailyLimitReached

__all__ = [
    "FILE_GONE",
    "DailyLimitReached",
    "attachment_name",
    "bdr_item",
    "display_status",
    "download_panel_context",
    "download_request_create",
    "download_request_created_message",
    "download_request_expire",
    "download_request_of",
    "download_request_retry",
    "download_requests_recent",
    "downloadable_file",
    "iso",
    "requests_left_today",
    "table_positions",
]
