"""Celery tasks of the dashboard: thin interfaces to pmd.downloads and pmd.emails.

Tasks run with late acks and are redelivered if their worker is lost
(settings, PITFALLS §2), so each one is safe to run twice. Retry delays stay
below the broker's visibility timeout (settings.PMD_RETRY_BACKOFF_MAX_SECONDS).
"""

from __future__ import annotations

import logging
import random
import smtplib
from dataclasses import asdict

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from pmd import downloads, emails

logger = logging.getLogger(__name__)

BUILD_MAX_RETRIES = 5


def backoff_seconds(retries: int, *, base: float) -> float:
    """base, 2*base, 4*base ... capped, with jitter so retries do not come in waves."""
    ceiling = min(base * 2**retries, settings.PMD_RETRY_BACKOFF_MAX_SECONDS)
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - not for security


@shared_task(bind=True, name="pmd.tasks.process_bdr_job")
def process_bdr_job(self, bdr_id: str, lease: str | None = None) -> str:
    """Build the ZIP of a download request (SPEC §7). A second run of a request
    that is ready, failed or being built by another live run does nothing."""
    try:
        return downloads.download_request_build(bdr_id, lease=lease)
    except downloads.TransientBuildError as error:
        if self.request.retries >= BUILD_MAX_RETRIES:
            logger.error("bdr %s: giving up after %s retries", bdr_id, self.request.retries)
            return downloads.download_request_give_up(
                bdr_id, lease=error.lease, message=downloads.NOT_SAVED
            )
        raise self.retry(
            args=[bdr_id],
            kwargs={"lease": error.lease},
            countdown=backoff_seconds(
                self.request.retries, base=settings.PMD_BUILD_RETRY_BASE_SECONDS
            ),
            max_retries=BUILD_MAX_RETRIES,
            exc=error,
        ) from error


@shared_task(name="pmd.tasks.cleanup_expired_bdrs")
def cleanup_expired_bdrs() -> dict[str, int]:
    """Daily (django-celery-beat): expire and delete old downloads, sweep the folders."""
    result = asdict(downloads.downloads_cleanup())
    logger.info("download cleanup: %s", result)
    return result


@shared_task(name="pmd.tasks.recover_stuck_bdrs")
def recover_stuck_bdrs() -> dict[str, int]:
    """Every few minutes (django-celery-beat): requests left pending or processing."""
    result = asdict(downloads.downloads_recover())
    if any(result.values()):
        logger.warning("download recovery: %s", result)
    return result


@shared_task(bind=True, name="pmd.tasks.send_bdr_email", soft_time_limit=120, time_limit=180)
def send_bdr_email(self, bdr_id: str, kind: str) -> str:
    """Send the "ready" or "failed" email of a request. A failure to send is
    logged and retried; it never changes the request."""
    try:
        sent = emails.send_download_email(bdr_id, kind)
    except (smtplib.SMTPException, OSError, DatabaseError) as error:
        attempt = self.request.retries + 1
        limit = settings.PMD_EMAIL_MAX_RETRIES
        if self.request.retries >= limit:
            logger.error(
                "bdr %s: %s email not sent after %s attempts: %s", bdr_id, kind, attempt, error
            )
            return "gave up"
        logger.warning(
            "bdr %s: %s email attempt %s failed, will retry: %s", bdr_id, kind, attempt, error
        )
        raise self.retry(
            countdown=backoff_seconds(
                self.request.retries, base=settings.PMD_EMAIL_RETRY_BASE_SECONDS
            ),
            max_retries=limit,
            exc=error,
        ) from error
    return "sent" if sent else "not sent"
