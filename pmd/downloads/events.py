"""The seam through which download requests announce their changes.

Every status change and progress step of a BatchDownloadRequest calls
`bdr_changed` once the change is committed, so a listener never announces a
state that a rollback could take back. It publishes a `bdr_update` event with
the BDR item of the JSON API to the owner's open pages (pmd/live.py), so a
page shows exactly what a fetch of the request would.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction

from pmd.downloads.serialize import bdr_item

if TYPE_CHECKING:
    from pmd.models import BatchDownloadRequest

logger = logging.getLogger(__name__)


def bdr_changed(bdr: BatchDownloadRequest) -> None:
    """`bdr` has changed and the change is committed. Must not raise."""
    from pmd.live import BDR_UPDATE, publish

    logger.debug("bdr %s of user %s: %s, %s/%s", bdr.pk, bdr.user_id, bdr.status,
                 bdr.progress, bdr.artwork_count)  # fmt: skip
    publish(bdr.user_id, BDR_UPDATE, bdr_item(bdr))


def announce_after_commit(bdr: BatchDownloadRequest) -> None:
    """Call bdr_changed(bdr) when the current transaction commits (at once
    outside one); nothing if it rolls back."""
    # robust: a failing listener is logged by Django and never undoes or
    # interrupts the work that changed the request.
    transaction.on_commit(lambda: bdr_changed(bdr), robust=True)
