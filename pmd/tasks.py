"""Celery tasks of the dashboard: thin interfaces to the pmd.downloads package
and to the emptying of the bin (pmd.bin_purge).

Tasks run with late acks and are redelivered if their worker is lost
(settings), so each one is safe to run twice. Retry delays stay
below the broker's visibility timeout (settings.PMD_RETRY_BACKOFF_MAX_SECONDS).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import asdict

from celery import shared_task
from celery.signals import worker_ready
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import DatabaseError

from pmd.bin_purge import bin_purge_expired
from pmd.downloads import build, cleanup, emails, storage

logger = logging.getLogger(__name__)

BUILD_MAX_RETRIES = 5
# What a mail server or a database hiccup raises; worth another try later.
EMAIL_SEND_ERRORS = (smtplib.SMTPException, OSError, DatabaseError)


@worker_ready.connect
def sweep_scratch_at_start(**kwargs) -> None:
    """Scratch files of builds that crashed with this worker's last run (each
    build sweeps too, pmd.downloads.build)."""
    deleted = storage.sweep_scratch(older_than_seconds=settings.PMD_BDR_LEASE_SECONDS)
    if deleted:
        logger.warning("deleted %s scratch files of crashed builds", deleted)


@shared_task(bind=True, name="pmd.tasks.process_bdr_job")
def process_bdr_job(self, bdr_id: str, lease: str | None = None) -> str:
    """Build the ZIP of a download request. A second run of a request
    that is ready, failed or being built by another live run does nothing."""
    # Not Celery's autoretry_for, as send_bdr_email uses: a retry must carry
    # the lease it holds on the request to the next attempt (retry kwargs
    # autoretry cannot set), and the last failure must give up through
    # download_request_give_up so the request becomes failed, not stuck in
    # processing. The wait is Celery's own back-off all the same.
    try:
        return build.download_request_build(bdr_id, lease=lease)
    except build.TransientBuildError as error:
        if self.request.retries >= BUILD_MAX_RETRIES:
            logger.error("bdr %s: giving up after %s retries", bdr_id, self.request.retries)
            return build.download_request_give_up(
                bdr_id, lease=error.lease, message=build.NOT_SAVED
            )
        raise self.retry(
            args=[bdr_id],
            kwargs={"lease": error.lease},
            countdown=get_exponential_backoff_interval(
                factor=settings.PMD_BUILD_RETRY_BASE_SECONDS,
                retries=self.request.retries,
                maximum=settings.PMD_RETRY_BACKOFF_MAX_SECONDS,
                full_jitter=True,
            ),
            max_retries=BUILD_MAX_RETRIES,
            exc=error,
        ) from error


@shared_task(name="pmd.tasks.cleanup_expired_bdrs")
def cleanup_expired_bdrs() -> dict[str, int]:
    """Daily (django-celery-beat): expire and delete old downloads, sweep the folders."""
    result = asdict(cleanup.downloads_cleanup())
    logger.info("download cleanup: %s", result)
    return result


@shared_task(name="pmd.tasks.empty_the_bin")
def empty_the_bin() -> dict[str, int]:
    """Daily (django-celery-beat): posts deleted more than PMD_RESTORE_DAYS ago go for good."""
    result = asdict(bin_purge_expired())
    logger.info("bin emptied: %s", result)
    return result


@shared_task(name="pmd.tasks.recover_stuck_bdrs")
def recover_stuck_bdrs() -> dict[str, int]:
    """Every few minutes (django-celery-beat): requests left pending or processing."""
    result = asdict(cleanup.downloads_recover())
    if any(result.values()):
        logger.warning("download recovery: %s", result)
    return result


@shared_task(
    bind=True,
    name="pmd.tasks.send_bdr_email",
    soft_time_limit=120,
    time_limit=180,
    # Celery's own retries: up to base, 2*base, 4*base ... s
    # apart (full jitter), never longer than the cap that keeps a waiting
    # retry inside the broker's visibility timeout.
    autoretry_for=EMAIL_SEND_ERRORS,
    retry_backoff=settings.PMD_EMAIL_RETRY_BASE_SECONDS,
    retry_backoff_max=settings.PMD_RETRY_BACKOFF_MAX_SECONDS,
    retry_jitter=True,
    max_retries=settings.PMD_EMAIL_MAX_RETRIES,
    # Used only when the base is 0 (no back-off): retry at once.
    default_retry_delay=settings.PMD_EMAIL_RETRY_BASE_SECONDS,
)
def send_bdr_email(self, bdr_id: str, kind: str) -> str:
    """Send the "ready" or "failed" email of a request while it still holds
    (pmd.downloads.emails). A failure to send is logged each time and retried; it
    never changes the request."""
    try:
        return emails.send_download_email(bdr_id, kind)
    except EMAIL_SEND_ERRORS as error:
        attempt, attempts = self.request.retries + 1, self.max_retries + 1
        if attempt >= attempts:
            logger.error(
                "bdr %s: %s email not sent after %s attempts: %s", bdr_id, kind, attempt, error
            )
        else:
            logger.warning(
                "bdr %s: %s email attempt %s failed, will retry (%s attempts at most): %s",
                bdr_id, kind, attempt, attempts, error,
            )  # fmt: skip
        raise
