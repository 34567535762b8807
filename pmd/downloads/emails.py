"""Emails about download requests, one function per email.

Each email is a triple of templates under templates/emails/:
`<name>-subject.html`, `<name>-body-text.html` and `<name>-body-html.html`.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from pmd.models import BatchDownloadRequest
from pmd_project.telemetry.metrics import send_email
from posts.public_ids import user_sqid

logger = logging.getLogger(__name__)

Status = BatchDownloadRequest.Status
KINDS = ("ready", "failed")
SENT = "sent"
SEND_FAILED = "sending failed (see the log)"


def download_link(bdr: BatchDownloadRequest) -> str:
    """The dashboard, scrolled to this request and highlighting it (`?bdr=`)."""
    path = reverse("pmd:dashboard", args=[user_sqid(bdr.user_id)])
    return f"{settings.SITE_URL}{path}?bdr={bdr.pk}"


def email_skip_reason(bdr: BatchDownloadRequest | None, kind: str) -> str | None:
    """Why the `kind` email of `bdr` must not go out now, or None.

    An email is sent only while what it says still holds: a ready
    email only while the download can be fetched (a ready request past
    `expires_at` is expired even before cleanup marks it so); a failed
    email only while the request is failed and has not been retried (the
    retry has news of its own).
    """
    if bdr is None:
        return "the request is gone"
    if kind == "ready":
        if bdr.status == Status.EXPIRED or (bdr.status == Status.READY and not bdr.is_downloadable):
            return "the download has expired"
        if bdr.status != Status.READY:
            return f"the request is {bdr.status}"
    else:
        if bdr.status != Status.FAILED:
            return f"the request is {bdr.status}"
        if BatchDownloadRequest.objects.filter(retry_of=bdr).exists():
            return "the request was retried"
    if not bdr.user.email:
        return "the user has no email address"
    return None


def send_download_email(bdr_id: uuid.UUID | str, kind: str, *, raise_errors: bool = True) -> str:
    """Send the `kind` ("ready" or "failed") email of a request: SENT, or why
    it was not sent (`email_skip_reason`, or SEND_FAILED).

    Sending errors propagate (the task retries them) unless `raise_errors`
    is off, when they are logged.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown download email {kind!r}")
    bdr = BatchDownloadRequest.objects.select_related("user").filter(pk=bdr_id).first()
    reason = email_skip_reason(bdr, kind)
    if reason is not None:
        logger.info("bdr %s: no %s email: %s", bdr_id, kind, reason)
        return reason
    context = {
        "bdr": bdr,
        "handle": bdr.user.get_username(),
        "link": download_link(bdr),
        "count": bdr.artwork_count,
        "missing_count": max(len(bdr.post_ids) - bdr.artwork_count, 0),
        "site_url": settings.SITE_URL,
    }
    message = _message(f"bdr-{kind}", bdr.user.email, context)
    try:
        send_email(message, kind=kind)
    except Exception:
        if raise_errors:
            raise
        logger.exception("bdr %s: could not send the %s email", bdr.pk, kind)
        return SEND_FAILED
    logger.info("bdr %s: %s email sent", bdr.pk, kind)
    return SENT


def _message(name: str, to: str, context: dict[str, Any]) -> EmailMultiAlternatives:
    subject = " ".join(render_to_string(f"emails/{name}-subject.html", context).split())
    text = render_to_string(f"emails/{name}-body-text.html", context)
    html = render_to_string(f"emails/{name}-body-html.html", context)
    message = EmailMultiAlternatives(subject, text, to=[to])
    message.attach_alternative(html, "text/html")
    return message
