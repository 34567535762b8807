"""Emails about download requests (SPEC §8), one function per email.

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
from posts.public_ids import user_sqid

logger = logging.getLogger(__name__)

Status = BatchDownloadRequest.Status
KINDS = ("ready", "failed")


def download_link(bdr: BatchDownloadRequest) -> str:
    """The dashboard, scrolled to this request (SPEC §5 `?bdr=`)."""
    path = reverse("pmd:dashboard", args=[user_sqid(bdr.user_id)])
    return f"{settings.SITE_URL}{path}?bdr={bdr.pk}"


def send_download_email(bdr_id: uuid.UUID | str, kind: str, *, raise_errors: bool = True) -> bool:
    """Send the `kind` ("ready" or "failed") email of a request; False when
    there is nothing to say (the request moved on, or its user has no email).

    Sending errors propagate (the task retries them) unless `raise_errors`
    is off, when they are logged.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown download email {kind!r}")
    bdr = BatchDownloadRequest.objects.select_related("user").filter(pk=bdr_id).first()
    expected = Status.READY if kind == "ready" else Status.FAILED
    if bdr is None or bdr.status != expected:
        # A ready email for a download that expired meanwhile would link to a
        # 410; a failed one that was retried has news of its own.
        logger.info("bdr %s: no %s email, it is %s", bdr_id, kind, bdr.status if bdr else "gone")
        return False
    if not bdr.user.email:
        logger.info("bdr %s: no %s email, user %s has no address", bdr.pk, kind, bdr.user_id)
        return False
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
        message.send()
    except Exception:
        if raise_errors:
            raise
        logger.exception("bdr %s: could not send the %s email", bdr.pk, kind)
        return False
    logger.info("bdr %s: %s email sent", bdr.pk, kind)
    return True


def _message(name: str, to: str, context: dict[str, Any]) -> EmailMultiAlternatives:
    subject = " ".join(render_to_string(f"emails/{name}-subject.html", context).split())
    text = render_to_string(f"emails/{name}-body-text.html", context)
    html = render_to_string(f"emails/{name}-body-html.html", context)
    message = EmailMultiAlternatives(subject, text, to=[to])
    message.attach_alternative(html, "text/html")
    return message
