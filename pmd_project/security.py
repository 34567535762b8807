"""The Content-Security-Policy of every response (django-csp; the policy itself
is CONTENT_SECURITY_POLICY in settings)."""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from pmd_project.lib.vault import vault


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the vault's bucket as an image source
    when the vault is one: an artwork's <img> is answered with a presigned
    redirect to the store (pmd_project.lib.vault), and img-src 'self' would block it.
    get_policy_parts is django-csp's own hook for a policy that depends on
    the request."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        # Worked out once per process from the settings, never by asking the
        # store (or its credentials): every response, /health/live and the
        # log-in page included, is answered whatever state the store is in.
        origin = vault().image_origin()
        if origin is not None:
            update = dict(parts.update or {})
            update["img-src"] = [*update.get("img-src", ()), origin]
            parts.update = update
        return parts
