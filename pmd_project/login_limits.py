"""How django-axes counts failed log-ins (settings, "Log-in limits").

Every log-in goes through `django.contrib.auth.authenticate`, so axes limits
the site's page and the admin's alike. It counts per username and client
address; this module decides what "the same username" means.
"""

from __future__ import annotations

import unicodedata

from django.contrib.auth import get_user_model
from django.http import HttpRequest


def lockout_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The name a log-in attempt is counted under.

    Django's form logs in with the NFKC form of what was typed, so "ｄemo" and
    "𝐝𝐞𝐦𝐨" are tries at "demo" and must count against it; case is folded too,
    so "Demo" shares the count. Cut to the longest username there can be.
    """
    field = get_user_model().USERNAME_FIELD
    raw = (credentials or {}).get(field, request.POST.get(field))
    if not isinstance(raw, str):
        return None
    return unicodedata.normalize("NFKC", raw).strip().casefold()[:150]
